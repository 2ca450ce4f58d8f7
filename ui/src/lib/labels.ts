/** Chinese labels for codes the API sends. Unknown codes are shown as they are. */
export const INSTANCE_STATUS: Record<string, string> = {
  running: '运行中',
  waiting: '等待中',
  completed: '已完成',
  error: '出错',
  suspended: '已挂起',
  terminated: '已终止',
};

export const TASK_STATUS: Record<string, string> = {
  ready: '待办',
  open: '待办',
  claimed: '已领取',
  completed: '已完成',
  cancelled: '已取消',
  delegated: '已委派',
};

export const RISK_LEVELS: Record<string, string> = {
  LOW: '低危',
  MODERATE: '中危',
  MEDIUM: '中危',
  MODERATE_OR_HIGH: '中/高危',
  HIGH: '高危',
  HIGH_OR_VERY_HIGH: '高/很高危',
  VERY_HIGH: '很高危',
  low: '低危',
  moderate: '中危',
  medium: '中危',
  high: '高危',
  very_high: '很高危',
};

export const DISEASES: Record<string, string> = {
  hypertension: '高血压',
  htn: '高血压',
  diabetes: '糖尿病',
  dm: '糖尿病',
  copd: '慢阻肺',
  ckd: '慢性肾病',
  stroke: '脑卒中',
  af: '房颤',
  cancer: '肿瘤',
};

export const HISTORY_TYPES: Record<string, string> = {
  started: '流程启动',
  instance_started: '流程启动',
  task_created: '任务生成',
  task_ready: '任务生成',
  task_claimed: '领取任务',
  task_unclaimed: '退回任务',
  task_completed: '完成任务',
  task_delegated: '委派任务',
  task_assigned: '分派任务',
  draft_saved: '保存草稿',
  comment: '评论',
  comment_added: '评论',
  timer_fired: '定时器触发',
  message_received: '收到消息',
  message_correlated: '收到消息',
  decision_evaluated: '规则判定',
  service_called: '服务调用',
  error: '出错',
  retried: '重试',
  suspended: '挂起',
  resumed: '恢复',
  terminated: '终止',
  completed: '流程完成',
  instance_completed: '流程完成',
};

export const PROCESS_NAMES: Record<string, string> = {
  screening: '慢病筛查',
  stratify: '风险分层',
  care_plan: '管理方案',
  follow_up: '随访',
  referral: '双向转诊',
  remote_consult: '远程会诊',
  drug_review: '用药审核',
  training: '培训',
  cancer_screening: '肿瘤筛查',
};

export function label(map: Record<string, string>, code: string | null | undefined): string {
  if (code === null || code === undefined || code === '') return '—';
  return map[code] ?? code;
}

export function riskClass(level: string | null | undefined): string {
  const l = (level ?? '').toUpperCase();
  if (l.includes('VERY_HIGH')) return 'risk-very-high';
  if (l.includes('HIGH')) return 'risk-high';
  if (l.includes('MODERATE') || l.includes('MEDIUM')) return 'risk-moderate';
  if (l.includes('LOW')) return 'risk-low';
  return '';
}

/** Priority as a word: numbers (higher = more urgent) or words. */
export function priorityLabel(p: number | string | null | undefined): { text: string; urgent: boolean } | null {
  if (p === null || p === undefined || p === '') return null;
  if (typeof p === 'number') {
    if (p >= 80) return { text: '紧急', urgent: true };
    if (p >= 60) return { text: '优先', urgent: true };
    if (p <= 20) return { text: '低', urgent: false };
    return null;
  }
  const map: Record<string, { text: string; urgent: boolean }> = {
    urgent: { text: '紧急', urgent: true },
    high: { text: '优先', urgent: true },
    normal: { text: '普通', urgent: false },
    low: { text: '低', urgent: false },
  };
  return map[p.toLowerCase()] ?? { text: p, urgent: false };
}

/** Whether a task is assigned to this user (by username or by user id, whichever the API sends). */
export function isAssignedTo(task: { assignee?: string | null; assignee_id?: number | null }, me: { username?: string; id?: number } | null | undefined): boolean {
  if (!me) return false;
  if (task.assignee && task.assignee === me.username) return true;
  return task.assignee_id !== undefined && task.assignee_id !== null && task.assignee_id === me.id;
}

export function isAssigned(task: { assignee?: string | null; assignee_id?: number | null }): boolean {
  return !!task.assignee || (task.assignee_id !== undefined && task.assignee_id !== null);
}

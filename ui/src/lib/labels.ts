/** Chinese labels for codes the API sends. Unknown codes are shown as they are. */
import { vocabMap } from './vocabulary';

// the platform's vocabulary (GET /api/v1/vocabulary), live once loaded
export const INSTANCE_STATUS = vocabMap('instance_status');
export const TASK_STATUS = vocabMap('task_status');
export const RISK_LEVELS = vocabMap('risk_level');
export const DISEASES = vocabMap('disease');
export const SEX = vocabMap('sex');
export const RECORD_SOURCES = vocabMap('record_source');

/** Where a record fact came from, in words: home devices as 家用设备, unknown system sources as 其他系统 (never the code). */
export function sourceLabel(source: string | null | undefined): string {
  if (!source) return '';
  if (RECORD_SOURCES[source]) return RECORD_SOURCES[source];
  if (source.startsWith('home:') || source.startsWith('vendor:')) return '家用设备';
  return '其他系统';
}

// UI-only wording (not codes the platform stores)

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
  element_completed: '环节完成',
  service_called: '服务调用',
  service_completed: '服务完成',
  service_failed: '服务失败',
  incident: '异常',
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
    // The platform's scale is 1 (most urgent) … 5 (least), 3 being normal.
    if (p <= 5) return p <= 1 ? { text: '紧急', urgent: true } : p === 2 ? { text: '优先', urgent: true } : p >= 4 ? { text: '低', urgent: false } : null;
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

type Assignable = { assignee?: string | { id?: number; username?: string | null; display_name?: string | null } | null; assignee_id?: number | null };

/** The assignee as {id, username, name}, whether the API sends a username, a user object or an id. */
export function assigneeOf(task: Assignable): { id?: number; username?: string; name: string } | null {
  const a = task.assignee;
  if (a && typeof a === 'object') return { id: a.id, username: a.username ?? undefined, name: a.display_name || a.username || String(a.id ?? '') };
  if (typeof a === 'string' && a) return { username: a, name: a, id: task.assignee_id ?? undefined };
  if (task.assignee_id !== undefined && task.assignee_id !== null) return { id: task.assignee_id, name: `用户 ${task.assignee_id}` };
  return null;
}

/** Whether a task is assigned to this user (by username or by user id, whichever the API sends). */
export function isAssignedTo(task: Assignable, me: { username?: string; id?: number } | null | undefined): boolean {
  const a = assigneeOf(task);
  if (!a || !me) return false;
  return (a.username !== undefined && a.username === me.username) || (a.id !== undefined && a.id === me.id);
}

export function isAssigned(task: Assignable): boolean {
  return assigneeOf(task) !== null;
}

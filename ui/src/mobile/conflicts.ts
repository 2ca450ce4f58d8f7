/**
 * Typed 409 reasons of the mobile API (docs/mobile.md) in plain Chinese: what happened, and what to do.
 * The readings entered with a completion are always kept by the server, whatever the reason.
 */
export interface ConflictText {
  title: string;
  what: string;
  todo: string;
}

const KEPT = '本次录入的血压、血糖等测量值已保存到居民档案。';

const REASONS: Record<string, (d: Record<string, unknown>) => ConflictText> = {
  task_reassigned: (d) => ({
    title: '任务已改派',
    what: `这项随访在您离线期间已改派给${personName(d.current_holder ?? d.current_owner) ?? '其他医生'}，您的提交没有办结它。${KEPT}`
      + (d.note_kept ? '您填写的内容已作为备注留给接手的医生。' : ''),
    todo: '无需再做此随访。要在居民档案中留下这次上门的记录，点“记为临时随访”；如有重要情况，请电话告知接手的医生。',
  }),
  already_completed: (d) => ({
    title: '任务已被他人完成',
    what: `这项随访已由${personName(d.by) ?? '其他人'}${d.at ? `于 ${shortTime(d.at)} ` : ''}完成。${KEPT}`,
    todo: '无需重复随访。可把填写内容“附给接手医生”，或“记为临时随访”；如两次结果不同，请联系乡镇卫生院核对。',
  }),
  task_completed_elsewhere: (d) => REASONS.already_completed(d),
  task_cancelled: () => ({
    title: '任务已取消',
    what: `这项随访在您离线期间已取消（例如居民已转诊、流程已终止）。${KEPT}`,
    todo: '无需再办理。可把填写内容“附给接手医生”，或“记为临时随访”；如居民仍需随访，请联系乡镇卫生院。',
  }),
  task_gone: () => ({
    title: '任务已不存在',
    what: `服务器上已找不到这项随访。${KEPT}`,
    todo: '请联系乡镇卫生院确认；然后点“知道了”。',
  }),
  instance_migrated: () => ({
    title: '流程已更新',
    what: `这项随访所在的流程已升级，原任务已被新任务替代。${KEPT}`,
    todo: '同步后在任务列表中找到新的随访任务，重新填写。',
  }),
  schema_outdated: () => ({
    title: '表单已更新',
    what: `随访表单在您离线期间已换成新版本，旧表单无法提交。${KEPT}`,
    todo: '点“重新填写”：已填写的内容会带入新表单，核对后再提交。',
  }),
  form_retired: () => REASONS.schema_outdated({}),
  form_version_retired: () => REASONS.schema_outdated({}),
  resident_out_of_scope: () => ({
    title: '居民已不在您的管理范围',
    what: `该居民已迁出或改由其他机构管理，您的提交没有办结随访。${KEPT}`,
    todo: '无需再随访该居民。可把填写内容“附给接手医生”，或“记为临时随访”；如有疑问请联系乡镇卫生院。',
  }),
  out_of_scope: () => REASONS.resident_out_of_scope({}),
  lease_expired: () => ({
    title: '离线期限已过',
    what: `这项随访下载到本机后超过了离线办理期限才填写，服务器没有据此办结（任务可能已有变化）。${KEPT}`,
    todo: '联网同步后点“重新填写”，核对后再次提交；或点“知道了”放弃这次提交。',
  }),
};

/** What the doctor can do with a conflicted completion (the buttons of its card, besides 知道了):
 * attach_as_note / record_visit go to the server (POST /completions/{id}/resolve); refill reopens the visit with
 * what was entered (upgraded to the new form when the form changed). */
export type ConflictAction = 'attach_as_note' | 'record_visit' | 'refill';

export const ACTION_LABELS: Record<ConflictAction, string> = {
  attach_as_note: '附给接手医生',
  record_visit: '记为临时随访',
  refill: '重新填写',
};

export const ACTION_HINTS: Record<ConflictAction, string> = {
  attach_as_note: '把这次填写的内容作为备注，留给现在负责该居民的医生',
  record_visit: '在居民档案中记下这次上门随访（测量值已在档案中）',
  refill: '打开这项随访，已填写的内容会自动带入',
};

export function conflictActions(reason: string | undefined): ConflictAction[] {
  switch (reason) {
    case 'form_version_retired':
    case 'schema_outdated':
    case 'form_retired':
    case 'lease_expired':
      return ['refill'];
    case 'task_reassigned':           // the entered form is already on the task for the new owner
      return ['record_visit'];
    case 'task_completed_elsewhere':
    case 'already_completed':
    case 'task_cancelled':
    case 'resident_out_of_scope':
    case 'out_of_scope':
      return ['attach_as_note', 'record_visit'];
    default:                          // task_gone (the server kept no record of it) and unknown reasons
      return [];
  }
}

/** How a queued choice stands, in words (the server's Chinese message once done). */
export function resolutionText(state: string, action: string, message?: string, reason?: string): string {
  const label = ACTION_LABELS[action as ConflictAction] ?? (action === 'discard' ? '放弃' : '处理');
  if (state === 'done') return message && /[\u4e00-\u9fff]/.test(message) ? message : `已${label}`;
  if (state === 'queued' || state === 'sending') return `${label}：待发送，联网后自动发送`;
  if (reason === 'no_open_task_for_note') return '该居民目前没有待办任务，无法附加备注；可以改为“记为临时随访”。';
  if (reason === 'conflict_already_resolved') return '这次提交已放弃，不能再处理。';
  return `${label}未成功${message && /[\u4e00-\u9fff]/.test(message) ? `：${message}` : ''}`;
}

export function conflictText(reason: string | undefined, detail: Record<string, unknown> = {}, serverMessage?: string): ConflictText {
  const f = reason ? REASONS[reason] : undefined;
  if (f) return f(detail);
  return {
    title: '提交未被接受',
    what: `${serverMessage && /[\u4e00-\u9fff]/.test(serverMessage) ? serverMessage : '服务器未接受这次提交。'}${KEPT}`,
    todo: '请联系乡镇卫生院处理；然后点“知道了”。',
  };
}

/** A 422 on an offline submission: the form does not pass the server's rules. */
export function invalidText(serverMessage?: string): ConflictText {
  return {
    title: '提交内容有误',
    what: serverMessage && /[\u4e00-\u9fff]/.test(serverMessage) ? serverMessage : '服务器检查发现表单内容有误，未办结此随访。',
    todo: '请核对后在线重新填写该随访，然后点“知道了”。',
  };
}

function personName(v: unknown): string | null {
  if (!v) return null;
  if (typeof v === 'string') return /[\u4e00-\u9fff]/.test(v) ? v : null;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const n = o.display_name ?? o.name;
    return typeof n === 'string' && n ? n : null;
  }
  return null;
}

function shortTime(v: unknown): string {
  const d = new Date(String(v));
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getMonth() + 1}月${d.getDate()}日 ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** "最后同步 hh:mm" (today) or "最后同步 M月D日 hh:mm" (earlier); null before the first sync. */
export function lastSyncLabel(at: string | number | null | undefined, now: Date = new Date()): string {
  if (at === null || at === undefined) return '尚未同步';
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return '尚未同步';
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  const sameDay = d.getFullYear() === now.getFullYear() && d.getMonth() === now.getMonth() && d.getDate() === now.getDate();
  return sameDay ? `最后同步 ${hm}` : `最后同步 ${d.getMonth() + 1}月${d.getDate()}日 ${hm}`;
}

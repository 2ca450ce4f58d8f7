import type { TaskQuery } from '../api/endpoints';

/** What an empty inbox page says: with a filter or a search active, that nothing matches it (and offers to clear
 * it); without one, that the view is empty ("我的待办": where to claim work). Saying "您当前没有待办任务" under a name
 * search would tell a doctor who has tasks that they have none. */
export function inboxEmpty(query: Pick<TaskQuery, 'view' | 'process_id' | 'risk_level' | 'overdue' | 'q'>): {
  title: string;
  hint: string;
  filtered: boolean;
} {
  const filtered = !!(query.process_id || query.risk_level || query.overdue || (query.q ?? '').trim());
  if (filtered) return { title: '没有符合条件的任务', hint: '试试调整或清除筛选条件。', filtered };
  if (query.view === 'mine') return { title: '您当前没有待办任务', hint: '可在“组内待领”中领取任务。', filtered };
  return { title: '当前没有任务', hint: '有新任务时会显示在这里。', filtered };
}

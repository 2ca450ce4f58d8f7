/** The overdue follow-up list (Simple.org style): how overdue, the last BP, a call link, counts per group. */
import type { OverdueItem } from '../api/types';

/** "逾期 N 天", with months or years once that reads better; 0 or less is "今日到期". */
export function overdueText(days: number | null | undefined): string {
  if (days === null || days === undefined || !Number.isFinite(days)) return '—';
  const d = Math.floor(days);
  if (d <= 0) return '今日到期';
  if (d < 30) return `逾期 ${d} 天`;
  if (d < 365) return `逾期 ${d} 天（约 ${Math.floor(d / 30)} 个月）`;
  return `逾期 ${d} 天（超过 ${Math.floor(d / 365)} 年）`;
}

/** How loudly to show it: ≥30 days (or the server's high priority) is danger, ≥7 warning. */
export function overdueClass(days: number | null | undefined, highPriority = false): string {
  if (highPriority || (days ?? 0) >= 30) return 'badge-danger';
  if ((days ?? 0) >= 7) return 'badge-warn';
  return 'badge-info';
}

/** "152/96 mmHg", or "—" when there is no reading. */
export function bpText(sbp: number | null | undefined, dbp: number | null | undefined): string {
  if ((sbp === null || sbp === undefined) && (dbp === null || dbp === undefined)) return '—';
  return `${sbp ?? '?'}/${dbp ?? '?'} mmHg`;
}

/** BP class for a badge: 'severe' at ≥180/110, 'high' at ≥140/90, '' otherwise. */
export function bpLevel(sbp: number | null | undefined, dbp: number | null | undefined): '' | 'high' | 'severe' {
  const s = sbp ?? 0;
  const d = dbp ?? 0;
  if (s >= 180 || d >= 110) return 'severe';
  if (s >= 140 || d >= 90) return 'high';
  return '';
}

/** A tel: link for a full phone number; null for a masked or missing one (the record has the full number). */
export function telHref(phone: string | null | undefined): string | null {
  if (!phone || phone.includes('*')) return null;
  const digits = phone.replace(/[^\d+]/g, '');
  return digits.length >= 5 ? `tel:${digits}` : null;
}

export interface OverdueGroup {
  key: string;
  count: number;
  high: number;
  maxDays: number;
}

/** Counts per organization (or assignee): how many, how many high priority, the longest overdue; largest first. */
export function groupOverdue(items: readonly OverdueItem[], by: 'org' | 'assignee'): OverdueGroup[] {
  const groups = new Map<string, OverdueGroup>();
  for (const it of items) {
    const key = by === 'org' ? it.org_code ?? '' : it.assignee_id !== null && it.assignee_id !== undefined ? String(it.assignee_id) : '';
    const g = groups.get(key) ?? { key, count: 0, high: 0, maxDays: 0 };
    g.count += 1;
    if (it.high_priority) g.high += 1;
    g.maxDays = Math.max(g.maxDays, it.days_overdue ?? 0);
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || b.maxDays - a.maxDays || a.key.localeCompare(b.key));
}

/** The scoring rules a scheme item may use and the parameters each keeps when the scheme is saved. */
import type { SchemeItem } from './api';

export const RULE_LABELS: Record<SchemeItem['rule'], string> = {
  interval: '区间法 (P10/P90)', max: '最大值比例法', max_type: '最大值型 (最差值 50 分)', target: '目标达成法',
};
export const BELOW_LABELS = { linear: '按比例得分', zero: '得 0 分' } as const;
export const REFERENCE_LABELS = { p90: '达到 P90 得满分', best: '达到最优值得满分' } as const;

/** The item's parameters as the API takes them: only those of its rule, with the rule's default filled in. */
export function paramsFor(item: Pick<SchemeItem, 'rule' | 'params'>): SchemeItem['params'] {
  if (item.rule === 'target') return { below: item.params.below ?? 'linear' };
  if (item.rule === 'max_type') return { reference: item.params.reference ?? 'p90' };
  return {};
}

/** The parameter shown in the table (— for a rule without one). */
export function paramLabel(item: Pick<SchemeItem, 'rule' | 'params'>): string {
  const p = paramsFor(item);
  if (p.below) return BELOW_LABELS[p.below];
  if (p.reference) return REFERENCE_LABELS[p.reference];
  return '—';
}

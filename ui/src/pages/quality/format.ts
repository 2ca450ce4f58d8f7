/** Pure helpers of the quality page: how a figure reads, its colour, which list explains it. */
import { formatDateTime } from '../../lib/time';
import type { Figure, Freshness, IndicatorValue, Status } from './api';

export const STATUS_LABELS: Record<Status, string> = {
  met: '达标', below_target: '未达目标', warning: '预警', alarm: '报警', no_data: '无数据', none: '—',
};

export const STATUS_COLORS: Record<Status, string> = {
  met: '#2e7d32', below_target: '#f9a825', warning: '#ef6c00', alarm: '#c62828', no_data: '#9e9e9e', none: '#607d8b',
};

export const PART_LABELS: Record<string, string> = { numerator: '分子', denominator: '分母', gap: '未计入分子' };

export const DIMENSION_FACTS: Record<string, string> = {
  last_visit_on: '末次随访', last_sbp: '收缩压', last_dbp: '舒张压', last_fpg: '空腹血糖', face_visits: '面访次数',
  required_visits: '应访次数', days_overdue: '逾期天数', due_on: '应访日期', visited_on: '随访日期', days_late: '延迟天数',
  status: '状态', level: '升级级别',
};

/** "60.0%", "12 人", or "—" for a figure without a value. */
export function formatValue(f: Pick<Figure, 'value'>, unit: string): string {
  if (f.value === null || f.value === undefined) return '—';
  if (unit === '%' || unit === '‰') return `${f.value.toFixed(1)}${unit}`;
  if (unit === '分钟') return `${f.value.toFixed(1)} 分钟`;
  return `${Math.round(f.value)} ${unit}`;
}

/** "3 / 5" for a rate, the count alone for a count indicator. */
export function formatParts(f: Figure): string {
  if (f.denominator === null || f.denominator === undefined) return String(f.numerator);
  return `${f.numerator} / ${f.denominator}`;
}

/** The list that explains a figure: for a rate where higher is better, those not counted (e.g. uncontrolled). */
export function explainingPart(ind: Pick<IndicatorValue, 'direction' | 'formula'>): 'gap' | 'numerator' {
  const den = ind.formula.denominator;
  return ind.direction === 'higher' && den && den.source === ind.formula.numerator.source ? 'gap' : 'numerator';
}

/** The month before `period` (YYYY-MM) and this month, for the period picker. */
export function monthsBack(today: Date, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const d = new Date(today.getFullYear(), today.getMonth() - i, 1);
    out.push(`${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`);
  }
  return out;
}

/** The facts a drill-down row shows, in a clinician's words, skipping the dimensions already in columns. */
export function factColumns(facts: Record<string, unknown>): string[] {
  return Object.keys(facts).filter((k) => k in DIMENSION_FACTS);
}

export function factValue(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? '是' : '否';
  return String(v);
}

/** The line above the figures: "数据更新于 2026-12-04 15:40", or that they were counted just now (no summary yet). */
export function freshnessText(f: Freshness | undefined): string {
  if (!f) return '';
  if (f.live || !f.as_of) return '实时计算（汇总尚未生成）';
  return `数据更新于 ${formatDateTime(f.as_of)}`;
}

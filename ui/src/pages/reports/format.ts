/** How the report page shows figures and comparisons (no raw codes). */
import type { Cell, Comparison } from './api';

export function shown(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined) return '—';
  return unit === '%' || unit === '‰' ? `${value}${unit}` : `${value}`;
}

/** A comparison as people read it: percentage points for a rate, per cent for a count. */
export function change(c: Comparison | undefined, unit: string): string {
  if (!c || c.change === null) return '—';
  const rate = unit === '%' || unit === '‰';
  const v = rate ? c.change : c.change_pct;
  if (v === null) return '—';
  return `${v > 0 ? '+' : ''}${v}${rate ? '个百分点' : '%'}`;
}

export function cellText(cell: Cell, unit: string): string {
  return shown(cell.value, unit);
}

/** YYYY-MM of the month `back` months before the given one. */
export function monthBefore(period: string, back: number): string {
  const i = Number(period.slice(0, 4)) * 12 + Number(period.slice(5, 7)) - 1 - back;
  return `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
}

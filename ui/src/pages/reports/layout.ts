/** The pivot's layout (row and column dimensions), the organisation picker and the parts of a cell's drill-down. */
import type { Cell, Definition } from './api';

export interface Layout { rows: string[]; columns: string[] }

/** Rows and columns of a definition: `rows`/`columns`, or the older `dimensions` [row, column?]. */
export function layoutOf(d: Pick<Definition, 'rows' | 'columns' | 'dimensions'>): Layout {
  if (d.rows || d.columns) return { rows: d.rows ?? [], columns: d.columns ?? [] };
  const dims = d.dimensions ?? [];
  return { rows: dims.slice(0, 1), columns: dims.slice(1, 2) };
}

/** Up to two row dimensions and one column dimension, without blanks or repeats ('' = none). */
export function buildLayout(row1: string, row2: string, column: string): Layout {
  const rows = [row1, row2].filter((d, i, all) => d !== '' && all.indexOf(d) === i);
  const columns = column !== '' && !rows.includes(column) && rows.length > 0 ? [column] : [];
  return { rows, columns };
}

/** The organisation as the picker shows it: indented by its depth below the caller's own. */
export function orgOption(o: { name: string; depth: number }): string {
  return `${'\u3000'.repeat(Math.max(0, o.depth))}${o.name}`;
}

export const PART_LABELS: Record<string, string> = { numerator: '分子', denominator: '分母', gap: '未达标' };

/** The lists a cell can open: a count has only its numerator; a rate its numerator, denominator and the gap. */
export function partsFor(cell: Pick<Cell, 'denominator'>): string[] {
  return cell.denominator === null ? ['numerator'] : ['gap', 'numerator', 'denominator'];
}

/** Whether a refused report may run as a background job instead (`too_many_rows` with `details.job`). */
export function canRunAsJob(error: unknown): boolean {
  const e = error as { code?: string; details?: Record<string, unknown> } | null;
  return !!e && e.code === 'too_many_rows' && e.details?.job === true;
}

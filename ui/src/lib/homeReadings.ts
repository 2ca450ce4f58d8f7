/**
 * Home readings (患者自测 / 家用设备): what the resident measured outside the clinic. They are shown apart from the
 * clinic's values and never enter the clinical trend lines, grading or classification (server: app/residents/sources.py).
 */
import type { Observation } from '../api/types';
import { zoneOffset } from './time';

export const HOME_LOINC = { sbp: '8480-6', dbp: '8462-4', pulse: '8867-4', fasting: '1558-6', random: '2339-0' };

export interface HomeReadingRow {
  at: string;
  sourceLabel: string;
  bp?: string;
  pulse?: number;
  glucose?: string;
}

/** One row per measurement time: "132/84", pulse, "6.1 (空腹)"; newest first as the server sends them. */
export function homeReadingRows(items: readonly Observation[]): HomeReadingRow[] {
  const rows = new Map<string, { at: string; sourceLabel: string; values: Record<string, number | string> }>();
  for (const o of items) {
    const row = rows.get(o.effective_at) ?? { at: o.effective_at, sourceLabel: o.source_label ?? '患者自测', values: {} };
    row.values[o.code] = o.value;
    rows.set(o.effective_at, row);
  }
  return [...rows.values()].map(({ at, sourceLabel, values }) => {
    const out: HomeReadingRow = { at, sourceLabel };
    if (values[HOME_LOINC.sbp] !== undefined && values[HOME_LOINC.dbp] !== undefined) {
      out.bp = `${values[HOME_LOINC.sbp]}/${values[HOME_LOINC.dbp]}`;
    }
    if (typeof values[HOME_LOINC.pulse] === 'number') out.pulse = values[HOME_LOINC.pulse] as number;
    if (values[HOME_LOINC.fasting] !== undefined) out.glucose = `${values[HOME_LOINC.fasting]}（空腹）`;
    else if (values[HOME_LOINC.random] !== undefined) out.glucose = `${values[HOME_LOINC.random]}（随机）`;
    return out;
  });
}

export interface HomeReadingDraft {
  measured_at: string; // datetime-local value, read as Beijing time
  sbp: string;
  dbp: string;
  pulse: string;
  glucose: string;
  glucose_kind: '' | 'fasting' | 'random';
}

/** The request body: only what was filled in; the time as an aware instant in the display time zone. */
export function homeReadingBody(d: HomeReadingDraft, id: string): Record<string, unknown> {
  const body: Record<string, unknown> = { id, measured_at: `${d.measured_at}:00${zoneOffset(d.measured_at.slice(0, 10))}` };
  for (const key of ['sbp', 'dbp', 'pulse'] as const) if (d[key].trim() !== '') body[key] = Number(d[key]);
  if (d.glucose.trim() !== '') body.glucose = Number(d.glucose);
  if (d.glucose_kind) body.glucose_kind = d.glucose_kind;
  return body;
}

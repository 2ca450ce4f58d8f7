/**
 * Readings taken at the visit (blood pressure, pulse, glucose): typed once, sent as observations (facts kept
 * whatever happens to the completion) and copied into the follow-up form's matching fields so they are not
 * typed twice.
 */
import { uuid } from '../lib/useAsync';
import type { Observation } from './api';

export interface Readings {
  sbp?: number | null;
  dbp?: number | null;
  pulse?: number | null;
  /** mmol/L */
  glucose?: number | null;
  glucose_kind?: 'fasting' | 'random';
  /** a Bluetooth device's serial when the values came from it */
  device_serial?: string | null;
}

/** Plausibility bounds: a typo (1280) is refused here, before it reaches the record. */
export const LIMITS = {
  sbp: [60, 300],
  dbp: [30, 200],
  pulse: [30, 220],
  glucose: [1, 35],
} as const;

export function readingProblems(r: Readings): Record<string, string> {
  const out: Record<string, string> = {};
  const names = { sbp: '收缩压', dbp: '舒张压', pulse: '心率', glucose: '血糖' } as const;
  for (const k of ['sbp', 'dbp', 'pulse', 'glucose'] as const) {
    const v = r[k];
    if (v === null || v === undefined) continue;
    const [lo, hi] = LIMITS[k];
    if (!Number.isFinite(v) || v < lo || v > hi) out[k] = `${names[k]}应在 ${lo}–${hi} 之间`;
  }
  if ((r.sbp == null) !== (r.dbp == null)) out[r.sbp == null ? 'sbp' : 'dbp'] = '收缩压和舒张压须同时填写';
  if (r.sbp != null && r.dbp != null && r.dbp >= r.sbp) out.dbp = '舒张压应低于收缩压';
  return out;
}

export function hasReadings(r: Readings): boolean {
  return r.sbp != null || r.pulse != null || r.glucose != null;
}

/** LOINC observations for the mobile API (docs/mobile.md "POST /observations"), each with its own client UUID. */
export function toObservations(r: Readings, residentId: number, effectiveAt: string, taskId?: number): Observation[] {
  const base = { resident_id: residentId, effective_at: effectiveAt, ...(taskId ? { task_id: taskId } : {}),
    ...(r.device_serial ? { device_serial: r.device_serial } : {}) };
  const out: Observation[] = [];
  if (r.sbp != null && r.dbp != null) {
    out.push({ id: uuid(), code: '8480-6', value: r.sbp, unit: 'mm[Hg]', ...base });
    out.push({ id: uuid(), code: '8462-4', value: r.dbp, unit: 'mm[Hg]', ...base });
  }
  if (r.pulse != null) out.push({ id: uuid(), code: '8867-4', value: r.pulse, unit: '/min', ...base });
  if (r.glucose != null) {
    out.push({ id: uuid(), code: r.glucose_kind === 'random' ? '2339-0' : '1558-6', value: r.glucose, unit: 'mmol/L', ...base });
  }
  return out;
}

type Json = Record<string, unknown>;
interface Prop {
  type?: string;
  properties?: Record<string, Prop>;
  items?: Prop;
}

const FIELD_NAMES: Record<string, keyof Readings> = {
  sbp: 'sbp', systolic: 'sbp', dbp: 'dbp', diastolic: 'dbp', heart_rate: 'pulse', pulse: 'pulse', hr: 'pulse',
  fpg: 'glucose', fasting_glucose: 'glucose', glucose: 'glucose', blood_glucose: 'glucose',
};

/**
 * Copy the readings into empty form fields with the usual names (sbp/dbp/heart_rate/fpg …), walking nested
 * objects and the first item of arrays of objects (e.g. signs.bp_readings[0].sbp). Never overwrites a value.
 */
export function prefillForm(schema: Prop, data: unknown, r: Readings): unknown {
  if (schema.type === 'object' && schema.properties) {
    const obj: Json = data && typeof data === 'object' && !Array.isArray(data) ? { ...(data as Json) } : {};
    for (const [k, p] of Object.entries(schema.properties)) {
      const reading = FIELD_NAMES[k];
      if (reading && (p.type === 'integer' || p.type === 'number')) {
        const v = r[reading];
        if ((obj[k] === undefined || obj[k] === null || obj[k] === '') && typeof v === 'number') {
          obj[k] = p.type === 'integer' ? Math.round(v) : v;
        }
      } else if (p.type === 'object') {
        const inner = prefillForm(p, obj[k], r);
        if (inner && Object.keys(inner as Json).length) obj[k] = inner;
      } else if (p.type === 'array' && p.items?.type === 'object' && p.items.properties) {
        const keys = Object.keys(p.items.properties);
        if (!keys.some((x) => FIELD_NAMES[x])) continue;
        const list = Array.isArray(obj[k]) ? [...(obj[k] as unknown[])] : [];
        const first = prefillForm(p.items, list[0], r) as Json;
        if (Object.keys(first).length) {
          list[0] = first;
          obj[k] = list;
        }
      }
    }
    return obj;
  }
  return data;
}

/** Observations (LOINC-coded) → the series the resident record charts. */
import type { Observation } from '../api/types';
import { vocabMap } from './vocabulary';

export const LOINC = {
  sbp: '8480-6',
  dbp: '8462-4',
  fpg: '1558-6',
  hba1c: '4548-4',
  creatinine: '2160-0',
  inr: '6301-6',
} as const;

export const LOINC_NAMES = vocabMap('observation_code');

export type Point = [number, number];

/** Points of one code, oldest first, as [epoch ms, value]; non-numeric values are skipped. */
export function seriesOf(observations: readonly Observation[], code: string): Point[] {
  return observations
    .filter((o) => o.code === code)
    .map((o): Point => [new Date(o.effective_at).getTime(), typeof o.value === 'number' ? o.value : Number.parseFloat(o.value)])
    .filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v))
    .sort((a, b) => a[0] - b[0]);
}

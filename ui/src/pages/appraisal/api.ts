/** Calls and types of the performance-appraisal API (/api/v1/appraisal). */
import { api, buildUrl } from '../../api/client';
import type { ExportJob } from '../../lib/exportJobs';

const A = '/api/v1/appraisal';

export type Kind = 'township' | 'village' | 'team';
export const KINDS: { code: Kind; label: string }[] = [
  { code: 'township', label: '乡镇卫生院' }, { code: 'village', label: '村卫生室' }, { code: 'team', label: '家庭医生团队' },
];

export interface SchemeItem {
  indicator_id: string; indicator_name?: string; unit?: string; direction?: string; weight: number;
  rule: 'interval' | 'max' | 'max_type' | 'target'; rule_label?: string;
  params: { below?: 'zero' | 'linear'; reference?: 'p90' | 'best' };
}
export interface Version { version: number; name: string; created_by: string; created_at: string; indicator_count: number }
export interface Choice { id: string; name: string; unit: string; direction: string; has_target: boolean }
export interface SchemeDetail {
  kind: Kind; kind_label: string; version: number; name: string; note: string; items: SchemeItem[];
  created_by: string; created_at: string; versions: Version[]; indicators: Choice[];
  rules: { code: string; label: string }[];
}
export interface Breakdown {
  indicator_id: string; value: number | null; numerator: number | null; denominator: number | null;
  score: number | null; weighted: number | null;
}
export interface Subject {
  key: string; name: string; org_code: string; org_name: string; total: number | null; rank: number | null;
  breakdown: Breakdown[];
}
export interface IndicatorStat {
  indicator_id: string; indicator_name: string; unit: string; direction: string; weight: number; rule: string;
  rule_label: string; p10: number | null; p90: number | null; best: number | null; target: number | null;
  worst?: number | null; reference?: number | null;
}
export interface Result {
  kind: Kind; kind_label: string; period: string; scheme_version: number; scheme_name: string; window_start: string;
  window_end: string; indicators: IndicatorStat[]; peer_count: number; subjects: Subject[]; computed_by: string;
  computed_at: string;
}

export const appraisal = {
  scheme: (kind: Kind) => api.get<SchemeDetail>(`${A}/schemes/${kind}`),
  save: (kind: Kind, body: { name?: string; note?: string; items: SchemeItem[] }) =>
    api.put<SchemeDetail>(`${A}/schemes/${kind}`, body),
  run: (period: string, kind?: Kind) => api.post<{ results: Result[] }>(`${A}/runs`, { period, ...(kind ? { kind } : {}) }),
  result: (kind: Kind, period?: string) => api.get<Result>(`${A}/results`, { kind, ...(period ? { period } : {}) }),
  startExport: (period: string, format: 'pdf' | 'xlsx' = 'pdf', kind?: Kind) =>
    api.post<ExportJob>(`${A}/exports`, { period, format, ...(kind ? { kind } : {}) }),
  exportJob: (id: number) => api.get<ExportJob>(`${A}/exports/${id}`),
  links: {
    pdf: (period: string, kind: Kind) => buildUrl(`${A}/results.pdf`, { period, kind }),
    xlsx: (period: string, kind: Kind) => buildUrl(`${A}/results.xlsx`, { period, kind }),
  },
};

/** The quarter a date falls in, as the API writes it (2026Q4). */
export function quarterOf(day: Date): string {
  return `${day.getFullYear()}Q${Math.floor(day.getMonth() / 3) + 1}`;
}

export function shown(value: number | null | undefined, unit = ''): string {
  return value === null || value === undefined ? '—' : `${Number(value.toFixed(1))}${unit}`;
}

/** Calls and types of the interventional centre API (/api/v1/intervention-centre, /api/v1/interventions). */
import { api } from '../../api/client';

const V1 = '/api/v1';

export interface CentreIndicator {
  code: string;
  label: string;
  definition: string;
  unit: string;
  numerator: number | null;
  denominator: number | null;
  value: number | null;
  target: number | null;
  direction: string | null;
  alarm: boolean;
  case_ids: number[];
}

export interface CentreIndicators {
  from: string;
  to: string;
  quality: string[];
  economy: string[];
  total: Record<string, CentreIndicator>;
  lines: { service_line: string; label: string; indicators: Record<string, CentreIndicator> }[];
}

export interface InterventionCase {
  id: number;
  case_no: string;
  status_label: string;
  resident_name: string | null;
  service_line_label: string;
  procedure_name: string;
  grade_label: string;
  discharged_on: string | null;
  drg_code: string | null;
  margin: number | null;
}

export const centreApi = {
  indicators: (month: string) =>
    api.get<CentreIndicators>(`${V1}/intervention-centre/indicators?month=${encodeURIComponent(month)}`),
  cases: (ids: number[]) =>
    api.get<{ items: InterventionCase[]; total: number }>(`${V1}/interventions?per_page=200&ids=${ids.join(',')}`),
  links: {
    xlsx: (month: string) => `${V1}/intervention-centre/indicators.xlsx?month=${month}`,
    pdf: (month: string) => `${V1}/intervention-centre/report.pdf?month=${month}`,
    database: () => `${V1}/interventions/export.xlsx`,
  },
};

/** The value as a clinician reads it: percentages with one decimal, money rounded to yuan, indices two decimals. */
export function valueText(i: CentreIndicator): string {
  if (i.value === null || i.value === undefined) return '—';
  if (i.unit === '%') return `${i.value.toFixed(1)}%`;
  if (i.unit === '元') return `${Math.round(i.value).toLocaleString('zh-CN')} 元`;
  if (i.code === 'cases') return `${Math.round(i.value)} 例`;
  return i.value.toFixed(2);
}

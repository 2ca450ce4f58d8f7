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

export interface CaseDevice {
  id: number;
  gtin: string;
  lot: string | null;
  serial: string | null;
  expiry: string | null;
  name: string;
  quantity: number;
  unit_price: number;
  implant: boolean;
  self_pay: boolean;
  scanned_at: string | null;
}

export interface CaseComplication {
  id: number;
  kind_label: string;
  grade_label: string;
  severe: boolean;
  occurred_at: string | null;
  during_stay: boolean;
  treatment: string | null;
  checkpoint: string;
  checkpoint_label: string;
}

export interface CaseReoperation {
  id: number;
  unplanned: boolean;
  reoperated_at: string | null;
  interval_hours: number;
  reason_label: string;
  description: string | null;
  rca: { root_cause?: string; actions?: string };
  rca_done_at: string | null;
}

export interface ReservationLine {
  name: string;
  di: string;
  quantity: number;
  implant: boolean;
  lots?: { lot_no: string; quantity: number; expiry_on: string | null }[];
}

export interface MonthlyReport {
  id: number;
  period: string;
  centre_name: string;
  status: string;
  status_label: string;
  error: string | null;
  attempts: number;
  recipients: number;
  delivered_at: string | null;
  has_files: boolean;
}

export interface CaseDetail extends InterventionCase {
  status: string;
  reservation: ReservationLine[];
  doctor_name: string | null;
  org_name: string;
  diagnosis: string;
  admitted_on: string | null;
  operated_at: string | null;
  los_days: number | null;
  drg_weight: number | null;
  total_charge: number | null;
  case_cost: number | null;
  satisfaction: number | null;
  readmitted_30d: boolean | null;
  assessment: { egfr_ckd_epi_2009?: number; anticoag_plan?: string | null;
    anticoagulation?: { on_anticoagulant?: boolean; drugs?: { name: string }[] } };
  contrast_risk_label: string;
  self_pay_estimate: number | null;
  operation: { minutes?: number };
  approach_label: string;
  outcome_label: string;
  checkpoints: Record<string, { at?: string; complications?: number; returned_to_theatre?: boolean }>;
  destination_label: string;
  drg: { drg_name?: string; grouper?: string };
  cost: { method_label?: string; paid?: number; insurance_payment?: number; expected_revenue?: number;
    self_pay_consumables?: number; high_value_cost?: number; consumable_share?: number | null; outlier?: string | null;
    excluded?: boolean };
  devices: CaseDevice[];
  complications: CaseComplication[];
  reoperations: CaseReoperation[];
  timeline: { at: string | null; event: string | null; text: string | null }[];
  scanning_open: boolean;
}

export const centreApi = {
  detail: (id: number) => api.get<CaseDetail>(`${V1}/interventions/${id}`),
  scan: (id: number, udi: string) => api.post<CaseDevice>(`${V1}/interventions/${id}/devices`, { udi }),
  cancel: (id: number, reason: string) => api.post<InterventionCase>(`${V1}/interventions/${id}/cancel`, { reason }),
  monthlyReports: () => api.get<{ items: MonthlyReport[] }>(`${V1}/intervention-centre/monthly-reports`),
  indicators: (month: string) =>
    api.get<CentreIndicators>(`${V1}/intervention-centre/indicators?month=${encodeURIComponent(month)}`),
  cases: (ids: number[]) =>
    api.get<{ items: InterventionCase[]; total: number }>(`${V1}/interventions?per_page=200&ids=${ids.join(',')}`),
  links: {
    xlsx: (month: string) => `${V1}/intervention-centre/indicators.xlsx?month=${month}`,
    pdf: (month: string) => `${V1}/intervention-centre/report.pdf?month=${month}`,
    database: () => `${V1}/interventions/export.xlsx`,
    monthly: (id: number, fmt: 'pdf' | 'xlsx') => `${V1}/intervention-centre/monthly-reports/${id}/report.${fmt}`,
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

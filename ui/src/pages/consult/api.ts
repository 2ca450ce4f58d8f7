/** Calls and types of the remote consult API (/api/v1/consults, /residents/{id}/consults). */
import { api } from '../../api/client';

const V1 = '/api/v1';

export interface Consult {
  id: number;
  consult_no: string;
  status: string;
  status_label: string;
  consult_type: string;
  type_label: string;
  mode: string;
  mode_label: string;
  urgency: string;
  urgency_label: string;
  specialty: string;
  specialty_label: string;
  resident_id: number;
  resident_name: string | null;
  requester_org_name: string;
  requester_name: string | null;
  invited_org_name: string;
  reason: string;
  purpose: string;
  requested_at: string | null;
  invited_at: string | null;
  accept_due_at: string | null;
  accepted_at: string | null;
  decline_reason: string | null;
  scheduled_at: string | null;
  report_due_at: string | null;
  report_signed_at: string | null;
  closed_at: string | null;
  lead_expert_id: number | null;
  expert_ids: number[];
  overdue: boolean;
  diagnosis?: string | null;
  adoption_label?: string;
}

export interface Opinion {
  id: number;
  expert_id: number;
  expert_name: string;
  role: string;
  role_label: string;
  content: Record<string, unknown>;
  signature: string;
  signed_at: string;
}

export interface ConsultTask {
  id: number;
  name: string;
  element_id: string;
  due_at: string | null;
}

export interface ConsultDetail extends Consult {
  network_record: boolean;
  can_reassign: boolean;
  summary: Record<string, string>;
  attachments: { kind: string; ref: string; title: string }[];
  consent: Record<string, unknown>;
  consent_signed_at: string | null;
  review: Record<string, unknown>;
  requested_title_label: string;
  sla_rule: string | null;
  accept_sla: string | null;
  report_sla: string | null;
  report: Record<string, unknown>;
  opinions: Opinion[];
  adoption: Record<string, unknown>;
  adoption_label: string;
  evaluation: Record<string, unknown>;
  satisfaction: number | null;
  billing: Record<string, unknown>;
  referral_ids: number[];
  timeline: { at: string | null; event: string | null; text: string | null }[];
  documents: { side: string; sha256: string; archived_at: string | null }[];
  room: { status: string | null; external_url: string | null; participant: boolean; opened_at: string | null };
  my_role: string;
  pending_opinion: boolean;
  tasks: ConsultTask[];
}

export interface Option {
  value: string;
  label: string;
}

export interface ConsultOptions {
  invited_orgs: Option[];
  types: Option[];
  modes: Option[];
  urgencies: Option[];
  specialties: Option[];
  titles: Option[];
}

export interface NewConsult {
  resident_id: number;
  invited_org_code: string;
  consult_type: string;
  mode: string;
  urgency: string;
  specialty: string;
  requested_title?: string | null;
  reason: string;
  purpose: string;
  summary: Record<string, string>;
  attachments: { kind: string; ref: string; title?: string }[];
  device_ids?: string[];
}

export interface Consent {
  informed: string[];
  signer_type: string;
  signer_name: string;
  relation?: string | null;
  not_told_reason?: string | null;
  consented: boolean;
  signature: string | null;
}

export const consultApi = {
  list: (query: { side?: string; status?: string; open?: boolean; page?: number; per_page?: number }) =>
    api.get<{ items: Consult[]; total: number }>(`${V1}/consults`, query),
  get: (id: number) => api.get<ConsultDetail>(`${V1}/consults/${id}`),
  options: () => api.get<ConsultOptions>(`${V1}/consults/options`),
  create: (body: NewConsult) => api.post<Consult>(`${V1}/consults`, body),
  consent: (id: number, body: Consent) => api.post<ConsultDetail>(`${V1}/consults/${id}/consent`, body),
  accept: (id: number) => api.post<ConsultDetail>(`${V1}/consults/${id}/accept`),
  decline: (id: number, reason: string) => api.post<ConsultDetail>(`${V1}/consults/${id}/decline`, { reason }),
  opinion: (id: number, body: Record<string, unknown>) => api.post<Opinion>(`${V1}/consults/${id}/opinions`, body),
  expertDecline: (id: number, reason: string) => api.post<ConsultDetail>(`${V1}/consults/${id}/expert-decline`, { reason }),
  reassign: (id: number, reason: string) => api.post<ConsultDetail>(`${V1}/consults/${id}/reassign`, { reason }),
  deterioration: (id: number, reason: string) => api.post<ConsultDetail>(`${V1}/consults/${id}/deterioration`, { reason }),
  satisfaction: (id: number, score: number) => api.post<ConsultDetail>(`${V1}/consults/${id}/satisfaction`, { score }),
  ofResident: (residentId: number) => api.get<Consult[]>(`${V1}/residents/${residentId}/consults`),
  reportUrl: (id: number, side: 'requester' | 'invited') => `${V1}/consults/${id}/report.pdf?side=${side}`,
};

export function statusKind(status: string): string {
  if (['declined', 'refused', 'cancelled'].includes(status)) return 'badge-danger';
  if (['closed', 'adopted', 'reported'].includes(status)) return 'badge-ok';
  if (['invited', 'consent_pending', 'reviewing', 'returned'].includes(status)) return 'badge-warn';
  return 'badge-info';
}

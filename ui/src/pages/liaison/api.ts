/** Calls and types of the expert-liaison API (/api/v1/liaison): rota, week, bookings, specialty plans. */
import { api } from '../../api/client';

const V1 = '/api/v1/liaison';

export interface Duty {
  id: number;
  kind: 'visit' | 'on_call';
  kind_label: string;
  expert_user_id: number;
  expert_name: string;
  specialty_label: string;
  township_code: string;
  township_name: string;
  on_date: string;
  half_day: string;
  half_day_label: string;
  starts_at: string;
  ends_at: string;
  capacity: number;
  booked: number;
  remaining: number;
  status: string;
  status_label: string;
  note: string;
  cancel_reason: string | null;
  bookable: boolean;
  on_call_now: boolean;
}

export interface Week {
  township_code: string;
  township_name: string;
  week_start: string;
  week_end: string;
  experts: { user_id: number; name: string; specialty_label: string; duties: number }[];
  on_call_now: Duty[];
  duties: Duty[];
  can_book: boolean;
}

export interface Option { value: string; label: string }
export interface ExpertOption {
  user_id: number;
  name: string;
  org_code: string;
  specialty: string;
  specialty_label: string;
  title_label: string;
  available: boolean;
  leave_from: string | null;
  leave_to: string | null;
}
export interface IndicatorOption { id: string; name: string; unit: string; direction: string }
export interface Options {
  townships: Option[];
  experts: ExpertOption[];
  specialties: Option[];
  indicators: IndicatorOption[];
  can_edit: boolean;
}

export interface Booking {
  id: number;
  duty_id: number;
  kind: string;
  kind_label: string;
  status: string;
  status_label: string;
  resident_name: string;
  reason: string;
  consult_id: number | null;
  booked_by_name: string;
  on_date: string | null;
  half_day_label: string | null;
  expert_name: string | null;
}

export interface PlanIndicator { name: string; indicator_id: string | null; target: number; direction: string; unit: string }
export interface Milestone {
  id: number;
  seq: number;
  title: string;
  due_on: string;
  indicators: PlanIndicator[];
  status: string;
  status_label: string;
  overdue: boolean;
  review: { indicators?: (PlanIndicator & { value: number | null; met: boolean; source: string })[]; note?: string };
}
export interface Plan {
  id: number;
  title: string;
  township_name: string;
  specialty_label: string;
  lead_expert_name: string | null;
  goals: string[];
  activities: string[];
  starts_on: string;
  ends_on: string;
  status: string;
  status_label: string;
  approval: { decision?: string; comment?: string };
  evaluation: { rating?: string; summary?: string };
  milestones: Milestone[];
  milestones_met: number;
}

export interface NewDuty {
  kind: 'visit' | 'on_call';
  expert_user_id: number;
  township_code: string;
  on_date: string;
  half_day: string;
  capacity: number;
  specialty: string | null;
  note: string;
}

export interface NewBooking {
  kind: 'joint_clinic' | 'consult';
  resident_id: number;
  reason: string;
  consult?: { purpose: string; summary: Record<string, string> } | null;
}

export interface NewPlan {
  township_code: string;
  specialty: string;
  title: string;
  starts_on: string;
  ends_on: string;
  goals: string[];
  activities: string[];
  milestones: { title: string; due_on: string; indicators: { name: string; indicator_id: string | null; target: number; unit: string }[] }[];
}

export const liaisonApi = {
  options: () => api.get<Options>(`${V1}/options`),
  rota: (query: { start?: string; end?: string; township_code?: string }) => api.get<{ items: Duty[]; start: string; end: string }>(`${V1}/duties`, query),
  schedule: (body: NewDuty) => api.post<Duty>(`${V1}/duties`, body),
  cancelDuty: (id: number, reason: string) => api.post<Duty>(`${V1}/duties/${id}/cancel`, { reason }),
  deliver: (id: number) => api.post<Duty>(`${V1}/duties/${id}/deliver`),
  week: (query: { township_code?: string; week_start?: string }) => api.get<Week>(`${V1}/week`, query),
  book: (dutyId: number, body: NewBooking) => api.post<Booking>(`${V1}/duties/${dutyId}/bookings`, body),
  bookings: (query: { start?: string; end?: string } = {}) => api.get<{ items: Booking[] }>(`${V1}/bookings`, query),
  cancelBooking: (id: number) => api.post<Booking>(`${V1}/bookings/${id}/cancel`),
  plans: () => api.get<{ items: Plan[] }>(`${V1}/plans`),
  createPlan: (body: NewPlan) => api.post<Plan>(`${V1}/plans`, body),
};

/** Monday of the week a YYYY-MM-DD day falls in, as YYYY-MM-DD. */
export function mondayOf(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  const back = (d.getUTCDay() + 6) % 7;
  d.setUTCDate(d.getUTCDate() - back);
  return d.toISOString().slice(0, 10);
}

/** A day moved by n days (YYYY-MM-DD in, YYYY-MM-DD out). */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六'];

/** "12月08日 周二" for a YYYY-MM-DD day. */
export function dayLabel(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  return `${String(d.getUTCMonth() + 1).padStart(2, '0')}月${String(d.getUTCDate()).padStart(2, '0')}日 ${WEEKDAYS[d.getUTCDay()]}`;
}

export function dutyKind(d: Duty): string {
  if (d.status === 'cancelled') return 'badge-danger';
  if (d.status === 'delivered') return 'badge-ok';
  return d.kind === 'on_call' ? 'badge-warn' : 'badge-info';
}

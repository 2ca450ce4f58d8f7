/**
 * The resident portal's own door to /api/portal/v1: the portal token (X-Portal-Token, kept in localStorage) instead
 * of the staff session; cookies are never sent, except to exchange a signed-in patient account for a token.
 */
import { CSRF_HEADER, readCookie, CSRF_COOKIE } from '../api/client';

const BASE = '/api/portal/v1';
const KEY = 'ygt_portal_token';

export class PortalError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const FALLBACK: Record<string, string> = {
  validation_error: '填写的内容有误，请检查后再提交',
  unprocessable_entity: '填写的内容有误，请检查后再提交',
  portal_login_required: '请先绑定居民身份',
  invalid_portal_token: '登录已失效，请重新绑定',
};
const CJK = /[\u4e00-\u9fff]/;

export function portalMessage(status: number, code: string, message: string): string {
  if (message && CJK.test(message)) return message;
  if (FALLBACK[code]) return FALLBACK[code];
  if (status === 0) return '无法连接服务器，请检查网络后重试';
  if (status >= 500) return '服务器出错了，请稍后再试';
  return '操作未成功，请稍后再试';
}

export function getToken(): string | null {
  try {
    return window.localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) window.localStorage.setItem(KEY, token);
  else window.localStorage.removeItem(KEY);
}

async function toError(res: Response): Promise<PortalError> {
  let body: { code?: string; message?: string; details?: Record<string, unknown> } = {};
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  const code = body.code ?? `http_${res.status}`;
  const details = body.details ?? {};
  let message = portalMessage(res.status, code, body.message ?? '');
  const fields = (details as { json?: Record<string, string[]> }).json;
  if (res.status === 422 && fields) {
    const first = Object.values(fields).flat().find((m) => typeof m === 'string' && CJK.test(m));
    if (first) message = first;
  }
  return new PortalError(res.status, code, message, details);
}

export async function portal<T = unknown>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const token = getToken();
  if (token) headers['X-Portal-Token'] = token;
  let res: Response;
  try {
    res = await fetch(BASE + path, { method, headers, credentials: 'omit', body: body === undefined ? undefined : JSON.stringify(body), ...init });
  } catch {
    throw new PortalError(0, 'network', portalMessage(0, 'network', ''));
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A patient signed in to the platform (staff sign-in cookie) gets a portal token without another code. */
export async function tokenFromPatientLogin(): Promise<string | null> {
  const csrf = readCookie(CSRF_COOKIE);
  if (!csrf) return null;
  const res = await fetch(`${BASE}/bind/login`, { method: 'POST', credentials: 'same-origin', headers: { [CSRF_HEADER]: csrf, Accept: 'application/json' } });
  if (!res.ok) return null;
  const body = (await res.json()) as { token: string };
  return body.token;
}

export interface Proxy { id: number; name: string; relation: string; phone_hint: string; status: string; requested_at: string; decided_at: string | null }
export interface Me { resident_name: string; proxy: Proxy | null; consent_needed: boolean }
export interface Target { key: string; label: string; value: number | string }
export interface DiseasePlan {
  disease: string; disease_name: string; next_due_on: string | null; window_from: string | null; window_to: string | null;
  overdue: boolean; interval_days: number | null; targets: Target[];
  drugs: { drug: string | null; name: string | null; dose: string | number | null; frequency: string | null }[]; guidance: string[];
}
/** A risk level as the resident reads it: label and plain-language explanation only (never a raw grade). */
export interface Risk { disease: string; disease_name: string; level_label: string; explanation: string }
export interface Plan {
  resident_name: string; doctor: { name: string; org_name: string | null; phone: string | null } | null; plans: DiseasePlan[];
  risks: Risk[];
  booking: { id: number; slot_on: string; half_day: string; status: string } | null;
}
/** One of the village clinic's follow-up half-days (GET /bookings/slots), with the places left. */
export interface Slot { slot_on: string; half_day: 'am' | 'pm'; label: string; capacity: number; available: number; mine: boolean }
export interface Reading { id: number; kind: string; name: string; value: number | null; unit: string | null; at: string; origin: 'clinic' | 'self' | 'device'; origin_label: string }
export interface Medication { id: number; drug: string; name: string; dose: string | null; frequency: string | null; started_on: string | null }
export interface EducationItem { id: number; title: string; summary: string; topic: string; pushed_at: string; read_at: string | null; body?: string }
export interface ReferralStatus {
  id: number; referral_no: string; direction_label: string; step: string; step_label: string; hospital: string | null;
  requested_at: string; accepted_at: string | null; arrived_at: string | null; returned_at: string | null;
}
export interface ConsentState {
  purpose: string; title: string; text: string; channel: string; required: boolean; current_version: string;
  granted: boolean; decided: boolean; version: string | null; outdated: boolean; recorded_at: string | null;
}
export interface ConsentRecord { id: number; purpose: string; channel: string; version: string; granted: boolean; decided_by: string; guardian_name: string | null; recorded_at: string }
export interface Consents { items: ConsentState[]; history: ConsentRecord[]; guardian_needed: boolean }
export interface Survey { code: string; title: string; questions: { key: string; text: string }[]; answered_at: string | null }

export const CHANNEL_LABELS: Record<string, string> = { portal: '居民端', app: '平台消息', sms: '短信' };
export const PURPOSE_LABELS: Record<string, string> = { health_data: '查看本人健康信息', reminder: '随访与用药提醒', education: '健康宣教推送' };

export interface ContractBrief {
  contract_no: string; status: string; status_label: string; team_org_name: string | null; doctor: { name: string; org_name: string | null } | null;
  starts_on: string | null; ends_on: string | null; amount_due_fen: number | null; paid: boolean;
  packages: { code: string; name: string; price_fen: number; self_fen: number }[];
  ledger: { name: string; kind_label: string; quantity: number; delivered: number; remaining: number; next_due_on: string | null }[];
}
export interface ContractSummary { active: ContractBrief | null; pending: ContractBrief | null; can_request: boolean }
export interface ConsultStatus {
  id: number; consult_no: string; step: string; step_label: string; specialty: string; hospital: string | null; mode_label: string;
  requested_at: string | null; scheduled_at: string | null; reported_at: string | null;
}

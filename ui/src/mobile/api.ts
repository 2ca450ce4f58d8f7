/**
 * The PWA's door to /api/mobile/v1 (docs/mobile.md, API half). Every call carries the installation's
 * X-Device-Id; unsafe calls the CSRF header. Answers are classified for the outbox (./outbox SendResult).
 */
import { csrfHeaders } from '../api/client';
import type { OutboxItem, SendResult } from './outbox';

export const MOBILE = '/api/mobile/v1';

/** Packet shapes (docs/mobile.md "GET /pull"): only the fields the client reads are named. */
export interface PacketTask {
  id: number;
  etag: string;
  name: string;
  process_id?: string;
  element_id?: string;
  resident_id: number | null;
  due_at: string | null;
  priority?: number;
  overdue?: boolean;
  disease?: string | null;
  risk_level?: string | null;
  instructions?: string | null;
  assigned_to_me?: boolean;
  lease_until?: string | null;
  schema_ref: string | null;
  form_version: string | null;
  data?: Record<string, unknown> | null;
}

export interface PacketResident {
  id: number;
  name: string;
  sex?: string | null;
  age?: number | null;
  phone?: string | null;
  address?: string | null;
  org_name?: string | null;
  conditions?: { icd10?: string; name?: string; label?: string; status?: string }[];
  medications?: { drug?: string; dose?: string; frequency?: string }[];
  latest?: { code: string; value: number | string; unit?: string; effective_at?: string; source?: string }[];
}

export interface PacketSchema {
  ref: string;
  form_key?: string;
  version: string;
  title?: string;
  schema: Record<string, unknown>;
  ui_schema?: Record<string, unknown>;
}

export interface Packet {
  token: string;
  reset: boolean;
  server_time?: string;
  lease_hours?: number;
  /** more pages follow: pull again at once with this page's token */
  has_more?: boolean;
  tasks: PacketTask[];
  residents: PacketResident[];
  schemas: PacketSchema[];
  removed?: { tasks?: { id: number; reason?: string }[]; residents?: { id: number; reason?: string }[]; schemas?: string[] };
}

export interface Observation {
  id: string;
  resident_id: number;
  code: string;
  value: number;
  unit: string;
  effective_at: string;
  task_id?: number;
  device_serial?: string;
}

export interface CompletionBody {
  completion_id: string;
  task_id: number;
  etag: string;
  form_version: string | null;
  data: unknown;
  observations: Observation[];
  completed_at_device: string;
}

/** RFC 3339 with the phone's own offset (the API refuses times without one). */
export function isoLocal(d: Date = new Date()): string {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
    + `${sign}${pad(off / 60)}:${pad(off % 60)}`;
}

interface ErrorBody {
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
}

/** How the outbox treats an HTTP answer (network failures are `offline`, decided by the caller). */
export function classify(status: number, body: unknown): SendResult {
  const e = (body && typeof body === 'object' ? body : {}) as ErrorBody;
  const code = e.code ?? `http_${status}`;
  const details = e.details ?? {};
  if (status >= 200 && status < 300) return { kind: 'ok', response: body };
  if (status === 401) return { kind: 'unauthorized' };
  if (status === 403 && code === 'device_revoked') return { kind: 'revoked' };
  if (status === 409) return { kind: 'conflict', reason: String(details.reason ?? code), message: e.message, detail: details };
  // the task is not there for this user any more (never in a packet of this device, or gone)
  if (status === 404) return { kind: 'conflict', reason: 'task_gone', message: e.message, detail: details };
  if (status === 400 || status === 403 || status === 422) return { kind: 'invalid', reason: code, message: e.message, detail: details };
  return { kind: 'transient', message: `${status} ${code}` };
}

export class MobileApi {
  constructor(private deviceId: string) {}

  private headers(method: string): Record<string, string> {
    return { Accept: 'application/json', 'Content-Type': 'application/json', 'X-Device-Id': this.deviceId, ...csrfHeaders(method) };
  }

  /** One call; `offline` when the network (or the page.route of the tests) refuses it. */
  async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown } | null> {
    let res: Response;
    try {
      res = await fetch(`${MOBILE}${path}`, {
        method, credentials: 'include', cache: 'no-store', headers: this.headers(method),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      return null;
    }
    let parsed: unknown = null;
    try {
      parsed = await res.json();
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed };
  }

  async send(item: OutboxItem): Promise<SendResult> {
    let path = item.kind === 'completion' ? '/completions' : '/observations';
    let body = item.body;
    if (item.kind === 'resolution') {
      const { completion_id, action } = item.body as { completion_id: string; action: string };
      path = `/completions/${encodeURIComponent(completion_id)}/resolve`;
      body = { action };
    }
    const r = await this.call('POST', path, body);
    return r === null ? { kind: 'offline' } : classify(r.status, r.body);
  }

  /** null = offline; otherwise the HTTP outcome (classify it for revoked / unauthorized). */
  async pull(token: string | undefined, limit?: number): Promise<{ status: number; body: unknown } | null> {
    const q = new URLSearchParams();
    if (token) q.set('token', token);
    if (limit) q.set('limit', String(limit));
    const qs = q.toString();
    return this.call('GET', `/pull${qs ? `?${qs}` : ''}`);
  }
}

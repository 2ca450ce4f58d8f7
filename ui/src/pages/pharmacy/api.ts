/** Calls and types of the prescription API (/api/v1/prescriptions); the types are the generated OpenAPI ones. */
import { api } from '../../api/client';
import type { components } from '../../api/schema.gen';

type S = components['schemas'];
export type PrescriptionRow = S['PrescriptionRow'];
export type PrescriptionPage = S['PrescriptionPage'];
export type PrescriptionDetail = S['PrescriptionDetail'];
export type PrescriptionOptions = S['PrescriptionOptions'];
export type Finding = S['Finding'];
export type AutoPassSetting = S['AutoPassSetting'];

export interface PrescriptionQuery {
  drug?: string;
  prescriber?: string;
  org_code?: string;
  state?: string;
  resident_id?: number;
  from?: string;
  to?: string;
  page?: number;
  per_page?: number;
}

interface OpenTask { id: number; instance_id: number; element_id: string }

const P = '/api/v1/prescriptions';
const clean = (q: PrescriptionQuery) => Object.fromEntries(Object.entries(q).filter(([, v]) => v !== '' && v !== undefined));

export const prescriptions = {
  search: (q: PrescriptionQuery) => api.get<PrescriptionPage>(P, clean(q)),
  options: () => api.get<PrescriptionOptions>(`${P}/options`),
  get: (id: number) => api.get<PrescriptionDetail>(`${P}/${id}`),
  autoPass: (orgCode: string) => api.get<AutoPassSetting[]>(`${P}/auto-pass`, { org_code: orgCode }),
  setAutoPass: (orgCode: string, drugClass: string, enabled: boolean) =>
    api.put<AutoPassSetting[]>(`${P}/auto-pass`, { org_code: orgCode, drug_class: drugClass, enabled }),
  /** The open review tasks (offered to my groups or claimed by me), by process instance. */
  reviewTasks: async (): Promise<Map<number, number>> => {
    const out = new Map<number, number>();
    for (const view of ['mine', 'groups']) {
      const page = await api.get<{ items: OpenTask[] }>('/api/v1/tasks', {
        view, process_id: 'rx_prereview', element_id: 'pharmacist_review', per_page: 200,
      });
      for (const t of page.items) out.set(t.instance_id, t.id);
    }
    return out;
  },
};

/** 阻断 / 警示 / 提示 as the review centre says them, with the badge colour. */
export const GRADE: Record<string, [string, string]> = {
  block: ['阻断', 'badge-danger'],
  warn: ['警示', 'badge-warn'],
  info: ['提示', 'badge-info'],
  none: ['无问题', 'badge-ok'],
};

/**
 * "剩余 3:12" while the SLA runs, "已超时 1:05" after it. The server says how many seconds were left when it
 * answered (`review_seconds_left`, by its own clock); the page only counts the time elapsed since it received that
 * answer (`fetchedAt` and `now` are both the device's clock, so a device clock that is wrong by hours does not
 * matter: only their difference is used).
 */
export function countdown(secondsLeft: number | null | undefined, fetchedAt: number, now: number): { text: string; late: boolean } | null {
  if (secondsLeft === null || secondsLeft === undefined) return null;
  const left = Math.round(secondsLeft - Math.max(0, now - fetchedAt) / 1000);
  const abs = Math.abs(left);
  const mmss = `${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, '0')}`;
  return left >= 0 ? { text: `剩余 ${mmss}`, late: false } : { text: `已超时 ${mmss}`, late: true };
}

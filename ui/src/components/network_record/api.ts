/** Calls and types of the mutual-recognition API (/api/v1/recognition): the network record and order checks. */
import { api } from '../../api/client';

const R = '/api/v1/recognition';
const enc = encodeURIComponent;

export interface RecognitionMark {
  recognised: boolean;
  code: string;
  label: string;
  basis: string;
  valid_until: string | null;
}

export interface NetworkItem {
  key: string;
  kind: 'lab' | 'imaging' | 'ecg' | 'document';
  kind_label: string;
  title: string;
  value: string | null;
  abnormal_flag: string | null;
  at: string | null;
  org_name: string;
  viewer_url: string | null;
  report_text: string | null;
  recognition: RecognitionMark | null;
}

export interface MatchedResult {
  key: string;
  title: string;
  value: string | null;
  at: string;
  org_name: string;
  viewer_url: string | null;
  valid_until: string | null;
}

export interface ReasonOption {
  code: string;
  label: string;
  note_required: boolean;
}

export interface RecognitionOrder {
  id: number;
  channel: 'his' | 'platform';
  orderer: string;
  item_name: string;
  ordered_at: string;
  status: 'clear' | 'awaiting_reason' | 'kept' | 'withdrawn';
  status_label: string;
  matched: MatchedResult[];
  reason_label: string | null;
  reason_note: string | null;
  answered_by: string | null;
}

export interface NetworkRecord {
  resident_name?: string | null;
  items: NetworkItem[];
  total: number;
  rules_available: boolean;
  on: string;
  access: { kind: string; ref?: number | null; label: string };
  orders: RecognitionOrder[];
  reasons: ReasonOption[];
}

export interface OrderableItem {
  item_class: 'lab' | 'imaging';
  item_code: string;
  name: string;
}

export interface ReasonAnswer {
  action: 'keep' | 'withdraw';
  reason_code?: string;
  reason_note?: string;
}

export const recognition = {
  record: (residentId: string) => api.get<NetworkRecord>(`${R}/residents/${enc(residentId)}/network-record`),
  items: async () => (await api.get<{ items: OrderableItem[] }>(`${R}/items`)).items,
  check: (residentId: string, body: { request_id: string; item_class: string; item_code: string }) =>
    api.post<RecognitionOrder>(`${R}/residents/${enc(residentId)}/order-checks`, body),
  answer: (orderId: number, body: ReasonAnswer) => api.post<RecognitionOrder>(`${R}/orders/${orderId}/answer`, body),
};

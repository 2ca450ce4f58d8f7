/** Calls and types of the contracting API (/api/v1/contracts, /contract-packages, /contract-payments). */
import { api } from '../../api/client';
import type { components } from '../../api/schema.gen';

const V1 = '/api/v1';

export type ContractRow = components['schemas']['ContractRow'];
export type ContractDetail = components['schemas']['ContractDetail'];
export type Termination = components['schemas']['Termination'];
export type LedgerItem = components['schemas']['LedgerItem'];
export type Package = components['schemas']['Package'];
export type PackageList = components['schemas']['PackageList'];
export type Doctor = components['schemas']['Doctor'];
export type Signature = components['schemas']['Signature'];
export type Payment = components['schemas']['Payment'];
export type OutreachResult = components['schemas']['OutreachResult'];
export type ResidentContract = components['schemas']['ResidentContract'];
export type ResidentContractBrief = components['schemas']['ResidentContractBrief'];
export type ResidentContractEnded = components['schemas']['ResidentContractEnded'];

export const STATUS_FILTERS: [string, string][] = [
  ['', '全部'], ['active', '履约中'], ['requested', '已申请'], ['assessed', '已评估'], ['awaiting_payment', '待缴费'],
  ['awaiting_signature', '待签署'], ['voided', '已作废'], ['ended', '已到期'],
];

export function yuan(fen: number | null | undefined): string {
  return `${((fen ?? 0) / 100).toFixed(2)} 元`;
}

export function statusKind(status: string | undefined): string {
  if (status === 'active') return 'badge-ok';
  if (status === 'awaiting_payment' || status === 'awaiting_signature') return 'badge-warn';
  if (status === 'voided' || status === 'refused') return 'badge-danger';
  return 'badge-info';
}

export const contractApi = {
  list: (query: { status?: string; q?: string; page?: number; per_page?: number }) =>
    api.get<{ items: ContractRow[]; total: number }>(`${V1}/contracts`, query),
  get: (id: number) => api.get<ContractDetail>(`${V1}/contracts/${id}`),
  sign: (id: number, body: { method: 'e_sign' | 'paper'; image: string; signer: string }) =>
    api.post<ContractDetail>(`${V1}/contracts/${id}/signature`, body),
  deliver: (id: number, itemId: number) => api.post<ContractDetail>(`${V1}/contracts/${id}/deliveries`, { item_id: itemId }),
  outreach: (dryRun: boolean) => api.post<OutreachResult>(`${V1}/contracts/outreach`, { dry_run: dryRun, limit: 50 }),
  ofResident: (residentId: number) => api.get<ResidentContract>(`${V1}/residents/${residentId}/contract`),
  flagged: () => api.get<Payment[]>(`${V1}/contract-payments/flagged`),
  packages: () => api.get<PackageList>(`${V1}/contract-packages`),
  versions: (code: string) => api.get<Package[]>(`${V1}/contract-packages/${code}/versions`),
  savePackage: (body: unknown) => api.post<Package>(`${V1}/contract-packages`, body),
};

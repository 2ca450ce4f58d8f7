/** Calls and types of the supply API (/api/v1/supply); the types are the generated OpenAPI ones. */
import { api } from '../../api/client';
import type { components } from '../../api/schema.gen';

type S = components['schemas'];
export type Store = S['SupplyStore'];
export type StoreStock = S['SupplyStoreStock'];
export type StockLine = S['SupplyStockLine'];
export type Alert = S['SupplyAlert'];
export type UdiCheck = S['SupplyUdiCheck'];
export type UdiUse = S['SupplyUdiUse'];
export type RecallSearch = S['SupplyRecallSearch'];
export type Shortage = S['SupplyShortage'];
export type Replenishment = S['SupplyReplenishment'];
export type Indicators = S['SupplyIndicators'];

const P = '/api/v1/supply';

export const supply = {
  stores: () => api.get<Store[]>(`${P}/stores`),
  stock: (code: string) => api.get<StoreStock>(`${P}/stores/${encodeURIComponent(code)}/stock`),
  alerts: () => api.get<Alert[]>(`${P}/alerts`),
  indicators: () => api.get<Indicators>(`${P}/indicators`),
  shortages: () => api.get<Shortage[]>(`${P}/shortages`),
  replenishments: () => api.get<Replenishment[]>(`${P}/replenishments`),
  check: (code: string, storeCode?: string) => api.post<UdiCheck>(`${P}/udi/check`, { code, store_code: storeCode }),
  use: (body: { code: string; store_code: string; resident_id: number; case_ref: string }) => api.post<UdiUse>(`${P}/udi/uses`, body),
  recallSearch: (query: { code?: string; gtin?: string; lot?: string }) => api.get<RecallSearch>(`${P}/recall-search`, query),
};

/** Yuan from fen, e.g. 580000 → "5,800.00". */
export function yuan(fen: number): string {
  return (fen / 100).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** The ASCII group separator (FNC1) a scanner returns is invisible; show it as ‹GS› and accept it back. */
export function readableUdi(text: string): string {
  return text.replace(/\u001d/g, '‹GS›');
}

export function rawUdi(text: string): string {
  return text.replace(/‹GS›|<GS>/g, '\u001d').trim();
}

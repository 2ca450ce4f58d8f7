/** Calls and types of the anticoagulant monitoring API (/api/v1/anticoag); the types are the generated OpenAPI ones. */
import { api } from '../../api/client';
import type { components } from '../../api/schema.gen';

type S = components['schemas'];
export type Episode = S['AnticoagEpisode'];
export type EpisodeDetail = S['AnticoagEpisodeDetail'];
export type TtrDistribution = S['AnticoagTtrDistribution'];
export type TtrDetail = S['AnticoagTtr'];

const P = '/api/v1/anticoag';

export interface EpisodeFilter {
  drug?: string;
  org_code?: string;
  overdue?: boolean;
  resident_id?: number;
  status?: string;
}

export const anticoag = {
  episodes: (filter: EpisodeFilter = {}) => api.get<{ items: Episode[] }>(`${P}/episodes`, filter as Record<string, string | number | boolean>),
  episode: (id: number) => api.get<EpisodeDetail>(`${P}/episodes/${id}`),
  ttr: (orgCode?: string) => api.get<TtrDistribution>(`${P}/ttr-distribution`, orgCode ? { org_code: orgCode } : {}),
};

export const DRUGS: [string, string][] = [['warfarin', '华法林'], ['rivaroxaban', '利伐沙班'], ['enoxaparin', '依诺肝素'], ['nadroparin', '那屈肝素']];

/** "56.5%" or "—" (fewer than two INRs). */
export function pct(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${value.toFixed(1)}%`;
}

/** The TTR's colour: ≥ 65 % good, 50–65 % fair, < 50 % poor (the bands of app/anticoag/ttr.py). */
export function ttrKind(value: number | null | undefined): string {
  if (value === null || value === undefined) return '';
  return value >= 65 ? 'badge-ok' : value >= 50 ? 'badge-warn' : 'badge-danger';
}

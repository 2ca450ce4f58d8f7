/** Calls and types of the custom-report API (/api/v1/report-builder). */
import { api, buildUrl, csrfHeaders, errorFromResponse } from '../../api/client';
import type { ExportJob } from '../../lib/exportJobs';
import type { Drilldown } from '../quality/api';

const R = '/api/v1/report-builder';

export interface Choice { code: string; label: string }
export interface MeasureChoice { kind: 'indicator' | 'raw'; code: string; name: string; unit: string; group: string; dimensions: string[] }
export interface OrgChoice { code: string; name: string; level: string; depth: number }
export interface Options { measures: MeasureChoice[]; dimensions: Choice[]; granularities: Choice[]; comparisons: Choice[]; roles: Choice[]; orgs: OrgChoice[] }

export interface Definition {
  measures: { kind: string; code: string }[];
  dimensions?: string[];
  rows?: string[];
  columns?: string[];
  filters?: Record<string, (string | number)[]>;
  org_code?: string;
  period: { from: string; to: string; granularity: string };
  compare: string[];
}

export interface Comparison { base: number | null; change: number | null; change_pct: number | null }
export interface Cell { coords: Record<string, string | number | null>; value: number | null; numerator: number | null; denominator: number | null; status: string; mom?: Comparison; yoy?: Comparison }
export interface Column { key: string; value_label: string | null; measure: string; measure_name: string; unit: string; label: string }
export interface Result {
  org: { code: string; name: string };
  period_label: string;
  row_dimension: Choice;
  row_dimensions: Choice[];
  column_dimension: Choice | null;
  comparisons: Choice[];
  columns: Column[];
  rows: { key: string; label: string; labels: string[]; cells: Cell[] }[];
}
export interface SavedReport {
  id: number; name: string; definition: Definition; mine: boolean; shared_role: string | null;
  shared_role_label: string | null; schedule_day: number | null; schedule_format: string | null;
}
export interface SaveBody { name: string; definition: Definition; shared_role: string | null; schedule_day: number | null; schedule_format: string | null }

/** POST a definition and hand the answer to the browser as a file (xlsx or PDF). */
async function exportFile(definition: Definition, name: string, format: 'xlsx' | 'pdf'): Promise<void> {
  const res = await fetch(buildUrl(`${R}/export`, { format }), {
    method: 'POST', credentials: 'include',
    headers: { 'Content-Type': 'application/json', ...csrfHeaders('POST') },
    body: JSON.stringify({ definition, name }),
  });
  if (!res.ok) throw await errorFromResponse(res);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${name}.${format}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const reports = {
  options: () => api.get<Options>(`${R}/options`),
  run: (definition: Definition) => api.post<Result>(`${R}/run`, { definition }),
  list: () => api.get<{ items: SavedReport[] }>(`${R}/reports`).then((r) => r.items),
  save: (body: SaveBody, id?: number) => (id ? api.put<SavedReport>(`${R}/reports/${id}`, body) : api.post<SavedReport>(`${R}/reports`, body)),
  remove: (id: number) => api.del(`${R}/reports/${id}`),
  exportFile,
  drilldown: (definition: Definition, measure: string, coords: Cell['coords'], part: string, page: number) =>
    api.post<Drilldown>(`${R}/drilldown`, { definition, measure, coords, part, page, per_page: 20 }),
  startJob: (definition: Definition, name: string) => api.post<ExportJob>(`${R}/jobs`, { definition, name }),
  job: (id: number) => api.get<ExportJob>(`${R}/jobs/${id}`),
};

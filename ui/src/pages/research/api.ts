/** Calls and types of the research-extraction API (/api/v1/research): options, cohort preview, projects, downloads. */
import { api, csrfHeaders, errorFromResponse } from '../../api/client';

const V1 = '/api/v1/research';

export interface Option { value: string; label: string; unit?: string }
export interface Variable { id: string; label: string; group: string; free_text: boolean }
export interface Options {
  variables: Variable[];
  observation_stats: Option[];
  observations: Option[];
  diseases: Option[];
  risk_levels: Option[];
  sexes: Option[];
  date_modes: Option[];
  direct_identifiers: Option[];
  default_k: number;
  min_k: number;
  max_k: number;
  default_l: number;
  max_l: number;
  sensitive: Option[];
  download_limit: number;
  expiry_days: number;
}

export interface ObservationCriterion { code: string; min: number | null; max: number | null; from: string | null; to: string | null }
export interface Criteria {
  diseases?: string[];
  diagnoses?: string[];
  risk_levels?: string[];
  enrolled_from?: string | null;
  enrolled_to?: string | null;
  age_min?: number | null;
  age_max?: number | null;
  sex?: string[];
  observations?: ObservationCriterion[];
}

export interface Extract {
  cohort_size: number;
  row_count: number;
  k_before: number | null;
  k_anonymity: number | null;
  k_required: number;
  k_label: string;
  meets_k: boolean;
  qi_label: string;
  suppressed_rows: number;
  suppressed_cells: number;
  columns: string[];
  data_until?: string | null;
  refreshes?: number;
  l_before: number | null;
  l_diversity: number | null;
  l_required: number;
  l_label: string;
  meets_l: boolean;
  sensitive_label: string;
  below_l: { label: string; size: number; attribute: string; attribute_label: string; distinct: number }[];
  suppressed_rows_l: number;
}

export interface Project {
  id: number;
  title: string;
  purpose: string;
  status: string;
  status_label: string;
  requester_name: string;
  mine: boolean;
  cohort_size: number | null;
  k: number;
  l: number;
  date_mode: string;
  date_mode_label: string;
  editable: boolean;
  criteria_label: string;
  criteria?: Criteria;
  variables?: string[];
  variable_labels?: string[];
  free_text_requested?: boolean;
  free_text_approved?: boolean;
  review_comment?: string | null;
  reviewed_at?: string | null;
  released_at?: string | null;
  expires_at?: string | null;
  download_limit?: number;
  downloads_left?: number;
  downloads?: { username: string; format: string; at: string; refresh?: boolean; data_until?: string | null }[];
  extract?: Extract | null;
  review_round?: number;
  committee?: { name: string; chair: boolean; vote: string | null; vote_label: string }[];
  votes?: { round: number; voter_name: string; vote: string; vote_label: string; opinion: string | null; at: string }[];
  committee_result?: { decision: string | null; decision_label: string; rule: string | null; by: string | null; by_label: string; round: number | null; tally_label: string } | null;
  can_download?: boolean;
}

export interface ProjectBody {
  title: string;
  purpose: string;
  criteria: Criteria;
  variables: string[];
  date_mode: string;
  k: number;
  l: number;
}

export interface Person { user_id: number; username: string; name: string }
export interface Committee {
  county_code: string;
  source: string;
  role: string;
  role_label: string;
  members: Person[];
  chair: Person | null;
  vote_days: number;
  reminder_days: number;
  can_edit: boolean;
}

export interface Preview { cohort_size: number | null; below_minimum: boolean; minimum: number }

/** Fetch the extract (a POST: each download counts) and hand it to the browser as a file. */
async function download(id: number, format: 'csv' | 'xlsx', refreshUntil?: string | null): Promise<void> {
  const refresh = refreshUntil !== undefined;
  const res = await fetch(`${V1}/projects/${id}/${refresh ? 'refresh' : 'downloads'}`, {
    method: 'POST', credentials: 'include',
    headers: { 'Content-Type': 'application/json', Accept: '*/*', ...csrfHeaders('POST') },
    body: JSON.stringify(refresh ? { format, until: refreshUntil || null } : { format }),
  });
  if (!res.ok) throw await errorFromResponse(res);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `科研数据-${id}${refresh ? `-更新至${refreshUntil || '今日'}` : ''}.${format}`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export const researchApi = {
  options: () => api.get<Options>(`${V1}/options`),
  projects: () => api.get<{ items: Project[]; can_create: boolean; can_review: boolean }>(`${V1}/projects`),
  project: (id: number) => api.get<Project>(`${V1}/projects/${id}`),
  create: (body: ProjectBody) => api.post<Project>(`${V1}/projects`, body),
  update: (id: number, body: ProjectBody) => api.put<Project>(`${V1}/projects/${id}`, body),
  submit: (id: number) => api.post<Project>(`${V1}/projects/${id}/submit`),
  preview: (criteria: Criteria) => api.post<Preview>(`${V1}/preview`, { criteria }),
  committee: () => api.get<Committee>(`${V1}/committee`),
  setCommittee: (members: string[], chair: string | null) => api.put<Committee>(`${V1}/committee`, { members, chair }),
  download,
};

/** "共 128 人" or "少于 3 人" for a preview. */
export function previewText(p: Preview): string {
  return p.cohort_size === null ? `少于 ${p.minimum} 人（不显示确切人数）` : `共 ${p.cohort_size} 人`;
}

export function statusKind(status: string): string {
  if (status === 'released') return 'badge-ok';
  if (status === 'rejected' || status === 'withdrawn') return 'badge-danger';
  if (status === 'draft') return 'badge-info';
  return 'badge-warn';
}

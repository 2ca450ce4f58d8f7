/** Typed calls to the platform API, one function per endpoint the UI uses. */
import { ApiError, api, messageFor, upload } from './client';
import type { ReplayResult } from '../lib/replay';
import type {
  CaseRunResult, ClockAdvance, ClockState, Comment, DecisionAnalysis, Decision, DeployResult, EvaluateResult, InstanceDetail, InstanceSummary, Me, Page,
  ProcessDefinition, Resident, SavedFilter, Task, TaskCounts, TaskDetail, TaskView,
  CarePlan, CarePlanDiff, CarePlanVersion, Delivery, OpenEmergency, EducationPush, FollowUpTimeline, HealthRecord, IntegrationClient, Observation,
  OutboundPush, OverdueItem, RecordLink, ScreeningCase, ScreeningRun, ScreeningStats, BatchFailures, BatchStart,
} from './types';

const V1 = '/api/v1';
const enc = encodeURIComponent;

/** Lists come as {items,total}; accept a bare array too while the backend settles. */
function asPage<T>(body: Page<T> | T[] | { items?: T[]; total?: number } | null | undefined): Page<T> {
  if (Array.isArray(body)) return { items: body, total: body.length };
  const items = body?.items ?? [];
  return { items, total: body?.total ?? items.length };
}

export const auth = {
  login: (username: string, password: string) => api.post(`${V1}/auth/login`, { username, password }, { noAuthRedirect: true }),
  logout: () => api.post(`${V1}/auth/logout`, {}, { noAuthRedirect: true }),
  me: () => api.get<Me>(`${V1}/auth/me`, undefined, { noAuthRedirect: true }),
};

export interface TaskQuery {
  view: TaskView;
  process_id?: string;
  risk_level?: string;
  overdue?: boolean | '';
  q?: string;
  sort?: 'due' | 'priority' | 'risk' | 'created';
  page?: number;
  per_page?: number;
  /** the previous page's `next_cursor` ("load more": keyset paging, stable while tasks come and go) */
  cursor?: string;
}

export const tasks = {
  list: async (q: TaskQuery): Promise<Page<Task> & { next_cursor: string | null }> => {
    const body = await api.get<{ items?: Task[]; total?: number; next_cursor?: string | null }>(`${V1}/tasks`, {
      ...q,
      overdue: q.overdue ? 'true' : undefined,
    });
    return { ...asPage<Task>(body), next_cursor: body?.next_cursor ?? null };
  },
  counts: () => api.get<TaskCounts>(`${V1}/tasks/counts`),
  get: (id: string) => api.get<TaskDetail>(`${V1}/tasks/${enc(id)}`),
  claim: (id: string | number) => api.post<Task>(`${V1}/tasks/${enc(String(id))}/claim`),
  unclaim: (id: string | number) => api.post<Task>(`${V1}/tasks/${enc(String(id))}/unclaim`),
  saveDraft: (id: string, data: unknown) => api.put(`${V1}/tasks/${enc(id)}/draft`, { data }),
  complete: (id: string, data: unknown, completionId: string, etag?: string) =>
    api.post(`${V1}/tasks/${enc(id)}/complete`, { data, completion_id: completionId }, { headers: etag ? { 'If-Match': etag } : {} }),
  comments: async (id: string) => asPage<Comment>(await api.get(`${V1}/tasks/${enc(id)}/comments`)).items,
  addComment: (id: string, body: string) => api.post<Comment>(`${V1}/tasks/${enc(id)}/comments`, { body }),
  delegate: (id: string, toUsername: string) => api.post(`${V1}/tasks/${enc(id)}/delegate`, { to_username: toUsername }),
  assign: (id: string, username: string) => api.post(`${V1}/tasks/${enc(id)}/assign`, { username }),
  filters: async () => asPage<SavedFilter>(await api.get(`${V1}/tasks/filters`)).items,
  saveFilter: (f: { name: string; view: TaskView; params: Record<string, unknown>; shared_with_org: boolean }) =>
    api.post<SavedFilter>(`${V1}/tasks/filters`, f),
  deleteFilter: (id: number) => api.del(`${V1}/tasks/filters/${id}`),
  returnTask: (id: string | number) => api.post<Task>(`${V1}/tasks/${enc(String(id))}/return`),
};

/** The platform clock: demo and test installs only (the server refuses with clock_control_disabled elsewhere). */
export const platformClock = {
  get: () => api.get<ClockState>(`${V1}/clock`),
  advance: (body: ClockAdvance) => api.post<ClockState>(`${V1}/clock`, body),
};

export const definitions = {
  list: async () => asPage<ProcessDefinition>(await api.get(`${V1}/process-definitions`)).items,
  xml: (processId: string, version: number | string) =>
    api.get<string>(`${V1}/process-definitions/${enc(processId)}/versions/${enc(String(version))}/xml`, undefined, { text: true }),
  /** The forms of a version, keyed by `<process_id>/<task_id>`: {schema, ui_schema}. */
  forms: (processId: string, version: number | string) =>
    api.get<Record<string, { schema?: unknown; ui_schema?: unknown; uiSchema?: unknown }>>(
      `${V1}/process-definitions/${enc(processId)}/versions/${enc(String(version))}/forms`,
    ),
  /** Dry run of a deploy (BPMN, DMN and form files): everything a deploy checks, nothing stored. */
  validate: (files: File[]) => {
    const form = new FormData();
    for (const f of files) form.append('file', f, f.name);
    return api.post<{ valid?: boolean; processes?: string[]; decisions?: string[]; unused_forms?: string[] }>(
      `${V1}/process-definitions/validate`,
      form,
    );
  },
  /** `override`: deploy ANY/FIRST tables despite overlap/gap findings, with the reason (audited; 14.3). */
  deploy: (
    files: File[],
    onProgress?: (f: number) => void,
    override?: { decisions: string[]; reason: string },
    replayAnalysisId?: string,
  ) => {
    const form = new FormData();
    for (const f of files) form.append('file', f, f.name);
    // the last replay of this very draft: its summary is kept with the deployment's audit entry (14.14)
    if (replayAnalysisId) form.append('replay_analysis_id', replayAnalysisId);
    if (override) {
      for (const d of override.decisions) form.append('override_findings', d);
      form.append('override_reason', override.reason);
    }
    return upload<DeployResult>(`${V1}/process-definitions`, form, onProgress);
  },
  stats: (processId: string) => api.get<{ elements: Record<string, number> }>(`${V1}/process-definitions/${enc(processId)}/stats`),
};

export const decisions = {
  list: async () => asPage<Decision>(await api.get(`${V1}/decisions`)).items,
  get: (id: string) => api.get<Decision>(`${V1}/decisions/${enc(id)}`),
  xml: (id: string) => api.get<string>(`${V1}/decisions/${enc(id)}/xml`, undefined, { text: true }),
  evaluate: (id: string, inputs: Record<string, unknown>) => api.post<EvaluateResult>(`${V1}/decisions/${enc(id)}/evaluate`, { inputs }),
  /** Evaluate the draft being edited (multipart `file` = the draft .dmn, `inputs` = JSON text), nothing deployed. */
  evaluateDraft: (id: string, draftXml: string, inputs: Record<string, unknown>) => {
    const form = new FormData();
    form.append('file', new File([draftXml], `${id}.dmn`, { type: 'application/xml' }));
    form.append('inputs', JSON.stringify(inputs));
    return api.post<EvaluateResult>(`${V1}/decisions/${enc(id)}/evaluate-draft`, form);
  },
  /** Run the conformance cases against the deployed decision, or against a draft DMN when given. The server
   * queues the run as a job (202 + progress_url); this polls it, reporting progress 0–1, until it is done. */
  runCases: async (id: string, draftXml?: string, onProgress?: (fraction: number) => void): Promise<CaseRunResult> => {
    let form: FormData | Record<string, never> = {};
    if (draftXml !== undefined) {
      form = new FormData();
      form.append('file', new File([draftXml], `${id}.dmn`, { type: 'application/xml' }));
    }
    const analysis = await api.post<DecisionAnalysis>(`${V1}/decisions/${enc(id)}/cases/run`, form);
    return (await pollAnalysis(analysis, onProgress)).result as CaseRunResult;
  },
  /** Replay a draft over the last `limit` real evaluations of the deployed decision (14.14): a job, polled like
   * `runCases`; answers the analysis id (pass it on deploy) with the result. */
  replay: async (id: string, draftXml: string, limit = 1000, onProgress?: (fraction: number) => void) => {
    const form = new FormData();
    form.append('file', new File([draftXml], `${id}.dmn`, { type: 'application/xml' }));
    form.append('limit', String(limit));
    const analysis = await pollAnalysis(await api.post<DecisionAnalysis>(`${V1}/decisions/${enc(id)}/replay`, form), onProgress);
    return { id: analysis.id, result: analysis.result as unknown as ReplayResult };
  },
};

async function pollAnalysis(first: DecisionAnalysis, onProgress?: (fraction: number) => void): Promise<DecisionAnalysis> {
  let analysis = first;
  const deadline = Date.now() + 5 * 60 * 1000;
  while (analysis.status === 'queued' || analysis.status === 'running') {
    onProgress?.(analysis.progress / 100);
    if (Date.now() > deadline) throw new ApiError(504, 'analysis_timeout', messageFor(504, 'analysis_timeout'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    analysis = await api.get<DecisionAnalysis>(`${V1}/decisions/analyses/${enc(analysis.id)}`);
  }
  if (analysis.status === 'failed' || !analysis.result) {
    const err = analysis.error ?? { code: 'analysis_failed', message: '' };
    throw new ApiError(422, err.code, messageFor(422, err.code, err.message), err.details ?? {}, err.message);
  }
  onProgress?.(1);
  return analysis;
}

export interface InstanceQuery {
  process_id?: string;
  status?: string;
  org_code?: string;
  resident_id?: string;
  started_from?: string;
  started_to?: string;
  page?: number;
  per_page?: number;
}

export type InstanceAction = 'suspend' | 'resume' | 'terminate' | 'retry';

export const instances = {
  list: async (q: InstanceQuery) => asPage<InstanceSummary>(await api.get(`${V1}/process-instances`, { ...q })),
  get: (id: string) => api.get<InstanceDetail>(`${V1}/process-instances/${enc(id)}`),
  act: (id: string, action: InstanceAction) => api.post<InstanceDetail>(`${V1}/process-instances/${enc(id)}/${action}`, {}),
  stats: () => api.get<Record<string, unknown>>(`${V1}/process-instances/stats`),
};

export const residents = {
  search: async (q: string, page = 1) => asPage<Resident>(await api.get(`${V1}/residents`, { q, page })),
  get: (id: string) => api.get<Resident>(`${V1}/residents/${enc(id)}`),
  /** The whole health record, chronic-disease summary first (an audited read). */
  record: (id: string | number) => api.get<HealthRecord>(`${V1}/residents/${enc(String(id))}`),
  /** Observations newest first; with `code`, one series for a trend chart. */
  observations: async (id: string, code?: string, limit?: number) =>
    asPage<Observation>(await api.get(`${V1}/residents/${enc(id)}/observations`, { code, limit })).items,
  /** A home reading taken by the resident (患者自测); a re-send with the same `id` adds nothing. */
  addHomeReading: (id: string, body: Record<string, unknown>) =>
    api.post<{ items: Observation[] }>(`${V1}/residents/${enc(id)}/home-readings`, body),
  followUps: (id: string) => api.get<FollowUpTimeline>(`${V1}/residents/${enc(id)}/follow-ups`),
  education: async (id: string) => asPage<EducationPush>(await api.get(`${V1}/residents/${enc(id)}/education`)).items,
  links: async (id: string) => asPage<RecordLink>(await api.get(`${V1}/integrations/residents/${enc(id)}/links`)).items,
  /** A clinician re-assesses a graded disease (the only way a grade is lowered); the reason is required. */
  reassessRisk: (id: string | number, disease: string, level: string, reason: string) =>
    api.post<{ level: string; previous_level?: string | null; changed: boolean }>(
      `${V1}/residents/${enc(String(id))}/risk-levels/${enc(disease)}/reassessment`, { level, reason }),
};

/** Emergency up-referrals whose patient has not arrived yet, in the caller's scope (the supervisor's overview). */
export const referrals = {
  openEmergencies: async () =>
    asPage<OpenEmergency>(await api.get(`${V1}/referrals`, { open_emergency: true, direction: 'up', per_page: 100 })).items,
};

export const carePlans = {
  ofResident: async (residentId: string | number) => asPage<CarePlan>(await api.get(`${V1}/care-plans`, { resident_id: residentId })).items,
  get: (id: number) => api.get<CarePlan>(`${V1}/care-plans/${id}`),
  diff: (id: number, a: number, b: number) => api.get<CarePlanDiff>(`${V1}/care-plans/${id}/versions/${a}/diff/${b}`),
  pdfUrl: (id: number) => `${V1}/care-plans/${id}/pdf`,
  cancelRevision: (id: number, version: number, reason: string) =>
    api.post<CarePlanVersion>(`${V1}/care-plans/${id}/versions/${version}/cancel`, { reason }),
};

export interface OverdueQuery {
  org_code?: string;
  assignee_id?: number | string;
  disease?: string;
  page?: number;
  per_page?: number;
}

export const followUps = {
  overdue: async (q: OverdueQuery) => asPage<OverdueItem>(await api.get(`${V1}/follow-ups/overdue`, { ...q })),
};

export interface CaseQuery {
  disease?: string;
  status?: string;
  kind?: string;
  referral_flag?: boolean | '';
  org_code?: string;
  page?: number;
  per_page?: number;
}

/** 批量启动: batch starts, their failed items by name, 继续 (app/processes/api.py). */
export const batches = {
  list: async () => asPage<BatchStart>(await api.get(`${V1}/batches`)).items,
  get: (id: number) => api.get<BatchStart>(`${V1}/batches/${id}`),
  failures: (id: number) => api.get<BatchFailures>(`${V1}/batches/${id}/failures`),
  resume: (id: number) => api.post<BatchStart>(`${V1}/batches/${id}/resume`, {}),
};

export const screening = {
  runs: async () => asPage<ScreeningRun>(await api.get(`${V1}/screening/runs`)).items,
  run: (id: number) => api.get<ScreeningRun>(`${V1}/screening/runs/${id}`),
  start: (resume = false) => api.post<ScreeningRun>(`${V1}/screening/runs`, { resume }),
  cases: async (q: CaseQuery) =>
    asPage<ScreeningCase>(await api.get(`${V1}/screening/cases`, { ...q, referral_flag: q.referral_flag === '' ? undefined : q.referral_flag })),
  highRisk: async (q: { disease?: string; org_code?: string; page?: number; per_page?: number }) =>
    asPage<ScreeningCase>(await api.get(`${V1}/screening/high-risk`, { ...q })),
  stats: (q: { from?: string; to?: string; group_by?: 'township' | 'village' } = {}) => api.get<ScreeningStats>(`${V1}/screening/stats`, { ...q }),
};

export interface DeliveryQuery {
  client_id?: string;
  status?: string;
  channel?: string;
  page?: number;
  per_page?: number;
}

export const integrations = {
  clients: async () => asPage<IntegrationClient>(await api.get(`${V1}/integrations/clients`)).items,
  deliveries: async (q: DeliveryQuery) => asPage<Delivery>(await api.get(`${V1}/integrations/deliveries`, { ...q })),
  delivery: (id: number) => api.get<Delivery>(`${V1}/integrations/deliveries/${id}`),
  replay: (id: number) => api.post<{ delivery: Delivery; answer: { status?: number; body?: unknown } }>(`${V1}/integrations/deliveries/${id}/replay`, {}),
  /** Records owed to external systems that did not go through (attempts, last error, next retry). */
  failedPushes: async (q: { system?: string; page?: number; per_page?: number }) =>
    asPage<OutboundPush>(await api.get(`${V1}/integrations/pushes`, { status: 'failed', ...q })),
  retryPush: (id: number) => api.post<OutboundPush>(`${V1}/integrations/pushes/${id}/retry`, {}),
};

/** Staff of the caller's scope (the server scopes the rows), with their organisation's name: the doctor picker. */
export const staff = {
  list: async (query: { role?: readonly string[]; org_code?: string; q?: string; limit?: number } = {}) => {
    const params = new URLSearchParams();
    for (const r of query.role ?? []) params.append('role', r);
    if (query.org_code) params.set('org_code', query.org_code);
    if (query.q) params.set('q', query.q);
    params.set('limit', String(query.limit ?? 500));
    return asPage<import('./types').StaffMember>(await api.get(`${V1}/users?${params}`)).items;
  },
  /** 授予处方权 / 撤销处方权 (county administrator; a withdrawal needs a reason). */
  setPrivilege: (id: number, granted: boolean, reason?: string) =>
    api.put<import('./types').StaffMember>(`${V1}/users/${id}/prescribing-privilege`, { granted, reason: reason || null }),
};

export const organizations = {
  list: async () => asPage<import('./types').Org>(await api.get(`${V1}/organizations`)).items,
};

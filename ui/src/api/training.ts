/** Calls and types of the training API (/api/v1/training). */
import { api, upload } from './client';

const T = '/api/v1/training';

export interface Plan {
  id: number;
  org_code: string;
  org_name: string;
  year: number;
  title: string;
  note: string;
  created_by: string;
  created_at: string;
  sessions: number;
  started: number;
  can_manage: boolean;
}

export interface Session {
  id: number;
  plan_id: number;
  seq: number;
  org_code: string;
  org_name: string;
  topic: string;
  category: string;
  category_label: string;
  level: string;
  level_label: string;
  project_no: string | null;
  lecturer_name: string;
  lecturer_title: string;
  lecturer_org: string;
  lecturer_user_id: number | null;
  target_roles: string[];
  target_org_codes: string[];
  mode: string;
  mode_label: string;
  starts_at: string;
  ends_at: string;
  venue: string;
  venue_lat: number | null;
  venue_lon: number | null;
  geofence_m: number | null;
  online_url: string | null;
  hours: number;
  assessment: string;
  pass_mark: number;
  budget_yuan: number | null;
  phase: string;
  phase_label: string;
  instance_id: number | null;
  approved_by: string | null;
  approval_comment: string | null;
  summary: Record<string, string> | null;
  completed_at: string | null;
  can_manage: boolean;
}

export type SessionWrite = Partial<Omit<Session, 'id' | 'plan_id' | 'seq' | 'org_code' | 'org_name' | 'phase' | 'phase_label'>> & {
  coordinate_system?: 'wgs84' | 'gcj02' | 'bd09';
};

export interface StartReport {
  plan_id: number;
  dry_run: boolean;
  started: number;
  would_start: number;
  skipped: number;
  sessions: { session_id: number; seq: number; topic: string; starts_at: string; roster_size: number; result: string; reason?: string }[];
}

export interface Attendance {
  session_id: number;
  user_id: number;
  signed_in_at: string;
  sign_in_method: string;
  late: boolean;
  late_minutes: number;
  distance_m: number | null;
  accuracy_m: number | null;
  signed_out_at: string | null;
  sign_out_method: string | null;
  attended_hours: number | null;
  presence_share: number | null;
  manual_by: string | null;
}

export interface RosterRow {
  user_id: number;
  name: string;
  org_code: string;
  role: string;
  response: string;
  decline_reason: string | null;
  signed_in_at: string | null;
  sign_in_method: string | null;
  late_minutes: number;
  signed_out_at: string | null;
  distance_m: number | null;
  accuracy_m: number | null;
  manual_by: string | null;
  attended_hours: number | null;
  presence_share: number | null;
}

export interface Stats {
  roster: number;
  declined: number;
  expected: number;
  signed_in: number;
  present: number;
  late: number;
  manual: number;
  sign_in_rate: number | null;
  exam_eligible: number;
  exam_sat: number;
  exam_passed: number;
  exam_participation_rate: number | null;
  pass_rate: number | null;
  first_pass_rate: number | null;
  satisfaction_responses: number;
  satisfaction_rate: number | null;
  satisfaction_mean: number | null;
  comments: string[];
}

export interface Material {
  id: number;
  session_id: number;
  kind: string;
  file_name: string;
  mime: string;
  size_bytes: number;
  taken_at: string | null;
  uploaded_by: string;
  uploaded_at: string;
}

export interface Overview {
  session: Session;
  roster: RosterRow[];
  stats: Stats;
  help_requests: { attempt_id: number; user_id: number; code: string; reason: string; at: string; distance_m: number | null; accuracy_m: number | null; note: string | null }[];
  refused: number;
  materials: Material[];
  materials_check: { ok: boolean; problems: string[]; photos: number; files: number };
  paper: { item_ids: number[]; pass_mark: number; time_limit_min: number; shuffle: boolean } | null;
}

export interface SignInCode {
  session_id: number;
  token: string;
  url: string;
  svg: string;
  rotates_at: string;
  period_s: number;
  signed_in: number;
  signed_out: number;
  expected: number;
}

export interface MyEntry {
  session: Session;
  capacity: 'trainee' | 'lecturer';
  response: string | null;
  decline_reason: string | null;
  attendance: Attendance | null;
  can_sign_in: boolean;
  sign_in_opens_at: string;
  sign_in_closes_at: string;
  exam: { open: boolean; attempts: { attempt_no: number; status: string; score: number | null; passed: boolean | null; late: boolean }[]; closes_at: string | null };
  satisfaction_done: boolean;
  can_evaluate: boolean;
}

export interface Item {
  id: number;
  org_code: string;
  kind: 'single' | 'multiple' | 'true_false';
  stem: string;
  options: { key: string; text: string }[];
  answer: string[];
  explanation: string;
  category: string;
  created_by: string;
}

export interface Question {
  no: number;
  item_id: number;
  kind: string;
  kind_label: string;
  stem: string;
  options: { key: string; text: string }[];
  chosen: string[];
  answer?: string[];
  explanation?: string;
  correct?: boolean;
}

export interface AttemptView {
  attempt_id: number;
  attempt_no: number;
  status: string;
  started_at: string;
  deadline_at: string;
  submitted_at: string | null;
  time_limit_min: number;
  pass_mark: number;
  score: number | null;
  passed: boolean | null;
  late: boolean;
  questions: Question[];
}

export interface TranscriptLine {
  session_id: number;
  topic: string;
  date: string;
  level_label: string;
  category_label: string;
  project_no: string | null;
  capacity: string;
  hours: number;
  credits: number;
  credit_class: string;
  credit_class_label: string;
  reason: string;
}

export interface Transcript {
  user_id: number;
  name: string;
  org_name: string;
  year: number;
  role: string;
  lines: TranscriptLine[];
  totals: { hours: number; credits: number; I: number; II: number };
  minimum: { min_total: number; min_class1: number; min_class2: number; reason?: string };
  meets_minimum: boolean;
  disclaimer: string;
}

export interface Indicator {
  name: string;
  numerator: number;
  denominator: number;
  value: number | null;
}

export interface OrgIndicators {
  org_code: string;
  org_name: string;
  start: string;
  end: string;
  sessions: number;
  sign_in_rate: Indicator;
  pass_rate: Indicator;
  coverage: Indicator;
  credit_compliance: Indicator;
  satisfaction: Indicator;
}

export interface ItemAnalysis {
  session_id: number;
  sitters: number;
  group_size?: number;
  items: { item_id: number; stem: string; kind: string; answer: string[]; difficulty: number | null; discrimination: number | null; point_biserial: number | null; option_counts: Record<string, number>; flag: string | null }[];
}

export interface ResultRow {
  user_id: number;
  name: string;
  passed: boolean;
  best_score: number;
  attempts: { attempt_no: number; status: string; score: number | null; passed: boolean | null; late: boolean; submitted_at: string | null }[];
}

export const training = {
  plans: (year?: number) => api.get<Plan[]>(`${T}/plans`, { year }),
  createPlan: (body: { year: number; title: string; note?: string; org_code?: string }) => api.post<Plan>(`${T}/plans`, body),
  plan: (id: number) => api.get<Plan>(`${T}/plans/${id}`),
  planSessions: (id: number) => api.get<Session[]>(`${T}/plans/${id}/sessions`),
  addSession: (planId: number, body: SessionWrite) => api.post<Session>(`${T}/plans/${planId}/sessions`, body),
  startPlan: (planId: number, dryRun: boolean, sessionIds?: number[]) =>
    api.post<StartReport>(`${T}/plans/${planId}/start`, { dry_run: dryRun, ...(sessionIds ? { session_ids: sessionIds } : {}) }),
  sessions: (q: { phase?: string; start?: string; end?: string } = {}) => api.get<Session[]>(`${T}/sessions`, q),
  session: (id: number) => api.get<Session>(`${T}/sessions/${id}`),
  updateSession: (id: number, body: SessionWrite) => api.patch<Session>(`${T}/sessions/${id}`, body),
  cancel: (id: number, reason: string) => api.post<Session>(`${T}/sessions/${id}/cancel`, { reason }),
  overview: (id: number) => api.get<Overview>(`${T}/sessions/${id}/overview`),
  code: (id: number) => api.get<SignInCode>(`${T}/sessions/${id}/sign-in-code`),
  endAttendance: (id: number) => api.post<Session>(`${T}/sessions/${id}/end-attendance`),
  manual: (id: number, body: { user_id: number; action: 'in' | 'out'; reason: string; attempt_id?: number }) =>
    api.post<Attendance>(`${T}/sessions/${id}/manual`, body),
  respond: (id: number, attend: boolean, declineReason?: string) =>
    api.post(`${T}/sessions/${id}/respond`, { attend, ...(attend ? {} : { decline_reason: declineReason }) }),
  signIn: (id: number, body: { token: string; lat: number | null; lon: number | null; accuracy_m: number | null; device_id: string; action?: 'in' | 'out' }) =>
    api.post<Attendance>(`${T}/sessions/${id}/sign-in`, body),
  help: (id: number, attemptId: number, note: string) => api.post(`${T}/sessions/${id}/help`, { attempt_id: attemptId, note }),
  presence: (id: number, leaving = false) => api.post<{ share_so_far: number }>(`${T}/sessions/${id}/presence`, { leaving }),
  materials: (id: number) => api.get<Material[]>(`${T}/sessions/${id}/materials`),
  uploadMaterial: (id: number, kind: string, file: File, onProgress?: (f: number) => void) => {
    const form = new FormData();
    form.append('file', file);
    return upload<Material>(`${T}/sessions/${id}/materials?kind=${encodeURIComponent(kind)}`, form, onProgress);
  },
  removeMaterial: (materialId: number) => api.del(`${T}/materials/${materialId}`),
  items: (category?: string) => api.get<Item[]>(`${T}/items`, { category }),
  createItem: (body: Omit<Item, 'id' | 'org_code' | 'created_by'>) => api.post<Item>(`${T}/items`, body),
  retireItem: (id: number) => api.del(`${T}/items/${id}`),
  importItems: (file: File) => {
    const form = new FormData();
    form.append('file', file);
    return upload<{ imported: number }>(`${T}/items/import`, form);
  },
  setPaper: (id: number, body: { item_ids: number[]; time_limit_min: number; pass_mark: number; shuffle: boolean }) =>
    api.put(`${T}/sessions/${id}/paper`, body),
  results: (id: number) => api.get<{ items: ResultRow[] }>(`${T}/sessions/${id}/results`),
  itemAnalysis: (id: number) => api.get<ItemAnalysis>(`${T}/sessions/${id}/item-analysis`),
  startExam: (id: number) => api.post<AttemptView>(`${T}/sessions/${id}/exam/start`),
  answer: (id: number, itemId: number, keys: string[]) =>
    api.post<{ item_id: number; saved_at: string; late: boolean }>(`${T}/sessions/${id}/exam/answer`, { item_id: itemId, keys }),
  submitExam: (id: number, answers: Record<string, string[]>) => api.post<AttemptView>(`${T}/sessions/${id}/exam/submit`, { answers }),
  examResult: (id: number, attemptNo: number) => api.get<AttemptView>(`${T}/sessions/${id}/exam/result/${attemptNo}`),
  satisfaction: (id: number, body: { overall: number; content: number; lecturer: number; organisation: number; comment: string }) =>
    api.post(`${T}/sessions/${id}/satisfaction`, body),
  my: () => api.get<{ items: MyEntry[] }>(`${T}/my`),
  mine: (id: number) => api.get<MyEntry>(`${T}/my/${id}`),
  transcript: (year: number, userId?: number) =>
    api.get<Transcript>(userId ? `${T}/transcript/${userId}` : `${T}/transcript`, { year }),
  indicators: (q: { org_code?: string; start?: string; end?: string }) =>
    api.get<{ total: OrgIndicators; children: OrgIndicators[] }>(`${T}/indicators`, q),
  links: {
    summaryPdf: (id: number) => `${T}/sessions/${id}/summary.pdf`,
    sheet: (id: number, format: 'xlsx' | 'pdf') => `${T}/sessions/${id}/sign-in-sheet?format=${format}`,
    material: (materialId: number) => `${T}/materials/${materialId}`,
    itemTemplate: `${T}/items/template.xlsx`,
    creditExport: (year: number, format: 'xlsx' | 'csv') => `${T}/credits/export?year=${year}&format=${format}`,
  },
};

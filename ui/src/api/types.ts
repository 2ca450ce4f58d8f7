/** Shapes of the platform API as the UI reads them. Optional where the backend may not send a field yet. */
import type { RJSFSchema, UiSchema } from '@rjsf/utils';

export interface Org {
  code: string;
  name: string;
  level?: string;
  parent_code?: string | null;
}

export interface Me {
  id?: number;
  username: string;
  display_name?: string;
  roles: string[];
  org?: Org | null;
  /** A patient account's own resident (the record it lands on). */
  resident_id?: number | null;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface TaskCounts {
  mine: number;
  groups: number;
  org: number;
  overdue: number;
}

export interface UserRef {
  id?: number;
  username?: string | null;
  display_name?: string | null;
}

export interface ResidentRef {
  id: string | number;
  name: string;
  village?: string;
  village_code?: string | null;
  sex?: string;
  age?: number;
  id_number?: string;
  [key: string]: unknown;
}

export type TaskView = 'mine' | 'groups' | 'org';

export interface Task {
  id: string | number;
  name: string;
  process_id?: string;
  process_name?: string;
  instance_id?: string | number;
  bpmn_id?: string;
  element_id?: string;
  status?: string;
  lane?: string | null;
  role?: string | null;
  org_code?: string;
  org_name?: string;
  assignee?: string | UserRef | null;
  assignee_id?: number | null;
  due_at?: string | null;
  priority?: number | string | null;
  overdue?: boolean;
  resident?: ResidentRef | null;
  disease?: string | null;
  risk_level?: string | null;
  created_at?: string;
  etag?: string;
}

export interface TaskForm {
  schema: RJSFSchema;
  ui_schema?: UiSchema;
  data?: Record<string, unknown>;
}

export interface TaskDetail extends Task {
  form?: TaskForm | null;
  resident_summary?: Record<string, unknown> | null;
  instructions?: string | null;
  draft?: Record<string, unknown> | null;
  candidates?: (string | UserRef)[];
  delegated_from?: (UserRef & { delegated_at?: string }) | null;
  /** What the caller may do now (server-decided): claim, unclaim, complete, assign, delegate, return. */
  can?: Partial<Record<'claim' | 'unclaim' | 'complete' | 'assign' | 'delegate' | 'return', boolean>>;
}

export interface Comment {
  id?: string | number;
  author?: string;
  author_name?: string;
  body?: string;
  text?: string;
  created_at?: string;
}

export interface ProcessVersion {
  version: number;
  deployed_at?: string;
  deployed_by?: string;
  content_hash?: string;
}

export interface ProcessDefinition {
  process_id: string;
  name?: string;
  latest_version: number;
  versions?: (ProcessVersion | number)[];
}

export interface DeployedItem {
  process_id?: string;
  decision_id?: string;
  id?: string;
  version: number;
  changed?: boolean;
}

export interface DeployResult {
  deployment_id?: number;
  deployed: DeployedItem[];
  decisions?: DeployedItem[];
}

export interface Decision {
  id?: string;
  decision_id?: string;
  name?: string;
  version?: number | string;
  source?: string | null;
  edition?: string | null;
  table?: string | null;
  cases?: number;
  inputs?: { name: string; label?: string; type?: string; allowed?: string; required?: boolean; default?: unknown }[];
}

export interface EvaluateResult {
  decision_id?: string;
  outputs: Record<string, unknown>;
  trace?: unknown[];
  reason?: string;
  versions?: Record<string, number>;
}

/** A decision analysis (case run) queued as a background job; poll `progress_url` until done or failed. */
export interface DecisionAnalysis {
  id: string;
  decision_id: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  progress: number;
  draft?: boolean;
  result?: CaseRunResult | null;
  error?: { code: string; message: string; details?: Record<string, unknown> } | null;
  progress_url: string;
}

export interface CaseRunResult {
  passed: number;
  failed: number;
  results?: {
    name?: string;
    id?: string;
    source?: string;
    passed?: boolean;
    ok?: boolean;
    inputs?: unknown;
    expected?: unknown;
    actual?: unknown;
    got?: unknown;
    diff?: Record<string, { expected?: unknown; got?: unknown }>;
    error?: { code?: string; field?: string | null; reason?: string } | null;
    expected_error?: unknown;
    message?: string;
  }[];
}

export type InstanceStatus = 'running' | 'waiting' | 'completed' | 'error' | 'suspended' | 'terminated';

export interface InstanceSummary {
  id: string | number;
  process_id: string;
  process_name?: string;
  version?: number;
  status: InstanceStatus | string;
  business_key?: string | null;
  resident_id?: string | number | null;
  resident_name?: string | null;
  org_code?: string | null;
  org_name?: string | null;
  started_at?: string;
  ended_at?: string | null;
}

export interface HistoryEntry {
  at: string;
  type: string;
  element_id?: string | null;
  element_name?: string | null;
  actor?: string | null;
  data?: unknown;
}

export interface InstanceDetail extends InstanceSummary {
  error?: { element_id?: string; message?: string; line?: number | null } | null;
  open_tasks?: Task[];
  history?: HistoryEntry[];
  /** called processes (call activities), each with the callee version that ran */
  called?: { element_id: string; process_id: string; version?: number | null; process_name?: string | null }[];
  diagram?: { completed?: string[]; active?: string[]; error?: string[] };
  data?: Record<string, unknown>;
}

export interface Observation {
  id?: string | number;
  code: string;
  value: number | string;
  unit?: string;
  effective_at: string;
  source?: string;
  /** 医疗机构 / 患者自测 / 家用设备 */
  source_label?: string;
}

export interface RiskLevel {
  disease?: string;
  level?: string;
  risk_level?: string;
  reason?: string | string[];
  reasons?: string[] | string;
  decided_at?: string;
  decision_id?: string;
}

export interface Resident {
  id: string | number;
  name: string;
  sex?: string;
  birth_date?: string;
  age?: number;
  id_number?: string;
  id_number_masked?: string;
  phone?: string;
  address?: string;
  village?: string;
  org_code?: string;
  org_name?: string;
  conditions?: { code?: string; name?: string; display?: string; disease?: string; onset_on?: string; diagnosed_on?: string; status?: string }[];
  risk_levels?: RiskLevel[];
  care_plan?: Record<string, unknown> | null;
  follow_ups?: { at?: string; due_on?: string; done_at?: string; status?: string; classification?: string; action?: string; by?: string; disease?: string; [k: string]: unknown }[];
  observations?: Observation[];
  instances?: InstanceSummary[];
  medications?: { name?: string; dose?: string; frequency?: string; [k: string]: unknown }[];
}

export interface SavedFilter {
  id: number;
  name: string;
  view: TaskView;
  params: Record<string, unknown>;
  shared_with_org?: boolean;
  owner?: string;
  org_code?: string;
}

// ---- the health record (GET /residents/{id}: summary first) ----

export interface TrendPoint {
  value: number | string | null;
  at: string;
}

export interface KeyValue {
  code: string;
  name?: string;
  unit?: string | null;
  latest?: (TrendPoint & { source?: string | null }) | null;
  trend?: TrendPoint[];
  direction?: 'up' | 'down' | 'flat' | null;
}

export interface RecordCondition {
  id?: number;
  icd10?: string;
  disease?: string | null;
  disease_name?: string | null;
  status?: string;
  category?: string;
  onset_on?: string | null;
  source?: string | null;
}

export interface RecordMedication {
  id?: number;
  drug?: string;
  drug_name?: string | null;
  name?: string;
  dose?: string | null;
  frequency?: string | null;
  started_on?: string | null;
  status?: string;
  source?: string | null;
}

export interface RecordRiskLevel {
  disease: string;
  disease_name?: string | null;
  level?: string | null;
  label?: string | null;
  previous_level?: string | null;
  reason?: string | string[] | null;
  decision_id?: string | null;
  versions?: Record<string, unknown> | null;
  assessed_at?: string | null;
  basis?: RiskBasis | null;
  source?: string | null;
  source_label?: string | null;
  proposed_level?: string | null;
  proposed_label?: string | null;
  reassessed_by?: string | null;
  reassessed_reason?: string | null;
}

export interface BasisReading {
  value: number;
  on: string;
  source?: string | null;
}

export interface RiskBasis {
  bp?: {
    rule: 'untreated' | 'highest_on_record';
    treatment_started_on?: string | null;
    sbp: BasisReading;
    dbp: BasisReading;
  } | null;
  values?: string;
}

export interface Enrolment {
  disease: string;
  disease_name?: string | null;
  icd10?: string | null;
  diagnosed_on?: string | null;
  enrolled_at?: string | null;
  village_code?: string | null;
  source?: string | null;
}

export interface ChronicSummary {
  enrolments?: Enrolment[];
  diagnoses?: RecordCondition[];
  complications?: RecordCondition[];
  current_medications?: RecordMedication[];
  key_values?: Record<string, KeyValue>;
  /** The resident's own home readings, newest first (never part of key values or trends). */
  home_readings?: Observation[];
  risk_levels?: RecordRiskLevel[];
  care_plan?: Record<string, unknown> | null;
  next_follow_up?: Record<string, unknown> | string | null;
  referral_flags?: { source: string; reason?: string | null; flagged_at?: string | null }[];
  open_emergencies?: OpenEmergency[];
  open_instances?: InstanceSummary[];
}

/** An emergency up-referral whose patient has not arrived yet (labels from the server). */
export interface OpenEmergency {
  id: number;
  referral_no: string;
  status?: string;
  status_label?: string;
  urgency_label?: string;
  reason?: string | null;
  disease_label?: string | null;
  capability_label?: string | null;
  from_org_name?: string | null;
  to_org_name?: string | null;
  requested_at?: string | null;
  resident_id?: number;
  resident_name?: string | null;
}

export interface HealthRecord {
  id: number | string;
  name: string;
  sex?: string;
  birth_date?: string;
  age?: number;
  id_number?: string;
  phone?: string | null;
  address?: string | null;
  org_code?: string | null;
  org_name?: string | null;
  family_doctor_user_id?: number | null;
  family_doctor_name?: string | null;
  summary?: ChronicSummary;
  conditions?: RecordCondition[];
  observations?: Observation[];
  medications?: RecordMedication[];
  encounters?: { id?: number; kind?: string; started_at?: string; org_code?: string | null; org_name?: string | null; diagnoses?: unknown; source?: string | null }[];
  risk_factors?: Record<string, { value?: unknown; source?: string | null; recorded_at?: string | null }>;
}

// ---- follow-up ----

export interface OverdueItem {
  visit_id: number;
  resident_id: number;
  resident_name?: string | null;
  phone?: string | null;
  disease: string;
  risk_level?: string | null;
  org_code?: string | null;
  due_on: string;
  days_overdue: number;
  cycle_no?: number;
  instance_id?: number | null;
  task_id?: number | null;
  assignee_id?: number | null;
  last_visit_on?: string | null;
  last_classification?: string | null;
  last_sbp?: number | null;
  last_dbp?: number | null;
  high_priority?: boolean;
}

export interface FollowUpSchedule {
  disease: string;
  risk_level?: string | null;
  care_plan_id?: number | null;
  interval_days?: number;
  next_due_on?: string | null;
  last_visit_on?: string | null;
  last_classification?: string | null;
  consecutive_uncontrolled?: number;
  cycle_no?: number;
  status?: string;
  latest_device?: Record<string, unknown> | null;
}

export interface FollowUpVisit {
  id: number;
  disease: string;
  cycle_no?: number;
  due_on?: string | null;
  status?: string;
  instance_id?: number | null;
  visited_on?: string | null;
  visit_type?: string | null;
  sbp?: number | null;
  dbp?: number | null;
  heart_rate?: number | null;
  weight_kg?: number | null;
  fpg?: number | null;
  hba1c?: number | null;
  classification?: string | null;
  action?: string | null;
  next_due_on?: string | null;
  performed_by?: string | null;
  performed_by_name?: string | null;
  /** the decision that classified the visit; `target` = the plan target it used (absent: guideline default) */
  decision?: { target?: { sbp_lt?: number; dbp_lt?: number; fpg_lt?: number; basis?: string } } | null;
}

export interface FollowUpTrend {
  visits?: number;
  controlled?: number;
  control_rate?: number | null;
  direction?: string;
  direction_of?: string;
}

export interface FollowUpTimeline {
  resident_id?: number;
  schedules: FollowUpSchedule[];
  visits: FollowUpVisit[];
  trend?: Record<string, FollowUpTrend>;
}

// ---- care plans ----

export interface CarePlanDrug {
  drug?: string;
  name?: string;
  dose_mg?: number | null;
  frequency?: string | null;
  [k: string]: unknown;
}

export interface CarePlanContent {
  targets?: Record<string, unknown> & { note?: string };
  drugs?: CarePlanDrug[];
  lifestyle?: Record<string, unknown>;
  follow_up_interval_days?: number;
  education_topics?: string[];
  notes?: string;
}

export interface CarePlanVersion {
  version: number;
  status?: string;
  kind?: string;
  content?: CarePlanContent;
  change_reason?: string | null;
  drafted_by?: string | null;
  drafted_at?: string | null;
  approved_by?: string | null;
  approved_at?: string | null;
  acknowledged_by?: string | null;
  acknowledged_at?: string | null;
  instance_id?: number | null;
  closed_by?: string | null;
  closed_at?: string | null;
  close_reason?: string | null;
}

export interface CarePlan {
  id: number;
  resident_id?: number;
  disease: string;
  risk_level?: string | null;
  status?: string;
  current_version?: number | null;
  org_code?: string | null;
  created_at?: string;
  updated_at?: string;
  current?: CarePlanVersion | null;
  versions?: CarePlanVersion[];
  comments?: { id?: number; version?: number | null; author?: string; body?: string; created_at?: string }[];
  names?: Record<string, string>;
}

export interface CarePlanChange {
  path: string;
  change: 'added' | 'removed' | 'changed' | string;
  from?: unknown;
  to?: unknown;
}

export interface CarePlanDiff {
  care_plan_id?: number;
  from_version: number;
  to_version: number;
  change_reason?: string | null;
  changes: CarePlanChange[];
  comments?: { id?: number; author?: string; body?: string; created_at?: string }[];
}

// ---- education, integrations ----

export interface EducationPush {
  id: number;
  item_id?: number;
  code?: string;
  title: string;
  topic?: string | null;
  summary?: string | null;
  reason?: string | null;
  channel?: string | null;
  pushed_at?: string | null;
  pushed_by?: string | null;
  pushed_by_name?: string | null;
  read_at?: string | null;
}

export interface RecordLink {
  id: number;
  kind?: string;
  system?: string | null;
  external_id?: string | null;
  title?: string | null;
  modality?: string | null;
  viewer_url?: string | null;
  report_text?: string | null;
  performed_at?: string | null;
  org_code?: string | null;
}

export interface IntegrationClient {
  client_id: string;
  name?: string;
  active?: boolean;
  deliveries_24h?: number;
  failures_24h?: number;
  waiting?: number;
  last_delivery_at?: string | null;
}

export interface Delivery {
  id: number;
  client_id?: string;
  channel?: string;
  delivery_key?: string | null;
  message?: string | null;
  status: string;
  response_status?: number | null;
  attempts?: number;
  last_error?: string | null;
  received_at?: string;
  processed_at?: string | null;
  next_attempt_at?: string | null;
  expires_at?: string | null;
  body?: unknown;
  response?: unknown;
  result?: unknown;
}

// ---- screening ----

export interface ScreeningRun {
  id: number;
  status: string;
  as_of?: string;
  total?: number;
  processed?: number;
  percent?: number;
  cases_created?: number;
  started_by?: string;
  started_at?: string;
  updated_at?: string;
  finished_at?: string | null;
  residents_per_second?: number | null;
  counts?: Record<string, unknown>;
  error?: string | null;
}

export interface ScreeningCase {
  id: number;
  resident_id: number;
  resident_name?: string | null;
  org_code?: string;
  township_code?: string | null;
  disease: string;
  disease_name?: string;
  kind?: string;
  track?: string;
  status?: string;
  open?: boolean;
  evidence?: Record<string, unknown>;
  decision_id?: string;
  reason?: string | null;
  referral_flag?: boolean;
  source?: string;
  instance_id?: number | null;
  flagged_at?: string;
  reject_reason?: string | null;
}

export interface ScreeningStatsRow {
  org_code: string | null;
  disease: string;
  disease_name?: string;
  flagged: number;
  verified: number;
  rejected: number;
  enrolled: number;
  open?: number;
  referral_flagged?: number;
}

export interface ScreeningStats {
  group_by?: string;
  date_from?: string | null;
  date_to?: string | null;
  items: ScreeningStatsRow[];
  totals?: Record<string, number>;
  high_risk?: Record<string, number>;
  referral_flags?: { residents?: number; by_source?: Record<string, number>; with_open_case?: number };
}

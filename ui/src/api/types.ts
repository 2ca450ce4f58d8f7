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

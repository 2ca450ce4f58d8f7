/** Calls and types of the referral API (/api/v1/referrals, /referral-stats, /residents/{id}/referrals). */
import { api, buildUrl } from '../../api/client';

const V1 = '/api/v1';

export interface TimelineEntry {
  at: string;
  label: string;
}

export interface Referral {
  id: number;
  referral_no: string;
  direction: 'up' | 'down';
  direction_label: string;
  status: string;
  status_label: string;
  urgency: string;
  urgency_label: string;
  reason: string | null;
  disease: string | null;
  disease_label: string | null;
  capability: string | null;
  capability_label: string | null;
  resident_id: number;
  resident_name: string | null;
  from_org_code: string | null;
  from_org_name: string | null;
  to_org_code: string | null;
  to_org_name: string | null;
  out_of_county: boolean;
  external_hospital: string | null;
  insurance_filing_no: string | null;
  reject_reason: string | null;
  reject_note: string | null;
  no_show_reason?: string | null;
  instance_id: number | null;
  parent_id: number | null;
  requested_at: string;
  offered_at: string | null;
  decision_due_at: string | null;
  decided_at: string | null;
  accepted_at: string | null;
  rejected_at: string | null;
  appointment_at: string | null;
  arrived_at: string | null;
  result_at: string | null;
  follow_up_due_on: string | null;
  follow_up_done_at: string | null;
  closed_at: string | null;
  active: boolean;
  timeline?: TimelineEntry[];
}

export interface ReferralTask {
  id: number;
  name: string;
  element_id: string;
  status: string;
  due_at: string | null;
  assignee: { id: number; display_name?: string | null } | null;
}

export interface ReferralDetail extends Referral {
  tasks: ReferralTask[];
  form: Record<string, unknown>;
  result: Record<string, unknown>;
  follow_up: Record<string, unknown>;
  children: Referral[];
  timeline: TimelineEntry[];
}

export interface Indicator {
  key: string;
  label: string;
  kind: 'count' | 'rate' | 'ratio';
  formula: string;
  numerator: number;
  denominator: number | null;
  value: number | null;
}

export interface ReferralStats {
  indicators: Indicator[];
  rejections_by_reason: { reason: string; count: number }[];
  by_status: { direction: string; status: string; status_label: string; count: number }[];
  unmatched_arrivals: number;
}

export interface ReferralQuery {
  direction?: string;
  status?: string;
  disease?: string;
  urgency?: string;
  org_code?: string;
  q?: string;
  start?: string;
  end?: string;
  indicator?: string;
  part?: string;
  page?: number;
  per_page?: number;
}

export interface StatsQuery {
  start?: string;
  end?: string;
  org_code?: string;
  disease?: string;
}

export interface NewReferral {
  resident_id: number;
  reason: string;
  disease?: string | null;
  urgency?: string;
  capability?: string | null;
  to_org_code?: string | null;
}

export interface Capability {
  id: number;
  org_code: string | null;
  org_name: string;
  org_level: string | null;
  in_county: boolean;
  capability: string;
  capability_label: string;
  available: boolean;
  unavailable_reason: string | null;
  insurance_designated: boolean;
}

type Query = Record<string, string | number | boolean | null | undefined>;

export const referralApi = {
  list: (q: ReferralQuery) => api.get<{ items: Referral[]; total: number }>(`${V1}/referrals`, q as Query),
  get: (id: string | number) => api.get<ReferralDetail>(`${V1}/referrals/${id}`),
  ofResident: (residentId: string | number) => api.get<Referral[]>(`${V1}/residents/${residentId}/referrals`),
  create: (body: NewReferral) => api.post<Referral>(`${V1}/referrals`, body),
  createDown: (body: { resident_id: number; reason: string; disease?: string | null; parent_id?: number | null }) =>
    api.post<Referral>(`${V1}/referrals/down`, body),
  stats: (q: StatsQuery) => api.get<ReferralStats>(`${V1}/referral-stats`, q as Query),
  exportUrl: (q: StatsQuery) => buildUrl(`${V1}/referral-stats.xlsx`, q as Query),
  documentUrl: (id: number, kind: 'referral_form' | 'receipt' | 'down_form') => `${V1}/referrals/${id}/documents/${kind}.pdf`,
  capabilities: () => api.get<Capability[]>(`${V1}/referral-capabilities`),
  senderSummary: (id: number) => api.get<{ referral_no: string; resident: Record<string, unknown>; form: Record<string, unknown>; record: Record<string, unknown>; valid_until: string | null }>(`${V1}/referrals/${id}/sender-summary`),
};

/** Status filters of the list, in the order a referral moves. */
export const STATUS_FILTERS: [string, string][] = [
  ['', '全部'],
  ['drafting', '填写转诊单'],
  ['pending_approval', '待县外审批'],
  ['offered', '待接诊'],
  ['accepted', '已接收'],
  ['appointed', '已预约'],
  ['arrived', '已到诊'],
  ['rejected', '已拒收'],
  ['received', '已接收(基层)'],
  ['completed', '已完成'],
  ['no_show', '未到位'],
  ['transferred_out', '已转县外'],
  ['cancelled', '已撤销'],
];

/** Badge colour of a status. */
export function statusKind(status: string): string {
  if (['rejected', 'no_show', 'cancelled'].includes(status)) return 'badge-danger';
  if (['offered', 'pending_approval', 'drafting', 'requested'].includes(status)) return 'badge-warn';
  if (['completed', 'transferred_out', 'received', 'arrived'].includes(status)) return 'badge-ok';
  return 'badge-info';
}

/** An indicator's value as people read it: a count, a percentage, or a ratio "1 : n". */
export function indicatorText(i: Pick<Indicator, 'kind' | 'value'>): string {
  if (i.value === null || i.value === undefined) return '—';
  if (i.kind === 'count') return String(i.value);
  if (i.kind === 'ratio') return i.value.toFixed(2);
  return `${Math.round(i.value * 1000) / 10}%`;
}

/** Which documents a referral has to print. */
export function documentsOf(r: Pick<Referral, 'direction' | 'status' | 'result_at' | 'offered_at'>): { kind: 'referral_form' | 'receipt' | 'down_form'; label: string }[] {
  if (r.direction === 'down') return [{ kind: 'down_form', label: '下转单' }];
  const out: { kind: 'referral_form' | 'receipt' | 'down_form'; label: string }[] = [{ kind: 'referral_form', label: '转诊单' }];
  if (r.result_at) out.push({ kind: 'receipt', label: '回执' });
  return out;
}

/** Indicator names (the same as the server's; the drill-down banner shows them before the statistics load). */
export const INDICATOR_LABELS: Record<string, string> = {
  up_count: '上转人次',
  down_count: '下转人次',
  up_down_ratio: '上下转比',
  arrival_rate: '转诊到位率',
  acceptance_within_sla: '接诊受理及时率',
  rejection_rate: '拒收率',
  result_return_rate: '结果回传率',
  follow_up_timeliness: '2周随访及时率',
  down_first_follow_up_timeliness: '下转首访及时率',
  out_of_county_rate: '县外转诊率',
};

/** Chinese names of the fields the referral's forms record (from forms/referral_up and referral_down). */
export const FIELD_LABELS: Record<string, string> = {
  reason: '转诊目的/原因', chief_complaint: '主诉', present_illness: '现病史', past_history: '既往史', treatment: '治疗经过',
  current_medication: '当前用药', family_contact: '家属姓名及电话', insurance_type: '费别/医保类型', precautions: '转诊注意事项',
  consent: '患者/家属已知情同意', seen_at: '到诊时间', diagnosis: '确定诊断', conclusion: '出院/门诊结论',
  plan: '治疗方案及用药调整', advice: '建议 (回基层随访频次、目标值)', down_referral: '建议下转基层', place: '地点 (诊室/病区)',
  visit_mode: '拟就诊方式', suggested_date: '建议就诊日期', appointment_note: '预约说明', outcome: '核实结果',
  reason_not_arrived: '不到位原因', diagnosis_confirmed: '上级医院诊断已确认', plan_executed: '新治疗方案已执行',
  next_follow_up_on: '下次随访日期', discharge_diagnosis: '出院诊断', discharge_on: '出院日期', course_summary: '住院经过摘要',
  discharge_medication: '出院带药', long_term_plan: '长期治疗方案', follow_up_requirements: '随访要求',
  rehab_requirements: '康复/护理要求', recheck_items: '需复查项目及日期', re_referral_criteria: '再次上转指征',
  override_reason: '不符合下转条件仍下转的理由', cancel_note: '撤销说明', visit_date: '随访日期', sbp: '收缩压 (mmHg)',
  dbp: '舒张压 (mmHg)', fpg: '空腹血糖 (mmol/L)', condition: '病情', plan_followed: '按下转方案执行', accepted: '确认接收',
  responsible_doctor: '责任医生', transport: '转运方式', measures: '已采取措施', called_120: '已呼叫120',
  contacted_receiver: '已电话联系接收医院', vitals: '处置后生命体征', opinion: '审批意见', approved: '批准县外转诊',
};

/** Form values as label/text pairs: only fields with a Chinese name, booleans as 是/否, lists joined. */
export function fieldRows(values: Record<string, unknown> | null | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(values ?? {})) {
    const name = FIELD_LABELS[k];
    if (!name || v === null || v === undefined || v === '') continue;
    if (typeof v === 'object' && !Array.isArray(v)) continue;
    const text = typeof v === 'boolean' ? (v ? '是' : '否') : Array.isArray(v) ? v.map(String).join('、') : String(v);
    out.push([name, text]);
  }
  return out;
}

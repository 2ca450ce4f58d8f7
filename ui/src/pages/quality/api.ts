/** Calls and types of the quality-control API (/api/v1/quality). */
import { api, buildUrl } from '../../api/client';

const Q = '/api/v1/quality';

export interface Thresholds { target: number; warning: number; alarm: number }
export type Status = 'met' | 'below_target' | 'warning' | 'alarm' | 'no_data' | 'none';

export interface Figure {
  numerator: number;
  denominator: number | null;
  value: number | null;
  thresholds: Thresholds | null;
  status: Status;
}

export interface Group extends Figure { key: string | number | null; label: string; org_code: string | null }

export interface IndicatorValue extends Figure {
  id: string;
  name: string;
  group: string;
  unit: string;
  direction: 'higher' | 'lower';
  window: 'month' | 'year_to_date';
  source_note: string;
  edition: string;
  dimensions: { code: string; label: string }[];
  formula: { numerator: { source: string; source_label: string }; denominator: { source: string; source_label: string } | null };
  window_start: string;
  window_end: string;
  children: Group[];
}

export interface OrgRef { code: string; name: string; level: string }
/** How fresh the figures are: read from the materialized aggregates as of a time, or computed live. */
export interface Freshness {
  as_of: string | null; live: boolean; refresh_status: 'running' | 'done' | 'failed' | null;
  refresh_status_label: string; refresh_error: boolean; window_end: string | null;
}
export interface Overview { period: string; org: OrgRef; indicators: IndicatorValue[]; freshness?: Freshness }
export interface Trend { points: (Figure & { period: string })[] }
export interface Breakdown { by: string; groups: Group[] }

export interface DrillItem {
  key: string;
  resident_id: number | null;
  resident_name: string | null;
  task_id: number | null;
  org_name: string | null;
  disease_label: string;
  risk_level_label: string;
  doctor_name: string | null;
  sex_label: string;
  age: number | null;
  facts: Record<string, string | number | boolean | null>;
}
export interface Drilldown { total: number; part: string; items: DrillItem[] }

export interface Alert {
  id: number; indicator_id: string; indicator_name: string; org_code: string; org_name: string; period: string;
  level: string; level_label: string; value: number | null; threshold: number; part: string; count: number;
  status?: string; status_label?: string; handled_at?: string | null;
}

export interface ScoreItem extends Figure { org_code: string; org_name: string; score: number | null; rank: number | null }
export interface Scores { level: string; p10: number | null; p90: number | null; items: ScoreItem[] }

export interface Cohort {
  quarter: string; outcome_start: string; outcome_end: string; registered: number;
  controlled: number; uncontrolled: number; visited_no_value: number; missed_visit: number;
}
export interface Cohorts { disease: string; outcomes: { code: keyof Cohort; label: string }[]; cohorts: Cohort[] }

type Q = { period?: string; org_code?: string };

export const quality = {
  overview: (q: Q) => api.get<Overview>(`${Q}/overview`, q),
  trend: (id: string, q: Q) => api.get<Trend>(`${Q}/indicators/${id}/trend`, { ...q, months: 12 }),
  breakdown: (id: string, by: string, q: Q) => api.get<Breakdown>(`${Q}/indicators/${id}/breakdown`, { ...q, by }),
  drilldown: (id: string, part: string, page: number, q: Q & { doctor_id?: number }) =>
    api.get<Drilldown>(`${Q}/indicators/${id}/drilldown`, { ...q, part, page, per_page: 20 }),
  scores: (id: string, level: string, q: Q) => api.get<Scores>(`${Q}/indicators/${id}/scores`, { ...q, level }),
  cohorts: (disease: string, q: Q) => api.get<Cohorts>(`${Q}/cohorts`, { ...q, disease }),
  cohortMembers: (disease: string, quarter: string, outcome: string, q: Q) =>
    api.get<{ total: number; items: DrillItem[] }>(`${Q}/cohorts/members`, { ...q, disease, quarter, outcome, per_page: 100 }),
  alerts: (q: Q) => api.get<{ items: Alert[] }>(`${Q}/alerts`, q),
  freshness: (period: string) => api.get<Freshness>(`${Q}/aggregates`, { period }),
  refresh: (period: string) => api.post<Freshness>(`${Q}/aggregates/refresh?period=${encodeURIComponent(period)}`),
  links: {
    overviewXlsx: (q: Q) => buildUrl(`${Q}/overview.xlsx`, q),
    drilldownXlsx: (id: string, part: string, q: Q & { doctor_id?: number }) => buildUrl(`${Q}/indicators/${id}/drilldown.xlsx`, { ...q, part }),
  },
};

export interface ChartPoint {
  period?: string; key?: string; label?: string; value: number; numerator: number; denominator: number;
  lcl?: number; ucl?: number; lwl?: number; uwl?: number;
}
export interface FunnelLimit { n: number; lo95: number; hi95: number; lo998: number; hi998: number }
export interface FindingChart {
  type: 'p_chart' | 'funnel'; centre?: number; group?: string; group_label?: string; network_rate?: number;
  highlight?: string; points: ChartPoint[]; curve?: FunnelLimit[];
}
/** A finding's chart as sent: an outlier's funnel is shared by every outlier of its indicator and peer group and
 * sent once in `Findings.charts` (`ref`); the finding keeps the point it highlights. */
export type SentChart = Omit<FindingChart, 'points'> & { points?: ChartPoint[]; ref?: string };
export interface Finding {
  id: string; kind: 'drift' | 'outlier'; kind_label: string; rule: string; severity: 'alarm' | 'warning' | 'info';
  severity_label: string; indicator_id: string; indicator_name: string; subject: string; subject_kind: string;
  sentence: string; value: number; numerator: number; denominator: number; reference: number;
  link: { indicator_id: string; org_code: string; period: string; part: string; doctor_id: number | null; url: string };
  chart: FindingChart;
}
export type SentFinding = Omit<Finding, 'chart'> & { chart: SentChart };
export interface Findings {
  period: string; months: number; org: OrgRef; indicators: number; findings: SentFinding[];
  charts?: Record<string, FindingChart>; freshness?: Freshness;
}

/** The finding with its whole chart: an outlier's shared funnel (`charts[ref]`) with its own highlighted point. */
export function withChart(f: SentFinding, charts: Record<string, FindingChart> | undefined): Finding {
  const { ref, ...own } = f.chart;
  const shared = ref ? charts?.[ref] : undefined;
  return { ...f, chart: { ...(shared ?? { points: [] }), ...own, points: own.points ?? shared?.points ?? [] } };
}

export const findingsApi = {
  list: (q: Q) => api.get<Findings>(`${Q}/findings`, q),
};

/** 分析 (issue 20.6): population, disease spectrum, cost, resource use and outcome comparisons. */
export interface BreakdownGroup { key: string; label: string; count: number; sums: Record<string, number> }
export interface BreakdownFigure {
  id: string; section: string; title: string; by: string; unit: string; note: string; sum_fields: string[];
  total: number; groups: BreakdownGroup[];
}
export interface ComparisonGroup {
  key: string; label: string; value: number | null; numerator: number; denominator: number | null;
  org_code: string | null; doctor_id: number | null; versus: number | null;
}
export interface Comparison {
  indicator_id: string; name: string; by: 'org' | 'doctor'; unit: string; reference: number | null;
  numerator: number; denominator: number | null; groups: ComparisonGroup[];
}
export interface Breakdowns {
  period: string; window_start: string; window_end: string; org: OrgRef;
  sections: { code: string; label: string; not_held: string[] }[];
  figures: BreakdownFigure[]; comparisons: Comparison[];
}
export interface SourceCounts { up: number; down: number; matched: number }
export interface ReferralCounts {
  network_up: number; network_down: number; his: SourceCounts; public_health: SourceCounts; insurance: SourceCounts;
  reported: number; matched: number; unmatched_reported: number; unmatched_network: number;
}
export interface ReferralSummary {
  period: string; months: number; from_period: string; match_days: number; org: OrgRef;
  sources: { code: 'his' | 'public_health' | 'insurance'; label: string }[];
  totals: ReferralCounts; by_month: (ReferralCounts & { period: string })[];
  by_org: (ReferralCounts & { key: string; label: string; org_code: string | null })[];
}
export interface UnmatchedReferral {
  key: string; side: string; source: string | null; source_label: string; source_id: string | null;
  referral_no: string | null; direction: string; direction_label: string; on: string; resident_id: number;
  resident_name: string | null; from_name: string | null; to_name: string | null;
}

export const analysisApi = {
  breakdowns: (section: string, q: Q) => api.get<Breakdowns>(`${Q}/breakdowns`, { ...q, section }),
  members: (figure: string, key: string, page: number, q: Q) =>
    api.get<{ total: number; label: string; title: string; items: DrillItem[] }>(
      `${Q}/breakdowns/${figure}/members`, { ...q, key, page, per_page: 20 }),
  referralSummary: (q: Q) => api.get<ReferralSummary>(`${Q}/referral-summary`, { ...q, months: 6 }),
  unmatched: (side: string, q: Q) =>
    api.get<{ total: number; items: UnmatchedReferral[] }>(`${Q}/referral-summary/unmatched`, { ...q, months: 6, side, per_page: 100 }),
  links: {
    breakdownsXlsx: (section: string, q: Q) => buildUrl(`${Q}/breakdowns.xlsx`, { ...q, section }),
    referralSummaryXlsx: (q: Q) => buildUrl(`${Q}/referral-summary.xlsx`, { ...q, months: 6 }),
  },
};

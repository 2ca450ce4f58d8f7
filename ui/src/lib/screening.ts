/** Screening stats → chart series, run progress, and the Chinese names the screening pages show. */
import type { ScreeningRun, ScreeningStatsRow } from '../api/types';
import { vocabMap } from './vocabulary';

export const SCREENING_DISEASES = vocabMap('disease');
export const CASE_KINDS = vocabMap('case_kind');
export const CASE_STATUS = vocabMap('case_status');

export const RUN_STATUS: Record<string, string> = {
  queued: '排队中',
  pending: '排队中',
  running: '运行中',
  completed: '已完成',
  finished: '已完成',
  failed: '失败',
  error: '失败',
  cancelled: '已取消',
  interrupted: '已中断（可续跑）',
};

export const REFERRAL_SOURCES: Record<string, string> = { his: 'HIS', HIS: 'HIS', public_health: '公卫系统', insurance: '医保' };

/** The four counts of the funnel, in the order the charts draw them. */
export const FUNNEL = [
  { key: 'flagged', name: '筛出' },
  { key: 'verified', name: '已核实' },
  { key: 'rejected', name: '已排除' },
  { key: 'enrolled', name: '已建档' },
] as const;

export type FunnelKey = (typeof FUNNEL)[number]['key'];

export interface GroupedSeries {
  categories: string[];
  series: { name: string; key: FunnelKey; data: number[] }[];
}

/**
 * Rows per (organization, disease) summed along one axis: per disease (categories are disease names) or per
 * organization (categories named by `orgName`). Categories keep a stable order: most flagged first.
 */
export function funnelBy(rows: readonly ScreeningStatsRow[], axis: 'disease' | 'org', orgName: (code: string) => string = (c) => c): GroupedSeries {
  const sums = new Map<string, Record<FunnelKey, number>>();
  for (const r of rows) {
    const key = axis === 'disease' ? r.disease : r.org_code ?? '';
    const s = sums.get(key) ?? { flagged: 0, verified: 0, rejected: 0, enrolled: 0 };
    for (const f of FUNNEL) s[f.key] += Number(r[f.key]) || 0;
    sums.set(key, s);
  }
  const keys = [...sums.keys()].sort((a, b) => sums.get(b)!.flagged - sums.get(a)!.flagged || a.localeCompare(b));
  const nameOf = (k: string) => (axis === 'disease' ? SCREENING_DISEASES[k] ?? rows.find((r) => r.disease === k)?.disease_name ?? k : k ? orgName(k) : '未知机构');
  return {
    categories: keys.map(nameOf),
    series: FUNNEL.map((f) => ({ name: f.name, key: f.key, data: keys.map((k) => sums.get(k)![f.key]) })),
  };
}

/** {key: n} → pie data with Chinese names, zero entries dropped, largest first. */
export function pieData(counts: Record<string, number> | null | undefined, names: Record<string, string>): { name: string; value: number }[] {
  return Object.entries(counts ?? {})
    .filter(([, v]) => Number(v) > 0)
    .map(([k, v]) => ({ name: names[k] ?? k, value: Number(v) }))
    .sort((a, b) => b.value - a.value);
}

/** Whether a run is still moving (keep polling). */
export function runActive(run: ScreeningRun | null | undefined): boolean {
  if (!run) return false;
  return !run.finished_at && !['completed', 'finished', 'failed', 'error', 'cancelled', 'interrupted'].includes(run.status);
}

/** Progress as a fraction 0…1 (null when unknown: an indeterminate bar). */
export function runFraction(run: ScreeningRun | null | undefined): number | null {
  if (!run) return null;
  if (typeof run.percent === 'number' && Number.isFinite(run.percent)) return Math.min(Math.max(run.percent / 100, 0), 1);
  if (run.total) return Math.min((run.processed ?? 0) / run.total, 1);
  return null;
}

/** "已处理 1,234 / 2,000 人，新增 12 例，约 350 人/秒" */
export function runSummary(run: ScreeningRun): string {
  const n = (x: number | null | undefined) => (x ?? 0).toLocaleString('zh-CN');
  const parts = [`已处理 ${n(run.processed)} / ${n(run.total)} 人`, `新增 ${n(run.cases_created)} 例`];
  if (run.residents_per_second) parts.push(`约 ${Math.round(run.residents_per_second).toLocaleString('zh-CN')} 人/秒`);
  return parts.join('，');
}

/** Chunked runs (one job per resident-id range, shared by every worker): "分块 3 / 10 已完成，1 块失败" ("" for a
 * run without chunks). */
export function runChunks(run: ScreeningRun): string {
  if (!run.total_chunks) return '';
  const text = `分块 ${run.done_chunks ?? 0} / ${run.total_chunks} 已完成`;
  return run.failed_chunks ? `${text}，${run.failed_chunks} 块失败` : text;
}

/** A run's `counts` ({cases: {"htn:suspected": n}, input_errors: {key: n}}) as Chinese lines. */
export function runCountsText(counts: Record<string, unknown> | null | undefined): { cases: string; errors: string } {
  const part = (v: unknown) => (v && typeof v === 'object' ? Object.entries(v as Record<string, unknown>) : []);
  const cases = part(counts?.cases)
    .map(([k, n]) => {
      const [disease, kind] = k.split(':');
      return `${SCREENING_DISEASES[disease] ?? disease}${kind ? (CASE_KINDS[kind] ?? kind) : ''} ${n}`;
    })
    .join('、');
  const errors = part(counts?.input_errors)
    .map(([k, n]) => `${k} ${n}`)
    .join('、');
  return { cases, errors };
}

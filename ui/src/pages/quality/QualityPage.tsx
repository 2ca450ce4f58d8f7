/**
 * 质控指标: the programme and process indicators of an organisation for a month (Simple.org-style), each graded
 * against this year's thresholds; pick one to see its monthly trend (ECharts), its figure per child organisation
 * (click to go down a level) or per dimension, and the list of residents or tasks behind it (audited, xlsx).
 * The URL holds the state (`?indicator=&org=&period=&part=`), so an alert's link opens the list it is about.
 */
import { useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import type { EChartsCoreOption } from 'echarts/core';
import Chart from '../../components/Chart';
import { Badge, Empty, ErrorBox, Loading, Pager } from '../../components/common';
import { useAuth } from '../../auth';
import { canSeeReferralStats } from '../../lib/roles';
import { useAsync } from '../../lib/useAsync';
import { quality, type Cohorts, type Finding, type Group, type IndicatorValue, type Trend } from './api';
import FindingsSection from './Findings';
import { AnalysisSection, ReferralSummarySection } from './Analysis';
import {
  DIMENSION_FACTS, PART_LABELS, STATUS_COLORS, STATUS_LABELS, explainingPart, factColumns, factValue, formatParts,
  formatValue, freshnessText, monthsBack,
} from './format';

const GROUPS = [{ code: 'chronic', label: '慢病管理' }, { code: 'process', label: '流程时效' }, { code: 'recognition', label: '结果互认' }, { code: 'contracting', label: '家庭医生签约' }, { code: 'liaison', label: '下沉专家与专科共建' }];
const BADGE: Record<string, string> = { met: 'badge-ok', below_target: 'badge-warn', warning: 'badge-warn', alarm: 'badge-danger' };

function StatusBadge({ status }: { status: IndicatorValue['status'] }) {
  return <Badge kind={BADGE[status] ?? ''}>{STATUS_LABELS[status]}</Badge>;
}

function trendOption(ind: IndicatorValue, trend: Trend): EChartsCoreOption {
  const t = ind.thresholds;
  const lines = t ? [
    { yAxis: t.target, name: '目标', lineStyle: { color: STATUS_COLORS.met } },
    { yAxis: t.warning, name: '预警', lineStyle: { color: STATUS_COLORS.warning } },
    { yAxis: t.alarm, name: '报警', lineStyle: { color: STATUS_COLORS.alarm } },
  ] : [];
  return {
    tooltip: { trigger: 'axis' },
    grid: { left: 44, right: 40, top: 24, bottom: 30 },
    xAxis: { type: 'category', data: trend.points.map((p) => p.period.slice(2)) },
    yAxis: { type: 'value', name: ind.unit, min: 0 },
    series: [{
      name: ind.name, type: 'line', connectNulls: false,
      data: trend.points.map((p) => ({ value: p.value, itemStyle: { color: STATUS_COLORS[p.status] } })),
      markLine: { symbol: 'none', label: { formatter: '{b}', position: 'end' }, data: lines },
    }],
  };
}

const COHORT_COLORS: Record<string, string> = {
  controlled: STATUS_COLORS.met, uncontrolled: STATUS_COLORS.alarm, visited_no_value: STATUS_COLORS.below_target,
  missed_visit: STATUS_COLORS.no_data,
};

function cohortOption(c: Cohorts): EChartsCoreOption {
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 40, right: 12, top: 34, bottom: 30 },
    xAxis: { type: 'category', data: c.cohorts.map((k) => `${k.quarter} 登记 (${k.registered}人)`) },
    yAxis: { type: 'value', minInterval: 1, name: '人' },
    series: c.outcomes.map((o) => ({
      name: o.label, type: 'bar', stack: 'all', itemStyle: { color: COHORT_COLORS[o.code] },
      data: c.cohorts.map((k) => k[o.code]),
    })),
  };
}

/** Simple.org's cohort view: patients registered in a quarter and where they stand in the quarter after. */
function CohortSection({ q }: { q: { period?: string; org_code?: string } }) {
  const [disease, setDisease] = useState('htn');
  const data = useAsync(() => quality.cohorts(disease, q), [disease, q.period, q.org_code]);
  const option = useMemo(() => (data.data ? cohortOption(data.data) : null), [data.data]);
  const [box, setBox] = useState<{ quarter: string; outcome: string; label: string } | null>(null);
  const members = useAsync(() => (box ? quality.cohortMembers(disease, box.quarter, box.outcome, q) : Promise.resolve(null)),
    [box?.quarter, box?.outcome, disease, q.period, q.org_code]);
  return (
    <section className="card stack" data-testid="cohorts">
      <div className="page-head">
        <h2 style={{ margin: 0 }}>季度队列</h2>
        <div className="tabs" style={{ marginBottom: 0 }}>
          {[['htn', '高血压'], ['t2dm', '2型糖尿病']].map(([code, label]) => (
            <button type="button" key={code} className={`tab${code === disease ? ' active' : ''}`} onClick={() => setDisease(code)}>{label}</button>
          ))}
        </div>
      </div>
      <p className="muted" style={{ margin: 0 }}>每季度新登记管理的患者在下一季度的状态（末次随访{disease === 'htn' ? '血压 <140/90' : '空腹血糖 <7.0'} 为已控制，统一目标，与国家考核口径不同）。</p>
      {data.loading ? <Loading /> : data.error ? <ErrorBox error={data.error} /> : option && <Chart option={option} height={260} testId="cohort-chart" />}
      {data.data && (
        <div className="table-wrap">
          <table className="table table-compact" data-testid="cohort-table">
            <thead><tr><th>登记季度</th><th>登记人数</th>{data.data.outcomes.map((o) => <th key={o.code}>{o.label}</th>)}</tr></thead>
            <tbody>{data.data.cohorts.map((k) => (
              <tr key={k.quarter}>
                <td>{k.quarter}</td><td>{k.registered}</td>
                {data.data!.outcomes.map((o) => (
                  <td key={o.code}>{k[o.code] ? (
                    <button type="button" className="btn btn-ghost btn-small" onClick={() => setBox({ quarter: k.quarter, outcome: o.code, label: `${k.quarter} 登记 · ${o.label}` })}>{k[o.code]}</button>
                  ) : 0}</td>
                ))}
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
      {box && (members.loading ? <Loading /> : members.error ? <ErrorBox error={members.error} /> : members.data && (
        <div className="stack" data-testid="cohort-members">
          <strong>{box.label}（{members.data.total} 人）</strong>
          <ul className="plain-list">{members.data.items.map((it) => (
            <li key={it.key}>{it.resident_id ? <Link to={`/residents/${it.resident_id}`}>{it.resident_name}</Link> : it.resident_name} · {it.org_name ?? '—'} · 末次随访 {factValue(it.facts.last_visit_on)}</li>
          ))}</ul>
        </div>
      ))}
    </section>
  );
}

function IndicatorTiles({ items, selected, onPick }: { items: IndicatorValue[]; selected?: string; onPick: (id: string) => void }) {
  return (
    <div className="stat-tiles" data-testid="quality-tiles">
      {items.map((ind) => (
        <button type="button" key={ind.id} className="stat-tile" data-testid={`tile-${ind.id}`}
          style={{ textAlign: 'left', cursor: 'pointer', borderColor: ind.id === selected ? 'var(--c-primary)' : undefined,
            borderLeft: `4px solid ${STATUS_COLORS[ind.status]}` }}
          onClick={() => onPick(ind.id)}>
          <div className="lbl">{ind.name}</div>
          <div className="num">{formatValue(ind, ind.unit)}</div>
          <div className="lbl">{formatParts(ind)} · <StatusBadge status={ind.status} /></div>
        </button>
      ))}
    </div>
  );
}

function ChildTable({ ind, rows, onOrg, onList }: { ind: IndicatorValue; rows: Group[]; onOrg: (code: string) => void; onList: (code: string | null) => void }) {
  if (!rows.length) return <Empty title="没有下级机构" />;
  return (
    <div className="table-wrap">
      <table className="table table-compact" data-testid="child-table">
        <thead><tr><th>机构</th><th>值</th><th>分子/分母</th><th>状态</th><th /></tr></thead>
        <tbody>
          {rows.map((g) => (
            <tr key={String(g.key)}>
              <td>{g.org_code ? <button type="button" className="btn btn-ghost btn-small" onClick={() => onOrg(g.org_code!)}>{g.label}</button> : g.label}</td>
              <td>{formatValue(g, ind.unit)}</td>
              <td>{formatParts(g)}</td>
              <td><StatusBadge status={g.status} /></td>
              <td>{g.org_code && <button type="button" className="btn btn-small" onClick={() => onList(g.org_code)}>名单</button>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function DimensionTable({ ind, q }: { ind: IndicatorValue; q: { period?: string; org_code?: string } }) {
  const dims = ind.dimensions.filter((d) => d.code !== 'org');
  const [by, setBy] = useState(dims[0]?.code ?? '');
  const data = useAsync(() => (by ? quality.breakdown(ind.id, by, q) : Promise.resolve({ by, groups: [] })), [ind.id, by, q.period, q.org_code]);
  if (!dims.length) return null;
  return (
    <div className="stack">
      <div className="filters">
        <span className="muted">按</span>
        {dims.map((d) => (
          <button type="button" key={d.code} className={`tab${d.code === by ? ' active' : ''}`} onClick={() => setBy(d.code)}>{d.label}</button>
        ))}
      </div>
      {data.loading ? <Loading /> : data.error ? <ErrorBox error={data.error} /> : (
        <table className="table table-compact" data-testid="dimension-table">
          <thead><tr><th>分组</th><th>值</th><th>分子/分母</th></tr></thead>
          <tbody>{data.data!.groups.map((g) => (
            <tr key={String(g.key)}><td>{g.label}</td><td>{formatValue(g, ind.unit)}</td><td>{formatParts(g)}</td></tr>
          ))}</tbody>
        </table>
      )}
    </div>
  );
}

function ScoreTable({ ind, q, level }: { ind: IndicatorValue; q: { period?: string; org_code?: string }; level: 'township' | 'village' }) {
  const data = useAsync(() => quality.scores(ind.id, level, q), [ind.id, level, q.period, q.org_code]);
  if (data.loading) return <Loading />;
  if (data.error) return <ErrorBox error={data.error} />;
  const s = data.data!;
  return (
    <div className="stack">
      <p className="muted" style={{ margin: 0 }}>
        同级{level === 'township' ? '乡镇' : '村'}机构区间评分：≤P10 得 50 分，≥P90 得 100 分，其间线性{ind.direction === 'lower' ? '（越低越好，反向计分）' : ''}。
        {s.p10 !== null && s.p90 !== null ? ` P10 = ${s.p10.toFixed(1)}，P90 = ${s.p90.toFixed(1)}` : ''}
      </p>
      <div className="table-wrap">
        <table className="table table-compact" data-testid="score-table">
          <thead><tr><th>排名</th><th>机构</th><th>值</th><th>得分</th></tr></thead>
          <tbody>{s.items.map((it) => (
            <tr key={it.org_code}><td>{it.rank ?? '—'}</td><td>{it.org_name}</td><td>{formatValue(it, ind.unit)}</td>
              <td>{it.score === null ? '无数据' : it.score.toFixed(1)}</td></tr>
          ))}</tbody>
        </table>
      </div>
    </div>
  );
}

function DrillList({ ind, part, q, onPart, doctorId }: {
  ind: IndicatorValue; part: string; q: { period?: string; org_code?: string }; onPart: (p: string) => void; doctorId?: number;
}) {
  const [page, setPage] = useState(1);
  const dq = doctorId ? { ...q, doctor_id: doctorId } : q;
  const data = useAsync(() => quality.drilldown(ind.id, part, page, dq), [ind.id, part, page, q.period, q.org_code, doctorId]);
  const parts = ind.denominator === null ? ['numerator']
    : ind.formula.denominator && ind.formula.denominator.source === ind.formula.numerator.source ? ['gap', 'numerator', 'denominator'] : ['numerator', 'denominator'];
  const items = data.data?.items ?? [];
  const facts = items.length ? factColumns(items[0].facts) : [];
  return (
    <section className="stack" data-testid="drill-list">
      <div className="page-head">
        <h3 style={{ margin: 0 }}>名单</h3>
        <a className="btn btn-small" href={quality.links.drilldownXlsx(ind.id, part, dq)}>导出 Excel</a>
      </div>
      <div className="tabs">
        {parts.map((p) => (
          <button type="button" key={p} className={`tab${p === part ? ' active' : ''}`} onClick={() => { setPage(1); onPart(p); }}>
            {p === 'gap' && ind.direction === 'higher' ? '未达标' : PART_LABELS[p]}
          </button>
        ))}
      </div>
      {data.loading ? <Loading /> : data.error ? <ErrorBox error={data.error} /> : !items.length ? <Empty title="名单为空" /> : (
        <>
          <div className="list-summary muted">共 {data.data!.total} 条{doctorId && items[0]?.doctor_name ? `（责任医生 ${items[0].doctor_name}）` : ''}</div>
          <div className="table-wrap">
            <table className="table table-compact">
              <thead><tr><th>姓名</th><th>机构</th><th>病种</th><th>风险</th><th>性别/年龄</th><th>责任医生</th>
                {facts.map((f) => <th key={f}>{DIMENSION_FACTS[f]}</th>)}</tr></thead>
              <tbody>{items.map((it) => (
                <tr key={it.key}>
                  <td>{it.task_id ? <Link to={`/tasks/${it.task_id}`}>{it.resident_name || '任务'}</Link>
                    : it.resident_id ? <Link to={`/residents/${it.resident_id}`}>{it.resident_name}</Link> : '—'}</td>
                  <td>{it.org_name ?? '—'}</td>
                  <td>{it.disease_label}</td>
                  <td>{it.risk_level_label}</td>
                  <td>{it.sex_label}{it.age !== null ? ` ${it.age}岁` : ''}</td>
                  <td>{it.doctor_name ?? '—'}</td>
                  {facts.map((f) => <td key={f}>{factValue(it.facts[f])}</td>)}
                </tr>
              ))}</tbody>
            </table>
          </div>
          <Pager page={page} perPage={20} total={data.data!.total} onPage={setPage} />
        </>
      )}
    </section>
  );
}

function Detail({ ind, q, part, onOrg, onList, onPart, listOrg, orgLevel, doctorId }: {
  ind: IndicatorValue; q: { period?: string; org_code?: string }; part: string; listOrg?: string; orgLevel: string; doctorId?: number;
  onOrg: (c: string) => void; onList: (c: string | null) => void; onPart: (p: string) => void;
}) {
  const trend = useAsync(() => quality.trend(ind.id, q), [ind.id, q.period, q.org_code]);
  const option = useMemo(() => (trend.data ? trendOption(ind, trend.data) : null), [ind, trend.data]);
  const [tab, setTab] = useState<'org' | 'dim' | 'score'>('org');
  const level = orgLevel === 'county' ? 'township' : 'village';
  return (
    <section className="card stack" data-testid="indicator-detail">
      <div className="page-head">
        <h2 style={{ margin: 0 }}>{ind.name} <StatusBadge status={ind.status} /></h2>
        <span className="muted">{ind.window === 'year_to_date' ? '年内累计' : '当月'} {ind.window_start} 至 {ind.window_end}</span>
      </div>
      <p className="muted" style={{ margin: 0 }}>{ind.source_note}{ind.thresholds ? ` · 目标 ${ind.thresholds.target}${ind.unit}，预警 ${ind.thresholds.warning}${ind.unit}，报警 ${ind.thresholds.alarm}${ind.unit}` : ''}</p>
      {trend.loading ? <Loading /> : trend.error ? <ErrorBox error={trend.error} /> : option && <Chart option={option} height={240} testId="trend-chart" />}
      <div className="tabs">
        <button type="button" className={`tab${tab === 'org' ? ' active' : ''}`} onClick={() => setTab('org')}>按下级机构</button>
        <button type="button" className={`tab${tab === 'dim' ? ' active' : ''}`} onClick={() => setTab('dim')}>按维度</button>
        <button type="button" className={`tab${tab === 'score' ? ' active' : ''}`} onClick={() => setTab('score')}>绩效评分</button>
      </div>
      {tab === 'org' && <ChildTable ind={ind} rows={ind.children} onOrg={onOrg} onList={onList} />}
      {tab === 'dim' && <DimensionTable ind={ind} q={q} />}
      {tab === 'score' && <ScoreTable ind={ind} q={q} level={level} />}
      <DrillList ind={ind} part={part} q={{ ...q, org_code: listOrg ?? q.org_code }} onPart={onPart} doctorId={doctorId} />
    </section>
  );
}

export default function QualityPage() {
  const { me } = useAuth();
  const [params, setParams] = useSearchParams();
  const months = useMemo(() => monthsBack(new Date(), 12), []);
  const period = params.get('period') || months[0];
  const org = params.get('org') || undefined;
  const group = params.get('group') || 'chronic';
  const listOrg = params.get('list_org') || undefined;
  const view = params.get('view') || 'indicators';
  const q = useMemo(() => ({ period, org_code: org }), [period, org]);
  const overview = useAsync(() => quality.overview(q), [period, org]);
  const [refreshing, setRefreshing] = useState<string | null>(null);
  const canRefresh = (me?.roles ?? []).some((r) => r === 'supervisor' || r === 'county_admin');
  const refresh = async () => {
    setRefreshing('正在更新…');
    try {
      const state = await quality.refresh(period);
      setRefreshing(state.refresh_status === 'done' ? null : `${state.refresh_status_label}，稍后刷新页面查看`);
      overview.reload();
    } catch {
      setRefreshing('更新失败，请稍后再试');
    }
  };
  const fresh = overview.data?.freshness;
  const alerts = useAsync(() => quality.alerts({ period, org_code: org }), [period, org]);
  const set = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v); else next.delete(k);
    }
    setParams(next);
  };
  const items = (overview.data?.indicators ?? []).filter((i) => i.group === group);
  const all = overview.data?.indicators ?? [];
  const selected = all.find((i) => i.id === params.get('indicator')) ?? items[0];
  const part = params.get('part') || (selected ? explainingPart(selected) : 'numerator');
  const doctorId = Number(params.get('doctor')) || undefined;
  const openList = (f: Finding) => {
    set({ indicator: f.indicator_id, group: all.find((i) => i.id === f.indicator_id)?.group, part: f.link.part,
      list_org: f.link.org_code, doctor: f.link.doctor_id ? String(f.link.doctor_id) : undefined });
    window.setTimeout(() => document.querySelector('[data-testid=drill-list]')?.scrollIntoView({ block: 'start' }), 300);
  };

  return (
    <div className="stack page-wide">
      <div className="page-head">
        <h1 style={{ margin: 0 }}>质控指标{overview.data ? ` · ${overview.data.org.name}` : ''}</h1>
        <div className="btn-group">
          {canSeeReferralStats(me?.roles ?? []) && <Link className="btn btn-small" to="/referrals/dashboard">转诊指标 →</Link>}
          <a className="btn btn-small" href={quality.links.overviewXlsx(q)} data-testid="overview-xlsx">导出指标 Excel</a>
        </div>
      </div>
      <div className="filters">
        <label className="field"><span className="field-label">统计月份</span>
          <select value={period} onChange={(e) => set({ period: e.target.value, list_org: undefined })} data-testid="period">
            {months.map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </label>
        {org && <button type="button" className="btn btn-small" onClick={() => set({ org: undefined, list_org: undefined })}>返回本人机构</button>}
        {fresh && (
          <span className="muted" data-testid="quality-freshness">
            {freshnessText(fresh)}
            {fresh.refresh_status === 'running' && ' · 正在更新'}
            {fresh.refresh_error && ' · 上次更新失败'}
          </span>
        )}
        {canRefresh && (
          <button type="button" className="btn btn-small" disabled={refreshing === '正在更新…'} onClick={refresh} data-testid="quality-refresh">
            刷新数据
          </button>
        )}
        {refreshing && <span className="muted">{refreshing}</span>}
      </div>
      <div className="tabs" data-testid="quality-views">
        {[['indicators', '指标'], ['analysis', '分析'], ['referrals', '转诊对账']].map(([code, label]) => (
          <button type="button" key={code} className={`tab${code === view ? ' active' : ''}`}
            onClick={() => set({ view: code === 'indicators' ? undefined : code })}>{label}</button>
        ))}
      </div>
      {view === 'analysis' && <AnalysisSection q={q} />}
      {view === 'referrals' && <ReferralSummarySection q={q} />}
      {view === 'indicators' && (<>
      {(alerts.data?.items.length ?? 0) > 0 && (
        <div className="alert alert-warn" data-testid="quality-alerts">
          本月质控预警 {alerts.data!.items.length} 条（待处置 {alerts.data!.items.filter((a) => a.status !== 'handled').length} 条）：
          {alerts.data!.items.slice(0, 5).map((a) => (
            <button type="button" key={a.id} className="btn btn-ghost btn-small"
              onClick={() => set({ indicator: a.indicator_id, org: a.org_code, part: a.part, list_org: undefined, group: all.find((i) => i.id === a.indicator_id)?.group })}>
              {a.org_name} {a.indicator_name}（{a.level_label}{a.status_label ? `·${a.status_label}` : ''}）
            </button>
          ))}
        </div>
      )}
      <FindingsSection q={q} onList={openList} />
      <div className="tabs">
        {GROUPS.map((g) => (
          <button type="button" key={g.code} className={`tab${g.code === group ? ' active' : ''}`} onClick={() => set({ group: g.code, indicator: undefined, part: undefined, doctor: undefined })}>{g.label}</button>
        ))}
      </div>
      {overview.loading ? <Loading /> : overview.error ? <ErrorBox error={overview.error} onRetry={overview.reload} /> : (
        <>
          <IndicatorTiles items={items} selected={selected?.id} onPick={(id) => set({ indicator: id, part: undefined, list_org: undefined, doctor: undefined })} />
          {selected && (
            <Detail key={`${selected.id}-${period}-${org ?? ''}`} ind={selected} q={q} part={part} listOrg={listOrg} orgLevel={overview.data!.org.level}
              doctorId={doctorId}
              onOrg={(code) => set({ org: code, list_org: undefined, doctor: undefined })}
              onList={(code) => set({ list_org: code ?? undefined, doctor: undefined })}
              onPart={(p) => set({ part: p })} />
          )}
          {group === 'chronic' && <CohortSection q={q} />}
        </>
      )}
      </>)}
    </div>
  );
}

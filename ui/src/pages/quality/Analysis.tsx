/**
 * 分析 and 转诊对账 (issue 20.6): what a county manager reads beside the indicators — population, disease spectrum,
 * cost, resource use and outcome comparisons, each group a button that lists the residents, tasks or cases behind
 * it (audited); and the referrals the HIS, public health and insurance reported beside the network's own, matched
 * by resident, direction and date, with the unmatched lists. Built to be read on a phone (390 px): horizontal bars,
 * narrow tables that scroll on their own.
 */
import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import type { EChartsCoreOption } from 'echarts/core';
import Chart from '../../components/Chart';
import { Empty, ErrorBox, Loading, Pager } from '../../components/common';
import { useAsync } from '../../lib/useAsync';
import { analysisApi, type BreakdownFigure, type Comparison, type ReferralSummary } from './api';
import { STATUS_COLORS, factValue } from './format';

type Q = { period?: string; org_code?: string };
const SECTIONS = [['population', '人口构成'], ['disease', '疾病谱'], ['cost', '费用'], ['resources', '资源利用'], ['outcomes', '结局比较']];
const SUM_LABELS: Record<string, string> = {
  total_charge: '总费用(元)', case_cost: '成本(元)', margin: '结余(元)', los_days: '住院日', insurance_paid: '统筹支付(元)',
};

function barOption(fig: BreakdownFigure): EChartsCoreOption {
  const groups = [...fig.groups].reverse();
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 36, top: 8, bottom: 8, containLabel: true },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', data: groups.map((g) => (g.label.length > 9 ? `${g.label.slice(0, 9)}…` : g.label)) },
    series: [{ type: 'bar', data: groups.map((g) => g.count), itemStyle: { color: STATUS_COLORS.none },
      label: { show: true, position: 'right' } }],
  };
}

function Members({ figure, groupKey, label, q }: { figure: string; groupKey: string; label: string; q: Q }) {
  const [page, setPage] = useState(1);
  const data = useAsync(() => analysisApi.members(figure, groupKey, page, q), [figure, groupKey, page, q.period, q.org_code]);
  if (data.loading) return <Loading />;
  if (data.error) return <ErrorBox error={data.error} />;
  const d = data.data!;
  return (
    <div className="stack" data-testid="breakdown-members">
      <strong>{d.title} · {label}（{d.total}）</strong>
      <ul className="plain-list">{d.items.map((it) => (
        <li key={it.key}>
          {it.task_id ? <Link to={`/tasks/${it.task_id}`}>{it.resident_name || '任务'}</Link>
            : it.resident_id ? <Link to={`/residents/${it.resident_id}`}>{it.resident_name}</Link> : (it.resident_name ?? '—')}
          {' · '}{it.org_name ?? '—'}{it.disease_label !== '—' ? ` · ${it.disease_label}` : ''}
          {it.facts.case_no ? ` · ${factValue(it.facts.case_no)}` : ''}{it.facts.referral_no ? ` · ${factValue(it.facts.referral_no)}` : ''}
        </li>
      ))}</ul>
      <Pager page={page} perPage={20} total={d.total} onPage={setPage} />
    </div>
  );
}

function FigureCard({ fig, q }: { fig: BreakdownFigure; q: Q }) {
  const option = useMemo(() => barOption(fig), [fig]);
  const [open, setOpen] = useState<{ key: string; label: string } | null>(null);
  return (
    <div className="card stack" data-testid={`figure-${fig.id}`}>
      <div className="page-head">
        <h3 style={{ margin: 0 }}>{fig.title}</h3>
        <span className="muted">合计 {fig.total} {fig.unit}</span>
      </div>
      {fig.note && <p className="muted" style={{ margin: 0 }}>{fig.note}</p>}
      {!fig.groups.length ? <p className="muted" style={{ margin: 0 }}>本期无数据</p> : (
        <>
          {fig.groups.length > 1 && <Chart option={option} height={Math.min(60 + fig.groups.length * 28, 420)} testId={`chart-${fig.id}`} />}
          <div className="table-wrap">
            <table className="table table-compact">
              <thead><tr><th>{fig.by || '分组'}</th><th>{fig.unit}</th>{fig.sum_fields.map((f) => <th key={f}>{SUM_LABELS[f] ?? f}</th>)}</tr></thead>
              <tbody>{fig.groups.map((g) => (
                <tr key={g.key}>
                  <td className="label-cell">{g.label}</td>
                  <td><button type="button" className="btn btn-ghost btn-small" data-testid="group-count"
                    onClick={() => setOpen(open?.key === g.key ? null : { key: g.key, label: g.label })}>{g.count}</button></td>
                  {fig.sum_fields.map((f) => <td key={f}>{(g.sums[f] ?? 0).toLocaleString('zh-CN')}</td>)}
                </tr>
              ))}</tbody>
            </table>
          </div>
        </>
      )}
      {open && <Members figure={fig.id} groupKey={open.key} label={open.label} q={q} />}
    </div>
  );
}

function ComparisonCard({ c, q }: { c: Comparison; q: Q }) {
  const list = (g: Comparison['groups'][number]) => {
    const p = new URLSearchParams({ indicator: c.indicator_id, part: 'gap', ...(q.period ? { period: q.period } : {}) });
    if (q.org_code) p.set('org', q.org_code);
    if (g.org_code) p.set('list_org', g.org_code);
    if (g.doctor_id) p.set('doctor', String(g.doctor_id));
    return `/quality?${p.toString()}`;
  };
  return (
    <div className="card stack" data-testid={`comparison-${c.indicator_id}-${c.by}`}>
      <div className="page-head">
        <h3 style={{ margin: 0 }}>{c.name} · 按{c.by === 'org' ? '机构' : '责任医生'}</h3>
        <span className="muted">整体 {c.reference === null ? '—' : `${c.reference}%`}（{c.numerator}/{c.denominator ?? 0}）</span>
      </div>
      {!c.groups.length ? <p className="muted" style={{ margin: 0 }}>本期无数据</p> : (
        <div className="table-wrap">
          <table className="table table-compact">
            <thead><tr><th>{c.by === 'org' ? '机构' : '医生'}</th><th>控制率</th><th>分子/分母</th><th>与整体差</th><th /></tr></thead>
            <tbody>{c.groups.map((g) => (
              <tr key={g.key}>
                <td className="label-cell">{g.label}</td><td>{g.value === null ? '—' : `${g.value}%`}</td><td>{g.numerator}/{g.denominator ?? 0}</td>
                <td style={{ color: g.versus !== null && g.versus < 0 ? STATUS_COLORS.alarm : undefined }}>
                  {g.versus === null ? '—' : `${g.versus > 0 ? '+' : ''}${g.versus} 个百分点`}</td>
                <td>{(g.org_code || g.doctor_id) && <Link className="btn btn-small" to={list(g)}>未控制名单</Link>}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function AnalysisSection({ q }: { q: Q }) {
  const [section, setSection] = useState('population');
  const data = useAsync(() => analysisApi.breakdowns(section, q), [section, q.period, q.org_code]);
  const info = data.data?.sections[0];
  return (
    <section className="stack" data-testid="analysis">
      <div className="tabs" style={{ flexWrap: 'wrap' }}>
        {SECTIONS.map(([code, label]) => (
          <button type="button" key={code} className={`tab${code === section ? ' active' : ''}`} onClick={() => setSection(code)}>{label}</button>
        ))}
      </div>
      {data.loading ? <Loading /> : data.error ? <ErrorBox error={data.error} onRetry={data.reload} /> : (
        <>
          <div className="row" style={{ justifyContent: 'space-between', alignItems: 'center', gap: 8, flexWrap: 'wrap' }}>
            <p className="muted" style={{ margin: 0 }}>{data.data!.org.name} · {data.data!.window_start} 至 {data.data!.window_end}（存量按月末、流量按当月，实时计算）</p>
            <a className="btn btn-small" href={analysisApi.links.breakdownsXlsx(section, q)} data-testid="analysis-xlsx">导出 Excel</a>
          </div>
          {data.data!.figures.map((f) => <FigureCard key={f.id} fig={f} q={q} />)}
          {data.data!.comparisons.map((c) => <ComparisonCard key={`${c.indicator_id}-${c.by}`} c={c} q={q} />)}
          {info && info.not_held.length > 0 && (
            <div className="alert" data-testid="not-held">平台未持有的数据：{info.not_held.join('；')}。</div>
          )}
        </>
      )}
    </section>
  );
}

function monthOption(s: ReferralSummary): EChartsCoreOption {
  const m = s.by_month;
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 32, right: 8, top: 34, bottom: 24 },
    xAxis: { type: 'category', data: m.map((x) => x.period.slice(2)) },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: '平台上转', type: 'bar', stack: 'net', data: m.map((x) => x.network_up) },
      { name: '平台下转', type: 'bar', stack: 'net', data: m.map((x) => x.network_down) },
      { name: '外部上报', type: 'bar', data: m.map((x) => x.reported) },
      { name: '已匹配', type: 'line', data: m.map((x) => x.matched), itemStyle: { color: STATUS_COLORS.met } },
    ],
  };
}

function Unmatched({ side, q }: { side: 'reported' | 'network'; q: Q }) {
  const data = useAsync(() => analysisApi.unmatched(side, q), [side, q.period, q.org_code]);
  if (data.loading) return <Loading />;
  if (data.error) return <ErrorBox error={data.error} />;
  if (!data.data!.items.length) return <Empty title="没有未匹配的转诊" />;
  return (
    <ul className="plain-list stack" data-testid={`unmatched-${side}`}>{data.data!.items.map((it) => (
      <li key={it.key}>
        <Link to={`/residents/${it.resident_id}`}>{it.resident_name ?? '—'}</Link> · {it.on} · {it.direction_label} · {it.source_label}
        {it.source_id ? ` ${it.source_id}` : ''}{it.referral_no ? ` ${it.referral_no}` : ''} · {it.from_name ?? '—'} → {it.to_name ?? '—'}
      </li>
    ))}</ul>
  );
}

export function ReferralSummarySection({ q }: { q: Q }) {
  const data = useAsync(() => analysisApi.referralSummary(q), [q.period, q.org_code]);
  const option = useMemo(() => (data.data ? monthOption(data.data) : null), [data.data]);
  const [side, setSide] = useState<'reported' | 'network' | null>(null);
  if (data.loading) return <Loading />;
  if (data.error) return <ErrorBox error={data.error} onRetry={data.reload} />;
  const s = data.data!;
  const t = s.totals;
  return (
    <section className="stack" data-testid="referral-summary">
      <p className="muted" style={{ margin: 0 }}>
        {s.org.name} · {s.from_period} 至 {s.period}：医院HIS、公卫系统、医保平台上报的转诊/转院与医共体平台的双向转诊对照；
        同一居民、同一方向、日期相差不超过 {s.match_days} 天即视为同一次转诊。
      </p>
      <div><a className="btn btn-small" href={analysisApi.links.referralSummaryXlsx(q)} data-testid="referral-summary-xlsx">导出 Excel</a></div>
      <div className="stat-tiles">
        <div className="stat-tile"><div className="lbl">平台上转/下转</div><div className="num">{t.network_up}/{t.network_down}</div></div>
        {s.sources.map((src) => (
          <div className="stat-tile" key={src.code}><div className="lbl">{src.label}上报</div>
            <div className="num">{t[src.code].up + t[src.code].down}</div><div className="lbl">已匹配 {t[src.code].matched}</div></div>
        ))}
        <button type="button" className="stat-tile" style={{ textAlign: 'left' }} data-testid="open-unmatched-reported" onClick={() => setSide('reported')}>
          <div className="lbl">外部上报未匹配</div><div className="num">{t.unmatched_reported}</div></button>
        <button type="button" className="stat-tile" style={{ textAlign: 'left' }} data-testid="open-unmatched-network" onClick={() => setSide('network')}>
          <div className="lbl">平台转诊未被上报</div><div className="num">{t.unmatched_network}</div></button>
      </div>
      {option && <Chart option={option} height={240} testId="referral-month-chart" />}
      <div className="table-wrap">
        <table className="table table-compact" data-testid="referral-org-table">
          <thead><tr><th>机构</th><th>平台上转</th><th>平台下转</th>{s.sources.map((src) => <th key={src.code}>{src.label}</th>)}<th>已匹配</th></tr></thead>
          <tbody>{s.by_org.map((o) => (
            <tr key={o.key}><td className="label-cell">{o.label}</td><td>{o.network_up}</td><td>{o.network_down}</td>
              {s.sources.map((src) => <td key={src.code}>{o[src.code].up + o[src.code].down}</td>)}<td>{o.matched}</td></tr>
          ))}</tbody>
        </table>
      </div>
      {side && (
        <div className="card stack">
          <strong>{side === 'reported' ? '外部上报而平台无对应转诊' : '平台转诊而外部系统未上报'}</strong>
          <Unmatched side={side} q={q} />
        </div>
      )}
    </section>
  );
}

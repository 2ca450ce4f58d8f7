/**
 * 发现: what changed, found by the platform — rates drifting against their own history (control chart) and
 * townships, villages or doctors outside their peers' funnel limits. Each finding reads as one sentence; opening
 * it draws its chart and offers the list of patients or tasks behind it (the audited drill-down).
 */
import { useMemo, useState } from 'react';
import type { EChartsCoreOption } from 'echarts/core';
import Chart from '../../components/Chart';
import { Badge, ErrorBox, Loading } from '../../components/common';
import { useAsync } from '../../lib/useAsync';
import { findingsApi, withChart, type Finding } from './api';
import { STATUS_COLORS } from './format';

const SEVERITY_BADGE: Record<Finding['severity'], string> = { alarm: 'badge-danger', warning: 'badge-warn', info: 'badge-ok' };
const SHOWN = 8;

export function controlChartOption(f: Finding): EChartsCoreOption {
  const pts = f.chart.points;
  const line = (name: string, data: (number | undefined)[], color: string, dashed = true) => ({
    name, type: 'line', step: 'middle', symbol: 'none', data,
    lineStyle: { color, width: 1, type: dashed ? 'dashed' : 'solid' },
  });
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0, data: [f.indicator_name, '中心线', '控制限 (3σ)'] },
    grid: { left: 44, right: 16, top: 34, bottom: 30 },
    xAxis: { type: 'category', data: pts.map((p) => (p.period ?? '').slice(2)) },
    yAxis: { type: 'value', name: '%', min: 0, max: 100 },
    series: [
      { name: f.indicator_name, type: 'line', data: pts.map((p, i) => ({
        value: p.value, itemStyle: { color: i === pts.length - 1 ? STATUS_COLORS.alarm : STATUS_COLORS.none } })) },
      line('中心线', pts.map(() => f.chart.centre), STATUS_COLORS.met, false),
      line('控制限 (3σ)', pts.map((p) => p.ucl), STATUS_COLORS.alarm),
      line('控制限 (3σ)', pts.map((p) => p.lcl), STATUS_COLORS.alarm),
      line('2σ', pts.map((p) => p.uwl), STATUS_COLORS.below_target),
      line('2σ', pts.map((p) => p.lwl), STATUS_COLORS.below_target),
    ],
  };
}

export function funnelOption(f: Finding): EChartsCoreOption {
  const curve = f.chart.curve ?? [];
  const limit = (name: string, key: 'lo95' | 'hi95' | 'lo998' | 'hi998', color: string) => ({
    name, type: 'line', symbol: 'none', smooth: true, data: curve.map((c) => [c.n, c[key]]),
    lineStyle: { color, width: 1, type: 'dashed' },
  });
  return {
    tooltip: { trigger: 'item', formatter: (p: { data: { label?: string; value: number[] } }) => (p.data.label ? `${p.data.label}：${p.data.value[1]}%（分母 ${p.data.value[0]}）` : '') },
    legend: { top: 0, data: [f.chart.group_label ?? '', '整体水平', '95% 控制限', '99.8% 控制限'] },
    grid: { left: 44, right: 16, top: 34, bottom: 34 },
    xAxis: { type: 'value', name: '分母', nameLocation: 'middle', nameGap: 22, min: 0 },
    yAxis: { type: 'value', name: '%', min: 0, max: 100 },
    series: [
      { name: f.chart.group_label, type: 'scatter', symbolSize: 9,
        data: f.chart.points.map((p) => ({ value: [p.denominator, p.value], label: p.label,
          itemStyle: { color: p.key === f.chart.highlight ? STATUS_COLORS.alarm : STATUS_COLORS.none } })) },
      { name: '整体水平', type: 'line', symbol: 'none', data: curve.map((c) => [c.n, f.chart.network_rate]),
        lineStyle: { color: STATUS_COLORS.met, width: 1 } },
      limit('95% 控制限', 'lo95', STATUS_COLORS.below_target), limit('95% 控制限', 'hi95', STATUS_COLORS.below_target),
      limit('99.8% 控制限', 'lo998', STATUS_COLORS.alarm), limit('99.8% 控制限', 'hi998', STATUS_COLORS.alarm),
    ],
  };
}

function FindingDetail({ f, onList }: { f: Finding; onList: (f: Finding) => void }) {
  const option = useMemo(() => (f.kind === 'drift' ? controlChartOption(f) : funnelOption(f)), [f]);
  return (
    <div className="stack" data-testid="finding-detail">
      <p className="muted" style={{ margin: 0 }}>
        {f.kind === 'drift'
          ? `控制图：近 ${f.chart.points.length} 个月，中心线 ${f.chart.centre}%，每月控制限为中心线 ± 3 倍标准差（按当月分母计算）。`
          : `漏斗图：同级${f.chart.group_label}的比率与分母，整体水平 ${f.chart.network_rate}%，虚线为 95% 与 99.8% 控制限。`}
      </p>
      <Chart option={option} height={260} testId={f.kind === 'drift' ? 'control-chart' : 'funnel-chart'} />
      <div><button type="button" className="btn btn-small" onClick={() => onList(f)}>查看名单</button></div>
    </div>
  );
}

export default function FindingsSection({ q, onList }: { q: { period?: string; org_code?: string }; onList: (f: Finding) => void }) {
  const data = useAsync(() => findingsApi.list(q), [q.period, q.org_code]);
  const [open, setOpen] = useState<string | null>(null);
  const [all, setAll] = useState(false);
  const items = useMemo(() => (data.data?.findings ?? []).map((f) => withChart(f, data.data?.charts)), [data.data]);
  return (
    <section className="card stack" data-testid="findings">
      <div className="page-head">
        <h2 style={{ margin: 0 }}>发现</h2>
        {data.data && <span className="muted">{data.data.findings.length} 条 · 核查 {data.data.indicators} 项比率指标</span>}
      </div>
      {data.loading ? <Loading /> : data.error ? <ErrorBox error={data.error} /> : !items.length ? (
        <p className="muted" style={{ margin: 0 }}>本月没有明显变化：各比率指标均在自身历史的控制限内，各机构与医生均在同级的漏斗控制限内。</p>
      ) : (
        <ul className="plain-list stack" data-testid="finding-list">
          {(all ? items : items.slice(0, SHOWN)).map((f) => (
            <li key={f.id} data-testid="finding">
              <button type="button" className="btn btn-ghost" style={{ textAlign: 'left', whiteSpace: 'normal' }}
                aria-expanded={open === f.id} onClick={() => setOpen(open === f.id ? null : f.id)}>
                <Badge kind={SEVERITY_BADGE[f.severity]}>{f.severity_label}</Badge> {f.sentence}
                <span className="muted">（{f.kind_label}）</span>
              </button>
              {open === f.id && <FindingDetail f={f} onList={onList} />}
            </li>
          ))}
          {!all && items.length > SHOWN && (
            <li><button type="button" className="btn btn-small" onClick={() => setAll(true)}>显示全部 {items.length} 条</button></li>
          )}
        </ul>
      )}
    </section>
  );
}

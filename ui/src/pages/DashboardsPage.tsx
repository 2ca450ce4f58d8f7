import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import type { EChartsCoreOption } from 'echarts/core';
import { instances, referrals, screening, tasks } from '../api/endpoints';
import type { ScreeningStats } from '../api/types';
import { useAuth } from '../auth';
import { canScreen, canSeeOpenEmergencies, canSeeReferralStats, canSeeScreeningStats } from '../lib/roles';
import { useOrgNames } from '../lib/orgs';
import { FUNNEL, REFERRAL_SOURCES, SCREENING_DISEASES, funnelBy, pieData, type GroupedSeries } from '../lib/screening';
import { Empty, ErrorBox, Loading } from '../components/common';
import Chart from '../components/Chart';
import { useAsync } from '../lib/useAsync';
import { INSTANCE_STATUS, PROCESS_NAMES, label } from '../lib/labels';
import { normalizeStats } from '../lib/stats';
import { formatDateTime } from '../lib/time';

const FUNNEL_COLORS = ['#1565c0', '#0f6b5c', '#9e9e9e', '#ef6c00'];

function groupedBarOption(g: GroupedSeries): EChartsCoreOption {
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 40, right: 12, top: 34, bottom: 60 },
    xAxis: { type: 'category', data: g.categories, axisLabel: { interval: 0, rotate: g.categories.length > 5 ? 30 : 0 } },
    yAxis: { type: 'value', minInterval: 1 },
    dataZoom: g.categories.length > 12 ? [{ type: 'slider', height: 14, bottom: 4, startValue: 0, endValue: 11 }] : undefined,
    series: g.series.map((s, i) => ({ name: s.name, type: 'bar', data: s.data, itemStyle: { color: FUNNEL_COLORS[i] } })),
  };
}

function pieOption(data: { name: string; value: number }[]): EChartsCoreOption {
  return {
    tooltip: { trigger: 'item' },
    legend: { bottom: 0, type: 'scroll' },
    series: [{ type: 'pie', radius: ['35%', '62%'], center: ['50%', '45%'], data }],
  };
}

/** Screening counts: the funnel per disease and per organization, the prevention list, referral-flag patients. */
function ScreeningStatsSection() {
  const { me } = useAuth();
  const orgName = useOrgNames();
  const [groupBy, setGroupBy] = useState<'township' | 'village'>('township');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const stats = useAsync<ScreeningStats>(() => screening.stats({ group_by: groupBy, from: from || undefined, to: to || undefined }), [groupBy, from, to]);
  const rows = stats.data?.items ?? [];
  const byDisease = useMemo(() => groupedBarOption(funnelBy(rows, 'disease')), [rows]);
  const byOrg = useMemo(() => groupedBarOption(funnelBy(rows, 'org', orgName)), [rows, orgName]);
  const prevention = useMemo(() => pieData(stats.data?.high_risk, SCREENING_DISEASES), [stats.data]);
  const referral = useMemo(() => pieData(stats.data?.referral_flags?.by_source, REFERRAL_SOURCES), [stats.data]);
  const totals = stats.data?.totals ?? {};
  const flags = stats.data?.referral_flags;

  return (
    <section id="screening" className="stack" data-testid="screening-stats">
      <div className="page-head">
        <h2 style={{ margin: 0 }}>慢病筛查</h2>
        {canScreen(me?.roles ?? []) && <Link to="/screening">筛查病例与高危人群 →</Link>}
      </div>
      <div className="filters">
        <select value={groupBy} onChange={(e) => setGroupBy(e.target.value as 'township' | 'village')} aria-label="按机构层级">
          <option value="township">按乡镇</option>
          <option value="village">按村</option>
        </select>
        <label className="check">
          从 <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} aria-label="开始日期" />
        </label>
        <label className="check">
          到 <input type="date" value={to} onChange={(e) => setTo(e.target.value)} aria-label="结束日期" />
        </label>
      </div>
      {stats.loading && !stats.data ? (
        <Loading />
      ) : stats.error ? (
        <ErrorBox error={stats.error} onRetry={stats.reload} />
      ) : (
        <>
          <div className="stat-tiles">
            {FUNNEL.map((f) => (
              <div className="stat-tile" key={f.key}>
                <div className="num">{totals[f.key] ?? 0}</div>
                <div className="lbl">{f.name}</div>
              </div>
            ))}
            <div className="stat-tile">
              <div className="num" style={{ color: flags?.residents ? '#c62828' : undefined }}>{flags?.residents ?? 0}</div>
              <div className="lbl">转诊标记居民（{flags?.with_open_case ?? 0} 人有待办病例）</div>
            </div>
          </div>
          {!rows.length && !prevention.length && !referral.length ? (
            <Empty title="暂无筛查统计">开始一批全人群筛查后，这里按病种和机构显示筛出、核实、排除与建档人数。</Empty>
          ) : (
            <>
              {rows.length > 0 && (
                <div className="grid-2">
                  <section className="card">
                    <h3>各病种</h3>
                    <Chart option={byDisease} testId="screening-disease-chart" />
                  </section>
                  <section className="card">
                    <h3>各{groupBy === 'village' ? '村' : '乡镇'}</h3>
                    <Chart option={byOrg} testId="screening-org-chart" />
                  </section>
                </div>
              )}
              <div className="grid-2">
                <section className="card">
                  <h3>高危人群（预防干预）</h3>
                  {prevention.length ? <Chart option={pieOption(prevention)} height={260} testId="screening-prevention-chart" /> : <Empty title="暂无高危人群" />}
                </section>
                <section className="card">
                  <h3>转诊标记来源</h3>
                  {referral.length ? <Chart option={pieOption(referral)} height={260} testId="screening-referral-chart" /> : <Empty title="暂无转诊标记" />}
                </section>
              </div>
            </>
          )}
        </>
      )}
    </section>
  );
}

/** The supervisor's overview of emergencies still open (patient not yet arrived at the receiving hospital). */
function OpenEmergencies() {
  const open = useAsync(() => referrals.openEmergencies(), []);
  return (
    <section className="card" data-testid="open-emergencies">
      <h2>未结束的紧急转诊</h2>
      {open.loading && !open.data ? (
        <Loading />
      ) : open.error ? (
        <ErrorBox error={open.error} onRetry={open.reload} />
      ) : !open.data?.length ? (
        <Empty title="暂无未结束的紧急转诊" />
      ) : (
        <div className="table-wrap">
          <table className="table table-compact">
            <thead>
              <tr>
                <th>患者</th>
                <th>转诊单号</th>
                <th>状态</th>
                <th>转出</th>
                <th>接收</th>
                <th>原因</th>
                <th>发起时间</th>
              </tr>
            </thead>
            <tbody>
              {open.data.map((e) => (
                <tr key={e.id}>
                  <td>{e.resident_id ? <Link to={`/residents/${e.resident_id}`}>{e.resident_name}</Link> : e.resident_name}</td>
                  <td className="mono">{e.referral_no}</td>
                  <td>{e.status_label}</td>
                  <td>{e.from_org_name}</td>
                  <td>{e.to_org_name}</td>
                  <td>{e.reason}</td>
                  <td>{formatDateTime(e.requested_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export default function DashboardsPage() {
  const { me } = useAuth();
  const stats = useAsync(() => instances.stats(), []);
  const counts = useAsync(() => tasks.counts(), []);
  const { byStatus, byProcess } = useMemo(() => normalizeStats(stats.data), [stats.data]);

  const statusOption = useMemo<EChartsCoreOption>(
    () => ({
      tooltip: { trigger: 'item' },
      legend: { bottom: 0 },
      series: [
        {
          type: 'pie',
          radius: ['35%', '65%'],
          data: Object.entries(byStatus).map(([k, v]) => ({ name: label(INSTANCE_STATUS, k), value: v })),
        },
      ],
    }),
    [byStatus],
  );
  const processOption = useMemo<EChartsCoreOption>(() => {
    const entries = Object.entries(byProcess).sort((a, b) => b[1] - a[1]);
    return {
      tooltip: { trigger: 'axis' },
      grid: { left: 90, right: 20, top: 10, bottom: 30 },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: entries.map(([k]) => label(PROCESS_NAMES, k)), inverse: true },
      series: [{ type: 'bar', data: entries.map(([, v]) => v), itemStyle: { color: '#0f6b5c' } }],
    };
  }, [byProcess]);

  const total = Object.values(byStatus).reduce((a, b) => a + b, 0);
  return (
    <div className="page">
      <div className="page-head">
        <h1>统计</h1>
        {canSeeReferralStats(me?.roles ?? []) && (
          <Link className="btn btn-small" to="/referrals/dashboard" data-testid="referral-dashboard-link">
            转诊统计
          </Link>
        )}
      </div>
      <div className="stat-tiles">
        <div className="stat-tile">
          <div className="num">{counts.data?.mine ?? '—'}</div>
          <div className="lbl">我的待办</div>
        </div>
        <div className="stat-tile">
          <div className="num">{counts.data?.groups ?? '—'}</div>
          <div className="lbl">组内待领</div>
        </div>
        <div className="stat-tile">
          <div className="num" style={{ color: counts.data?.overdue ? '#c62828' : undefined }}>{counts.data?.overdue ?? '—'}</div>
          <div className="lbl">已逾期</div>
        </div>
        <div className="stat-tile">
          <div className="num">{stats.data ? total : '—'}</div>
          <div className="lbl">流程实例</div>
        </div>
      </div>
      {stats.loading ? (
        <Loading />
      ) : stats.error ? (
        <ErrorBox error={stats.error} onRetry={stats.reload} />
      ) : !total ? (
        <Empty title="暂无流程实例统计" />
      ) : (
        <div className="grid-2">
          <section className="card">
            <h2>实例状态</h2>
            <Chart option={statusOption} testId="status-chart" />
          </section>
          <section className="card">
            <h2>各流程实例数</h2>
            <Chart option={processOption} testId="process-chart" />
          </section>
        </div>
      )}
      {canSeeOpenEmergencies(me?.roles ?? []) && <OpenEmergencies />}
      {canSeeScreeningStats(me?.roles ?? []) && <ScreeningStatsSection />}
    </div>
  );
}

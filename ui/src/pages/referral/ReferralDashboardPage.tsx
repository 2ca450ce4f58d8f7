import { useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import type { EChartsCoreOption } from 'echarts/core';
import { organizations } from '../../api/endpoints';
import Chart from '../../components/Chart';
import { Empty, ErrorBox, Loading } from '../../components/common';
import { DISEASES, label } from '../../lib/labels';
import { localToday } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { indicatorText, referralApi, type Indicator, type StatsQuery } from './api';

const RATE_KEYS = ['arrival_rate', 'acceptance_within_sla', 'rejection_rate', 'result_return_rate', 'follow_up_timeliness', 'down_first_follow_up_timeliness', 'out_of_county_rate'];

function monthStart(): string {
  const t = localToday();
  return `${t.slice(0, 8)}01`;
}

/** 转诊统计: live referral indicators (computed from the referrals as their processes move), filtered by period,
 * organisation and disease; every figure drills down to the referrals it counts; the whole as an xlsx workbook. */
export default function ReferralDashboardPage() {
  const navigate = useNavigate();
  const [start, setStart] = useState(monthStart());
  const [end, setEnd] = useState(localToday());
  const [org, setOrg] = useState('');
  const [disease, setDisease] = useState('');
  const query: StatsQuery = { start, end, org_code: org || undefined, disease: disease || undefined };
  const stats = useAsync(() => referralApi.stats(query), [start, end, org, disease]);
  const orgs = useAsync(() => organizations.list().catch(() => []), []);
  const choosable = (orgs.data ?? []).filter((o) => ['county', 'department', 'township'].includes(o.level ?? ''));

  const drill = (key: string, part: 'numerator' | 'denominator' = 'numerator') => {
    const qs = new URLSearchParams({ indicator: key, part, start, end });
    if (org) qs.set('org_code', org);
    if (disease) qs.set('disease', disease);
    navigate(`/referrals?${qs.toString()}`);
  };

  const byKey = useMemo(() => Object.fromEntries((stats.data?.indicators ?? []).map((i) => [i.key, i])) as Record<string, Indicator>, [stats.data]);

  const rates = useMemo<EChartsCoreOption>(() => {
    const rows = RATE_KEYS.map((k) => byKey[k]).filter(Boolean);
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v: number) => `${v}%` },
      grid: { left: 110, right: 30, top: 10, bottom: 30 },
      xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
      yAxis: { type: 'category', data: rows.map((r) => r.label), inverse: true },
      series: [{ type: 'bar', data: rows.map((r) => (r.value === null ? 0 : Math.round(r.value * 1000) / 10)), label: { show: true, position: 'right', formatter: '{c}%' } }],
    };
  }, [byKey]);

  const counts = useMemo<EChartsCoreOption>(() => {
    const statuses = stats.data?.by_status ?? [];
    const labels = [...new Set(statuses.map((s) => s.status_label))];
    const series = ['up', 'down'].map((d) => ({
      name: d === 'up' ? '上转' : '下转',
      type: 'bar',
      stack: 'all',
      data: labels.map((l) => statuses.filter((s) => s.direction === d && s.status_label === l).reduce((n, s) => n + s.count, 0)),
    }));
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 40, right: 10, top: 30, bottom: 60 },
      xAxis: { type: 'category', data: labels, axisLabel: { rotate: 30 } },
      yAxis: { type: 'value', minInterval: 1 },
      series,
    };
  }, [stats.data]);

  const reasons = useMemo<EChartsCoreOption>(() => ({
    tooltip: { trigger: 'item' },
    series: [{ type: 'pie', radius: ['35%', '65%'], data: (stats.data?.rejections_by_reason ?? []).map((r) => ({ name: r.reason || '未注明', value: r.count })) }],
  }), [stats.data]);

  return (
    <div className="page page-wide">
      <p><Link to="/referrals">← 双向转诊</Link></p>
      <div className="page-head">
        <h1>转诊统计</h1>
        <a className="btn btn-small" href={referralApi.exportUrl(query)} data-testid="referral-export">导出 Excel</a>
      </div>
      <div className="filters">
        <label>自<input type="date" value={start} onChange={(e) => setStart(e.target.value)} aria-label="开始日期" /></label>
        <label>至<input type="date" value={end} onChange={(e) => setEnd(e.target.value)} aria-label="结束日期" /></label>
        <select value={org} onChange={(e) => setOrg(e.target.value)} aria-label="机构" data-testid="org-filter">
          <option value="">全部机构</option>
          {choosable.map((o) => <option key={o.code} value={o.code}>{o.name}</option>)}
        </select>
        <select value={disease} onChange={(e) => setDisease(e.target.value)} aria-label="病种">
          <option value="">全部病种</option>
          {['htn', 't2dm'].map((d) => <option key={d} value={d}>{label(DISEASES, d)}</option>)}
        </select>
      </div>
      {stats.loading && !stats.data && <Loading />}
      <ErrorBox error={stats.error} onRetry={stats.reload} />
      {stats.data && (
        <>
          <div className="stat-tiles" data-testid="referral-indicators">
            {stats.data.indicators.map((i) => (
              <button type="button" className="stat-tile" key={i.key} title={i.formula} onClick={() => drill(i.key)} data-testid={`ind-${i.key}`} style={{ textAlign: 'left', cursor: 'pointer' }}>
                <div className="num">{indicatorText(i)}</div>
                <div className="lbl">{i.label}</div>
                {i.denominator !== null && <div className="lbl">{i.numerator} / {i.denominator}</div>}
              </button>
            ))}
          </div>
          {stats.data.unmatched_arrivals > 0 && (
            <div className="alert alert-warn">有 {stats.data.unmatched_arrivals} 条医院到诊消息未匹配到转诊单，请核对。</div>
          )}
          <div className="grid-2">
            <section className="card">
              <h2>各项比率</h2>
              <Chart option={rates} height={300} testId="referral-rates-chart" />
            </section>
            <section className="card">
              <h2>转诊状态分布</h2>
              {stats.data.by_status.length ? <Chart option={counts} height={300} testId="referral-status-chart" /> : <Empty title="本期暂无转诊" />}
            </section>
          </div>
          <div className="grid-2">
            <section className="card">
              <h2>拒收原因</h2>
              {stats.data.rejections_by_reason.length ? <Chart option={reasons} height={260} testId="referral-reasons-chart" /> : <Empty title="本期无拒收" />}
            </section>
            <section className="card">
              <h2>指标明细</h2>
              <div className="table-wrap">
                <table className="table table-compact" data-testid="referral-indicator-table">
                  <thead><tr><th>指标</th><th>值</th><th>分子</th><th>分母</th></tr></thead>
                  <tbody>
                    {stats.data.indicators.map((i) => (
                      <tr key={i.key}>
                        <td title={i.formula}>{i.label}</td>
                        <td>{indicatorText(i)}</td>
                        <td><button type="button" className="btn btn-small btn-ghost" onClick={() => drill(i.key, 'numerator')}>{i.numerator}</button></td>
                        <td>{i.denominator === null ? '—' : <button type="button" className="btn btn-small btn-ghost" onClick={() => drill(i.key, 'denominator')}>{i.denominator}</button>}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          </div>
        </>
      )}
    </div>
  );
}

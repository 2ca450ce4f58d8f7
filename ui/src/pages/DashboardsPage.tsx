import { useMemo } from 'react';
import type { EChartsCoreOption } from 'echarts/core';
import { instances, tasks } from '../api/endpoints';
import { Empty, ErrorBox, Loading } from '../components/common';
import Chart from '../components/Chart';
import { useAsync } from '../lib/useAsync';
import { INSTANCE_STATUS, PROCESS_NAMES, label } from '../lib/labels';
import { normalizeStats } from '../lib/stats';

export default function DashboardsPage() {
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
    </div>
  );
}

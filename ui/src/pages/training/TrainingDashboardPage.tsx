import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { training, type OrgIndicators } from '../../api/training';
import Chart from '../../components/Chart';
import { ErrorBox, Loading } from '../../components/common';
import { localToday } from '../../lib/time';
import { pct } from '../../lib/training';
import { useAsync } from '../../lib/useAsync';

const KEYS: [keyof OrgIndicators, string][] = [['sign_in_rate', '签到率'], ['pass_rate', '考试合格率'], ['coverage', '参训覆盖率'], ['credit_compliance', '学分达标率'], ['satisfaction', '满意度']];

/** Training indicators by organization and period (sign-in, pass rate, coverage, credit compliance, satisfaction). */
export default function TrainingDashboardPage() {
  const year = new Date().getFullYear();
  const [start, setStart] = useState(`${year}-01-01`);
  const [end, setEnd] = useState(localToday());
  const data = useAsync(() => training.indicators({ start, end }), [start, end]);
  const option = useMemo(() => {
    const rows = data.data?.children.filter((c) => c.sessions > 0 || c.coverage.denominator > 0) ?? [];
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 40, right: 10, bottom: 60, top: 40 },
      xAxis: { type: 'category', data: rows.map((r) => r.org_name), axisLabel: { rotate: 30 } },
      yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
      series: KEYS.slice(0, 4).map(([k, label]) => ({ name: label, type: 'bar', data: rows.map((r) => Math.round(((r[k] as { value: number | null }).value ?? 0) * 1000) / 10) })),
    };
  }, [data.data]);
  return (
    <div className="page page-wide">
      <p><Link to="/training">← 培训管理</Link></p>
      <div className="page-head">
        <h1>培训统计</h1>
        <div className="inline-form">
          <label>自<input type="date" value={start} onChange={(e) => setStart(e.target.value)} /></label>
          <label>至<input type="date" value={end} onChange={(e) => setEnd(e.target.value)} /></label>
        </div>
      </div>
      {data.loading && !data.data && <Loading />}
      <ErrorBox error={data.error} onRetry={data.reload} />
      {data.data && (
        <>
          <div className="stat-row">
            {KEYS.map(([k, label]) => {
              const ind = data.data!.total[k] as { value: number | null; numerator: number; denominator: number };
              return <div key={String(k)} className="stat card"><div className="stat-value">{pct(ind.value)}</div><div className="stat-label">{label}（{ind.numerator}/{ind.denominator}）</div></div>;
            })}
          </div>
          <div className="card"><Chart option={option} height={320} /></div>
          <div className="card">
            <table className="table table-compact" data-testid="indicator-table">
              <thead><tr><th>机构</th><th>培训场次</th>{KEYS.map(([k, l]) => <th key={String(k)}>{l}</th>)}</tr></thead>
              <tbody>
                {[data.data.total, ...data.data.children].map((r) => (
                  <tr key={r.org_code}><td>{r.org_name}</td><td>{r.sessions}</td>
                    {KEYS.map(([k]) => { const ind = r[k] as { value: number | null; numerator: number; denominator: number }; return <td key={String(k)}>{pct(ind.value)} <span className="muted">{ind.numerator}/{ind.denominator}</span></td>; })}</tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </div>
  );
}

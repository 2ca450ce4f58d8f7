import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { Badge, Empty, ErrorBox, Loading } from '../../components/common';
import { patchedParams } from '../../lib/searchParams';
import { useAsync } from '../../lib/useAsync';
import { formatDateTime } from '../../lib/time';
import { centreApi, valueText, type CentreIndicator } from './api';

function thisMonth(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

function Card({ i, onOpen, open }: { i: CentreIndicator; onOpen: () => void; open: boolean }) {
  return (
    <button type="button" className={`task-card${i.alarm ? ' is-urgent' : ''}`} style={{ minHeight: 44, textAlign: 'left', width: '100%' }}
      onClick={onOpen} aria-expanded={open} data-testid={`indicator-${i.code}`}>
      <div className="task-title">
        <span>{i.label}</span>
        {i.alarm && <Badge kind="badge-danger">报警</Badge>}
      </div>
      <div className="task-meta">
        <strong>{valueText(i)}</strong>
        {i.denominator !== null && i.numerator !== null && i.unit === '%' && <span>{i.numerator} / {i.denominator}</span>}
        {i.target !== null && <span>目标 {i.direction === 'max' ? '≤' : '≥'}{i.target}{i.unit === '%' ? '%' : ''}</span>}
      </div>
    </button>
  );
}

function Cases({ ids }: { ids: number[] }) {
  const list = useAsync(() => centreApi.cases(ids), [ids.join(',')]);
  if (ids.length === 0) return <Empty title="没有对应的病例" />;
  if (list.loading && !list.data) return <Loading />;
  return (
    <>
      <ErrorBox error={list.error} onRetry={list.reload} />
      <ul className="task-list" data-testid="drill-cases">
        {list.data?.items.map((c) => (
          <li key={c.id} className="task-card" data-testid="drill-case">
            <div className="task-title"><Link to={`/intervention/cases/${c.id}`}>{c.resident_name ?? '患者'}</Link> <Badge kind="badge-info">{c.status_label}</Badge></div>
            <div className="task-meta">
              <span className="mono">{c.case_no}</span><span>{c.service_line_label}</span><span>{c.procedure_name}</span>
            </div>
            <div className="task-meta">
              {c.discharged_on && <span>出院 {c.discharged_on}</span>}
              {c.drg_code && <span>DRG {c.drg_code}</span>}
              {c.margin !== null && <span>结余 {Math.round(c.margin).toLocaleString('zh-CN')} 元</span>}
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}

/** 月度分析报告 built by the scheduler on the 1st: delivered (PDF + Excel) or failed with the reason. */
function MonthlyReports() {
  const q = useAsync(() => centreApi.monthlyReports(), []);
  if (!q.data || q.data.items.length === 0) return <ErrorBox error={q.error} onRetry={q.reload} />;
  return (
    <section data-testid="centre-monthly-reports">
      <h2>每月自动生成的分析报告</h2>
      <ul className="task-list">
        {q.data.items.map((r) => (
          <li key={r.id} className="task-card" data-testid="centre-monthly-report">
            <div className="task-title">
              {r.centre_name} {r.period.replace('-', '年')}月 <Badge kind={r.status === 'delivered' ? 'badge-ok' : 'badge-danger'}>{r.status_label}</Badge>
            </div>
            <div className="task-meta">
              {r.delivered_at && <span>{formatDateTime(r.delivered_at)} 已送达 {r.recipients} 人</span>}
              {r.status !== 'delivered' && <span>已尝试 {r.attempts} 次，系统每小时自动重试{r.error ? `；原因：${r.error}` : ''}</span>}
              {r.has_files && <a href={centreApi.links.monthly(r.id, 'pdf')} target="_blank" rel="noreferrer">PDF</a>}
              {r.has_files && <a href={centreApi.links.monthly(r.id, 'xlsx')}>Excel</a>}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** 介入中心: quality and DRG cost-benefit of the interventional centre by discharge month, per service line; tap an
 * indicator for the cases behind it; the workbook, the monthly analysis PDF and the de-identified database export. */
export default function InterventionCentrePage() {
  const [params, setParams] = useSearchParams();
  const month = params.get('month') || thisMonth();
  const data = useAsync(() => centreApi.indicators(month), [month]);
  const [open, setOpen] = useState<string | null>(null);
  const [line, setLine] = useState<string>('');
  const block = data.data ? (line ? data.data.lines.find((l) => l.service_line === line)?.indicators : data.data.total) : undefined;
  const section = (title: string, codes: string[]) => block && (
    <section>
      <h2>{title}</h2>
      <div className="stack">
        {codes.map((code) => block[code] && (
          <div key={code}>
            <Card i={block[code]} open={open === code} onOpen={() => setOpen(open === code ? null : code)} />
            {open === code && <Cases ids={block[code].case_ids} />}
          </div>
        ))}
      </div>
    </section>
  );
  return (
    <div className="page">
      <div className="page-head">
        <h1>介入中心</h1>
        <label className="row" style={{ gap: 6 }}>
          出院月份
          <input type="month" value={month} style={{ minHeight: 44 }} data-testid="centre-month"
            onChange={(e) => e.target.value && setParams(patchedParams(params, { month: e.target.value }), { replace: true })} />
        </label>
      </div>
      <div className="row" style={{ gap: 8, flexWrap: 'wrap', margin: '8px 0' }}>
        <a className="btn btn-small" href={centreApi.links.xlsx(month)} data-testid="centre-xlsx">导出指标 Excel</a>
        <a className="btn btn-small" href={centreApi.links.pdf(month)} target="_blank" rel="noreferrer" data-testid="centre-pdf">月度分析报告 PDF</a>
        <a className="btn btn-small" href={centreApi.links.database()} data-testid="centre-database">专病数据库导出（去标识）</a>
      </div>
      {data.loading && !data.data && <Loading />}
      <ErrorBox error={data.error} onRetry={data.reload} />
      {data.data && (
        <>
          <div className="tabs" role="tablist" aria-label="亚专业">
            {[['', '全中心'], ...data.data.lines.map((l) => [l.service_line, l.label])].map(([v, l]) => (
              <button key={v || 'all'} type="button" role="tab" aria-selected={line === v} className={`tab${line === v ? ' active' : ''}`}
                onClick={() => { setLine(v); setOpen(null); }}>{l}</button>
            ))}
          </div>
          {data.data.total.cases?.value === 0 && <Empty title="本月无出院介入病例" />}
          {block && block.cases && <div className="list-summary" data-testid="centre-cases">出院介入病例 {valueText(block.cases)}</div>}
          {section('质量与安全', data.data.quality)}
          {section('DRG 与成本效益', data.data.economy)}
        </>
      )}
      <MonthlyReports />
    </div>
  );
}

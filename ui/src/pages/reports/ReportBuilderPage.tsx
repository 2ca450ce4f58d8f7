/**
 * 自定义报表: pick the organisation (within the caller's scope), measures (indicators of the library or raw counts),
 * up to two row dimensions and a column dimension, a period range and granularity, 环比 / 同比 and a disease filter;
 * run it as a pivot table with a chart — a figure opens the residents or tasks behind it (audited) — export it
 * (Excel / PDF), run a report too big for the page as a background job (kept as Excel), save it (optionally shared
 * with a role, optionally delivered monthly to the inbox).
 */
import { useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import type { EChartsCoreOption } from 'echarts/core';
import Chart from '../../components/Chart';
import { Empty, ErrorBox, Loading, Pager } from '../../components/common';
import { finished, jobLine, pollJob, type ExportJob } from '../../lib/exportJobs';
import { useAsync } from '../../lib/useAsync';
import { reports, type Cell, type Definition, type Options, type Result, type SavedReport } from './api';
import { cellText, change, monthBefore } from './format';
import { buildLayout, canRunAsJob, layoutOf, orgOption, PART_LABELS, partsFor } from './layout';

const DISEASES = [{ code: 'htn', label: '高血压' }, { code: 't2dm', label: '2型糖尿病' }];

function thisMonth(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
}

function chartOption(r: Result): EChartsCoreOption {
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0, type: 'scroll' },
    grid: { left: 44, right: 12, top: 40, bottom: 50 },
    xAxis: { type: 'category', data: r.rows.map((row) => row.label), axisLabel: { interval: 0, rotate: r.rows.length > 4 ? 30 : 0 } },
    yAxis: { type: 'value' },
    series: r.columns.map((c, i) => ({ name: c.label, type: 'bar', data: r.rows.map((row) => row.cells[i].value) })),
  };
}

interface Picked { cell: Cell; measure: string; title: string }

function Pivot({ r, onPick }: { r: Result; onPick: (p: Picked) => void }) {
  const rowDims = r.row_dimensions?.length ? r.row_dimensions : [r.row_dimension];
  return (
    <div className="table-wrap">
      <table className="table" data-testid="report-pivot">
        <thead>
          <tr>
            {rowDims.map((d) => <th key={d.code}>{d.label}</th>)}
            {r.columns.map((c) => <th key={c.key}>{c.label}{c.unit ? ` (${c.unit})` : ''}</th>)}
          </tr>
        </thead>
        <tbody>
          {r.rows.map((row) => (
            <tr key={row.key}>
              {(row.labels?.length ? row.labels : [row.label]).map((l, i) => <td key={i}>{l}</td>)}
              {row.cells.map((cell, i) => (
                <td key={r.columns[i].key}>
                  {cell.value === null ? <strong>{cellText(cell, r.columns[i].unit)}</strong> : (
                    <button type="button" className="btn btn-ghost btn-small" title="查看名单" data-testid="report-cell"
                      onClick={() => onPick({ cell, measure: r.columns[i].measure, title: `${row.label} · ${r.columns[i].label}` })}>
                      <strong>{cellText(cell, r.columns[i].unit)}</strong>
                    </button>)}
                  {r.comparisons.map((cmp) => (
                    <div key={cmp.code} className="muted small">
                      {cmp.label} {change(cell[cmp.code as 'mom' | 'yoy'], r.columns[i].unit)}
                    </div>
                  ))}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** 名单: the de-duplicated residents or tasks behind one figure of the report (audited on the server). */
function CellList({ definition, picked, onClose }: { definition: Definition; picked: Picked; onClose: () => void }) {
  const parts = partsFor(picked.cell);
  const [part, setPart] = useState(parts[0]);
  const [page, setPage] = useState(1);
  const data = useAsync(() => reports.drilldown(definition, picked.measure, picked.cell.coords, part, page),
    [picked, part, page]);
  const items = data.data?.items ?? [];
  return (
    <section className="card stack" data-testid="report-drill">
      <div className="page-head">
        <h3 style={{ margin: 0 }}>名单 · {picked.title}</h3>
        <button type="button" className="btn btn-small" onClick={onClose}>关闭</button>
      </div>
      {parts.length > 1 && (
        <div className="tabs">
          {parts.map((p) => <button type="button" key={p} className={`tab${p === part ? ' active' : ''}`} onClick={() => { setPage(1); setPart(p); }}>{PART_LABELS[p]}</button>)}
        </div>
      )}
      {data.loading ? <Loading /> : data.error ? <ErrorBox error={data.error} /> : !items.length ? <Empty title="名单为空" /> : (
        <>
          <div className="list-summary muted" data-testid="report-drill-total">共 {data.data!.total} 人（次）</div>
          <div className="table-wrap">
            <table className="table table-compact">
              <thead><tr><th>姓名</th><th>机构</th><th>病种</th><th>风险</th><th>性别/年龄</th><th>责任医生</th></tr></thead>
              <tbody>{items.map((it) => (
                <tr key={it.key}>
                  <td>{it.task_id ? <Link to={`/tasks/${it.task_id}`}>{it.resident_name || '任务'}</Link>
                    : it.resident_id ? <Link to={`/residents/${it.resident_id}`}>{it.resident_name}</Link> : '—'}</td>
                  <td>{it.org_name ?? '—'}</td><td>{it.disease_label}</td><td>{it.risk_level_label}</td>
                  <td>{it.sex_label}{it.age !== null ? ` ${it.age}岁` : ''}</td><td>{it.doctor_name ?? '—'}</td>
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

/** A report built in the background: its progress, then the Excel file. */
function JobStatus({ job, onUpdate }: { job: ExportJob; onUpdate: (j: ExportJob) => void }) {
  const [error, setError] = useState<unknown>(null);
  const busy = !finished(job);
  useEffect(() => (busy ? pollJob(() => reports.job(job.id), onUpdate, setError) : undefined), [job.id, busy]);
  return (
    <div className="notice row" role="status" style={{ gap: 8, alignItems: 'center' }} data-testid="report-job">
      <span>后台报表「{job.title}」：{jobLine(job)}</span>
      {job.download && <a className="btn btn-small" href={job.download} data-testid="report-job-download">下载 Excel</a>}
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}

function Builder({ options, saved, onSaved }: { options: Options; saved: SavedReport[]; onSaved: () => void }) {
  const end = thisMonth();
  const [measures, setMeasures] = useState<string[]>(['indicator:htn_bp_control_rate']);
  const [orgCode, setOrgCode] = useState(options.orgs[0]?.code ?? '');
  const [row1, setRow1] = useState('org');
  const [row2, setRow2] = useState('');
  const [column, setColumn] = useState('period');
  const [picked, setPicked] = useState<{ definition: Definition; cell: Picked } | null>(null);
  const [job, setJob] = useState<ExportJob | null>(null);
  const [from, setFrom] = useState(monthBefore(end, 2));
  const [to, setTo] = useState(end);
  const [granularity, setGranularity] = useState('month');
  const [compare, setCompare] = useState<string[]>(['mom']);
  const [disease, setDisease] = useState('');
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [name, setName] = useState('');
  const [shareRole, setShareRole] = useState('');
  const [day, setDay] = useState('');
  const [format, setFormat] = useState('xlsx');
  const [editing, setEditing] = useState<number | undefined>();
  const [notice, setNotice] = useState('');

  const byKey = useMemo(() => new Map(options.measures.map((m) => [`${m.kind}:${m.code}`, m])), [options]);
  const dimLabel = (code: string) => options.dimensions.find((d) => d.code === code)?.label ?? '';
  const offered = options.dimensions.filter((d) => measures.every((k) => d.code === 'period' || byKey.get(k)?.dimensions.includes(d.code)));
  const diseaseOffered = measures.every((k) => byKey.get(k)?.dimensions.includes('disease'));

  const definition = (): Definition => ({
    measures: measures.map((k) => ({ kind: k.split(':')[0], code: k.slice(k.indexOf(':') + 1) })),
    ...buildLayout(row1, row2, column),
    ...(orgCode && orgCode !== options.orgs[0]?.code ? { org_code: orgCode } : {}),
    filters: disease && diseaseOffered ? { disease: [disease] } : {},
    period: { from, to, granularity },
    compare,
  });

  const load = (r: SavedReport) => {
    const d = r.definition;
    setMeasures(d.measures.map((m) => `${m.kind}:${m.code}`));
    const layout = layoutOf(d);
    setRow1(layout.rows[0] ?? 'org'); setRow2(layout.rows[1] ?? ''); setColumn(layout.columns[0] ?? '');
    setOrgCode(d.org_code ?? options.orgs[0]?.code ?? '');
    setFrom(d.period.from); setTo(d.period.to); setGranularity(d.period.granularity ?? 'month');
    setCompare(d.compare ?? []); setDisease(((d.filters?.disease ?? [])[0] as string) ?? '');
    setName(r.name); setShareRole(r.shared_role ?? ''); setDay(r.schedule_day ? String(r.schedule_day) : '');
    setFormat(r.schedule_format ?? 'xlsx'); setEditing(r.mine ? r.id : undefined); setResult(null);
  };

  const act = async (fn: () => Promise<void>) => {
    setBusy(true); setError(null); setNotice('');
    try { await fn(); } catch (e) { setError(e); } finally { setBusy(false); }
  };
  const run = () => act(async () => {
    setPicked(null);
    const d = definition();
    const r = await reports.run(d);
    setResult(r);
    setShown(d);
  });
  const [shown, setShown] = useState<Definition | null>(null);
  const runAsJob = () => act(async () => { setJob(await reports.startJob(definition(), name.trim() || '自定义报表')); });
  const save = () => act(async () => {
    const body = { name: name.trim() || '自定义报表', definition: definition(), shared_role: shareRole || null,
      schedule_day: day ? Number(day) : null, schedule_format: day ? format : null };
    const savedReport = await reports.save(body, editing);
    setEditing(savedReport.id);
    setNotice('报表已保存');
    onSaved();
  });
  const exportAs = (fmt: 'xlsx' | 'pdf') => act(() => reports.exportFile(definition(), name.trim() || '自定义报表', fmt));

  return (
    <div className="stack">
      {saved.length > 0 && (
        <section className="card stack" data-testid="saved-reports">
          <h2 style={{ margin: 0 }}>已保存的报表</h2>
          {saved.map((r) => (
            <div key={r.id} className="row" style={{ justifyContent: 'space-between' }}>
              <span>{r.name}{!r.mine && <span className="muted small"> (共享)</span>}
                {r.schedule_day && <span className="muted small"> · 每月{r.schedule_day}日推送</span>}</span>
              <button type="button" className="btn" onClick={() => load(r)}>打开</button>
            </div>
          ))}
        </section>
      )}
      <section className="card stack" data-testid="report-builder">
        <h2 style={{ margin: 0 }}>报表设置</h2>
        {options.orgs.length > 1 && (
          <label className="field"><span>机构</span>
            <select aria-label="机构" value={orgCode} onChange={(e) => setOrgCode(e.target.value)}>
              {options.orgs.map((o) => <option key={o.code} value={o.code}>{orgOption(o)}</option>)}
            </select>
          </label>
        )}
        <label className="field"><span>指标</span>
          <select aria-label="添加指标" value="" onChange={(e) => e.target.value && !measures.includes(e.target.value)
            && setMeasures([...measures, e.target.value])}>
            <option value="">添加指标或统计量…</option>
            <optgroup label="质控指标">
              {options.measures.filter((m) => m.kind === 'indicator').map((m) => <option key={m.code} value={`indicator:${m.code}`}>{m.name}</option>)}
            </optgroup>
            <optgroup label="统计量">
              {options.measures.filter((m) => m.kind === 'raw').map((m) => <option key={m.code} value={`raw:${m.code}`}>{m.name}</option>)}
            </optgroup>
          </select>
        </label>
        <div className="row" style={{ flexWrap: 'wrap', gap: 6 }} data-testid="chosen-measures">
          {measures.map((k) => (
            <button key={k} type="button" className="btn btn-small" title="移除" onClick={() => setMeasures(measures.filter((x) => x !== k))}>
              {byKey.get(k)?.name ?? '未知指标'} ✕
            </button>
          ))}
        </div>
        <div className="row" style={{ gap: 8, flexWrap: 'wrap' }}>
          <label className="field"><span>行</span>
            <select aria-label="行维度" value={row1} onChange={(e) => setRow1(e.target.value)}>
              {offered.map((d) => <option key={d.code} value={d.code}>{d.label}</option>)}
            </select>
          </label>
          <label className="field"><span>再按</span>
            <select aria-label="再按维度细分" value={row2} onChange={(e) => setRow2(e.target.value)}>
              <option value="">无</option>
              {offered.filter((d) => d.code !== row1).map((d) => <option key={d.code} value={d.code}>{d.label}</option>)}
            </select>
          </label>
          <label className="field"><span>列</span>
            <select aria-label="列维度" value={column} onChange={(e) => setColumn(e.target.value)}>
              <option value="">无（只分指标）</option>
              {offered.filter((d) => d.code !== row1 && d.code !== row2).map((d) => <option key={d.code} value={d.code}>{d.label}</option>)}
            </select>
          </label>
        </div>
        <div className="row" style={{ gap: 8, flexWrap: 'wrap' }}>
          <label className="field"><span>起始月</span><input type="month" aria-label="起始月" value={from} max={to} onChange={(e) => setFrom(e.target.value)} /></label>
          <label className="field"><span>截止月</span><input type="month" aria-label="截止月" value={to} max={end} onChange={(e) => setTo(e.target.value)} /></label>
          <label className="field"><span>粒度</span>
            <select aria-label="粒度" value={granularity} onChange={(e) => setGranularity(e.target.value)}>
              {options.granularities.map((g) => <option key={g.code} value={g.code}>{g.label}</option>)}
            </select>
          </label>
        </div>
        <div className="row" style={{ gap: 12 }}>
          {options.comparisons.map((c) => (
            <label key={c.code} className="row"><input type="checkbox" checked={compare.includes(c.code)}
              onChange={(e) => setCompare(e.target.checked ? [...compare, c.code] : compare.filter((x) => x !== c.code))} /> {c.label}</label>
          ))}
        </div>
        {diseaseOffered && (
          <label className="field"><span>病种</span>
            <select aria-label="病种筛选" value={disease} onChange={(e) => setDisease(e.target.value)}>
              <option value="">全部</option>
              {DISEASES.map((d) => <option key={d.code} value={d.code}>{d.label}</option>)}
            </select>
          </label>
        )}
        <div className="row" style={{ gap: 8, flexWrap: 'wrap' }}>
          <button type="button" className="btn btn-primary" disabled={busy || measures.length === 0} onClick={run}>生成报表</button>
          <button type="button" className="btn" disabled={busy || measures.length === 0} onClick={() => exportAs('xlsx')}>导出 Excel</button>
          <button type="button" className="btn" disabled={busy || measures.length === 0} onClick={() => exportAs('pdf')}>导出 PDF</button>
        </div>
        {error !== null && <ErrorBox error={error} />}
        {canRunAsJob(error) && (
          <div className="row" style={{ gap: 8 }}>
            <span className="muted">报表较大，可转为后台生成，完成后下载 Excel。</span>
            <button type="button" className="btn" disabled={busy} onClick={runAsJob} data-testid="report-run-job">转为后台生成</button>
          </div>
        )}
        {job && <JobStatus job={job} onUpdate={setJob} />}
        {notice && <div className="notice" role="status">{notice}</div>}
      </section>
      {busy && <Loading text="统计中…" />}
      {result && (
        <section className="card stack" data-testid="report-result">
          <h2 style={{ margin: 0 }}>{result.org.name} · {result.period_label}</h2>
          <p className="muted small" style={{ margin: 0 }}>行：{result.row_dimension.label}{result.column_dimension ? `；列：${dimLabel(result.column_dimension.code) || result.column_dimension.label}` : ''}</p>
          {result.rows.length === 0 ? <Empty /> : <>
            <Chart option={chartOption(result)} height={280} testId="report-chart" />
            <p className="muted small" style={{ margin: 0 }}>点击数字查看其背后的居民或任务名单。</p>
            <Pivot r={result} onPick={(cell) => shown && setPicked({ definition: shown, cell })} />
          </>}
        </section>
      )}
      {picked && <CellList key={`${picked.cell.measure}|${JSON.stringify(picked.cell.cell.coords)}`} definition={picked.definition} picked={picked.cell} onClose={() => setPicked(null)} />}
      <section className="card stack" data-testid="report-save">
        <h2 style={{ margin: 0 }}>保存与定期推送</h2>
        <label className="field"><span>报表名称</span><input aria-label="报表名称" value={name} maxLength={120} onChange={(e) => setName(e.target.value)} /></label>
        <label className="field"><span>共享给</span>
          <select aria-label="共享给" value={shareRole} onChange={(e) => setShareRole(e.target.value)}>
            <option value="">不共享</option>
            {options.roles.map((r) => <option key={r.code} value={r.code}>{r.label}</option>)}
          </select>
        </label>
        <div className="row" style={{ gap: 8 }}>
          <label className="field"><span>每月推送日</span>
            <select aria-label="每月推送日" value={day} onChange={(e) => setDay(e.target.value)}>
              <option value="">不推送</option>
              {Array.from({ length: 28 }, (_, i) => <option key={i + 1} value={i + 1}>{i + 1}日</option>)}
            </select>
          </label>
          <label className="field"><span>文件格式</span>
            <select aria-label="文件格式" value={format} onChange={(e) => setFormat(e.target.value)} disabled={!day}>
              <option value="xlsx">Excel</option><option value="pdf">PDF</option>
            </select>
          </label>
        </div>
        <button type="button" className="btn btn-primary" disabled={busy || measures.length === 0} onClick={save}>保存报表</button>
      </section>
    </div>
  );
}

export default function ReportBuilderPage() {
  const options = useAsync(() => reports.options(), []);
  const saved = useAsync(() => reports.list(), []);
  return (
    <div className="stack">
      <div className="page-head"><h1>自定义报表</h1></div>
      {options.error ? <ErrorBox error={options.error} onRetry={options.reload} />
        : !options.data ? <Loading />
          : <Builder options={options.data} saved={saved.data ?? []} onSaved={saved.reload} />}
    </div>
  );
}

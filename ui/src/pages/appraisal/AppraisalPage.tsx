/**
 * 绩效考核: the ranking of townships, villages or family-doctor teams for a period (ECharts bar chart and table, a
 * click opens one subject's indicator breakdown), the report as PDF / Excel; county administrators edit the scheme
 * (indicators, weights, scoring rule) — saving stores a new version — and county roles run a period.
 */
import { useEffect, useMemo, useState } from 'react';
import type { EChartsCoreOption } from 'echarts/core';
import Chart from '../../components/Chart';
import { Badge, Empty, ErrorBox, Loading } from '../../components/common';
import { ApiError } from '../../api/client';
import { useAuth } from '../../auth';
import { useAsync } from '../../lib/useAsync';
import { finished, jobLine, pollJob, type ExportJob } from '../../lib/exportJobs';
import { appraisal, KINDS, quarterOf, shown, type Kind, type Result, type SchemeDetail, type SchemeItem, type Subject } from './api';
import { BELOW_LABELS, paramLabel, paramsFor, REFERENCE_LABELS, RULE_LABELS } from './scheme';

/** 全部类型报告: the PDF of every institution type for the period, built by a background job and polled. */
function AllTypesReport({ period }: { period: string }) {
  const [job, setJob] = useState<ExportJob | null>(null);
  const [error, setError] = useState<unknown>(null);
  const jobId = job?.id ?? null;
  const busy = job !== null && !finished(job);
  useEffect(() => {
    if (jobId === null || !busy) return undefined;
    return pollJob(() => appraisal.exportJob(jobId), setJob, setError);
  }, [jobId, busy]);
  useEffect(() => { setJob(null); setError(null); }, [period]);
  const start = async () => {
    setError(null);
    try { setJob(await appraisal.startExport(period)); } catch (e) { setError(e); }
  };
  return (
    <span className="row" style={{ gap: 8, alignItems: 'center' }} data-testid="appraisal-all-report">
      <button type="button" className="btn btn-small" onClick={start} disabled={busy} data-testid="appraisal-all-pdf">生成全部类型 PDF（后台）</button>
      {job && <span className="muted" data-testid="appraisal-job-status">{job.title} · {jobLine(job)}</span>}
      {job?.download && <a className="btn btn-small" href={job.download} data-testid="appraisal-job-download">下载</a>}
      {error ? <ErrorBox error={error} /> : null}
    </span>
  );
}

function barOption(r: Result): EChartsCoreOption {
  const ranked = r.subjects.filter((s) => s.total !== null).slice(0, 30);
  return {
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 96, right: 24, top: 10, bottom: 24 },
    xAxis: { type: 'value', min: 0, max: 100, name: '分' },
    yAxis: { type: 'category', inverse: true, data: ranked.map((s) => s.name), axisLabel: { width: 88, overflow: 'truncate' } },
    series: [{ type: 'bar', name: '总分', data: ranked.map((s) => s.total), itemStyle: { color: '#2a6f97' },
      label: { show: true, position: 'right' } }],
  };
}

function Breakdown({ result, subject, onClose }: { result: Result; subject: Subject; onClose: () => void }) {
  return (
    <section className="card stack" data-testid="appraisal-breakdown">
      <div className="page-head">
        <h2 style={{ margin: 0 }}>{subject.name} · 第 {subject.rank ?? '—'} 名 · 总分 {shown(subject.total)}</h2>
        <button className="btn btn-small" onClick={onClose}>关闭</button>
      </div>
      <div className="table-wrap">
        <table className="table">
          <thead><tr><th>指标</th><th>评分方法</th><th>权重</th><th>分子/分母</th><th>指标值</th><th>得分</th><th>加权得分</th></tr></thead>
          <tbody>
            {result.indicators.map((ind, i) => {
              const b = subject.breakdown[i];
              return (
                <tr key={ind.indicator_id}>
                  <td>{ind.indicator_name}{ind.direction === 'lower' ? '（越低越好）' : ''}</td>
                  <td>{ind.rule_label}</td><td>{ind.weight}</td>
                  <td>{b.numerator ?? '—'}/{b.denominator ?? '—'}</td>
                  <td>{shown(b.value, ind.unit)}</td><td>{b.value === null ? '无数据' : shown(b.score)}</td><td>{shown(b.weighted)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Results({ kind, period, canRun }: { kind: Kind; period: string; canRun: boolean }) {
  const data = useAsync(() => appraisal.result(kind, period).catch((e) => {
    if (e instanceof ApiError && e.code === 'result_not_found') return null;
    throw e;
  }), [kind, period]);
  const [open, setOpen] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [runError, setRunError] = useState<unknown>(null);
  const option = useMemo(() => (data.data ? barOption(data.data) : null), [data.data]);
  const run = async () => {
    setRunning(true); setRunError(null);
    try { await appraisal.run(period, kind); data.reload(); } catch (e) { setRunError(e); } finally { setRunning(false); }
  };
  const r = data.data;
  const subject = r?.subjects.find((s) => s.key === open);
  return (
    <section className="stack">
      <div className="row" style={{ gap: 8, flexWrap: 'wrap' }}>
        {canRun && <button className="btn btn-primary" onClick={run} disabled={running} data-testid="appraisal-run">{running ? '计算中…' : '运行考核'}</button>}
        {r && <a className="btn btn-small" href={appraisal.links.pdf(period, kind)} data-testid="appraisal-pdf">下载 PDF 报告</a>}
        {r && <a className="btn btn-small" href={appraisal.links.xlsx(period, kind)}>导出 Excel</a>}
        {r && <AllTypesReport period={period} />}
      </div>
      {runError ? <ErrorBox error={runError} /> : null}
      {data.loading && !r ? <Loading /> : data.error ? <ErrorBox error={data.error} onRetry={data.reload} /> : !r ? (
        <Empty title="该考核期尚未计算">{canRun ? '点击「运行考核」按当前方案计算。' : '请等待县级管理员运行考核。'}</Empty>
      ) : (
        <>
          <p className="muted" data-testid="appraisal-meta">{r.scheme_name}（第 {r.scheme_version} 版）· 统计期 {r.window_start} 至 {r.window_end} · 参评 {r.peer_count} 个 · 计算人 {r.computed_by}</p>
          {option && r.subjects.some((s) => s.total !== null) && <Chart option={option} height={Math.max(160, Math.min(30, r.subjects.length) * 26 + 40)} testId="appraisal-chart" />}
          <div className="table-wrap">
            <table className="table" data-testid="appraisal-ranking">
              <thead><tr><th>名次</th><th>考核对象</th><th>所属机构</th><th>总分</th></tr></thead>
              <tbody>
                {r.subjects.map((s) => (
                  <tr key={s.key}>
                    <td>{s.rank ?? '—'}</td>
                    <td><button type="button" className="btn btn-small" onClick={() => setOpen(s.key)}>{s.name}</button></td>
                    <td>{s.org_name}</td><td>{shown(s.total)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {subject && <Breakdown result={r} subject={subject} onClose={() => setOpen(null)} />}
        </>
      )}
    </section>
  );
}

function SchemeEditor({ kind, canEdit }: { kind: Kind; canEdit: boolean }) {
  const data = useAsync(() => appraisal.scheme(kind), [kind]);
  const [items, setItems] = useState<SchemeItem[] | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const s: SchemeDetail | undefined = data.data;
  if (data.loading && !s) return <Loading />;
  if (data.error || !s) return <ErrorBox error={data.error} onRetry={data.reload} />;
  const rows = items ?? s.items;
  const total = rows.reduce((sum, i) => sum + (Number(i.weight) || 0), 0);
  const set = (idx: number, patch: Partial<SchemeItem>) => setItems(rows.map((r, i) => (i === idx ? { ...r, ...patch } : r)));
  const save = async () => {
    setSaving(true); setError(null); setSaved(null);
    try {
      const body = rows.map(({ indicator_id, weight, rule, params }) => ({
        indicator_id, weight: Number(weight), rule, params: paramsFor({ rule, params }),
      }));
      const next = await appraisal.save(kind, { name: s.name, items: body });
      data.setData(next); setItems(null);
      setSaved(next.version === s.version ? '方案未改动' : `已保存为第 ${next.version} 版`);
    } catch (e) { setError(e); } finally { setSaving(false); }
  };
  const unused = s.indicators.filter((c) => !rows.some((r) => r.indicator_id === c.id));
  return (
    <section className="card stack" data-testid="appraisal-scheme">
      <div className="page-head">
        <h2 style={{ margin: 0 }}>{s.name}</h2>
        <Badge>第 {s.version} 版</Badge>
      </div>
      <div className="table-wrap">
        <table className="table">
          <thead><tr><th>指标</th><th>权重</th><th>评分方法</th><th>评分参数</th>{canEdit && <th />}</tr></thead>
          <tbody>
            {rows.map((it, idx) => {
              const choice = s.indicators.find((c) => c.id === it.indicator_id);
              return (
                <tr key={it.indicator_id}>
                  <td>{it.indicator_name ?? choice?.name ?? it.indicator_id}{(it.direction ?? choice?.direction) === 'lower' ? '（越低越好）' : ''}</td>
                  <td>{canEdit ? <input type="number" min={1} max={100} style={{ width: 64 }} value={it.weight} aria-label={`权重 ${it.indicator_name ?? choice?.name ?? ''}`}
                    onChange={(e) => set(idx, { weight: e.target.value === '' ? 0 : Number(e.target.value) })} /> : it.weight}</td>
                  <td>{canEdit ? (
                    <select value={it.rule} aria-label="评分方法" onChange={(e) => set(idx, { rule: e.target.value as SchemeItem['rule'] })}>
                      {Object.entries(RULE_LABELS).map(([code, label]) => <option key={code} value={code} disabled={code === 'target' && choice && !choice.has_target}>{label}</option>)}
                    </select>) : RULE_LABELS[it.rule]}</td>
                  <td>{!canEdit || (it.rule !== 'target' && it.rule !== 'max_type') ? paramLabel(it) : it.rule === 'target' ? (
                    <select value={it.params.below ?? 'linear'} aria-label="未达目标" onChange={(e) => set(idx, { params: { below: e.target.value as 'zero' | 'linear' } })}>
                      {Object.entries(BELOW_LABELS).map(([code, label]) => <option key={code} value={code}>未达目标{label}</option>)}
                    </select>) : (
                    <select value={it.params.reference ?? 'p90'} aria-label="满分参考值" data-testid="appraisal-reference" onChange={(e) => set(idx, { params: { reference: e.target.value as 'p90' | 'best' } })}>
                      {Object.entries(REFERENCE_LABELS).map(([code, label]) => <option key={code} value={code}>{label}</option>)}
                    </select>)}</td>
                  {canEdit && <td><button className="btn btn-small" onClick={() => setItems(rows.filter((_, i) => i !== idx))}>移除</button></td>}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p className={total === 100 ? 'muted' : 'badge-danger'} data-testid="appraisal-weight-total">权重合计 {total}{total === 100 ? '' : '（应为 100）'}</p>
      {canEdit && (
        <div className="row" style={{ gap: 8, flexWrap: 'wrap' }}>
          {unused.length > 0 && (
            <select value="" onChange={(e) => e.target.value && setItems([...rows, { indicator_id: e.target.value, weight: 0, rule: 'interval', params: {} }])} aria-label="添加指标">
              <option value="">＋ 添加指标…</option>
              {unused.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
            </select>
          )}
          <button className="btn btn-primary" onClick={save} disabled={saving || !items} data-testid="appraisal-save">{saving ? '保存中…' : '保存为新版本'}</button>
          {items && <button className="btn" onClick={() => setItems(null)}>撤销修改</button>}
        </div>
      )}
      {error ? <ErrorBox error={error} /> : null}
      {saved && <p className="muted" data-testid="appraisal-saved">{saved}</p>}
      <details>
        <summary>历史版本（{s.versions.length}）</summary>
        <ul>{s.versions.map((v) => <li key={v.version}>第 {v.version} 版 · {v.indicator_count} 项指标 · {v.created_by} · {v.created_at.slice(0, 16).replace('T', ' ')}</li>)}</ul>
      </details>
    </section>
  );
}

export default function AppraisalPage() {
  const { me } = useAuth();
  const roles = me?.roles ?? [];
  const canEdit = roles.includes('county_admin');
  const canRun = canEdit || roles.includes('supervisor');
  const [kind, setKind] = useState<Kind>('township');
  const [period, setPeriod] = useState(quarterOf(new Date()));
  const [tab, setTab] = useState<'results' | 'scheme'>('results');
  return (
    <div className="stack">
      <div className="page-head">
        <h1 style={{ margin: 0 }}>绩效考核</h1>
        <label>考核期 <input value={period} onChange={(e) => setPeriod(e.target.value.trim())} style={{ width: 96 }} aria-label="考核期" placeholder="2026Q4" /></label>
      </div>
      <div className="tabs">
        {KINDS.map((k) => <button key={k.code} type="button" className={kind === k.code ? 'tab active' : 'tab'} onClick={() => setKind(k.code)}>{k.label}</button>)}
      </div>
      <div className="tabs">
        <button type="button" className={tab === 'results' ? 'tab active' : 'tab'} onClick={() => setTab('results')}>考核结果</button>
        <button type="button" className={tab === 'scheme' ? 'tab active' : 'tab'} onClick={() => setTab('scheme')}>考核方案</button>
      </div>
      {!/^(19|20)\d{2}(-(0[1-9]|1[0-2])|Q[1-4])?$/.test(period)
        ? <p className="badge-danger">考核期格式应为 2026Q4、2026-10 或 2026</p>
        : tab === 'results' ? <Results kind={kind} period={period} canRun={canRun} /> : <SchemeEditor kind={kind} canEdit={canEdit} />}
    </div>
  );
}

/** Population screening: runs (start, resume, watch progress), the cases they opened, and the prevention list. */
import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { screening } from '../api/endpoints';
import { ApiError } from '../api/client';
import type { ScreeningCase, ScreeningRun } from '../api/types';
import { useAuth } from '../auth';
import { Badge, Empty, ErrorBox, Loading, Pager, ProgressBar } from '../components/common';
import { useAsync } from '../lib/useAsync';
import { label } from '../lib/labels';
import { canRunScreening } from '../lib/roles';
import { useOrgNames } from '../lib/orgs';
import { formatDateTime } from '../lib/time';
import { CASE_KINDS, CASE_STATUS, RUN_STATUS, SCREENING_DISEASES, runActive, runChunks, runCountsText, runFraction, runSummary } from '../lib/screening';

const PER_PAGE = 50;
const POLL_MS = 2000;

/** Poll one run until it stops moving. */
function useRunPolling(run: ScreeningRun | null, onUpdate: (r: ScreeningRun) => void) {
  const cb = useRef(onUpdate);
  cb.current = onUpdate;
  const id = run && runActive(run) ? run.id : null;
  useEffect(() => {
    if (id === null) return;
    let alive = true;
    let timer = 0;
    const tick = async () => {
      try {
        const r = await screening.run(id);
        if (!alive) return;
        cb.current(r);
        if (runActive(r)) timer = window.setTimeout(tick, POLL_MS);
      } catch {
        if (alive) timer = window.setTimeout(tick, POLL_MS * 3);
      }
    };
    timer = window.setTimeout(tick, POLL_MS);
    return () => {
      alive = false;
      window.clearTimeout(timer);
    };
  }, [id]);
}

function RunCounts({ counts }: { counts?: Record<string, unknown> }) {
  const { cases, errors } = runCountsText(counts);
  if (!cases && !errors) return null;
  return (
    <div className="timeline-data">
      {cases && <>新增病例：{cases}</>}
      {errors && <div>输入有误（已跳过）：{errors}</div>}
    </div>
  );
}

function Runs() {
  const list = useAsync(() => screening.runs(), []);
  const [runs, setRuns] = useState<ScreeningRun[]>([]);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  useEffect(() => setRuns(list.data ?? []), [list.data]);
  const latest = runs[0] ?? null;
  useRunPolling(latest, (r) => setRuns((rs) => rs.map((x) => (x.id === r.id ? r : x))));

  const start = async (resume: boolean) => {
    setBusy(true);
    setNotice(null);
    try {
      const r = await screening.start(resume);
      setRuns((rs) => [r, ...rs.filter((x) => x.id !== r.id)]);
      setNotice({ kind: 'ok', text: resume ? `已继续第 ${r.id} 批筛查` : `第 ${r.id} 批筛查已开始` });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'run_in_progress') {
        setNotice({ kind: 'error', text: '已有一批筛查正在运行，请等待其完成' });
        list.reload();
      } else setNotice({ kind: 'error', text: e instanceof ApiError ? e.message : '无法开始筛查' });
    } finally {
      setBusy(false);
    }
  };

  const active = runActive(latest);
  const resumable = latest && (['interrupted', 'failed'].includes(latest.status) || !!latest.failed_chunks);
  return (
    <section className="card">
      <div className="row">
        <h2 style={{ margin: 0 }}>筛查批次</h2>
        <span className="spacer" />
        {resumable && (
          <button type="button" className="btn btn-small" disabled={busy || active} onClick={() => start(true)}>
            继续上次未完成的批次
          </button>
        )}
        <button type="button" className="btn btn-small btn-primary" disabled={busy || active} onClick={() => start(false)} data-testid="start-run">
          {active ? '筛查进行中…' : '开始全人群筛查'}
        </button>
      </div>
      <p className="muted" style={{ fontSize: '0.85rem' }}>
        按已部署的筛查规则对辖区全部居民重新判定；已有的病例不会重复生成。
      </p>
      {notice && <div className={`alert ${notice.kind === 'ok' ? 'alert-ok' : 'alert-error'}`}>{notice.text}</div>}
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : !runs.length ? (
        <Empty title="还没有筛查批次" />
      ) : (
        <ul className="comments" data-testid="run-list">
          {runs.map((r) => (
            <li key={r.id} data-run-id={r.id}>
              <div className="row">
                <strong>第 {r.id} 批</strong>
                <Badge kind={r.status === 'completed' ? 'badge-ok' : r.status === 'failed' ? 'badge-danger' : runActive(r) ? 'badge-info' : 'badge-warn'}>{label(RUN_STATUS, r.status)}</Badge>
                <span className="muted">
                  {formatDateTime(r.started_at)} {r.started_by ? `· ${r.started_by}` : ''}
                  {r.finished_at ? ` · 完成于 ${formatDateTime(r.finished_at)}` : ''}
                </span>
              </div>
              {runActive(r) ? <ProgressBar value={runFraction(r)} label="筛查进度" /> : null}
              <div className="timeline-data">{runSummary(r)}</div>
              {runChunks(r) && <div className="muted" data-testid="run-chunks">{runChunks(r)}</div>}
              <RunCounts counts={r.counts} />
              {r.error && <div className="text-danger">{r.error}</div>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function CaseTable({ items, showReferral }: { items: ScreeningCase[]; showReferral?: boolean }) {
  const orgName = useOrgNames();
  return (
    <div className="table-wrap">
      <table className="table" data-testid="case-table">
        <thead>
          <tr>
            <th>居民</th>
            <th>病种</th>
            <th>类别</th>
            <th>状态</th>
            <th>依据</th>
            <th>机构</th>
            <th>筛出时间</th>
          </tr>
        </thead>
        <tbody>
          {items.map((c) => (
            <tr key={c.id}>
              <td className="nowrap">
                <Link to={`/residents/${c.resident_id}`}>{c.resident_name ?? `居民 ${c.resident_id}`}</Link>
                {showReferral && c.referral_flag && (
                  <>
                    {' '}
                    <Badge kind="badge-danger">转诊标记</Badge>
                  </>
                )}
              </td>
              <td className="nowrap">{c.disease_name ?? label(SCREENING_DISEASES, c.disease)}</td>
              <td className="nowrap">{label(CASE_KINDS, c.kind)}</td>
              <td>
                {label(CASE_STATUS, c.status)}
                {c.instance_id ? (
                  <>
                    {' '}
                    <Link to={`/instances/${c.instance_id}`} className="muted">
                      流程
                    </Link>
                  </>
                ) : null}
                {c.reject_reason ? <div className="muted">{c.reject_reason}</div> : null}
              </td>
              <td className="reason-cell">{c.reason ?? '—'}</td>
              <td>{orgName(c.org_code)}</td>
              <td className="nowrap">{formatDateTime(c.flagged_at)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function useQueryState() {
  const [params, setParams] = useSearchParams();
  const set = (patch: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('page' in patch)) next.delete('page');
    setParams(next, { replace: true });
  };
  return { params, set };
}

function DiseaseSelect({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  return (
    <select value={value} onChange={(e) => onChange(e.target.value)} aria-label="病种">
      <option value="">全部病种</option>
      {['htn', 't2dm', 'copd', 'chd', 'stroke', 'ckd', 'colorectal_cancer', 'upper_gi_cancer'].map((d) => (
        <option key={d} value={d}>
          {SCREENING_DISEASES[d]}
        </option>
      ))}
    </select>
  );
}

function Cases() {
  const { params, set } = useQueryState();
  const disease = params.get('disease') ?? '';
  const kind = params.get('kind') ?? '';
  const status = params.get('status') ?? '';
  const referral = params.get('referral') === '1';
  const page = Number(params.get('page') ?? 1) || 1;
  const list = useAsync(
    () => screening.cases({ disease: disease || undefined, kind: kind || undefined, status: status || undefined, referral_flag: referral ? true : '', page, per_page: PER_PAGE }),
    [disease, kind, status, referral, page],
  );
  return (
    <section className="card">
      <div className="filters">
        <DiseaseSelect value={disease} onChange={(v) => set({ disease: v })} />
        <select value={kind} onChange={(e) => set({ kind: e.target.value })} aria-label="类别">
          <option value="">全部类别</option>
          {Object.entries(CASE_KINDS).map(([k, v]) => (
            <option key={k} value={k}>
              {v}
            </option>
          ))}
        </select>
        <select value={status} onChange={(e) => set({ status: e.target.value })} aria-label="状态">
          <option value="">全部状态</option>
          {['flagged', 'confirmed', 'enrolled', 'rejected', 'closed'].map((k) => (
            <option key={k} value={k}>
              {CASE_STATUS[k]}
            </option>
          ))}
        </select>
        <label className="check">
          <input type="checkbox" checked={referral} onChange={(e) => set({ referral: e.target.checked ? '1' : '' })} /> 只看转诊标记居民
        </label>
      </div>
      {list.loading && !list.data ? (
        <Loading text="正在加载筛查病例…" />
      ) : list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : !list.data?.items.length ? (
        <Empty title="暂无筛查病例" />
      ) : (
        <>
          <p className="muted">共 {list.data.total} 例（有转诊标记的居民排在前面）</p>
          <CaseTable items={list.data.items} showReferral />
          <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => set({ page: String(p) })} />
        </>
      )}
    </section>
  );
}

function HighRisk() {
  const { params, set } = useQueryState();
  const disease = params.get('disease') ?? '';
  const page = Number(params.get('page') ?? 1) || 1;
  const list = useAsync(() => screening.highRisk({ disease: disease || undefined, page, per_page: PER_PAGE }), [disease, page]);
  return (
    <section className="card">
      <p className="muted" style={{ fontSize: '0.85rem' }}>
        高危人群（糖尿病前期、正常高值血压伴危险因素、脑卒中中危、结直肠癌评分≥25 等）：纳入预防干预与定期复查。
      </p>
      <div className="filters">
        <DiseaseSelect value={disease} onChange={(v) => set({ disease: v })} />
      </div>
      {list.loading && !list.data ? (
        <Loading text="正在加载高危人群…" />
      ) : list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : !list.data?.items.length ? (
        <Empty title="暂无高危人群" />
      ) : (
        <>
          <p className="muted">共 {list.data.total} 人</p>
          <CaseTable items={list.data.items} />
          <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => set({ page: String(p) })} />
        </>
      )}
    </section>
  );
}

export default function ScreeningPage() {
  const { me } = useAuth();
  const runner = canRunScreening(me?.roles ?? []);
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? (runner ? 'runs' : 'cases');
  const tabs: [string, string][] = [...(runner ? [['runs', '筛查批次'] as [string, string]] : []), ['cases', '筛查病例'], ['high-risk', '高危人群']];
  return (
    <div className="page">
      <div className="page-head">
        <h1>慢病筛查</h1>
        <Link to="/dashboards#screening">查看筛查统计 →</Link>
      </div>
      <div className="tabs" role="tablist">
        {tabs.map(([k, v]) => (
          <button key={k} type="button" role="tab" aria-selected={tab === k} className={`tab${tab === k ? ' active' : ''}`} onClick={() => setParams({ tab: k }, { replace: true })}>
            {v}
          </button>
        ))}
      </div>
      {tab === 'runs' && runner ? <Runs /> : tab === 'high-risk' ? <HighRisk /> : <Cases />}
    </div>
  );
}

import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useAuth } from '../../auth';
import { Badge, Empty, ErrorBox, Loading, Pager } from '../../components/common';
import { patchedParams } from '../../lib/searchParams';
import { formatDate } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { STATUS_FILTERS, contractApi, statusKind, yuan, type OutreachResult } from './api';

const PER_PAGE = 30;
const STARTERS = ['village_doctor', 'township_doctor', 'county_admin'];
const PAYMENT_READERS = ['township_doctor', 'county_admin', 'supervisor'];

/** 团队外展: unsigned key-group residents; a dry run first shows who would be started. */
function Outreach() {
  const [result, setResult] = useState<OutreachResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (dryRun: boolean) => {
    setBusy(true);
    setError(null);
    try {
      setResult(await contractApi.outreach(dryRun));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" data-testid="outreach">
      <h2>主动签约（未签约重点人群）</h2>
      <p className="muted">65岁及以上、高血压、2型糖尿病在管且尚未签约的居民。先预览名单，再批量发起签约流程。</p>
      <div className="actions">
        <button type="button" className="btn" disabled={busy} onClick={() => run(true)} data-testid="outreach-preview">预览名单</button>
        {result?.dry_run && (result.would_start ?? 0) > 0 && (
          <button type="button" className="btn btn-primary" disabled={busy} onClick={() => run(false)} data-testid="outreach-start">
            为 {result.would_start} 人发起签约
          </button>
        )}
      </div>
      {error ? <ErrorBox error={error} /> : null}
      {result && (
        <>
          <p data-testid="outreach-summary">{result.dry_run ? `将发起 ${result.would_start ?? 0} 人` : `已发起 ${result.started ?? 0} 人`}</p>
          <ul className="plain-list">
            {(result.residents ?? []).slice(0, 20).map((r) => (
              <li key={r.resident_id}>
                {r.resident_name} <span className="muted">{(r.groups ?? []).join('、')}</span>
                {r.skip && <Badge kind="badge-info">{r.skip}</Badge>}
                {r.contract_no && <span className="mono"> {r.contract_no}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function FlaggedPayments() {
  const { data, error, loading } = useAsync(() => contractApi.flagged(), []);
  if (loading) return null;
  if (error) return <ErrorBox error={error} />;
  if (!data || data.length === 0) return null;
  return (
    <section className="card" data-testid="flagged-payments">
      <h2>待核对的缴费（未生效）</h2>
      <ul className="plain-list">
        {data.map((p) => (
          <li key={p.id}>
            <span className="mono">{p.contract_no}</span> {yuan(p.amount_fen)} <Badge kind="badge-warn">{p.flag_label ?? '待核对'}</Badge>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** 家庭医生签约: contracts of the caller's organisations with their state; outreach and flagged payments. */
export default function ContractsPage() {
  const { me } = useAuth();
  const roles = me?.roles ?? [];
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const q = params.get('q') ?? '';
  const page = Number(params.get('page') ?? 1) || 1;
  const { data, error, loading, reload } = useAsync(
    () => contractApi.list({ status: status || undefined, q: q || undefined, page, per_page: PER_PAGE }),
    [status, q, page],
  );
  const set = (patch: Record<string, string>) => setParams(patchedParams(params, { ...patch, page: '' }));
  return (
    <div className="page" data-testid="contracts-page">
      <div className="page-head">
        <h1>家庭医生签约</h1>
        <Link to="/contracts/packages" className="btn" data-testid="packages-link">服务包目录</Link>
      </div>
      <div className="filters">
        <div className="chips" role="group" aria-label="签约状态">
          {STATUS_FILTERS.map(([code, label]) => (
            <button key={code || 'all'} type="button" className={`chip${status === code ? ' active' : ''}`} onClick={() => set({ status: code })}>
              {label}
            </button>
          ))}
        </div>
        <input type="search" placeholder="姓名或协议号" defaultValue={q} aria-label="搜索签约"
          onKeyDown={(e) => { if (e.key === 'Enter') set({ q: (e.target as HTMLInputElement).value }); }} />
      </div>
      {loading && <Loading />}
      {error ? <ErrorBox error={error} onRetry={reload} /> : null}
      {data && data.items.length === 0 && <Empty title="暂无签约" />}
      {data && data.items.length > 0 && (
        <ul className="task-list">
          {data.items.map((c) => (
            <li key={c.id} className="task-card" data-testid="contract-item">
              <div className="task-main">
                <div className="task-title">
                  <Link to={`/contracts/${c.id}`} data-testid="contract-link">{c.resident_name}</Link>
                  <Badge kind={statusKind(c.status)}>{c.status_label}</Badge>
                </div>
                <div className="task-meta">
                  <span className="mono">{c.contract_no}</span>
                  <span>{c.channel_label}</span>
                  <span>{(c.packages ?? []).join('、') || '未选服务包'}</span>
                  {(c.amount_due_fen ?? 0) > 0 && <span>个人自付 {yuan(c.amount_due_fen)}</span>}
                  {c.ends_on && <span>有效期至 {formatDate(c.ends_on)}</span>}
                </div>
              </div>
            </li>
          ))}
        </ul>
      )}
      {data && <Pager page={page} perPage={PER_PAGE} total={data.total} onPage={(p) => setParams(patchedParams(params, { page: String(p) }))} />}
      {roles.some((r) => STARTERS.includes(r)) && <Outreach />}
      {roles.some((r) => PAYMENT_READERS.includes(r)) && <FlaggedPayments />}
    </div>
  );
}

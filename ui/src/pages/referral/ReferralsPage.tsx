import { Link, useSearchParams } from 'react-router-dom';
import { useAuth } from '../../auth';
import { Badge, Empty, ErrorBox, Loading, Pager } from '../../components/common';
import { canSeeReferralStats } from '../../lib/roles';
import { patchedParams } from '../../lib/searchParams';
import { formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { INDICATOR_LABELS, STATUS_FILTERS, referralApi, statusKind, type Referral } from './api';

const PER_PAGE = 30;
const DIRECTIONS: [string, string][] = [['', '全部'], ['up', '上转'], ['down', '下转']];

function Row({ r }: { r: Referral }) {
  return (
    <li className={`task-card${r.urgency === 'emergency' && r.active ? ' is-urgent' : ''}`} data-testid="referral-item">
      <div className="task-main">
        <div className="task-title">
          <Link to={`/referrals/${r.id}`} data-testid="referral-link">{r.resident_name ?? '居民'}</Link>
          <Badge kind={r.direction === 'up' ? 'badge-info' : 'badge-ok'}>{r.direction_label}</Badge>
          <Badge kind={statusKind(r.status)}>{r.status_label}</Badge>
          {r.urgency !== 'routine' && <Badge kind={r.urgency === 'emergency' ? 'badge-danger' : 'badge-warn'}>{r.urgency_label}</Badge>}
          {r.out_of_county && <Badge kind="badge-warn">县外</Badge>}
        </div>
        <div className="task-meta">
          <span className="mono">{r.referral_no}</span>
          <span>{r.from_org_name || '—'} → {r.to_org_name || '待定'}</span>
          {r.disease_label && <span>{r.disease_label}</span>}
          {r.capability_label && <span>{r.capability_label}</span>}
        </div>
        <div className="task-meta">
          <span>发起 {formatDateTime(r.requested_at)}</span>
          {r.appointment_at && <span>预约 {formatDateTime(r.appointment_at)}</span>}
          {r.reject_reason && <span className="text-danger">拒收：{r.reject_reason}</span>}
          {r.reason && <span>{r.reason}</span>}
        </div>
      </div>
    </li>
  );
}

/** 双向转诊: the referrals sent from or to the caller's organisations, filtered by direction and status; also the
 * drill-down target of the dashboard (`indicator` + `part`). */
export default function ReferralsPage() {
  const { me } = useAuth();
  const [params, setParams] = useSearchParams();
  const get = (k: string) => params.get(k) ?? '';
  const page = Number(params.get('page') ?? 1) || 1;
  const query = {
    direction: get('direction') || undefined,
    status: get('status') || undefined,
    q: get('q') || undefined,
    indicator: get('indicator') || undefined,
    part: get('part') || undefined,
    start: get('start') || undefined,
    end: get('end') || undefined,
    org_code: get('org_code') || undefined,
    disease: get('disease') || undefined,
    page,
    per_page: PER_PAGE,
  };
  const list = useAsync(() => referralApi.list(query), [params.toString()]);

  const set = (patch: Record<string, string>) => setParams(patchedParams(params, patch), { replace: true });
  const drill = get('indicator');

  return (
    <div className="page">
      <div className="page-head">
        <h1>双向转诊</h1>
        {canSeeReferralStats(me?.roles ?? []) && <Link className="btn btn-small" to="/referrals/dashboard">转诊统计</Link>}
      </div>
      {drill && (
        <div className="alert alert-info" data-testid="drill-banner">
          <span>
            统计钻取：{INDICATOR_LABELS[drill] ?? '指标'}（{get('part') === 'denominator' ? '分母' : '分子'}）
            {get('start') && ` · ${get('start')} 至 ${get('end') || '今'}`}
          </span>
          <button type="button" className="btn btn-small" onClick={() => set({ indicator: '', part: '', start: '', end: '', org_code: '', disease: '' })}>
            清除
          </button>
        </div>
      )}
      <div className="tabs" role="tablist" aria-label="转诊方向">
        {DIRECTIONS.map(([v, l]) => (
          <button key={v || 'all'} type="button" role="tab" aria-selected={get('direction') === v} className={`tab${get('direction') === v ? ' active' : ''}`} onClick={() => set({ direction: v })}>
            {l}
          </button>
        ))}
      </div>
      <div className="filters">
        <select aria-label="状态" value={get('status')} onChange={(e) => set({ status: e.target.value })} data-testid="status-filter">
          {STATUS_FILTERS.map(([v, l]) => (
            <option key={v || 'all'} value={v}>{v ? l : '全部状态'}</option>
          ))}
        </select>
        <input type="search" placeholder="姓名或转诊单号" aria-label="搜索" defaultValue={get('q')} onKeyDown={(e) => e.key === 'Enter' && set({ q: (e.target as HTMLInputElement).value.trim() })} />
      </div>
      {list.loading && !list.data && <Loading />}
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.data && (
        <>
          <div className="list-summary" data-testid="referral-total">共 {list.data.total} 条</div>
          {list.data.items.length === 0 ? (
            <Empty title="暂无转诊记录" />
          ) : (
            <ul className="task-list">
              {list.data.items.map((r) => <Row key={r.id} r={r} />)}
            </ul>
          )}
          <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => set({ page: String(p) })} />
        </>
      )}
    </div>
  );
}

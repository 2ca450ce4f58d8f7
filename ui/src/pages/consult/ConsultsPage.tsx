import { Link, useSearchParams } from 'react-router-dom';
import { Badge, Empty, ErrorBox, Loading, Pager } from '../../components/common';
import { patchedParams } from '../../lib/searchParams';
import { formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { consultApi, statusKind, type Consult } from './api';

const PER_PAGE = 30;
const SIDES: [string, string][] = [['', '全部'], ['sent', '本机构发起'], ['received', '邀请本机构'], ['mine', '专家工作台/我的']];

function Row({ c }: { c: Consult }) {
  return (
    <li className={`task-card${c.urgency === 'urgent' && !c.closed_at ? ' is-urgent' : ''}`} data-testid="consult-item">
      <div className="task-main">
        <div className="task-title">
          <Link to={`/consults/${c.id}`} data-testid="consult-link">{c.resident_name ?? '患者'}</Link>
          <Badge kind={statusKind(c.status)}>{c.status_label}</Badge>
          {c.urgency === 'urgent' && <Badge kind="badge-danger">{c.urgency_label}</Badge>}
          <Badge kind="badge-info">{c.mode_label}</Badge>
          {c.overdue && <Badge kind="badge-danger">已超时</Badge>}
        </div>
        <div className="task-meta">
          <span className="mono">{c.consult_no}</span>
          <span>{c.type_label} · {c.specialty_label}</span>
          <span>{c.requester_org_name} → {c.invited_org_name}</span>
        </div>
        <div className="task-meta">
          <span>申请 {formatDateTime(c.requested_at)}</span>
          {c.scheduled_at && <span>会诊 {formatDateTime(c.scheduled_at)}</span>}
          {c.decline_reason && <span className="text-danger">拒绝：{c.decline_reason}</span>}
          <span>{c.purpose}</span>
        </div>
      </div>
    </li>
  );
}

/** 远程会诊: consults the caller's organisations sent or were invited to; 专家工作台 lists the caller's own. */
export default function ConsultsPage() {
  const [params, setParams] = useSearchParams();
  const side = params.get('side') ?? '';
  const page = Number(params.get('page') ?? 1) || 1;
  const open = params.get('open') === '1';
  const list = useAsync(() => consultApi.list({ side: side || undefined, open: open || undefined, page, per_page: PER_PAGE }),
    [params.toString()]);
  const set = (patch: Record<string, string>) => setParams(patchedParams(params, patch), { replace: true });
  return (
    <div className="page">
      <div className="page-head">
        <h1>远程会诊</h1>
        <Link className="btn btn-small btn-primary" to="/consults/new" data-testid="new-consult">发起会诊</Link>
      </div>
      <div className="tabs" role="tablist" aria-label="会诊范围">
        {SIDES.map(([v, l]) => (
          <button key={v || 'all'} type="button" role="tab" aria-selected={side === v} className={`tab${side === v ? ' active' : ''}`} onClick={() => set({ side: v, page: '' })}>
            {l}
          </button>
        ))}
      </div>
      <label className="row" style={{ gap: 6, margin: '8px 0' }}>
        <input type="checkbox" checked={open} onChange={(e) => set({ open: e.target.checked ? '1' : '', page: '' })} /> 只看未结束
      </label>
      {list.loading && !list.data && <Loading />}
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.data && (
        <>
          <div className="list-summary" data-testid="consult-total">共 {list.data.total} 条</div>
          {list.data.items.length === 0 ? <Empty title="暂无会诊" /> : (
            <ul className="task-list">{list.data.items.map((c) => <Row key={c.id} c={c} />)}</ul>
          )}
          <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => set({ page: String(p) })} />
        </>
      )}
    </div>
  );
}

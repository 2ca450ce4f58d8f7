/** Overdue follow-ups (like Simple.org's overdue list): who, how overdue, last BP, call or open the visit task. */
import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { followUps, organizations, residents } from '../api/endpoints';
import { ApiError } from '../api/client';
import type { OverdueItem } from '../api/types';
import { useAuth } from '../auth';
import { Badge, Empty, ErrorBox, Loading, Pager } from '../components/common';
import { useAsync } from '../lib/useAsync';
import { DISEASES, RISK_LEVELS, label, riskClass } from '../lib/labels';
import { bpLevel, bpText, groupOverdue, overdueClass, overdueText, telHref } from '../lib/followUps';
import { orgLevelName } from '../lib/roles';
import { useOrgNames } from '../lib/orgs';
import { formatDate } from '../lib/time';

const PER_PAGE = 50;

function CallButton({ item }: { item: OverdueItem }) {
  const [state, setState] = useState<{ busy?: boolean; phone?: string | null; error?: string }>({});
  const direct = telHref(item.phone);
  if (direct) {
    return (
      <a className="btn btn-small btn-primary" href={direct}>
        拨打电话
      </a>
    );
  }
  if (state.phone !== undefined) {
    const tel = telHref(state.phone);
    return tel ? (
      <a className="btn btn-small btn-primary" href={tel}>
        拨打 {state.phone}
      </a>
    ) : (
      <span className="muted">无联系电话</span>
    );
  }
  const reveal = async () => {
    setState({ busy: true });
    try {
      const r = await residents.record(item.resident_id);
      setState({ phone: r.phone ?? null });
      const tel = telHref(r.phone);
      if (tel && window.matchMedia?.('(pointer: coarse)').matches) window.location.href = tel;
    } catch (e) {
      setState({ error: e instanceof ApiError ? e.message : '无法读取电话' });
    }
  };
  return (
    <>
      <button type="button" className="btn btn-small btn-primary" onClick={reveal} disabled={state.busy} title="读取居民电话（记入审计）">
        {state.busy ? '读取中…' : '查看电话'}
      </button>
      {state.error && <span className="text-danger">{state.error}</span>}
    </>
  );
}

function OverdueCard({ item, orgName }: { item: OverdueItem; orgName: (c: string | null | undefined) => string }) {
  const level = bpLevel(item.last_sbp, item.last_dbp);
  return (
    <li className={`task-card${item.high_priority ? ' is-urgent' : ''}`} data-testid="overdue-item" data-visit-id={item.visit_id}>
      <div className="task-main">
        <div className="task-title">
          <Link to={`/residents/${item.resident_id}`}>{item.resident_name ?? `居民 ${item.resident_id}`}</Link>
          <Badge kind={overdueClass(item.days_overdue, item.high_priority)}>{overdueText(item.days_overdue)}</Badge>
          {item.high_priority && <Badge kind="badge-danger">优先</Badge>}
        </div>
        <div className="task-meta">
          <span>{label(DISEASES, item.disease)}第 {item.cycle_no ?? '?'} 次随访</span>
          <span>应随访 {formatDate(item.due_on)}</span>
          {item.risk_level && <Badge kind={riskClass(item.risk_level)}>{label(RISK_LEVELS, item.risk_level)}</Badge>}
          <span>{orgName(item.org_code)}</span>
        </div>
        <div className="task-meta">
          <span>
            上次血压{' '}
            <strong className={level === 'severe' ? 'text-danger' : level === 'high' ? 'text-warn' : ''}>{bpText(item.last_sbp, item.last_dbp)}</strong>
          </span>
          <span>上次随访 {item.last_visit_on ? formatDate(item.last_visit_on) : '无'}</span>
          {item.last_classification && <span>{item.last_classification}</span>}
        </div>
      </div>
      <div className="task-actions">
        <CallButton item={item} />
        {item.task_id ? (
          <Link className="btn btn-small" to={`/tasks/${item.task_id}`}>
            去随访
          </Link>
        ) : item.instance_id ? (
          <Link className="btn btn-small btn-ghost" to={`/instances/${item.instance_id}`}>
            查看流程
          </Link>
        ) : null}
      </div>
    </li>
  );
}

export default function FollowUpsPage() {
  const { me } = useAuth();
  const [params, setParams] = useSearchParams();
  const disease = params.get('disease') ?? '';
  const org = params.get('org_code') ?? '';
  const mine = params.get('mine') === '1';
  const page = Number(params.get('page') ?? 1) || 1;
  const orgName = useOrgNames();
  const orgs = useAsync(() => organizations.list().catch(() => []), []);
  const list = useAsync(
    () => followUps.overdue({ disease: disease || undefined, org_code: org || undefined, assignee_id: mine && me?.id ? me.id : undefined, page, per_page: PER_PAGE }),
    [disease, org, mine, page, me?.id],
  );

  const set = (patch: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('page' in patch)) next.delete('page');
    setParams(next, { replace: true });
  };

  const items = list.data?.items ?? [];
  const groups = groupOverdue(items, 'org');
  const choosable = (orgs.data ?? []).filter((o) => o.level === 'township' || o.level === 'village');

  return (
    <div className="page">
      <div className="page-head">
        <h1>逾期随访</h1>
        {list.data && <span className="muted">共 {list.data.total} 人次逾期</span>}
      </div>
      <div className="filters">
        <select value={disease} onChange={(e) => set({ disease: e.target.value })} aria-label="病种">
          <option value="">全部病种</option>
          {['htn', 't2dm'].map((d) => (
            <option key={d} value={d}>
              {label(DISEASES, d)}
            </option>
          ))}
        </select>
        {choosable.length > 1 && (
          <select value={org} onChange={(e) => set({ org_code: e.target.value })} aria-label="机构">
            <option value="">全部机构</option>
            {choosable.map((o) => (
              <option key={o.code} value={o.code}>
                {o.level === 'village' ? '　' : ''}
                {o.name}（{orgLevelName(o.level)}）
              </option>
            ))}
          </select>
        )}
        {me?.id !== undefined && (
          <label className="check">
            <input type="checkbox" checked={mine} onChange={(e) => set({ mine: e.target.checked ? '1' : '' })} /> 只看分给我的
          </label>
        )}
      </div>
      {groups.length > 1 && (
        <div className="chips" aria-label="按机构">
          {groups.map((g) => (
            <button key={g.key} type="button" className={`chip${org === g.key ? ' active' : ''}`} onClick={() => set({ org_code: org === g.key ? '' : g.key })}>
              {orgName(g.key)} <strong>{g.count}</strong>
              {g.high ? <span className="text-danger"> · 优先 {g.high}</span> : null}
            </button>
          ))}
        </div>
      )}
      {list.loading && !list.data ? (
        <Loading text="正在加载逾期名单…" />
      ) : list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : !items.length ? (
        <Empty title="没有逾期的随访">所有随访都已按时完成。</Empty>
      ) : (
        <>
          <ul className="task-list" data-testid="overdue-list">
            {items.map((it) => (
              <OverdueCard key={it.visit_id} item={it} orgName={orgName} />
            ))}
          </ul>
          <Pager page={page} perPage={PER_PAGE} total={list.data?.total ?? 0} onPage={(p) => set({ page: String(p) })} />
        </>
      )}
    </div>
  );
}

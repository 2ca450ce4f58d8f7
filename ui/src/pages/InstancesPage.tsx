import { useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { definitions, instances, organizations, type InstanceQuery } from '../api/endpoints';
import type { ProcessDefinition } from '../api/types';
import { Badge, Empty, ErrorBox, Loading, Pager } from '../components/common';
import BpmnDiagram from '../bpmn/BpmnDiagram';
import { useAsync } from '../lib/useAsync';
import { INSTANCE_STATUS, PROCESS_NAMES, label } from '../lib/labels';
import { formatDateTime, localDayEndIso, localDayStartIso } from '../lib/time';

const PER_PAGE = 25;

export function processName(defs: ProcessDefinition[] | undefined, id: string | undefined): string {
  const d = defs?.find((x) => x.process_id === id);
  return d?.name || label(PROCESS_NAMES, id);
}

function InstanceSearch({ defs }: { defs: ProcessDefinition[] | undefined }) {
  const [params, setParams] = useSearchParams();
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const query: InstanceQuery = {
    process_id: params.get('process_id') ?? '',
    status: params.get('status') ?? '',
    org_code: params.get('org_code') ?? '',
    resident_id: params.get('resident_id') ?? '',
    started_from: from ? localDayStartIso(from) : '',
    started_to: to ? localDayEndIso(to) : '',
    page: Number(params.get('page') ?? 1) || 1,
    per_page: PER_PAGE,
  };
  const list = useAsync(() => instances.list(query), [JSON.stringify(query)]);
  const orgs = useAsync(() => organizations.list().catch(() => []), []);
  const [resident, setResident] = useState(query.resident_id ?? '');

  const set = (patch: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('page' in patch)) next.delete('page');
    setParams(next, { replace: true });
  };

  return (
    <>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          set({ resident_id: resident });
        }}
      >
        <select value={query.process_id} onChange={(e) => set({ process_id: e.target.value })} aria-label="流程">
          <option value="">全部流程</option>
          {(defs ?? []).map((d) => (
            <option key={d.process_id} value={d.process_id}>
              {d.name || label(PROCESS_NAMES, d.process_id)}
            </option>
          ))}
        </select>
        <select value={query.status} onChange={(e) => set({ status: e.target.value })} aria-label="状态">
          <option value="">全部状态</option>
          {Object.entries(INSTANCE_STATUS).map(([k, v]) => (
            <option key={k} value={k}>
              {v}
            </option>
          ))}
        </select>
        <select value={query.org_code} onChange={(e) => set({ org_code: e.target.value })} aria-label="机构">
          <option value="">全部机构</option>
          {(orgs.data ?? []).map((o) => (
            <option key={o.code} value={o.code}>
              {o.name}
            </option>
          ))}
        </select>
        <input type="search" placeholder="居民编号" value={resident} onChange={(e) => setResident(e.target.value)} aria-label="居民编号" />
        <label className="check">
          开始于
          <input type="date" value={from} onChange={(e) => set({ from: e.target.value })} aria-label="开始日期起" />
        </label>
        <label className="check">
          至
          <input type="date" value={to} onChange={(e) => set({ to: e.target.value })} aria-label="开始日期止" />
        </label>
        <button type="submit" className="btn">
          查询
        </button>
      </form>
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <ErrorBox error={list.error} onRetry={list.reload} />
      ) : !list.data?.items.length ? (
        <Empty title="没有符合条件的流程实例" />
      ) : (
        <>
          <div className="list-summary">共 {list.data.total} 个实例</div>
          <div className="table-wrap card" style={{ padding: 0 }}>
            <table className="table" data-testid="instance-table">
              <thead>
                <tr>
                  <th>实例</th>
                  <th>流程</th>
                  <th>状态</th>
                  <th>居民</th>
                  <th>机构</th>
                  <th>开始时间</th>
                  <th>结束时间</th>
                </tr>
              </thead>
              <tbody>
                {list.data.items.map((i) => (
                  <tr key={i.id}>
                    <td>
                      <Link to={`/instances/${i.id}`} data-testid="instance-link">
                        {i.business_key || `#${i.id}`}
                      </Link>
                    </td>
                    <td>
                      {i.process_name || processName(defs, i.process_id)}
                      {i.version !== undefined && <span className="muted"> v{i.version}</span>}
                    </td>
                    <td>
                      <Badge kind={`status-${i.status}`}>{label(INSTANCE_STATUS, i.status)}</Badge>
                    </td>
                    <td>{i.resident_name ? <Link to={`/residents/${i.resident_id}`}>{i.resident_name}</Link> : i.resident_id ?? '—'}</td>
                    <td>{i.org_name ?? (orgs.data ?? []).find((o) => o.code === i.org_code)?.name ?? i.org_code ?? '—'}</td>
                    <td>{formatDateTime(i.started_at)}</td>
                    <td>{formatDateTime(i.ended_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={query.page ?? 1} perPage={PER_PAGE} total={list.data.total} onPage={(p) => set({ page: String(p) })} />
        </>
      )}
    </>
  );
}

function ProcessOverview({ defs }: { defs: ProcessDefinition[] | undefined }) {
  const [params, setParams] = useSearchParams();
  const processId = params.get('process_id') || defs?.[0]?.process_id || '';
  const def = defs?.find((d) => d.process_id === processId);
  const xml = useAsync(() => (def ? definitions.xml(def.process_id, def.latest_version) : Promise.resolve('')), [def?.process_id, def?.latest_version]);
  const stats = useAsync<{ elements: Record<string, number>; errors?: Record<string, number> }>(
    () => (processId ? definitions.stats(processId) : Promise.resolve({ elements: {} })),
    [processId],
  );
  const total = Object.values(stats.data?.elements ?? {}).reduce((a, b) => a + b, 0);

  return (
    <>
      <div className="filters">
        <select
          value={processId}
          onChange={(e) => {
            const next = new URLSearchParams(params);
            next.set('process_id', e.target.value);
            setParams(next, { replace: true });
          }}
          aria-label="流程"
        >
          {(defs ?? []).map((d) => (
            <option key={d.process_id} value={d.process_id}>
              {d.name || label(PROCESS_NAMES, d.process_id)}（v{d.latest_version}）
            </option>
          ))}
        </select>
        <button type="button" className="btn" onClick={stats.reload}>
          刷新
        </button>
        <span className="muted">图中蓝色数字为当前停留在该环节的实例数，合计 {total}。</span>
      </div>
      {stats.error ? <ErrorBox error={stats.error} /> : null}
      {!def ? (
        <Empty title="暂无已部署的流程" />
      ) : xml.loading ? (
        <Loading text="正在加载流程图…" />
      ) : xml.error ? (
        <ErrorBox error={xml.error} onRetry={xml.reload} />
      ) : (
        <BpmnDiagram xml={xml.data ?? ''} counts={stats.data?.elements} errorCounts={stats.data?.errors} />
      )}
    </>
  );
}

export default function InstancesPage() {
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'overview' ? 'overview' : 'search';
  const defs = useAsync(() => definitions.list().catch(() => [] as ProcessDefinition[]), []);
  return (
    <div className="page">
      <div className="page-head">
        <h1>流程监控</h1>
      </div>
      <div className="tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === 'search'} className={tab === 'search' ? 'tab active' : 'tab'} onClick={() => setParams({}, { replace: true })}>
          实例查询
        </button>
        <button type="button" role="tab" aria-selected={tab === 'overview'} className={tab === 'overview' ? 'tab active' : 'tab'} onClick={() => setParams({ tab: 'overview' }, { replace: true })}>
          流程概览
        </button>
      </div>
      {tab === 'search' ? <InstanceSearch defs={defs.data} /> : <ProcessOverview defs={defs.data} />}
    </div>
  );
}

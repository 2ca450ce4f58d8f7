import { useEffect, useState } from 'react';
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router-dom';
import { definitions, tasks, type TaskQuery } from '../api/endpoints';
import type { SavedFilter, Task, TaskView } from '../api/types';
import { Badge, Empty, ErrorBox, Loading } from '../components/common';
import { announceTasksChanged } from '../components/Layout';
import { useAuth } from '../auth';
import { useAsync } from '../lib/useAsync';
import { inboxEmpty } from '../lib/inboxEmpty';
import { DISEASES, PROCESS_NAMES, RISK_LEVELS, assigneeOf, isAssigned, isAssignedTo, label, priorityLabel, riskClass } from '../lib/labels';
import { vocabCodes } from '../lib/vocabulary';
import { useOrgNames } from '../lib/orgs';
import type { Me } from '../api/types';
import { laneName, roleName } from '../lib/roles';
import { formatDateTime, formatDue } from '../lib/time';

const VIEWS: { id: TaskView; name: string }[] = [
  { id: 'mine', name: '我的待办' },
  { id: 'groups', name: '组内待领' },
  { id: 'org', name: '本机构' },
];

const SORTS = [
  { id: 'due', name: '按到期时间' },
  { id: 'priority', name: '按优先级' },
  { id: 'risk', name: '按风险等级' },
  { id: 'created', name: '按创建时间' },
] as const;

const PER_PAGE = 20;

function TaskCard({ task, me, onChanged }: { task: Task; me: Me | null; onChanged: () => void }) {
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const mine = isAssignedTo(task, me);
  const taken = isAssigned(task);
  const orgName = useOrgNames();
  const village = task.resident?.village ?? (task.resident?.village_code ? orgName(task.resident.village_code) : '');
  const prio = priorityLabel(task.priority);

  const act = async (fn: () => Promise<unknown>, thenOpen = false) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      announceTasksChanged();
      if (thenOpen) navigate(`/tasks/${task.id}`);
      else onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className={`task-card${task.overdue ? ' is-overdue' : ''}`} data-testid="task-card" data-task-id={task.id}>
      <div className="task-main">
        <Link to={`/tasks/${task.id}`} className="task-title">
          {task.name}
        </Link>
        <div className="task-badges">
          {task.overdue && <Badge kind="badge-danger">已逾期</Badge>}
          {prio && <Badge kind={prio.urgent ? 'badge-warn' : ''}>{prio.text}</Badge>}
          {task.risk_level && <Badge kind={riskClass(task.risk_level)}>{label(RISK_LEVELS, task.risk_level)}</Badge>}
          {task.disease && <Badge>{label(DISEASES, task.disease)}</Badge>}
        </div>
        <div className="task-meta">
          {task.resident && (
            <span>
              居民：<strong>{task.resident.name}</strong>
              {village ? ` · ${village}` : ''}
            </span>
          )}
          <span>{task.process_name ?? label(PROCESS_NAMES, task.process_id)}</span>
          {task.org_name && <span>{task.org_name}</span>}
          {(task.role || task.lane) && <span>{task.role ? roleName(task.role) : laneName(task.lane)}</span>}
        </div>
        <div className="task-meta">
          <span className={task.overdue ? 'text-danger' : ''} title={task.due_at ? formatDateTime(task.due_at) : undefined}>
            {formatDue(task.due_at)}
          </span>
          <span>创建于 {formatDateTime(task.created_at)}</span>
          <span>{taken ? `处理人：${mine ? '我' : assigneeOf(task)?.name}` : '未领取'}</span>
        </div>
        {error ? <ErrorBox error={error} /> : null}
      </div>
      <div className="task-actions">
        {!taken && (
          <button type="button" className="btn btn-primary btn-small" disabled={busy} onClick={() => act(() => tasks.claim(task.id), true)}>
            领取
          </button>
        )}
        {mine && (
          <button type="button" className="btn btn-small" disabled={busy} onClick={() => act(() => tasks.unclaim(task.id))}>
            退回
          </button>
        )}
        <Link to={`/tasks/${task.id}`} className="btn btn-small">
          办理
        </Link>
      </div>
    </li>
  );
}

const FILTER_KEYS = ['process_id', 'risk_level', 'overdue', 'q', 'sort'] as const;

/** Saved inbox filters (kept on the server, optionally shared with the organization). */
function SavedFilters({ view, params, onApply }: { view: TaskView; params: URLSearchParams; onApply: (f: SavedFilter) => void }) {
  const list = useAsync(() => tasks.filters(), []);
  const { me } = useAuth();
  const [error, setError] = useState<unknown>(null);
  if (list.error) return null; // not offered by this server: the inbox works without it
  const save = async () => {
    const name = window.prompt('为当前筛选命名：')?.trim();
    if (!name) return;
    const shared = window.confirm('是否共享给本机构的同事？');
    const p: Record<string, unknown> = {};
    for (const k of FILTER_KEYS) {
      const v = params.get(k);
      if (v) p[k] = k === 'overdue' ? v === '1' : v;
    }
    setError(null);
    try {
      await tasks.saveFilter({ name, view, params: p, shared_with_org: shared });
      list.reload();
    } catch (e) {
      setError(e);
    }
  };
  const items = list.data ?? [];
  return (
    <div className="row saved-filters">
      {items.length > 0 && (
        <select
          value=""
          aria-label="已保存的筛选"
          onChange={(e) => {
            const f = items.find((x) => String(x.id) === e.target.value);
            if (f) onApply(f);
          }}
        >
          <option value="">已保存的筛选…</option>
          {items.map((f) => (
            <option key={f.id} value={f.id}>
              {f.name}
              {f.shared_with_org ? '（共享）' : ''}
              {f.owner && f.owner !== me?.username ? ` · ${f.owner}` : ''}
            </option>
          ))}
        </select>
      )}
      <button type="button" className="btn btn-small btn-ghost" onClick={save}>
        保存当前筛选
      </button>
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}

export default function InboxPage() {
  const { me } = useAuth();
  const location = useLocation();
  const flash = (location.state as { flash?: string } | null)?.flash;
  const [params, setParams] = useSearchParams();
  const view = (params.get('view') as TaskView) || 'mine';
  const query: TaskQuery = {
    view,
    process_id: params.get('process_id') ?? '',
    risk_level: params.get('risk_level') ?? '',
    overdue: params.get('overdue') === '1',
    q: params.get('q') ?? '',
    sort: (params.get('sort') as TaskQuery['sort']) || 'due',
    per_page: PER_PAGE,
  };
  const [q, setQ] = useState(query.q ?? '');
  const defs = useAsync(() => definitions.list().catch(() => []), []);
  const processOptions: [string, string][] = defs.data?.length
    ? defs.data.map((d) => [d.process_id, d.name || label(PROCESS_NAMES, d.process_id)])
    : Object.entries(PROCESS_NAMES);
  const state = useAsync(() => tasks.list(query), [JSON.stringify(query)]);
  // "加载更多": the next pages by cursor (keyset paging), appended below the first page; reset when the first page
  // is loaded again (another view, filter or sort, or a refresh after a claim)
  const [more, setMore] = useState<{ items: Task[]; cursor: string | null }>({ items: [], cursor: null });
  const [moreBusy, setMoreBusy] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  useEffect(() => {
    setMore({ items: [], cursor: state.data?.next_cursor ?? null });
    setMoreError(null);
  }, [state.data]);
  const loadMore = async () => {
    if (!more.cursor) return;
    setMoreBusy(true);
    setMoreError(null);
    try {
      const page = await tasks.list({ ...query, cursor: more.cursor });
      setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.next_cursor }));
    } catch (e) {
      setMoreError(e);
    } finally {
      setMoreBusy(false);
    }
  };
  const shown = [...(state.data?.items ?? []), ...more.items];
  const empty = inboxEmpty(query);

  const set = (patch: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    next.delete('page');
    setParams(next, { replace: true });
  };

  return (
    <div className="page">
      <div className="page-head">
        <h1>待办任务</h1>
        <SavedFilters
          view={view}
          params={params}
          onApply={(f) => {
            const next = new URLSearchParams();
            if (f.view && f.view !== 'mine') next.set('view', f.view);
            for (const [k, v] of Object.entries(f.params ?? {})) {
              if (v === true) next.set(k, '1');
              else if (v !== false && v !== null && v !== undefined && v !== '') next.set(k, String(v));
            }
            setQ(String(f.params?.q ?? ''));
            setParams(next, { replace: true });
          }}
        />
      </div>
      {flash && (
        <div className="alert alert-ok" role="status" data-testid="flash">
          ✓ {flash}
        </div>
      )}
      <div className="tabs" role="tablist">
        {VIEWS.map((v) => (
          <button
            key={v.id}
            type="button"
            role="tab"
            aria-selected={view === v.id}
            className={view === v.id ? 'tab active' : 'tab'}
            onClick={() => set({ view: v.id === 'mine' ? '' : v.id })}
          >
            {v.name}
          </button>
        ))}
      </div>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          set({ q });
        }}
      >
        <input type="search" placeholder="搜索居民姓名、任务名" value={q} onChange={(e) => setQ(e.target.value)} aria-label="搜索" />
        <select value={query.process_id} onChange={(e) => set({ process_id: e.target.value })} aria-label="流程">
          <option value="">全部流程</option>
          {processOptions.map(([id, name]) => (
            <option key={id} value={id}>
              {name}
            </option>
          ))}
        </select>
        <select value={query.risk_level} onChange={(e) => set({ risk_level: e.target.value })} aria-label="风险等级">
          <option value="">全部风险</option>
          {[...vocabCodes('risk_level')].reverse().map((r) => (
            <option key={r} value={r}>
              {label(RISK_LEVELS, r)}
            </option>
          ))}
        </select>
        <select value={query.sort} onChange={(e) => set({ sort: e.target.value === 'due' ? '' : e.target.value })} aria-label="排序">
          {SORTS.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
        <label className="check">
          <input type="checkbox" checked={!!query.overdue} onChange={(e) => set({ overdue: e.target.checked ? '1' : '' })} />
          只看逾期
        </label>
        <button type="submit" className="btn">
          搜索
        </button>
      </form>
      {state.loading && !state.data ? (
        <Loading />
      ) : state.error ? (
        <ErrorBox error={state.error} onRetry={state.reload} />
      ) : !state.data?.items.length ? (
        <Empty title={empty.title}>
          {empty.hint}
          {empty.filtered && (
            <div className="state-action">
              <button
                type="button"
                className="btn btn-small"
                data-testid="clear-filters"
                onClick={() => {
                  setQ('');
                  set({ process_id: '', risk_level: '', overdue: '', q: '' });
                }}
              >
                清除筛选
              </button>
            </div>
          )}
        </Empty>
      ) : (
        <>
          <div className="list-summary">
            共 {state.data.total > 10000 ? '10000+' : state.data.total} 条，已显示 {shown.length} 条{state.loading ? '，刷新中…' : ''}
          </div>
          <ul className="task-list" data-testid="task-list">
            {shown.map((t) => (
              <TaskCard key={t.id} task={t} me={me} onChanged={state.reload} />
            ))}
          </ul>
          {moreError ? <ErrorBox error={moreError} onRetry={loadMore} /> : null}
          {more.cursor && (
            <div className="row">
              <button type="button" className="btn" data-testid="load-more" disabled={moreBusy} onClick={loadMore}>
                {moreBusy ? '加载中…' : '加载更多'}
              </button>
            </div>
          )}
        </>
      )}
    </div>
  );
}

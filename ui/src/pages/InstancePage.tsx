import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { definitions, instances, type InstanceAction } from '../api/endpoints';
import type { HistoryEntry, InstanceDetail } from '../api/types';
import { ApiError } from '../api/client';
import { Badge, Empty, ErrorBox, Loading } from '../components/common';
import BpmnDiagram from '../bpmn/BpmnDiagram';
import { useAsync } from '../lib/useAsync';
import { useOrgNames } from '../lib/orgs';
import { HISTORY_TYPES, INSTANCE_STATUS, PROCESS_NAMES, assigneeOf, label } from '../lib/labels';
import { roleName } from '../lib/roles';
import { formatDateTime, formatDue } from '../lib/time';

const ACTIONS: { id: InstanceAction; name: string; when: string[]; confirm?: string; danger?: boolean }[] = [
  { id: 'suspend', name: '挂起', when: ['running', 'waiting', 'error'] },
  { id: 'resume', name: '恢复', when: ['suspended'] },
  { id: 'retry', name: '重试出错环节', when: ['error'] },
  { id: 'terminate', name: '终止', when: ['running', 'waiting', 'error', 'suspended'], confirm: '确定要终止此流程实例吗？此操作不可撤销。', danger: true },
];

function dataPreview(data: unknown): string {
  if (data === null || data === undefined) return '';
  const s = JSON.stringify(data);
  return s.length > 140 ? `${s.slice(0, 140)}…` : s;
}

function History({ items, selected, onSelect }: { items: HistoryEntry[]; selected: string | null; onSelect: (id: string | null) => void }) {
  if (!items.length) return <p className="muted">暂无历史记录</p>;
  return (
    <ol className="timeline" data-testid="history">
      {items.map((h, i) => (
        <li
          key={i}
          className={`${h.type.includes('error') ? 'is-error' : ''} ${h.element_id ? 'is-clickable' : ''}`}
          onClick={() => h.element_id && onSelect(selected === h.element_id ? null : h.element_id)}
        >
          <div className="timeline-head">
            <strong>{label(HISTORY_TYPES, h.type)}</strong>
            {(h.element_name || h.element_id) && <span className="mono">{h.element_name ?? h.element_id}</span>}
            <span className="muted">{formatDateTime(h.at)}</span>
            {h.actor && <span>· {h.actor}</span>}
          </div>
          {h.data !== undefined && h.data !== null && (
            <details className="timeline-data" onClick={(e) => e.stopPropagation()}>
              <summary>{dataPreview(h.data)}</summary>
              <pre>{JSON.stringify(h.data, null, 2)}</pre>
            </details>
          )}
        </li>
      ))}
    </ol>
  );
}

export default function InstancePage() {
  const { id = '' } = useParams();
  const state = useAsync(() => instances.get(id), [id]);
  const inst = state.data;
  const xml = useAsync(
    () => (inst ? definitions.xml(inst.process_id, inst.version ?? 'latest') : Promise.resolve('')),
    [inst?.process_id, inst?.version],
  );
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const orgName = useOrgNames();

  const markers = useMemo(() => {
    const d = inst?.diagram ?? {};
    const error = [...(d.error ?? []), ...(inst?.error?.element_id ? [inst.error.element_id] : [])];
    return { completed: d.completed ?? [], active: d.active ?? [], error };
  }, [inst]);
  const errorNotes = useMemo(
    () => (inst?.error?.element_id ? { [inst.error.element_id]: inst.error.message ?? '出错' } : undefined),
    [inst],
  );

  if (state.loading && !inst) return <Loading text="正在加载流程实例…" />;
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (!inst) return <Empty title="流程实例不存在" />;

  const act = async (a: (typeof ACTIONS)[number]) => {
    if (a.confirm && !window.confirm(a.confirm)) return;
    setBusy(true);
    setActionError(null);
    try {
      const updated = await instances.act(String(inst.id), a.id);
      if (updated && typeof updated === 'object' && 'status' in updated) state.setData(updated as InstanceDetail);
      state.reload();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };

  const history = inst.history ?? [];
  return (
    <div className="page page-wide">
      <div className="page-head">
        <div>
          <Link to="/instances" className="back">
            ← 流程监控
          </Link>
          <h1>
            {inst.process_name ?? label(PROCESS_NAMES, inst.process_id)} <span className="muted">#{inst.id}</span>
          </h1>
          <div className="task-meta">
            <Badge kind={`status-${inst.status}`}>
              <span data-testid="instance-status">{label(INSTANCE_STATUS, inst.status)}</span>
            </Badge>
            <span>版本 v{inst.version ?? '—'}</span>
            {inst.business_key && <span>业务号 {inst.business_key}</span>}
            {inst.resident_id !== undefined && inst.resident_id !== null && (
              <Link to={`/residents/${inst.resident_id}`}>居民 {inst.resident_name ?? inst.resident_id}</Link>
            )}
            {(inst.org_name || inst.org_code) && <span>{inst.org_name ?? orgName(inst.org_code)}</span>}
            <span>开始 {formatDateTime(inst.started_at)}</span>
            {inst.ended_at && <span>结束 {formatDateTime(inst.ended_at)}</span>}
          </div>
        </div>
        <div className="btn-group">
          {ACTIONS.filter((a) => a.when.includes(inst.status)).map((a) => (
            <button key={a.id} type="button" className={a.danger ? 'btn btn-danger' : 'btn'} disabled={busy} onClick={() => act(a)}>
              {a.name}
            </button>
          ))}
        </div>
      </div>
      {actionError ? <ErrorBox error={actionError} /> : null}
      {inst.error && (
        <div className="alert alert-error" role="alert">
          <strong>出错环节 {inst.error.element_id}</strong>
          {inst.error.line ? `（第 ${inst.error.line} 行）` : ''}：{inst.error.message}
        </div>
      )}
      <div className="legend">
        <span><i className="l-completed" />已完成</span>
        <span><i className="l-active" />当前环节</span>
        <span><i className="l-error" />出错</span>
        <span className="muted">点击历史记录可在图中定位环节</span>
      </div>
      {xml.loading ? (
        <Loading text="正在加载流程图…" />
      ) : xml.error ? (
        <ErrorBox error={xml.error instanceof ApiError && xml.error.isNotFound ? new Error('该版本的流程图不可用') : xml.error} />
      ) : (
        <BpmnDiagram xml={xml.data ?? ''} markers={markers} errorNotes={errorNotes} highlight={selected} onElementClick={(eid) => setSelected(eid)} />
      )}
      <div className="grid-2" style={{ marginTop: '1rem' }}>
        <section className="card">
          <h2>当前任务</h2>
          {!inst.open_tasks?.length ? (
            <p className="muted">没有待办任务</p>
          ) : (
            <ul className="comments">
              {inst.open_tasks.map((t) => (
                <li key={t.id}>
                  <Link to={`/tasks/${t.id}`}>{t.name}</Link>
                  <div className="task-meta">
                    {(t.role || t.lane) && <span>{roleName(t.role ?? t.lane)}</span>}
                    {t.org_name && <span>{t.org_name}</span>}
                    <span>{assigneeOf(t) ? `处理人 ${assigneeOf(t)?.name}` : '未领取'}</span>
                    <span className={t.overdue ? 'text-danger' : ''}>{formatDue(t.due_at)}</span>
                  </div>
                </li>
              ))}
            </ul>
          )}
          {inst.called?.length ? (
            <>
              <h3>调用的子流程</h3>
              <ul className="comments" data-testid="called">
                {inst.called.map((c, i) => (
                  <li key={`${c.element_id}-${i}`}>
                    {c.process_name ?? label(PROCESS_NAMES, c.process_id)}
                    <span className="muted"> 版本 v{c.version ?? '—'}</span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {inst.data && (
            <details>
              <summary>流程数据</summary>
              <pre className="mono" style={{ overflowX: 'auto' }}>{JSON.stringify(inst.data, null, 2)}</pre>
            </details>
          )}
        </section>
        <section className="card">
          <h2>历史记录</h2>
          <History items={history} selected={selected} onSelect={setSelected} />
        </section>
      </div>
    </div>
  );
}

/** Integration clients and their deliveries: recent failures first, a delivery's body and answer, replay. */
import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { integrations } from '../api/endpoints';
import { ApiError } from '../api/client';
import type { Delivery } from '../api/types';
import { useAuth } from '../auth';
import { Badge, Empty, ErrorBox, Loading, Pager } from '../components/common';
import { useAsync } from '../lib/useAsync';
import { label } from '../lib/labels';
import { canSeeIntegrations } from '../lib/roles';
import { formatDateTime } from '../lib/time';
import { CHANNELS, DELIVERY_STATUS, deliveryStatusClass, isReplayable } from '../lib/deliveries';
import OutboundPushes from '../components/OutboundPushes';

const PER_PAGE = 50;

function Json({ value }: { value: unknown }) {
  if (value === null || value === undefined || value === '') return <span className="muted">—</span>;
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return <pre className="json-view">{text}</pre>;
}

function DeliveryDetail({ id, canReplay, onChanged, onClose }: { id: number; canReplay: boolean; onChanged: () => void; onClose: () => void }) {
  const state = useAsync(() => integrations.delivery(id), [id]);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const d = state.data;

  const replay = async () => {
    setBusy(true);
    setNotice(null);
    try {
      const res = await integrations.replay(id);
      state.setData(res.delivery);
      const st = res.delivery?.status;
      setNotice({
        kind: st === 'processed' ? 'ok' : 'error',
        text: `已重新处理：${label(DELIVERY_STATUS, st)}${res.answer?.status ? `（HTTP ${res.answer.status}）` : ''}`,
      });
      onChanged();
    } catch (e) {
      setNotice({ kind: 'error', text: e instanceof ApiError ? (e.code === 'not_replayable' ? '该投递当前状态不能重新处理' : e.message) : '重新处理失败' });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" data-testid="delivery-detail">
      <div className="row">
        <h2 style={{ margin: 0 }}>投递 #{id}</h2>
        <span className="spacer" />
        {d && canReplay && isReplayable(d.status) && (
          <button type="button" className="btn btn-small btn-primary" onClick={replay} disabled={busy} data-testid="replay">
            {busy ? '处理中…' : '重新处理'}
          </button>
        )}
        <button type="button" className="btn btn-small btn-ghost" onClick={onClose}>
          关闭
        </button>
      </div>
      {notice && <div className={`alert ${notice.kind === 'ok' ? 'alert-ok' : 'alert-error'}`}>{notice.text}</div>}
      {state.loading && !d ? (
        <Loading />
      ) : state.error ? (
        <ErrorBox error={state.error} onRetry={state.reload} />
      ) : d ? (
        <>
          <dl className="kv">
            <div className="kv-row">
              <dt>状态</dt>
              <dd>
                <Badge kind={deliveryStatusClass(d.status)}>{label(DELIVERY_STATUS, d.status)}</Badge> {d.response_status ? <span className="muted">HTTP {d.response_status}</span> : null}
              </dd>
            </div>
            <div className="kv-row">
              <dt>来源</dt>
              <dd>
                {d.client_id} · {label(CHANNELS, d.channel)}
                {d.message ? ` · ${d.message}` : ''}
              </dd>
            </div>
            <div className="kv-row">
              <dt>投递键</dt>
              <dd className="mono">{d.delivery_key ?? '—'}</dd>
            </div>
            <div className="kv-row">
              <dt>时间</dt>
              <dd>
                收到 {formatDateTime(d.received_at)}
                {d.processed_at ? ` · 处理 ${formatDateTime(d.processed_at)}` : ''}
                {d.next_attempt_at ? ` · 下次重试 ${formatDateTime(d.next_attempt_at)}` : ''}
                {d.expires_at ? ` · 过期 ${formatDateTime(d.expires_at)}` : ''}
              </dd>
            </div>
            <div className="kv-row">
              <dt>尝试次数</dt>
              <dd>{d.attempts ?? '—'}</dd>
            </div>
            {d.last_error && (
              <div className="kv-row">
                <dt>最近错误</dt>
                <dd className="text-danger pre-wrap">{d.last_error}</dd>
              </div>
            )}
          </dl>
          <details open>
            <summary>消息内容</summary>
            <Json value={d.body} />
          </details>
          <details>
            <summary>返回给对方的应答</summary>
            <Json value={d.response} />
          </details>
          <details>
            <summary>处理结果</summary>
            <Json value={d.result} />
          </details>
        </>
      ) : null}
    </section>
  );
}

function DeliveryRow({ d, active, onOpen }: { d: Delivery; active: boolean; onOpen: () => void }) {
  return (
    <tr className={active ? 'is-selected' : ''} onClick={onOpen} style={{ cursor: 'pointer' }} data-delivery-id={d.id}>
      <td className="mono">#{d.id}</td>
      <td>{formatDateTime(d.received_at)}</td>
      <td>{d.client_id}</td>
      <td>
        {label(CHANNELS, d.channel)}
        {d.message ? <div className="muted mono">{d.message}</div> : null}
      </td>
      <td>
        <Badge kind={deliveryStatusClass(d.status)}>{label(DELIVERY_STATUS, d.status)}</Badge>
      </td>
      <td>{d.attempts ?? '—'}</td>
      <td className="text-danger" style={{ fontSize: '0.8rem', fontWeight: 400 }}>
        {d.last_error ?? ''}
      </td>
    </tr>
  );
}

export default function IntegrationsPage() {
  const { me } = useAuth();
  const canReplay = canSeeIntegrations(me?.roles ?? []);
  const [params, setParams] = useSearchParams();
  const client = params.get('client') ?? '';
  const status = params.get('status') ?? 'failures';
  const channel = params.get('channel') ?? '';
  const page = Number(params.get('page') ?? 1) || 1;
  const open = Number(params.get('delivery') ?? 0) || 0;
  const clients = useAsync(() => integrations.clients(), []);
  const list = useAsync(
    () => integrations.deliveries({ client_id: client || undefined, status: status === 'all' ? undefined : status, channel: channel || undefined, page, per_page: PER_PAGE }),
    [client, status, channel, page],
  );

  const set = (patch: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('page' in patch) && !('delivery' in patch)) next.delete('page');
    setParams(next, { replace: true });
  };

  return (
    <div className="page page-wide">
      <div className="page-head">
        <h1>系统对接</h1>
      </div>
      <section className="card">
        <h2>对接系统（近 24 小时）</h2>
        {clients.loading && !clients.data ? (
          <Loading />
        ) : clients.error ? (
          <ErrorBox error={clients.error} onRetry={clients.reload} />
        ) : !clients.data?.length ? (
          <Empty title="还没有对接系统" />
        ) : (
          <div className="client-grid" data-testid="client-list">
            {clients.data.map((c) => (
              <button
                key={c.client_id}
                type="button"
                className={`client-card${client === c.client_id ? ' active' : ''}`}
                onClick={() => set({ client: client === c.client_id ? '' : c.client_id })}
              >
                <div className="row">
                  <strong>{c.name ?? c.client_id}</strong>
                  {c.active === false && <Badge>已停用</Badge>}
                </div>
                <div className="mono muted">{c.client_id}</div>
                <div className="client-stats">
                  <span>投递 {c.deliveries_24h ?? 0}</span>
                  <span className={c.failures_24h ? 'text-danger' : ''}>失败 {c.failures_24h ?? 0}</span>
                  <span className={c.waiting ? 'text-warn' : ''}>等待 {c.waiting ?? 0}</span>
                </div>
                <div className="muted" style={{ fontSize: '0.8rem' }}>
                  最近投递 {c.last_delivery_at ? formatDateTime(c.last_delivery_at) : '无'}
                </div>
              </button>
            ))}
          </div>
        )}
      </section>
      {canReplay && <OutboundPushes system={params.get('system') ?? undefined} />}
      <div className={open ? 'two-col' : ''}>
        <section className="card">
          <div className="filters">
            <select value={status} onChange={(e) => set({ status: e.target.value })} aria-label="状态">
              <option value="failures">全部失败（失败、拒收、过期）</option>
              <option value="all">全部投递</option>
              {Object.entries(DELIVERY_STATUS).map(([k, v]) => (
                <option key={k} value={k}>
                  {v}
                </option>
              ))}
            </select>
            <select value={channel} onChange={(e) => set({ channel: e.target.value })} aria-label="通道">
              <option value="">全部通道</option>
              {Object.entries(CHANNELS).map(([k, v]) => (
                <option key={k} value={k}>
                  {v}
                </option>
              ))}
            </select>
            {client && (
              <button type="button" className="btn btn-small btn-ghost" onClick={() => set({ client: '' })}>
                {client} ✕
              </button>
            )}
          </div>
          {list.loading && !list.data ? (
            <Loading text="正在加载投递记录…" />
          ) : list.error ? (
            <ErrorBox error={list.error} onRetry={list.reload} />
          ) : !list.data?.items.length ? (
            <Empty title={status === 'failures' ? '没有失败的投递' : '暂无投递记录'} />
          ) : (
            <>
              <div className="table-wrap">
                <table className="table" data-testid="delivery-table">
                  <thead>
                    <tr>
                      <th>编号</th>
                      <th>收到时间</th>
                      <th>系统</th>
                      <th>通道 / 消息</th>
                      <th>状态</th>
                      <th>尝试</th>
                      <th>错误</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.data.items.map((d) => (
                      <DeliveryRow key={d.id} d={d} active={d.id === open} onOpen={() => set({ delivery: String(d.id) })} />
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager page={page} perPage={PER_PAGE} total={list.data.total} onPage={(p) => set({ page: String(p) })} />
            </>
          )}
        </section>
        {open ? (
          <DeliveryDetail
            id={open}
            canReplay={canReplay}
            onChanged={() => {
              list.reload();
              clients.reload();
            }}
            onClose={() => set({ delivery: '' })}
          />
        ) : null}
      </div>
    </div>
  );
}

/**
 * 批量启动: the batches that start many instances of one process at once (follow-up cycles coming due …), their
 * progress (refreshed while one runs), and a batch's failed items by the resident's name with the reason in words,
 * and 继续 for the items still pending. County administrators and supervisors (told when a batch had failures).
 */
import { useEffect, useRef, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ApiError } from '../api/client';
import { batches } from '../api/endpoints';
import type { BatchFailedItem, BatchStart } from '../api/types';
import { Badge, Empty, ErrorBox, Loading, ProgressBar } from '../components/common';
import { BATCH_POLL_MS, batchCounts, batchFraction, batchStatusBadge, batchStatusName, resumeHint } from '../lib/batches';
import { formatDateTime } from '../lib/time';
import { useAsync } from '../lib/useAsync';

/** Refresh `load` every few seconds while `running` (a batch starts chunk by chunk in the background). */
function usePolling(running: boolean, reload: () => void) {
  const cb = useRef(reload);
  cb.current = reload;
  useEffect(() => {
    if (!running) return;
    const timer = window.setInterval(() => cb.current(), BATCH_POLL_MS);
    return () => window.clearInterval(timer);
  }, [running]);
}

function Problem({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (error instanceof ApiError && error.status === 404) return <Empty title="未找到该批次">它可能已被清理，请返回批量启动列表。</Empty>;
  if (error instanceof ApiError && error.status === 403) return <div className="alert alert-error" role="alert">您的角色不能查看批量启动。</div>;
  if (error instanceof ApiError && error.status >= 500) return <ErrorBox error={new Error('服务器暂时无法读取批次，请稍后重试')} onRetry={onRetry} />;
  return <ErrorBox error={error} onRetry={onRetry} />;
}

function Progress({ b }: { b: BatchStart }) {
  return (
    <>
      <ProgressBar value={batchFraction(b)} label={b.status === 'running' ? '启动进度' : '已处理'} />
      <div className="timeline-data" data-testid="batch-counts">{batchCounts(b)}</div>
    </>
  );
}

function BatchList() {
  const list = useAsync(() => batches.list(), []);
  const items = list.data ?? [];
  usePolling(items.some((b) => b.status === 'running'), list.reload);
  return (
    <section className="card">
      <p className="muted" style={{ fontSize: '0.85rem' }}>
        平台一次启动大量流程时（如到期的随访周期）按批进行；未能启动的项目在批次详情中逐个列出原因。
      </p>
      {list.loading && !list.data ? (
        <Loading text="正在加载批次…" />
      ) : list.error ? (
        <Problem error={list.error} onRetry={list.reload} />
      ) : !items.length ? (
        <Empty title="还没有批量启动">到期的随访周期等由平台按批启动后，会显示在这里。</Empty>
      ) : (
        <ul className="comments" data-testid="batch-list">
          {items.map((b) => (
            <li key={b.id} data-batch-id={b.id}>
              <div className="row" style={{ flexWrap: 'wrap' }}>
                <Link to={`/batches/${b.id}`}>
                  <strong>{b.process_name}</strong>
                </Link>
                <Badge kind={batchStatusBadge(b)}>{batchStatusName(b.status)}</Badge>
              </div>
              <div className="muted">
                第 {b.id} 批 · 来源：{b.source_name} · {formatDateTime(b.created_at)}
              </div>
              <Progress b={b} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function FailedItems({ id, failed, version }: { id: number; failed: number; version: number }) {
  const list = useAsync(() => (failed > 0 ? batches.failures(id) : Promise.resolve(null)), [id, failed, version]);
  if (failed === 0) return <Empty title="没有未能启动的项目" />;
  if (list.loading && !list.data) return <Loading text="正在加载未能启动的项目…" />;
  if (list.error) return <Problem error={list.error} onRetry={list.reload} />;
  const data = list.data;
  if (!data) return null;
  return (
    <>
      <ul className="comments" data-testid="failed-items">
        {data.items.map((f: BatchFailedItem) => (
          <li key={f.seq}>
            <div className="row" style={{ flexWrap: 'wrap' }}>
              <strong>
                {f.resident_name ? (
                  f.resident_id ? <Link to={`/residents/${f.resident_id}`}>{f.resident_name}</Link> : f.resident_name
                ) : f.in_scope ? '（未关联居民）' : '辖区外居民'}
              </strong>
              {f.instance_id ? <Link to={`/instances/${f.instance_id}`}>查看流程实例 →</Link> : null}
            </div>
            <div className="text-danger" data-testid="failed-reason">{f.reason}</div>
            {f.detail && f.detail !== f.reason ? (
              <details>
                <summary className="muted">技术细节（供系统管理员排查）</summary>
                <pre className="muted" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all', fontSize: '0.75rem', margin: 0 }}>{f.detail}</pre>
              </details>
            ) : null}
          </li>
        ))}
      </ul>
      {data.more > 0 && <p className="muted">另有 {data.more.toLocaleString('zh-CN')} 个未列出（只列出前 {data.items.length} 个）。</p>}
    </>
  );
}

function BatchDetail({ id }: { id: number }) {
  const one = useAsync(() => batches.get(id), [id]);
  const [b, setB] = useState<BatchStart | null>(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => setB(one.data ?? null), [one.data]);
  usePolling(b?.status === 'running', one.reload);

  const resume = async () => {
    if (!b || !window.confirm(`继续启动第 ${b.id} 批剩余的 ${b.pending} 个？已启动的不会重复。`)) return;
    setBusy(true);
    setNotice(null);
    try {
      const next = await batches.resume(b.id);
      setB(next);
      setVersion((v) => v + 1);
      setNotice({ kind: 'ok', text: next.resumable ? '已继续，正在启动剩余项目…' : '已继续，剩余项目已处理完毕' });
    } catch (e) {
      setNotice({ kind: 'error', text: e instanceof ApiError && e.status === 403 ? '您的角色不能继续批量启动' : '未能继续，请稍后重试' });
    } finally {
      setBusy(false);
    }
  };

  if (one.loading && !b) return <Loading text="正在加载批次…" />;
  if (one.error && !b) return <Problem error={one.error} onRetry={one.reload} />;
  if (!b) return null;
  return (
    <>
      <section className="card" data-testid="batch-detail">
        <div className="row" style={{ flexWrap: 'wrap' }}>
          <h2 style={{ margin: 0 }}>{b.process_name}</h2>
          <Badge kind={batchStatusBadge(b)}>
            <span data-testid="batch-status">{batchStatusName(b.status)}</span>
          </Badge>
        </div>
        <div className="muted">
          第 {b.id} 批 · 来源：{b.source_name} · 创建于 {formatDateTime(b.created_at)}
          {b.finished_at ? ` · 完成于 ${formatDateTime(b.finished_at)}` : ''}
        </div>
        <Progress b={b} />
        {notice && <div className={`alert ${notice.kind === 'ok' ? 'alert-ok' : 'alert-error'}`}>{notice.text}</div>}
        <div className="row" style={{ flexWrap: 'wrap' }}>
          <button type="button" className="btn btn-primary" disabled={busy || !b.resumable} onClick={resume} data-testid="batch-resume">
            {busy ? '正在继续…' : '继续'}
          </button>
          <span className="muted" style={{ fontSize: '0.85rem' }}>{resumeHint(b)}</span>
        </div>
      </section>
      <section className="card">
        <h2 style={{ marginTop: 0 }}>未能启动的项目{b.failed ? `（${b.failed.toLocaleString('zh-CN')}）` : ''}</h2>
        <p className="muted" style={{ fontSize: '0.85rem' }}>
          继续只会启动待启动的项目；下列项目需先处理原因（如补全居民档案、在流程实例中重试）。
        </p>
        <FailedItems id={b.id} failed={b.failed} version={version} />
      </section>
    </>
  );
}

export default function BatchesPage() {
  const { id = '' } = useParams();
  const batchId = /^\d+$/.test(id) ? Number(id) : null;
  return (
    <div className="page">
      <div className="page-head">
        <div>
          {id && (
            <Link to="/batches" className="back">
              ← 批量启动
            </Link>
          )}
          <h1>{id ? '批次详情' : '批量启动'}</h1>
        </div>
      </div>
      {id === '' ? <BatchList /> : batchId === null ? <Empty title="未找到该批次" /> : <BatchDetail id={batchId} />}
    </div>
  );
}

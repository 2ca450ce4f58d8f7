/** Records the platform owes external systems (public health, HIS) that did not go through: shown to the county
 * administrator with the attempts, the last error and the next automatic retry, and a 立即重试 button. Hidden when
 * everything was delivered. */
import { useState } from 'react';
import { ApiError } from '../api/client';
import { integrations } from '../api/endpoints';
import type { OutboundPush } from '../api/types';
import { useAsync } from '../lib/useAsync';
import { formatDateTime } from '../lib/time';
import { ErrorBox } from './common';

function Row({ p, onRetried }: { p: OutboundPush; onRetried: (p: OutboundPush) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const retry = async () => {
    setBusy(true);
    setError('');
    try {
      onRetried(await integrations.retryPush(p.id));
    } catch (e) {
      setError(e instanceof ApiError && e.code === 'push_not_found' ? '这条记录已经送达' : '重试失败，请稍后再试');
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr data-testid="failed-push">
      <td>{p.system_label}</td>
      <td>{p.object_label}</td>
      <td>{p.attempts}</td>
      <td>{p.first_failed_at ? formatDateTime(p.first_failed_at) : '—'}</td>
      <td>{p.next_attempt_at ? formatDateTime(p.next_attempt_at) : '—'}</td>
      <td className="text-danger pre-wrap" style={{ fontSize: '0.8rem' }}>{p.last_error ?? ''}</td>
      <td>
        <button type="button" className="btn btn-small" onClick={retry} disabled={busy}>
          {busy ? '提交中…' : '立即重试'}
        </button>
        {error && <div className="text-danger">{error}</div>}
      </td>
    </tr>
  );
}

export default function OutboundPushes({ system }: { system?: string }) {
  const list = useAsync(() => integrations.failedPushes({ system, per_page: 100 }), [system]);
  const [notice, setNotice] = useState('');
  if (list.error) return <ErrorBox error={list.error} onRetry={list.reload} />;
  const items = list.data?.items ?? [];
  if (!items.length) return null;
  return (
    <section className="card" data-testid="failed-pushes">
      <h2>未送达外部系统的记录（{list.data?.total ?? items.length} 条）</h2>
      <p className="muted">平台会自动重试（间隔逐次加长，最长 6 小时）。多次失败时县级管理员会收到通知；修好接口后可立即重试。</p>
      {notice && <div className="alert alert-ok">{notice}</div>}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>系统</th>
              <th>记录</th>
              <th>尝试</th>
              <th>首次失败</th>
              <th>下次重试</th>
              <th>最近错误</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <Row
                key={p.id}
                p={p}
                onRetried={(done) => {
                  setNotice(`已安排立即重试：${done.system_label}的${done.object_label}将在下一次同步时发送`);
                  list.reload();
                }}
              />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

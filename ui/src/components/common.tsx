import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

export function Loading({ text = '加载中…' }: { text?: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {text}
    </div>
  );
}

export function Empty({ title = '暂无数据', children }: { title?: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <div className="state-icon" aria-hidden="true">∅</div>
      <div className="state-title">{title}</div>
      {children && <div className="state-hint">{children}</div>}
    </div>
  );
}

/** An error as people should read it; endpoints missing on this server read "暂不可用". */
export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const unavailable = error instanceof ApiError && error.isUnavailable;
  const message = unavailable
    ? '该功能暂不可用'
    : error instanceof ApiError
      ? error.message
      : error instanceof Error
        ? `出错了：${error.message}`
        : '出错了，请稍后再试';
  return (
    <div className={unavailable ? 'state state-empty' : 'alert alert-error'} role="alert">
      <span>{message}</span>
      {onRetry && !unavailable && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          重试
        </button>
      )}
    </div>
  );
}

export function ProgressBar({ value, label }: { value: number | null; label?: string }) {
  const pct = value === null ? null : Math.round(Math.min(Math.max(value, 0), 1) * 100);
  return (
    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct ?? undefined} aria-label={label}>
      <div className={pct === null ? 'progress-bar indeterminate' : 'progress-bar'} style={pct === null ? undefined : { width: `${pct}%` }} />
      {label && <span className="progress-label">{label}{pct !== null ? ` ${pct}%` : ''}</span>}
    </div>
  );
}

export function Badge({ kind = '', children, title }: { kind?: string; children: ReactNode; title?: string }) {
  return (
    <span className={`badge ${kind}`} title={title}>
      {children}
    </span>
  );
}

export function Pager({ page, perPage, total, onPage }: { page: number; perPage: number; total: number; onPage: (p: number) => void }) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  if (pages <= 1) return null;
  return (
    <nav className="pager" aria-label="分页">
      <button type="button" className="btn btn-small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        上一页
      </button>
      <span>
        第 {page} / {pages} 页，共 {total} 条
      </span>
      <button type="button" className="btn btn-small" disabled={page >= pages} onClick={() => onPage(page + 1)}>
        下一页
      </button>
    </nav>
  );
}

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      {children}
    </label>
  );
}

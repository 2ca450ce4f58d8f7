// A required reason (at least 2 characters) with its confirm and cancel buttons: how the record's
// irreversible or clinically weighty actions (withdraw a plan revision, re-grade a risk level) are asked for.
import { ErrorBox } from '../common';

export function ReasonConfirm({
  label,
  reason,
  onReason,
  maxLength,
  error,
  busy,
  confirmText,
  danger = false,
  onConfirm,
  onCancel,
}: {
  label: string;
  reason: string;
  onReason: (value: string) => void;
  maxLength: number;
  error: unknown;
  busy: boolean;
  confirmText: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <>
      <label className="field">
        <span className="field-label">{label}</span>
        <textarea value={reason} onChange={(e) => onReason(e.target.value)} rows={2} maxLength={maxLength} />
      </label>
      {error ? <ErrorBox error={error} /> : null}
      <div className="row">
        <button type="button" className={danger ? 'btn btn-small btn-danger' : 'btn btn-small'} disabled={busy || reason.trim().length < 2} onClick={onConfirm}>
          {confirmText}
        </button>
        <button type="button" className="btn btn-small btn-ghost" disabled={busy} onClick={onCancel}>
          取消
        </button>
      </div>
    </>
  );
}

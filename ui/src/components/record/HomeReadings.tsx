import { useState } from 'react';
import { ApiError } from '../../api/client';
import { residents } from '../../api/endpoints';
import type { Observation } from '../../api/types';
import { Badge, ErrorBox, Field } from '../common';
import { fieldErrorsFromDetails } from '../../lib/formErrors';
import { homeReadingBody, homeReadingRows, type HomeReadingDraft } from '../../lib/homeReadings';
import { formatDateTime, localToday } from '../../lib/time';

function nowLocal(): string {
  const time = formatDateTime(new Date()).slice(11, 16);
  return `${localToday()}T${time}`;
}

const EMPTY: HomeReadingDraft = { measured_at: '', sbp: '', dbp: '', pulse: '', glucose: '', glucose_kind: '' };

/** The resident's own readings (患者自测 / 家用设备), apart from the clinic's, with a form to add one. */
export default function HomeReadings({ residentId, items, onAdded }: { residentId: string; items: Observation[]; onAdded: () => void }) {
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState<HomeReadingDraft>(EMPTY);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const rows = homeReadingRows(items);
  const set = (key: keyof HomeReadingDraft, value: string) => setDraft((d) => ({ ...d, [key]: value }));

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setSaving(true);
    setError(null);
    try {
      await residents.addHomeReading(residentId, homeReadingBody(draft, crypto.randomUUID()));
      setDraft(EMPTY);
      setOpen(false);
      onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  }

  return (
    <div className="stack" data-testid="home-readings">
      <p className="muted">居民在家自测的数值仅供参考，不参与风险分层、筛查和随访判定。</p>
      {rows.length ? (
        <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>测量时间</th>
              <th>来源</th>
              <th>血压（mmHg）</th>
              <th>心率</th>
              <th>血糖（mmol/L）</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.at}>
                <td className="nowrap">{formatDateTime(r.at).slice(5)}</td>
                <td>
                  <Badge>{r.sourceLabel}</Badge>
                </td>
                <td>{r.bp ?? '—'}</td>
                <td>{r.pulse ?? '—'}</td>
                <td>{r.glucose ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      ) : (
        <p className="muted">暂无自测记录</p>
      )}
      {open ? (
        <form className="stack" onSubmit={submit} data-testid="home-reading-form">
          <Field label="测量时间">
            <input type="datetime-local" name="measured_at" value={draft.measured_at} onChange={(e) => set('measured_at', e.target.value)} required />
          </Field>
          <div className="filters">
            <Field label="收缩压（高压）">
              <input type="number" inputMode="numeric" name="sbp" value={draft.sbp} onChange={(e) => set('sbp', e.target.value)} />
            </Field>
            <Field label="舒张压（低压）">
              <input type="number" inputMode="numeric" name="dbp" value={draft.dbp} onChange={(e) => set('dbp', e.target.value)} />
            </Field>
            <Field label="心率（次/分）">
              <input type="number" inputMode="numeric" name="pulse" value={draft.pulse} onChange={(e) => set('pulse', e.target.value)} />
            </Field>
          </div>
          <div className="filters">
            <Field label="血糖（mmol/L）">
              <input type="number" inputMode="decimal" step="0.1" name="glucose" value={draft.glucose} onChange={(e) => set('glucose', e.target.value)} />
            </Field>
            <Field label="血糖类型">
              <select name="glucose_kind" value={draft.glucose_kind} onChange={(e) => set('glucose_kind', e.target.value)}>
                <option value="">请选择</option>
                <option value="fasting">空腹</option>
                <option value="random">随机</option>
              </select>
            </Field>
          </div>
          <ErrorBox error={error} />
          {error instanceof ApiError && error.status === 422 ? (
            <ul className="field-errors" role="alert">
              {fieldErrorsFromDetails(error.details).map((f, i) => (
                <li key={i}>{f.message}</li>
              ))}
            </ul>
          ) : null}
          <div className="filters">
            <button type="submit" className="btn btn-primary" disabled={saving}>
              {saving ? '正在保存…' : '保存'}
            </button>
            <button type="button" className="btn btn-ghost" onClick={() => setOpen(false)}>
              取消
            </button>
          </div>
        </form>
      ) : (
        <button
          type="button"
          className="btn btn-small"
          onClick={() => {
            setDraft({ ...EMPTY, measured_at: nowLocal() });
            setOpen(true);
          }}
        >
          记录一次自测
        </button>
      )}
    </div>
  );
}

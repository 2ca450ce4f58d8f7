/** A clinician's explicit re-assessment of a risk grade (issue 12.1): the only way a grade goes down. */
import { useState } from 'react';
import { residents } from '../../api/endpoints';
import type { RecordRiskLevel } from '../../api/types';
import { useAuth } from '../../auth';
import { RISK_LEVELS } from '../../lib/labels';
import { ReasonConfirm } from './ReasonConfirm';

const CLINICIANS = ['township_doctor', 'county_specialist'];
const LEVELS = ['LOW', 'MODERATE', 'HIGH', 'VERY_HIGH'];

export default function RiskReassess({ residentId, level, onChanged }: {
  residentId: number | string;
  level: RecordRiskLevel;
  onChanged: () => void;
}) {
  const { me } = useAuth();
  const [open, setOpen] = useState(false);
  const [chosen, setChosen] = useState(level.level ?? 'MODERATE');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  if (!(me?.roles ?? []).some((r) => CLINICIANS.includes(r))) return null;
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      await residents.reassessRisk(residentId, level.disease, chosen, reason.trim());
      setOpen(false);
      setReason('');
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  if (!open) {
    return (
      <button type="button" className="btn btn-small btn-ghost" data-testid="risk-reassess" onClick={() => setOpen(true)}>
        复核风险等级
      </button>
    );
  }
  return (
    <div className="stack" data-testid="risk-reassess-form">
      <label className="field">
        <span className="field-label">复核后的风险等级</span>
        <select value={chosen} onChange={(e) => setChosen(e.target.value)}>
          {LEVELS.map((l) => (
            <option key={l} value={l}>
              {RISK_LEVELS[l] ?? l}
            </option>
          ))}
        </select>
      </label>
      <ReasonConfirm label="复核理由（必填，降低等级只能由医生复核）" reason={reason} onReason={setReason} maxLength={1000}
        error={error} busy={busy} confirmText="保存复核" onConfirm={() => void save()} onCancel={() => setOpen(false)} />
    </div>
  );
}

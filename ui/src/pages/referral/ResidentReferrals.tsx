import { useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { useAuth } from '../../auth';
import { Badge, Empty, ErrorBox, Field, Loading } from '../../components/common';
import { DISEASES, label } from '../../lib/labels';
import { formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { referralApi, statusKind } from './api';

const URGENCIES: [string, string][] = [['routine', '常规'], ['priority', '优先'], ['emergency', '紧急']];

/** 发起转诊 from the patient record: reason, urgency, what is needed and (optionally) which organisation. */
function StartReferral({ residentId, onClose }: { residentId: number; onClose: () => void }) {
  const navigate = useNavigate();
  const caps = useAsync(() => referralApi.capabilities().catch(() => []), []);
  const [reason, setReason] = useState('');
  const [urgency, setUrgency] = useState('routine');
  const [disease, setDisease] = useState('htn');
  const [capability, setCapability] = useState('');
  const [target, setTarget] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const capabilities = useMemo(() => {
    const seen = new Map<string, string>();
    for (const c of caps.data ?? []) if (c.available) seen.set(c.capability, c.capability_label);
    return [...seen.entries()];
  }, [caps.data]);
  const targets = (caps.data ?? []).filter((c) => c.capability === capability && c.in_county && c.org_code);

  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await referralApi.create({ resident_id: residentId, reason: reason.trim(), urgency, disease: disease || null, capability: capability || null, to_org_code: target || null });
      navigate(`/referrals/${r.id}`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card" data-testid="start-referral-form">
      <h3>发起上转</h3>
      <div className="form-grid">
        <Field label="转诊原因（必填）">
          <textarea value={reason} onChange={(e) => setReason(e.target.value)} rows={3} aria-label="转诊原因" />
        </Field>
        <Field label="紧急程度">
          <select value={urgency} onChange={(e) => setUrgency(e.target.value)} aria-label="紧急程度">
            {URGENCIES.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
          </select>
        </Field>
        <Field label="病种">
          <select value={disease} onChange={(e) => setDisease(e.target.value)} aria-label="病种">
            {['htn', 't2dm'].map((d) => <option key={d} value={d}>{label(DISEASES, d)}</option>)}
            <option value="">其他</option>
          </select>
        </Field>
        <Field label="所需诊疗能力">
          <select value={capability} onChange={(e) => { setCapability(e.target.value); setTarget(''); }} aria-label="所需诊疗能力">
            <option value="">按病种自动判断</option>
            {capabilities.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
          </select>
        </Field>
        {capability && (
          <Field label="接收机构/科室（可不选）">
            <select value={target} onChange={(e) => setTarget(e.target.value)} aria-label="接收机构">
              <option value="">由转诊单选择</option>
              {targets.map((t) => <option key={t.id} value={t.org_code ?? ''}>{t.org_name}</option>)}
            </select>
          </Field>
        )}
      </div>
      <ErrorBox error={error} />
      <div className="form-actions">
        <button type="button" className="btn btn-primary" disabled={busy || !reason.trim()} onClick={submit} data-testid="start-referral-submit">提交</button>
        <button type="button" className="btn btn-ghost" onClick={onClose}>取消</button>
      </div>
    </div>
  );
}

/** The referral section of the resident record: every referral with its milestones, and the start action. */
export default function ResidentReferrals({ residentId }: { residentId: string }) {
  const { me } = useAuth();
  const roles = me?.roles ?? [];
  const mayRefer = ['village_doctor', 'township_doctor', 'county_specialist'].some((r) => roles.includes(r));
  const [starting, setStarting] = useState(false);
  const state = useAsync(() => referralApi.ofResident(residentId), [residentId]);

  return (
    <section className="card" data-testid="resident-referrals">
      <div className="page-head" style={{ marginBottom: 0 }}>
        <h2>双向转诊</h2>
        {mayRefer && !starting && (
          <button type="button" className="btn btn-small btn-primary" onClick={() => setStarting(true)} data-testid="start-referral">
            发起转诊
          </button>
        )}
      </div>
      {starting && <StartReferral residentId={Number(residentId)} onClose={() => setStarting(false)} />}
      {state.loading && !state.data && <Loading />}
      <ErrorBox error={state.error} onRetry={state.reload} />
      {state.data && state.data.length === 0 && <Empty title="暂无转诊记录" />}
      <ul className="comments">
        {(state.data ?? []).map((r) => (
          <li key={r.id} data-testid="resident-referral">
            <div className="row">
              <Link to={`/referrals/${r.id}`}><strong>{r.direction_label}</strong> {r.referral_no}</Link>
              <Badge kind={statusKind(r.status)}>{r.status_label}</Badge>
              {r.urgency !== 'routine' && <Badge kind={r.urgency === 'emergency' ? 'badge-danger' : 'badge-warn'}>{r.urgency_label}</Badge>}
              <span className="muted">{r.from_org_name || '—'} → {r.to_org_name || '待定'}</span>
            </div>
            {r.reason && <div className="timeline-data">{r.reason}</div>}
            <div className="timeline-data muted">
              {(r.timeline ?? []).map((e) => `${formatDateTime(e.at)} ${e.label}`).join(' · ')}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

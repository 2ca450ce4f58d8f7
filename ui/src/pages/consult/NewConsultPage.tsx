import { useState } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { ErrorBox, Field, Loading } from '../../components/common';
import { useAsync } from '../../lib/useAsync';
import { consultApi } from './api';

const SUMMARY: [string, string][] = [['chief_complaint', '主诉'], ['present_illness', '现病史'], ['past_history', '既往史'],
  ['physical_exam', '体格检查'], ['auxiliary_exams', '辅助检查'], ['diagnosis', '目前诊断'], ['treatment', '治疗经过']];
const ATTACH_KINDS: [string, string][] = [['dicom', '影像 (DICOM)'], ['ecg', '心电图'], ['pathology', '病理切片'], ['lab', '检验'], ['document', '其他资料']];

/** 发起会诊 (F2.1): the patient, whom to invite (organisations under agreement only), type/mode/urgency, reason,
 * purpose, record summary and attachments. The invitation goes out only after the patient's signed consent. */
export default function NewConsultPage() {
  const [params] = useSearchParams();
  const nav = useNavigate();
  const opts = useAsync(() => consultApi.options(), []);
  const [f, setF] = useState<Record<string, string>>({ resident_id: params.get('resident_id') ?? '', consult_type: 'single',
    mode: 'realtime', urgency: 'routine', specialty: 'cardiology', invited_org_code: '', requested_title: '', reason: '', purpose: '', device: '' });
  const [summary, setSummary] = useState<Record<string, string>>({});
  const [attachments, setAttachments] = useState<{ kind: string; ref: string; title: string }[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: string, v: string) => setF((x) => ({ ...x, [k]: v }));
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const c = await consultApi.create({
        resident_id: Number(f.resident_id), invited_org_code: f.invited_org_code, consult_type: f.consult_type, mode: f.mode,
        urgency: f.urgency, specialty: f.specialty, requested_title: f.requested_title || null, reason: f.reason,
        purpose: f.purpose, summary, attachments: attachments.filter((a) => a.ref.trim()),
        device_ids: f.device.trim() ? [f.device.trim()] : [] });
      nav(`/consults/${c.id}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (opts.loading && !opts.data) return <Loading />;
  const o = opts.data;
  const select = (k: string, items: { value: string; label: string }[], label: string, blank?: string) => (
    <Field label={label}>
      <select value={f[k]} onChange={(e) => set(k, e.target.value)} data-testid={`field-${k}`} required={!blank}>
        {blank !== undefined && <option value="">{blank}</option>}
        {items.map((i) => <option key={i.value} value={i.value}>{i.label}</option>)}
      </select>
    </Field>
  );
  return (
    <div className="page">
      <h1>发起远程会诊</h1>
      <ErrorBox error={opts.error} onRetry={opts.reload} />
      {o && (
        <form className="card form" onSubmit={submit} data-testid="consult-form">
          {!params.get('resident_id') && (
            <Field label="患者档案号">
              <input inputMode="numeric" value={f.resident_id} onChange={(e) => set('resident_id', e.target.value)} required />
            </Field>
          )}
          {o.invited_orgs.length === 0
            ? <div className="alert alert-warn">本机构尚无有效的远程医疗合作协议，无法发起会诊。</div>
            : select('invited_org_code', o.invited_orgs, '受邀机构/科室', '请选择')}
          {select('consult_type', o.types, '会诊类型')}
          {select('mode', o.modes, '模式')}
          {select('urgency', o.urgencies, '紧急程度')}
          {select('specialty', o.specialties, '拟邀请专业')}
          {select('requested_title', o.titles, '拟邀请职称', '不限')}
          <Field label="邀请事由"><textarea value={f.reason} onChange={(e) => set('reason', e.target.value)} required data-testid="field-reason" /></Field>
          <Field label="会诊目的（要解决的问题）"><textarea value={f.purpose} onChange={(e) => set('purpose', e.target.value)} required data-testid="field-purpose" /></Field>
          <fieldset>
            <legend>病历摘要</legend>
            {SUMMARY.map(([k, l]) => (
              <Field key={k} label={l}>
                <textarea value={summary[k] ?? ''} onChange={(e) => setSummary((s) => ({ ...s, [k]: e.target.value }))} data-testid={`summary-${k}`} />
              </Field>
            ))}
          </fieldset>
          <fieldset>
            <legend>附件（影像号/报告编号）</legend>
            {attachments.map((a, i) => (
              <div key={i} className="row" style={{ gap: 6, flexWrap: 'wrap' }}>
                <select aria-label="附件类型" value={a.kind} onChange={(e) => setAttachments((xs) => xs.map((x, j) => (j === i ? { ...x, kind: e.target.value } : x)))}>
                  {ATTACH_KINDS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
                </select>
                <input aria-label="编号或链接" placeholder="如 DICOM Study UID" value={a.ref} onChange={(e) => setAttachments((xs) => xs.map((x, j) => (j === i ? { ...x, ref: e.target.value } : x)))} />
                <input aria-label="说明" placeholder="说明" value={a.title} onChange={(e) => setAttachments((xs) => xs.map((x, j) => (j === i ? { ...x, title: e.target.value } : x)))} />
              </div>
            ))}
            <button type="button" className="btn btn-small" onClick={() => setAttachments((xs) => [...xs, { kind: 'dicom', ref: '', title: '' }])}>添加附件</button>
          </fieldset>
          {f.mode === 'realtime' && (
            <Field label="床旁监护仪编号（实时共享体征，可不填）">
              <input value={f.device} onChange={(e) => set('device', e.target.value)} />
            </Field>
          )}
          <ErrorBox error={error} />
          <button type="submit" className="btn btn-primary" disabled={busy || o.invited_orgs.length === 0} data-testid="submit-consult">提交申请</button>
          <p className="muted">提交后须由患者（或监护人/近亲属）签署知情同意，再经本院审核后才会发出邀请。</p>
        </form>
      )}
    </div>
  );
}

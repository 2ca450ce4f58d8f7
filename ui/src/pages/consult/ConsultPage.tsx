import { lazy, Suspense, useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { Badge, ErrorBox, Field, Loading } from '../../components/common';
import { formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { consultApi, statusKind, type ConsultDetail } from './api';
import SignaturePad from '../../components/SignaturePad';

// ECharts and WebRTC load only when a real-time consult's room is open for this user
const VitalsPanel = lazy(() => import('../../components/live/VitalsPanel'));
const VideoRoom = lazy(() => import('../../components/live/VideoRoom'));

const SUMMARY: [string, string][] = [['chief_complaint', '主诉'], ['present_illness', '现病史'], ['past_history', '既往史'],
  ['physical_exam', '体格检查'], ['auxiliary_exams', '辅助检查'], ['diagnosis', '目前诊断'], ['treatment', '治疗经过']];
const OPINION: [string, string][] = [['assessment', '病情评估'], ['diagnosis', '诊断意见'], ['icd10', 'ICD-10'], ['exams', '进一步检查建议'],
  ['treatment', '治疗建议'], ['follow_up', '随访建议'], ['risks', '风险提示']];
const INFORMED: [string, string][] = [['purpose', '会诊目的'], ['method', '会诊方式'], ['fees', '可能的费用'], ['privacy', '信息传输与隐私保护']];

function useAction(reload: () => void) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { error, busy, run };
}

function ConsentCard({ c, reload }: { c: ConsultDetail; reload: () => void }) {
  const [informed, setInformed] = useState<string[]>([]);
  const [signerType, setSignerType] = useState('patient');
  const [signerName, setSignerName] = useState(c.resident_name ?? '');
  const [relation, setRelation] = useState('');
  const [why, setWhy] = useState('');
  const [signature, setSignature] = useState<string | null>(null);
  const a = useAction(reload);
  const body = (consented: boolean) => ({ informed, signer_type: signerType, signer_name: signerName, consented,
    relation: signerType === 'patient' ? null : relation, not_told_reason: signerType === 'patient' ? null : why,
    signature: consented ? signature : null });
  return (
    <section className="card" data-testid="consent-card">
      <h2>患者知情同意</h2>
      <p className="muted">请向患者告知以下内容，由患者本人（或监护人/近亲属）在下方手写签名。未签署不能发出会诊邀请。</p>
      {INFORMED.map(([v, l]) => (
        <label key={v} className="row" style={{ gap: 6, minHeight: 44 }}>
          <input type="checkbox" checked={informed.includes(v)} data-testid={`informed-${v}`}
            onChange={(e) => setInformed((xs) => (e.target.checked ? [...xs, v] : xs.filter((x) => x !== v)))} /> 已告知{l}
        </label>
      ))}
      <Field label="签署人">
        <select value={signerType} onChange={(e) => setSignerType(e.target.value)} data-testid="signer-type">
          <option value="patient">本人</option><option value="guardian">监护人</option><option value="relative">近亲属</option>
        </select>
      </Field>
      <Field label="签署人姓名"><input value={signerName} onChange={(e) => setSignerName(e.target.value)} data-testid="signer-name" /></Field>
      {signerType !== 'patient' && (
        <>
          <Field label="与患者关系"><input value={relation} onChange={(e) => setRelation(e.target.value)} /></Field>
          <Field label="不宜告知本人的理由"><textarea value={why} onChange={(e) => setWhy(e.target.value)} /></Field>
        </>
      )}
      <SignaturePad onChange={setSignature} />
      <ErrorBox error={a.error} />
      <div className="row" style={{ gap: 8, marginTop: 8, flexWrap: 'wrap' }}>
        <button type="button" className="btn btn-primary" disabled={a.busy || !signature || informed.length < 4}
          onClick={() => a.run(() => consultApi.consent(c.id, body(true)))} data-testid="consent-submit">同意并签名</button>
        <button type="button" className="btn" disabled={a.busy}
          onClick={() => window.confirm('患者不同意会诊？会诊将撤销。') && a.run(() => consultApi.consent(c.id, body(false)))}>患者不同意</button>
      </div>
    </section>
  );
}

function AcceptCard({ c, reload }: { c: ConsultDetail; reload: () => void }) {
  const [reason, setReason] = useState('');
  const a = useAction(reload);
  return (
    <section className="card" data-testid="accept-card">
      <h2>受理会诊</h2>
      <p>受理时限：{formatDateTime(c.accept_due_at)}{c.overdue && <Badge kind="badge-danger">已超时</Badge>}</p>
      <Field label="拒绝理由（拒绝时必填）"><textarea value={reason} onChange={(e) => setReason(e.target.value)} data-testid="decline-reason" /></Field>
      <ErrorBox error={a.error} />
      <div className="row" style={{ gap: 8 }}>
        <button type="button" className="btn btn-primary" disabled={a.busy} onClick={() => a.run(() => consultApi.accept(c.id))} data-testid="accept">受理</button>
        <button type="button" className="btn btn-danger" disabled={a.busy || reason.trim().length < 2} onClick={() => a.run(() => consultApi.decline(c.id, reason))} data-testid="decline">拒绝</button>
      </div>
    </section>
  );
}

function OpinionCard({ c, reload }: { c: ConsultDetail; reload: () => void }) {
  const [v, setV] = useState<Record<string, string>>({});
  const a = useAction(reload);
  return (
    <section className="card" data-testid="opinion-card">
      <h2>签署本人会诊意见</h2>
      {OPINION.map(([k, l]) => (
        <Field key={k} label={l}>
          {k === 'icd10' ? <input value={v[k] ?? ''} onChange={(e) => setV((x) => ({ ...x, [k]: e.target.value }))} />
            : <textarea value={v[k] ?? ''} onChange={(e) => setV((x) => ({ ...x, [k]: e.target.value }))} data-testid={`opinion-${k}`} />}
        </Field>
      ))}
      <ErrorBox error={a.error} />
      <button type="button" className="btn btn-primary" disabled={a.busy || !v.assessment || !v.diagnosis}
        onClick={() => a.run(() => consultApi.opinion(c.id, { ...v, icd10: v.icd10 || null }))} data-testid="opinion-submit">确认并电子签名</button>
    </section>
  );
}

/** An assigned expert who cannot take part says why: a member leaves the consult; the lead's decline sends it back
 * to the 医务科 to assign experts again. */
function ExpertDeclineCard({ c, reload }: { c: ConsultDetail; reload: () => void }) {
  const [reason, setReason] = useState('');
  const a = useAction(reload);
  const lead = c.my_role === 'lead';
  return (
    <details className="card" data-testid="expert-decline-card">
      <summary style={{ padding: "12px 0" }}>无法参加本次会诊？</summary>
      <p className="muted">{lead ? '您是牵头专家：拒绝后由医务科重新指派专家。' : '拒绝后您将退出本次会诊，医务科会收到通知。'}</p>
      <Field label="理由（必填）"><textarea value={reason} onChange={(e) => setReason(e.target.value)} data-testid="expert-decline-reason" /></Field>
      <ErrorBox error={a.error} />
      <button type="button" className="btn btn-danger" disabled={a.busy || reason.trim().length < 2}
        onClick={() => a.run(() => consultApi.expertDecline(c.id, reason))} data-testid="expert-decline-submit">拒绝参加</button>
    </details>
  );
}

/** The invited 医务科 takes the experts off a scheduled consult (with a reason) and assigns again. */
function ReassignCard({ c, reload }: { c: ConsultDetail; reload: () => void }) {
  const [reason, setReason] = useState('');
  const a = useAction(reload);
  return (
    <details className="card" data-testid="reassign-card">
      <summary style={{ padding: "12px 0" }}>改派专家</summary>
      <p className="muted">原指派的专家将退出本次会诊，您的待办中会重新出现“排班/指派专家”。</p>
      <Field label="改派理由（必填）"><textarea value={reason} onChange={(e) => setReason(e.target.value)} data-testid="reassign-reason" /></Field>
      <ErrorBox error={a.error} />
      <button type="button" className="btn btn-danger" disabled={a.busy || reason.trim().length < 2}
        onClick={() => a.run(() => consultApi.reassign(c.id, reason))} data-testid="reassign-submit">改派</button>
    </details>
  );
}

function DeteriorationCard({ c, reload }: { c: ConsultDetail; reload: () => void }) {
  const [reason, setReason] = useState('');
  const a = useAction(reload);
  return (
    <section className="card" data-testid="deterioration-card">
      <h2>病情恶化</h2>
      <p className="muted">立即发起紧急转诊，会诊继续进行。</p>
      <Field label="病情变化"><input value={reason} onChange={(e) => setReason(e.target.value)} data-testid="deterioration-reason" /></Field>
      <ErrorBox error={a.error} />
      <button type="button" className="btn btn-danger" disabled={a.busy || reason.trim().length < 2}
        onClick={() => a.run(() => consultApi.deterioration(c.id, reason))} data-testid="deterioration-submit">发起紧急转诊</button>
    </section>
  );
}

function SatisfactionCard({ c, reload }: { c: ConsultDetail; reload: () => void }) {
  const a = useAction(reload);
  return (
    <section className="card">
      <h2>患者满意度回访</h2>
      <div className="row" style={{ gap: 6, flexWrap: 'wrap' }}>
        {[1, 2, 3, 4, 5].map((n) => (
          <button key={n} type="button" className="btn" disabled={a.busy} onClick={() => a.run(() => consultApi.satisfaction(c.id, n))}>{n} 分</button>
        ))}
      </div>
      <ErrorBox error={a.error} />
    </section>
  );
}

/** 会诊详情: request, consent (signed on the phone), the invited side's decision, experts' signed opinions, the
 * report PDF of each side, live vitals and video during a real-time consult, and the record's timeline. */
export default function ConsultPage() {
  const id = Number(useParams().id);
  const q = useAsync(() => consultApi.get(id), [id]);
  const c = q.data;
  if (q.loading && !c) return <Loading />;
  if (!c) return <ErrorBox error={q.error} onRetry={q.reload} />;
  const open = (el: string) => c.tasks.find((t) => t.element_id === el);
  const special = ['patient_consent', 'accept_consult'];
  const live = c.mode === 'realtime' && c.room.participant && c.room.status === 'open';
  return (
    <div className="page" data-testid="consult-page">
      <div className="page-head">
        <h1>{c.resident_name ?? '患者'} 远程会诊</h1>
        <Badge kind={statusKind(c.status)}>{c.status_label}</Badge>
      </div>
      <ErrorBox error={q.error} onRetry={q.reload} />
      <section className="card">
        <div className="task-meta"><span className="mono">{c.consult_no}</span><span>{c.urgency_label} · {c.mode_label} · {c.type_label}</span>
          <span>{c.specialty_label}{c.requested_title_label && ` · ${c.requested_title_label}`}</span></div>
        <div className="task-meta"><span>{c.requester_org_name}（{c.requester_name}）→ {c.invited_org_name}</span>
          {c.network_record ? (
            <Link className="btn btn-small" to={`/residents/${c.resident_id}/network-record?from=/consults/${c.id}`} data-testid="consult-network-record">全网记录</Link>
          ) : (
            <Link to={`/residents/${c.resident_id}`}>患者档案</Link>
          )}</div>
        <p><b>邀请事由：</b>{c.reason}</p>
        <p><b>会诊目的：</b>{c.purpose}</p>
        {c.decline_reason && <div className="alert alert-danger" data-testid="decline-banner">拒绝理由：{c.decline_reason}</div>}
        <div className="task-meta">
          {c.accept_due_at && <span>受理时限 {formatDateTime(c.accept_due_at)}</span>}
          {c.scheduled_at && <span>会诊时间 {formatDateTime(c.scheduled_at)}</span>}
          {c.report_due_at && <span>报告时限 {formatDateTime(c.report_due_at)}</span>}
          {c.consent_signed_at && <span data-testid="consent-signed">知情同意 {formatDateTime(c.consent_signed_at)}</span>}
        </div>
      </section>
      {open('patient_consent') && <ConsentCard c={c} reload={q.reload} />}
      {open('accept_consult') && <AcceptCard c={c} reload={q.reload} />}
      {c.pending_opinion && <OpinionCard c={c} reload={q.reload} />}
      {c.my_role === 'requester' && c.status === 'scheduled' && <DeteriorationCard c={c} reload={q.reload} />}
      {(c.my_role === 'lead' || (c.my_role === 'expert' && c.pending_opinion)) && c.status === 'scheduled' && (
        <ExpertDeclineCard c={c} reload={q.reload} />
      )}
      {c.can_reassign && <ReassignCard c={c} reload={q.reload} />}
      {c.tasks.filter((t) => !special.includes(t.element_id)).map((t) => (
        <Link key={t.id} className="btn btn-primary btn-block" to={`/tasks/${t.id}`} data-testid={`task-${t.element_id}`}>
          办理：{t.name}{t.due_at && `（${formatDateTime(t.due_at)} 前）`}
        </Link>
      ))}
      {live && (
        <Suspense fallback={<Loading text="正在连接会诊室…" />}>
          <section className="card" data-testid="live-section">
            <h2>实时体征</h2>
            <VitalsPanel kind="consult" roomRef={c.id} />
            <h2>视频会诊</h2>
            <VideoRoom kind="consult" roomRef={c.id} />
          </section>
        </Suspense>
      )}
      {c.room.external_url && <p><a href={c.room.external_url} target="_blank" rel="noreferrer">打开外部视频会议</a></p>}
      <section className="card">
        <h2>病历摘要</h2>
        <dl className="kv">
          {SUMMARY.filter(([k]) => c.summary[k]).map(([k, l]) => (<div key={k}><dt>{l}</dt><dd className="pre-wrap">{c.summary[k]}</dd></div>))}
        </dl>
        {c.attachments.length > 0 && (
          <ul>{c.attachments.map((a, i) => <li key={i}>{a.title || '附件'}：<span className="mono">{a.ref}</span></li>)}</ul>
        )}
      </section>
      {c.opinions.length > 0 && (
        <section className="card" data-testid="opinions">
          <h2>会诊意见</h2>
          {c.opinions.map((o) => (
            <div key={o.id} className="timeline-item">
              <b>{o.role_label}：{o.expert_name}</b> <span className="muted">{formatDateTime(o.signed_at)} 已电子签名</span>
              {OPINION.filter(([k]) => o.content[k]).map(([k, l]) => <div key={k}>{l}：{String(o.content[k])}</div>)}
            </div>
          ))}
          {c.documents.length > 0 && (
            <div className="row" style={{ gap: 8, flexWrap: 'wrap' }}>
              <a className="btn" href={consultApi.reportUrl(c.id, 'requester')} target="_blank" rel="noreferrer" data-testid="report-pdf">会诊报告 PDF（邀请方存档）</a>
              <a className="btn" href={consultApi.reportUrl(c.id, 'invited')} target="_blank" rel="noreferrer">受邀方存档</a>
            </div>
          )}
        </section>
      )}
      {c.adoption_label && (
        <section className="card"><h2>邀请方处理</h2><p>{c.adoption_label}{c.adoption.reason ? `：${String(c.adoption.reason)}` : ''}</p>
          {Boolean(c.adoption.final_plan) && <p>最终方案：{String(c.adoption.final_plan)}</p>}</section>
      )}
      {Boolean(c.billing.amount) && <p className="muted">计费：{String(c.billing.billable_units)} 单位，{String(c.billing.amount)} 元</p>}
      {c.status === 'closed' && c.satisfaction === null && c.my_role === 'requester' && <SatisfactionCard c={c} reload={q.reload} />}
      {c.satisfaction !== null && <p>患者满意度：{c.satisfaction} 分</p>}
      <section className="card">
        <h2>会诊记录</h2>
        <ul className="timeline" data-testid="consult-timeline">
          {c.timeline.map((e, i) => (
            <li key={i} className={e.event === 'alarm' ? 'text-danger' : ''}><span className="muted">{formatDateTime(e.at)}</span> {e.text}</li>
          ))}
        </ul>
      </section>
    </div>
  );
}

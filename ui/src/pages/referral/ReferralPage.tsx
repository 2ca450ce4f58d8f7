import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { useAuth } from '../../auth';
import { Badge, Empty, ErrorBox, Loading } from '../../components/common';
import { formatDate, formatDateTime, formatDue } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { documentsOf, fieldRows, referralApi, statusKind, type ReferralDetail, type ReferralTask } from './api';

/** Nested parts of the referral's record and their names. */
const SECTIONS: [('form' | 'result' | 'follow_up'), string, string][] = [
  ['form', 'emergency', '急救处置'],
  ['form', 'approval', '县外转诊审批'],
  ['result', 'arrival', '到诊信息'],
  ['follow_up', 'no_show_check', '未到位核实'],
  ['follow_up', 'receipt', '基层接收确认'],
  ['follow_up', 'first_visit', '下转首次随访'],
];

/** What the button of an open step says. */
const TASK_ACTIONS: Record<string, string> = {
  review_referral: '接诊审核（接收 / 拒收 / 改派）',
  fill_referral_form: '填写转诊单',
  approve_out_of_county: '县外转诊审批',
  book_appointment: '预约就诊',
  return_result: '回传诊疗结果',
  revise_referral: '改派或撤销',
  emergency_handling: '急救处置',
  verify_no_show: '核实未到位',
  two_week_follow_up: '2周随访转诊情况',
  fill_down_referral_form: '填写下转单',
  receive_down_referral: '确认接收下转',
  first_follow_up: '下转首次随访',
};

function Fields({ values, testId }: { values: Record<string, unknown> | null | undefined; testId?: string }) {
  const rows = fieldRows(values);
  if (!rows.length) return <p className="muted">暂无</p>;
  return (
    <dl className="kv" data-testid={testId}>
      {rows.map(([k, v]) => (
        <div className="kv-row" key={k}>
          <dt>{k}</dt>
          <dd className="pre-wrap">{v}</dd>
        </div>
      ))}
    </dl>
  );
}

function Steps({ tasks }: { tasks: ReferralTask[] }) {
  if (!tasks.length) return null;
  return (
    <section className="card" data-testid="referral-tasks">
      <h2>待我处理</h2>
      <ul className="plain-list">
        {tasks.map((t) => (
          <li key={t.id} className="row">
            <Link className="btn btn-primary btn-small" to={`/tasks/${t.id}`} data-testid="referral-task-link">
              {TASK_ACTIONS[t.element_id] ?? t.name}
            </Link>
            {t.due_at && <span className="muted">{formatDue(t.due_at)}</span>}
            {t.assignee?.display_name && <span className="muted">已由 {t.assignee.display_name} 领取</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

function SenderSummary({ id }: { id: number }) {
  const [open, setOpen] = useState(false);
  const data = useAsync(() => (open ? referralApi.senderSummary(id) : Promise.resolve(null)), [open, id]);
  if (!open) {
    return (
      <button type="button" className="btn btn-small" onClick={() => setOpen(true)} data-testid="sender-summary-open">
        查看转出方档案摘要
      </button>
    );
  }
  if (data.loading) return <Loading />;
  if (data.error) return <ErrorBox error={data.error} />;
  const rec = (data.data?.record ?? {}) as { diagnoses?: { disease_name?: string; icd10?: string }[]; current_medications?: { drug_name?: string; name?: string; dose?: string }[]; risk_levels?: { disease_name?: string; label?: string }[] };
  return (
    <div className="card" data-testid="sender-summary">
      <h3>转出方档案摘要（转诊期间可见，查阅已记录）</h3>
      <dl className="kv">
        <div className="kv-row"><dt>诊断</dt><dd>{(rec.diagnoses ?? []).map((d) => d.disease_name).filter(Boolean).join('、') || '—'}</dd></div>
        <div className="kv-row"><dt>风险分层</dt><dd>{(rec.risk_levels ?? []).map((d) => `${d.disease_name ?? ''}${d.label ?? ''}`).join('、') || '—'}</dd></div>
        <div className="kv-row"><dt>当前用药</dt><dd>{(rec.current_medications ?? []).map((m) => [m.drug_name ?? m.name, m.dose].filter(Boolean).join(' ')).join('、') || '—'}</dd></div>
      </dl>
    </div>
  );
}

function DownReferralButton({ r, onDone }: { r: ReferralDetail; onDone: (id: number) => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const start = async () => {
    setBusy(true);
    try {
      const down = await referralApi.createDown({ resident_id: r.resident_id, reason: '出院/病情稳定，转回基层管理', disease: r.disease, parent_id: r.id });
      onDone(down.id);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="btn btn-small" onClick={start} disabled={busy} data-testid="start-down-referral">发起下转</button>
      <ErrorBox error={error} />
    </>
  );
}

/** One referral: where it stands, its steps, what each side recorded, the documents to print. */
export default function ReferralPage() {
  const { id = '' } = useParams();
  const { me } = useAuth();
  const navigate = useNavigate();
  const state = useAsync(() => referralApi.get(id), [id]);
  const r = state.data;
  if (state.loading && !r) return <Loading text="正在加载转诊记录…" />;
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (!r) return <Empty title="转诊记录不存在" />;
  const roles = me?.roles ?? [];
  const receiving = r.active && r.direction === 'up' && !!r.to_org_code && !!me?.org?.code && r.to_org_code.startsWith(me.org.code) && r.from_org_code !== me.org.code;
  const canDown = r.direction === 'up' && roles.includes('county_specialist') && ['arrived', 'completed'].includes(r.status) && !r.children.some((c) => c.status !== 'cancelled');

  return (
    <div className="page">
      <section className="card">
        <Link to="/referrals" className="back">← 双向转诊</Link>
        <div className="page-head" style={{ marginBottom: 0 }}>
          <h1 data-testid="referral-title">
            {r.direction_label}：<Link to={`/residents/${r.resident_id}`}>{r.resident_name ?? '居民'}</Link>
          </h1>
          <div className="task-badges">
            <Badge kind={statusKind(r.status)}>{r.status_label}</Badge>
            <Badge kind={r.urgency === 'emergency' ? 'badge-danger' : r.urgency === 'priority' ? 'badge-warn' : ''}>{r.urgency_label}</Badge>
            {r.out_of_county && <Badge kind="badge-warn">县外</Badge>}
          </div>
        </div>
        <div className="task-meta">
          <span>转诊单号 <span className="mono" data-testid="referral-no">{r.referral_no}</span></span>
          <span>{r.from_org_name || '—'} → {r.to_org_name || '待定'}</span>
          {r.disease_label && <span>{r.disease_label}</span>}
          {r.capability_label && <span>所需能力：{r.capability_label}</span>}
        </div>
        {r.active && (
          <div className="row" style={{ marginTop: 8 }}>
            <Link className="btn btn-small" to={`/residents/${r.resident_id}/network-record?from=/referrals/${r.id}`} data-testid="referral-network-record">
              全网记录（医共体各机构检查检验）
            </Link>
          </div>
        )}
        {r.reason && <p>转诊原因：{r.reason}</p>}
        {r.status === 'no_show' && (
          <div className="alert alert-warn" data-testid="no-show-reason">患者未到位{r.no_show_reason ? `：${r.no_show_reason}` : ''}</div>
        )}
        {r.reject_reason && (
          <div className="alert alert-warn" data-testid="reject-reason">拒收原因：{r.reject_reason}{r.reject_note ? `（${r.reject_note}）` : ''}</div>
        )}
        {r.insurance_filing_no && <p>医保备案号：{r.insurance_filing_no}</p>}
        {r.decision_due_at && r.status === 'offered' && <p className="muted">接诊审核时限：{formatDateTime(r.decision_due_at)}</p>}
        {r.follow_up_due_on && <p className="muted">{r.direction === 'up' ? '2周随访' : '首次随访'}应于 {formatDate(r.follow_up_due_on)} 前完成{r.follow_up_done_at ? `（${formatDateTime(r.follow_up_done_at)} 已完成）` : ''}</p>}
        <div className="btn-group" data-testid="referral-documents">
          {documentsOf(r).map((d) => (
            <a key={d.kind} className="btn btn-small" href={referralApi.documentUrl(r.id, d.kind)} target="_blank" rel="noopener noreferrer" data-testid={`doc-${d.kind}`}>
              打印{d.label}（PDF）
            </a>
          ))}
          {receiving && <SenderSummary id={r.id} />}
          {canDown && <DownReferralButton r={r} onDone={(down) => navigate(`/referrals/${down}`)} />}
        </div>
      </section>
      <Steps tasks={r.tasks ?? []} />
      <div className="grid-2">
        <section className="card">
          <h2>转诊进程</h2>
          <ul className="timeline" data-testid="referral-timeline">
            {r.timeline.map((e, i) => (
              <li key={i}>
                <div className="timeline-head"><strong>{e.label}</strong> <span className="muted">{formatDateTime(e.at)}</span></div>
              </li>
            ))}
          </ul>
          {(r.parent_id || r.children.length > 0) && (
            <>
              <h3>关联转诊</h3>
              <ul className="plain-list" data-testid="linked-referrals">
                {r.parent_id && <li><Link to={`/referrals/${r.parent_id}`}>原上转记录</Link></li>}
                {r.children.map((c) => (
                  <li key={c.id}>
                    <Link to={`/referrals/${c.id}`}>{c.direction_label} {c.referral_no}</Link> <Badge kind={statusKind(c.status)}>{c.status_label}</Badge> {c.to_org_name}
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
        <section className="card">
          <h2>{r.direction === 'up' ? '转诊单' : '下转单'}</h2>
          <Fields values={r.form} testId="referral-form" />
        </section>
      </div>
      <div className="grid-2">
        <section className="card">
          <h2>{r.direction === 'up' ? '接诊与诊疗结果' : '接收情况'}</h2>
          <Fields values={r.result} testId="referral-result" />
          {r.appointment_at && <p>预约就诊：{formatDateTime(r.appointment_at)}</p>}
          {r.arrived_at && <p>到诊：{formatDateTime(r.arrived_at)}</p>}
        </section>
        <section className="card">
          <h2>随访</h2>
          <Fields values={r.follow_up} testId="referral-follow-up" />
          {SECTIONS.map(([part, key, title]) => {
            const v = (r[part] as Record<string, unknown> | undefined)?.[key];
            if (!v || typeof v !== 'object') return null;
            return (
              <div key={key}>
                <h3>{title}</h3>
                <Fields values={v as Record<string, unknown>} />
              </div>
            );
          })}
        </section>
      </div>
    </div>
  );
}

/** The resident's care plans: the version in force, the patient PDF, and what changed between two versions. */
import { useEffect, useState } from 'react';
import { carePlans } from '../../api/endpoints';
import type { CarePlan, CarePlanContent, CarePlanVersion } from '../../api/types';
import { useAuth } from '../../auth';
import { useAsync } from '../../lib/useAsync';
import { DISEASES, RISK_LEVELS, label, riskClass } from '../../lib/labels';
import { PLAN_STATUS, TOPICS, changeLine, drugText, targetText, valueText } from '../../lib/carePlan';
import { formatDate, formatDateTime } from '../../lib/time';
import { Badge, Empty, ErrorBox, Loading } from '../common';
import { ReasonConfirm } from './ReasonConfirm';

function Content({ c }: { c: CarePlanContent }) {
  const targets = Object.entries(c.targets ?? {}).filter(([k]) => k !== 'note');
  const lifestyle = Object.entries(c.lifestyle ?? {}).filter(([, v]) => v !== null && v !== undefined && v !== '');
  return (
    <dl className="kv">
      <div className="kv-row">
        <dt>控制目标</dt>
        <dd>
          {targets.length ? targets.map(([k, v]) => targetText(k, v)).join('；') : '—'}
          {c.targets?.note && <div className="muted">{String(c.targets.note)}</div>}
        </dd>
      </div>
      <div className="kv-row">
        <dt>用药</dt>
        <dd>
          {c.drugs?.length ? (
            <ul className="plain-list">
              {c.drugs.map((d, i) => (
                <li key={i}>{drugText(d)}</li>
              ))}
            </ul>
          ) : (
            '暂无药物'
          )}
        </dd>
      </div>
      <div className="kv-row">
        <dt>生活方式</dt>
        <dd>{lifestyle.length ? valueText(Object.fromEntries(lifestyle)) : '—'}</dd>
      </div>
      <div className="kv-row">
        <dt>随访间隔</dt>
        <dd>{c.follow_up_interval_days ? `每 ${c.follow_up_interval_days} 天` : '—'}</dd>
      </div>
      <div className="kv-row">
        <dt>健康教育</dt>
        <dd>{c.education_topics?.length ? c.education_topics.map((t) => TOPICS[t] ?? t).join('、') : '—'}</dd>
      </div>
      {c.notes ? (
        <div className="kv-row">
          <dt>备注</dt>
          <dd className="pre-wrap">{c.notes}</dd>
        </div>
      ) : null}
    </dl>
  );
}

function VersionDiff({ plan }: { plan: CarePlan }) {
  const numbers = (plan.versions ?? []).map((v) => v.version).sort((a, b) => a - b);
  const [a, setA] = useState(numbers.length > 1 ? numbers[numbers.length - 2] : 0);
  const [b, setB] = useState(numbers.length ? numbers[numbers.length - 1] : 0);
  const diff = useAsync(() => (a && b && a !== b ? carePlans.diff(plan.id, a, b) : Promise.resolve(null)), [plan.id, a, b]);
  if (numbers.length < 2) return <p className="muted">只有一个版本，暂无修订记录。</p>;
  return (
    <div className="stack" data-testid="care-plan-diff">
      <div className="filters">
        <label className="field">
          <span className="field-label">从版本</span>
          <select value={a} onChange={(e) => setA(Number(e.target.value))}>
            {numbers.map((n) => (
              <option key={n} value={n}>
                第 {n} 版
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span className="field-label">到版本</span>
          <select value={b} onChange={(e) => setB(Number(e.target.value))}>
            {numbers.map((n) => (
              <option key={n} value={n}>
                第 {n} 版
              </option>
            ))}
          </select>
        </label>
      </div>
      {a === b ? (
        <p className="muted">请选择两个不同的版本。</p>
      ) : diff.loading ? (
        <Loading text="正在比较…" />
      ) : diff.error ? (
        <ErrorBox error={diff.error} onRetry={diff.reload} />
      ) : diff.data ? (
        <>
          {diff.data.change_reason && <div className="alert alert-info">修订原因：{diff.data.change_reason}</div>}
          {diff.data.changes.length ? (
            <ul className="diff-list">
              {diff.data.changes.map((c, i) => (
                <li key={i} className={`diff-${c.change}`}>
                  {changeLine(c)}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">两个版本内容相同。</p>
          )}
          {diff.data.comments?.map((c, i) => (
            <div key={c.id ?? i} className="timeline-data">
              {c.author}（{formatDateTime(c.created_at)}）：{c.body}
            </div>
          ))}
        </>
      ) : null}
    </div>
  );
}

const OPEN = ['draft', 'pending_approval', 'returned'];
const CLOSED = ['cancelled', 'expired', 'superseded'];
const CANCELLERS = ['supervisor', 'county_admin'];

function who(p: CarePlan, username?: string | null): string {
  return username ? p.names?.[username] ?? '—' : '—';
}

/** The open revision (with 撤销此修订 for a supervisor or county admin) and revisions that ended without coming
 * into force: who closed them, when and why. */
function Revisions({ plan, onChanged }: { plan: CarePlan; onChanged: () => void }) {
  const { me } = useAuth();
  const [reason, setReason] = useState('');
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const versions = plan.versions ?? [];
  const open: CarePlanVersion | undefined = versions.find((v) => OPEN.includes(v.status ?? ''));
  const closed = versions.filter((v) => CLOSED.includes(v.status ?? '') && v.closed_at);
  const mayCancel = (me?.roles ?? []).some((r) => CANCELLERS.includes(r));
  const cancel = async () => {
    if (!open) return;
    setBusy(true);
    setError(null);
    try {
      await carePlans.cancelRevision(plan.id, open.version, reason.trim());
      setAsking(false);
      setReason('');
      onChanged();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  if (!open && !closed.length) return null;
  return (
    <div className="stack" data-testid="care-plan-revisions">
      {open && (
        <div className="alert alert-info" data-testid="care-plan-open-revision">
          进行中的修订：第 {open.version} 版（{label(PLAN_STATUS, open.status ?? '')}）
          {open.change_reason ? `，原因：${open.change_reason}` : ''}
          {mayCancel && !asking && (
            <button type="button" className="btn btn-small btn-danger" onClick={() => setAsking(true)}>
              撤销此修订
            </button>
          )}
          {asking && (
            <div className="stack">
              <ReasonConfirm label="撤销原因（必填）" reason={reason} onReason={setReason} maxLength={500} error={error} busy={busy}
                confirmText="确认撤销" danger onConfirm={() => void cancel()} onCancel={() => setAsking(false)} />
            </div>
          )}
        </div>
      )}
      {closed.map((v) => (
        <div key={v.version} className="timeline-data">
          第 {v.version} 版修订{label(PLAN_STATUS, v.status ?? '')}：{who(plan, v.closed_by)} {formatDateTime(v.closed_at)}
          {v.close_reason ? `，原因：${v.close_reason}` : ''}
        </div>
      ))}
    </div>
  );
}

function Plan({ id }: { id: number }) {
  const state = useAsync(() => carePlans.get(id), [id]);
  const [showDiff, setShowDiff] = useState(false);
  const p = state.data;
  useEffect(() => setShowDiff(false), [id]);
  if (state.loading && !p) return <Loading text="正在加载管理方案…" />;
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (!p) return null;
  const cur = p.current ?? (p.versions ?? []).find((v) => v.version === p.current_version) ?? null;
  return (
    <article className="care-plan" data-testid="care-plan" data-plan-id={p.id}>
      <div className="row">
        <strong>{label(DISEASES, p.disease)}管理方案</strong>
        {p.risk_level && <Badge kind={riskClass(p.risk_level)}>{label(RISK_LEVELS, p.risk_level)}</Badge>}
        {p.status && <Badge>{label(PLAN_STATUS, p.status)}</Badge>}
        {p.current_version ? <span className="muted">第 {p.current_version} 版</span> : null}
        <span className="spacer" />
        <a className="btn btn-small" href={carePlans.pdfUrl(p.id)} target="_blank" rel="noopener" data-testid="care-plan-pdf">
          打印版（PDF）
        </a>
      </div>
      {cur?.content ? <Content c={cur.content} /> : <p className="muted">方案尚在起草或审核中。</p>}
      {cur && (
        <div className="timeline-data">
          {[cur.drafted_by && `起草：${who(p, cur.drafted_by)} ${formatDate(cur.drafted_at)}`, cur.approved_by && `审核：${who(p, cur.approved_by)} ${formatDate(cur.approved_at)}`, cur.acknowledged_at && `居民确认：${formatDate(cur.acknowledged_at)}`]
            .filter(Boolean)
            .join(' · ')}
        </div>
      )}
      <Revisions plan={p} onChanged={state.reload} />
      {(p.versions?.length ?? 0) > 1 && (
        <button type="button" className="btn btn-small btn-ghost" onClick={() => setShowDiff((x) => !x)}>
          {showDiff ? '收起版本对比' : `版本对比（共 ${p.versions!.length} 版）`}
        </button>
      )}
      {showDiff && <VersionDiff plan={p} />}
    </article>
  );
}

export default function CarePlans({ residentId }: { residentId: string }) {
  const list = useAsync(() => carePlans.ofResident(residentId), [residentId]);
  if (list.loading && !list.data) return <Loading text="正在加载管理方案…" />;
  if (list.error) return <ErrorBox error={list.error} onRetry={list.reload} />;
  if (!list.data?.length) return <Empty title="暂无管理方案">建档并完成风险分层后，由乡镇医生制定方案。</Empty>;
  return (
    <div className="stack">
      {list.data.map((p) => (
        <Plan key={p.id} id={p.id} />
      ))}
    </div>
  );
}

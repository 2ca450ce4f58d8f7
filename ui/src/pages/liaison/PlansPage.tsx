import { useState } from 'react';
import { useAuth } from '../../auth';
import { Badge, Empty, ErrorBox, Field, Loading } from '../../components/common';
import { localToday } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { addDays, liaisonApi, type Milestone, type Options, type Plan } from './api';

const DRAFTERS = ['county_admin', 'township_doctor', 'county_specialist'];

function planKind(status: string): string {
  if (status === 'closed') return 'badge-ok';
  if (status === 'rejected') return 'badge-danger';
  if (status === 'pending_approval' || status === 'returned' || status === 'evaluating') return 'badge-warn';
  return 'badge-info';
}

function MilestoneRow({ m }: { m: Milestone }) {
  const reviewed = m.review.indicators ?? [];
  return (
    <li className="milestone" data-testid="milestone">
      <div className="row" style={{ gap: 8, flexWrap: 'wrap' }}>
        <strong>{m.seq}. {m.title}</strong><span className="muted">{m.due_on}</span>
        <Badge kind={m.status === 'met' ? 'badge-ok' : m.status === 'missed' || m.overdue ? 'badge-danger' : 'badge-warn'}>{m.status_label}</Badge>
      </div>
      <ul className="plain">
        {(reviewed.length ? reviewed : m.indicators).map((i, k) => {
          const r = reviewed.length ? (i as typeof reviewed[number]) : null;
          return (
            <li key={k} data-testid="milestone-indicator">
              {i.name}：目标{i.direction === 'lower' ? '≤' : '≥'}{i.target}{i.unit}
              {i.indicator_id ? <span className="muted">（指标库）</span> : null}
              {r && <> · 实测 {r.value ?? '—'}{i.unit} {r.met ? '✓ 达标' : '✗ 未达标'}</>}
            </li>
          );
        })}
      </ul>
      {m.review.note && <p className="muted">评估意见：{m.review.note}</p>}
    </li>
  );
}

function PlanCard({ p }: { p: Plan }) {
  return (
    <li className="card" data-testid="plan-item">
      <div className="task-title">
        <strong>{p.title}</strong>
        <Badge kind={planKind(p.status)}>{p.status_label}</Badge>
      </div>
      <div className="task-meta">
        <span>{p.township_name}</span><span>{p.specialty_label}</span>{p.lead_expert_name && <span>牵头专家 {p.lead_expert_name}</span>}
        <span>{p.starts_on} 至 {p.ends_on}</span><span>里程碑达标 {p.milestones_met}/{p.milestones.length}</span>
      </div>
      <h4>共建目标</h4>
      <ul className="plain">{p.goals.map((g, k) => <li key={k}>{g}</li>)}</ul>
      <h4>共建活动</h4>
      <ul className="plain">{p.activities.map((a, k) => <li key={k}>{a}</li>)}</ul>
      <h4>里程碑与考核指标</h4>
      <ol className="plain">{p.milestones.map((m) => <MilestoneRow key={m.id} m={m} />)}</ol>
      {p.approval.comment && <p className="muted">审批意见：{p.approval.comment}</p>}
      {p.evaluation.summary && <p className="muted">终期评估：{p.evaluation.summary}</p>}
    </li>
  );
}

interface DraftIndicator { pick: string; name: string; unit: string; target: string }

/** Drafting a plan: goals and activities one per line; milestones with indicators from the library or named here. */
function NewPlanForm({ options, onDone }: { options: Options; onDone: () => void }) {
  const today = localToday();
  const [f, setF] = useState({ title: '', township_code: options.townships[0]?.value ?? '', specialty: 'cardiology', starts_on: today,
    ends_on: addDays(today, 365), goals: '', activities: '', m_title: '第一阶段评估', m_due: addDays(today, 90) });
  const [inds, setInds] = useState<DraftIndicator[]>([{ pick: options.indicators[0]?.id ?? '', name: '', unit: '', target: '' }]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: string, v: string) => setF((x) => ({ ...x, [k]: v }));
  const setInd = (k: number, patch: Partial<DraftIndicator>) => setInds((xs) => xs.map((x, i) => (i === k ? { ...x, ...patch } : x)));
  const lines = (s: string) => s.split('\n').map((x) => x.trim()).filter(Boolean);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await liaisonApi.createPlan({ title: f.title, township_code: f.township_code, specialty: f.specialty, starts_on: f.starts_on,
        ends_on: f.ends_on, goals: lines(f.goals), activities: lines(f.activities),
        milestones: [{ title: f.m_title, due_on: f.m_due, indicators: inds.map((i) => ({ indicator_id: i.pick || null, name: i.pick ? '' : i.name,
          unit: i.pick ? '' : i.unit, target: Number(i.target) })) }] });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card form" onSubmit={submit} data-testid="plan-form">
      <h2>起草共建计划</h2>
      <Field label="计划名称"><input value={f.title} onChange={(e) => set('title', e.target.value)} required maxLength={200} data-testid="plan-title" /></Field>
      <Field label="乡镇卫生院">
        <select value={f.township_code} onChange={(e) => set('township_code', e.target.value)} data-testid="plan-township">
          {options.townships.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
        </select>
      </Field>
      <Field label="共建专科">
        <select value={f.specialty} onChange={(e) => set('specialty', e.target.value)}>
          {options.specialties.map((s) => <option key={s.value} value={s.value}>{s.label}</option>)}
        </select>
      </Field>
      <Field label="开始日期"><input type="date" value={f.starts_on} onChange={(e) => set('starts_on', e.target.value)} required /></Field>
      <Field label="结束日期"><input type="date" value={f.ends_on} onChange={(e) => set('ends_on', e.target.value)} required /></Field>
      <Field label="共建目标（每行一项）"><textarea rows={3} value={f.goals} onChange={(e) => set('goals', e.target.value)} required data-testid="plan-goals" /></Field>
      <Field label="共建活动（每行一项）"><textarea rows={3} value={f.activities} onChange={(e) => set('activities', e.target.value)} required data-testid="plan-activities" /></Field>
      <Field label="里程碑名称"><input value={f.m_title} onChange={(e) => set('m_title', e.target.value)} required /></Field>
      <Field label="里程碑日期"><input type="date" value={f.m_due} onChange={(e) => set('m_due', e.target.value)} required data-testid="plan-due" /></Field>
      {inds.map((i, k) => (
        <fieldset key={k} className="card" data-testid="plan-indicator">
          <legend>考核指标 {k + 1}</legend>
          <Field label="指标">
            <select value={i.pick} onChange={(e) => setInd(k, { pick: e.target.value })} data-testid="indicator-pick">
              <option value="">自定义指标</option>
              {options.indicators.map((x) => <option key={x.id} value={x.id}>{x.name}（指标库）</option>)}
            </select>
          </Field>
          {!i.pick && (
            <>
              <Field label="指标名称"><input value={i.name} onChange={(e) => setInd(k, { name: e.target.value })} required /></Field>
              <Field label="单位"><input value={i.unit} onChange={(e) => setInd(k, { unit: e.target.value })} placeholder="如 %、人次" /></Field>
            </>
          )}
          <Field label="目标值"><input type="number" inputMode="decimal" value={i.target} onChange={(e) => setInd(k, { target: e.target.value })} required data-testid="indicator-target" /></Field>
        </fieldset>
      ))}
      <button className="btn btn-small" type="button" onClick={() => setInds((xs) => [...xs, { pick: '', name: '', unit: '', target: '' }])}>添加指标</button>
      <ErrorBox error={error} />
      <button className="btn btn-primary" type="submit" disabled={busy} data-testid="plan-submit">{busy ? '提交中…' : '提交审批'}</button>
    </form>
  );
}

/** 专科共建: each township's specialty-building plan — goals, activities, milestones with measured indicators and their
 * reviews; drafting starts the approval in the county administrator's inbox. */
export default function PlansPage() {
  const { me } = useAuth();
  const list = useAsync(() => liaisonApi.plans(), []);
  const options = useAsync(() => liaisonApi.options(), []);
  const [drafting, setDrafting] = useState(false);
  const canDraft = (me?.roles ?? []).some((r) => DRAFTERS.includes(r));
  return (
    <div className="page">
      <div className="page-head">
        <h1>专科共建</h1>
        {canDraft && !drafting && <button className="btn btn-small btn-primary" type="button" onClick={() => setDrafting(true)} data-testid="plan-new">起草计划</button>}
      </div>
      {drafting && options.data && <NewPlanForm options={options.data} onDone={() => { setDrafting(false); list.reload(); }} />}
      <ErrorBox error={list.error || options.error} onRetry={list.reload} />
      {list.loading && !list.data && <Loading />}
      {list.data && (list.data.items.length === 0 ? <Empty title="暂无共建计划" /> : (
        <ul className="plain">{list.data.items.map((p) => <PlanCard key={p.id} p={p} />)}</ul>
      ))}
    </div>
  );
}

import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { useAuth } from '../../auth';
import { Badge, Empty, ErrorBox, Field, Loading } from '../../components/common';
import { patchedParams } from '../../lib/searchParams';
import { localToday } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { addDays, dayLabel, dutyKind, liaisonApi, mondayOf, type Duty, type Options } from './api';

function leaveText(e: Options['experts'][number]): string {
  if (!e.available) return '（停诊）';
  return e.leave_from && e.leave_to ? `（休假 ${e.leave_from.slice(5)}–${e.leave_to.slice(5)}）` : '';
}

/** The form that puts an expert on a township's rota; the server refuses double booking and leave with the reason. */
function NewDutyForm({ options, onDone }: { options: Options; onDone: () => void }) {
  const [f, setF] = useState({ expert: '', township_code: options.townships[0]?.value ?? '', on_date: localToday(), kind: 'visit',
    half_day: 'am', capacity: '6', note: '' });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: string, v: string) => setF((x) => ({ ...x, [k]: v }));
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const [uid, specialty] = f.expert.split('|');
    setBusy(true);
    setError(null);
    try {
      await liaisonApi.schedule({ kind: f.kind as 'visit' | 'on_call', expert_user_id: Number(uid), township_code: f.township_code,
        on_date: f.on_date, half_day: f.kind === 'on_call' ? 'day' : f.half_day, capacity: f.kind === 'on_call' ? 0 : Number(f.capacity) || 0,
        specialty: specialty || null, note: f.note });
      setF((x) => ({ ...x, note: '' }));
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card form" onSubmit={submit} data-testid="duty-form">
      <h2>新增排班</h2>
      <Field label="专家">
        <select value={f.expert} onChange={(e) => set('expert', e.target.value)} required data-testid="duty-expert">
          <option value="">请选择专家</option>
          {options.experts.map((x) => (
            <option key={`${x.user_id}|${x.specialty}`} value={`${x.user_id}|${x.specialty}`}>
              {x.name} · {x.specialty_label} · {x.title_label}{leaveText(x)}
            </option>
          ))}
        </select>
      </Field>
      <Field label="下沉乡镇">
        <select value={f.township_code} onChange={(e) => set('township_code', e.target.value)} required data-testid="duty-township">
          {options.townships.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
        </select>
      </Field>
      <Field label="类型">
        <select value={f.kind} onChange={(e) => set('kind', e.target.value)} data-testid="duty-kind">
          <option value="visit">下沉坐诊（联合门诊）</option>
          <option value="on_call">值班（电话/远程）</option>
        </select>
      </Field>
      <Field label="日期">
        <input type="date" value={f.on_date} min={localToday()} onChange={(e) => set('on_date', e.target.value)} required data-testid="duty-date" />
      </Field>
      {f.kind === 'visit' && (
        <>
          <Field label="时段">
            <select value={f.half_day} onChange={(e) => set('half_day', e.target.value)} data-testid="duty-half">
              <option value="am">上午 08:30–11:30</option>
              <option value="pm">下午 14:00–17:00</option>
            </select>
          </Field>
          <Field label="号源数">
            <input type="number" inputMode="numeric" min={0} max={40} value={f.capacity} onChange={(e) => set('capacity', e.target.value)} data-testid="duty-capacity" />
          </Field>
        </>
      )}
      <Field label="备注">
        <input value={f.note} maxLength={500} onChange={(e) => set('note', e.target.value)} placeholder="如：联合门诊、带教查房" />
      </Field>
      <ErrorBox error={error} />
      <button className="btn btn-primary" type="submit" disabled={busy} data-testid="duty-submit">{busy ? '保存中…' : '加入排班'}</button>
    </form>
  );
}

function DutyCard({ d, canEdit, onChange }: { d: Duty; canEdit: boolean; onChange: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const { me } = useAuth();
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      onChange();
    } catch (err) {
      setError(err);
    }
  };
  const cancel = () => {
    const reason = window.prompt('取消原因（乡镇会看到）');
    if (reason && reason.trim()) void act(() => liaisonApi.cancelDuty(d.id, reason.trim()));
  };
  const started = new Date(d.starts_at).getTime() <= Date.now();
  const mine = me?.id === d.expert_user_id;
  return (
    <li className="task-card" data-testid="duty-item">
      <div className="task-main">
        <div className="task-title">
          <span>{d.expert_name}</span>
          <Badge kind={dutyKind(d)}>{d.kind === 'on_call' ? '值班' : d.status_label}</Badge>
          <Badge kind="badge-info">{d.half_day_label}</Badge>
        </div>
        <div className="task-meta">
          <span>{d.specialty_label}</span>
          <span>{d.township_name}</span>
          {d.kind === 'visit' && <span>号源 {d.booked}/{d.capacity}</span>}
          {d.note && <span>{d.note}</span>}
          {d.cancel_reason && <span className="text-danger">取消：{d.cancel_reason}</span>}
        </div>
        <ErrorBox error={error} />
      </div>
      {d.status === 'scheduled' && (
        <div className="row" style={{ gap: 8 }}>
          {d.kind === 'visit' && started && (canEdit || mine) && (
            <button className="btn btn-small" type="button" onClick={() => void act(() => liaisonApi.deliver(d.id))} data-testid="duty-deliver">确认到岗</button>
          )}
          {canEdit && <button className="btn btn-small btn-danger" type="button" onClick={cancel} data-testid="duty-cancel">取消</button>}
        </div>
      )}
    </li>
  );
}

/** 下沉专家排班: the rota of county specialists at townships, week by week; 医务科 (county_admin) adds and cancels. */
export default function RotaPage() {
  const [params, setParams] = useSearchParams();
  const week = params.get('week') ?? mondayOf(localToday());
  const township = params.get('township') ?? '';
  const options = useAsync(() => liaisonApi.options(), []);
  const rota = useAsync(() => liaisonApi.rota({ start: week, end: addDays(week, 6), township_code: township || undefined }), [week, township]);
  const set = (patch: Record<string, string>) => setParams(patchedParams(params, patch), { replace: true });
  const days = Array.from({ length: 7 }, (_, k) => addDays(week, k));
  const canEdit = options.data?.can_edit ?? false;
  return (
    <div className="page">
      <div className="page-head"><h1>下沉专家排班</h1></div>
      <div className="row" style={{ gap: 8, flexWrap: 'wrap', alignItems: 'center' }}>
        <button className="btn btn-small" type="button" onClick={() => set({ week: addDays(week, -7) })} data-testid="week-prev">上一周</button>
        <strong data-testid="week-label">{dayLabel(week)} 起</strong>
        <button className="btn btn-small" type="button" onClick={() => set({ week: addDays(week, 7) })} data-testid="week-next">下一周</button>
        {options.data && (
          <select value={township} onChange={(e) => set({ township: e.target.value })} aria-label="乡镇" data-testid="rota-township">
            <option value="">全部乡镇</option>
            {options.data.townships.map((t) => <option key={t.value} value={t.value}>{t.label}</option>)}
          </select>
        )}
      </div>
      <ErrorBox error={options.error || rota.error} onRetry={rota.reload} />
      {rota.loading && !rota.data && <Loading />}
      {rota.data && (rota.data.items.length === 0 ? <Empty title="本周暂无排班" /> : days.map((day) => {
        const items = rota.data!.items.filter((d) => d.on_date === day);
        if (items.length === 0) return null;
        return (
          <section key={day} data-testid="rota-day">
            <h3>{dayLabel(day)}</h3>
            <ul className="task-list">{items.map((d) => <DutyCard key={d.id} d={d} canEdit={canEdit} onChange={rota.reload} />)}</ul>
          </section>
        );
      }))}
      {options.data && canEdit && <NewDutyForm options={options.data} onDone={rota.reload} />}
    </div>
  );
}

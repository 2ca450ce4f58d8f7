import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { residents } from '../../api/endpoints';
import { Badge, Empty, ErrorBox, Field, Loading } from '../../components/common';
import { formatDateTime, localToday } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { addDays, dayLabel, dutyKind, liaisonApi, mondayOf, type Booking, type Duty } from './api';

interface Picked { id: number; name: string; hint: string }

/** Find a resident by name or ID number and pick one (names and masked ID numbers only). */
function ResidentPick({ value, onPick }: { value: Picked | null; onPick: (p: Picked | null) => void }) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Picked[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const search = async () => {
    setError(null);
    try {
      const page = await residents.search(q.trim());
      setFound(page.items.slice(0, 8).map((r) => ({ id: Number(r.id), name: r.name ?? '居民',
        hint: [r.age != null ? `${r.age}岁` : '', r.id_number_masked ?? '', r.village ?? r.org_name ?? ''].filter(Boolean).join(' · ') })));
    } catch (err) {
      setError(err);
    }
  };
  if (value) {
    return (
      <div className="row" style={{ gap: 8, alignItems: 'center' }}>
        <strong data-testid="picked-resident">{value.name}</strong><span className="muted">{value.hint}</span>
        <button className="btn btn-small" type="button" onClick={() => onPick(null)}>重选</button>
      </div>
    );
  }
  return (
    <div>
      <div className="row" style={{ gap: 8 }}>
        <input value={q} onChange={(e) => setQ(e.target.value)} placeholder="姓名或身份证号" aria-label="查找居民" data-testid="resident-q"
          onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); void search(); } }} />
        <button className="btn btn-small" type="button" onClick={() => void search()} disabled={!q.trim()} data-testid="resident-search">查找</button>
      </div>
      <ErrorBox error={error} />
      {found && (found.length === 0 ? <p className="muted">未找到居民</p> : (
        <ul className="pick-list">
          {found.map((r) => (
            <li key={r.id}>
              <button className="btn btn-block" type="button" onClick={() => onPick(r)} data-testid="resident-option">{r.name} <span className="muted">{r.hint}</span></button>
            </li>
          ))}
        </ul>
      ))}
    </div>
  );
}

/** Booking one slot of a visit: 联合门诊 or 远程会诊 (the consult then follows its own steps). */
function BookForm({ duty, onDone, onClose }: { duty: Duty; onDone: (b: Booking) => void; onClose: () => void }) {
  const [resident, setResident] = useState<Picked | null>(null);
  const [kind, setKind] = useState<'joint_clinic' | 'consult'>('joint_clinic');
  const [reason, setReason] = useState('');
  const [purpose, setPurpose] = useState('');
  const [complaint, setComplaint] = useState('');
  const [diagnosis, setDiagnosis] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!resident) return;
    setBusy(true);
    setError(null);
    try {
      const b = await liaisonApi.book(duty.id, { kind, resident_id: resident.id, reason,
        consult: kind === 'consult' ? { purpose, summary: { chief_complaint: complaint, diagnosis } } : null });
      onDone(b);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card form" onSubmit={submit} data-testid="book-form">
      <h3>预约 {duty.expert_name} · {dayLabel(duty.on_date)}{duty.half_day_label}</h3>
      <Field label="居民"><ResidentPick value={resident} onPick={setResident} /></Field>
      <Field label="预约类型">
        <div className="row" style={{ gap: 8 }} role="radiogroup" aria-label="预约类型">
          {([['joint_clinic', '联合门诊'], ['consult', '远程会诊']] as const).map(([v, l]) => (
            <label key={v} className="choice"><input type="radio" name="kind" checked={kind === v} onChange={() => setKind(v)} data-testid={`kind-${v}`} /> {l}</label>
          ))}
        </div>
      </Field>
      <Field label="预约事由">
        <textarea value={reason} onChange={(e) => setReason(e.target.value)} required maxLength={1000} rows={2} data-testid="book-reason" placeholder="如：血压控制不佳，请专家调整方案" />
      </Field>
      {kind === 'consult' && (
        <>
          <Field label="会诊目的"><input value={purpose} onChange={(e) => setPurpose(e.target.value)} maxLength={1000} /></Field>
          <Field label="主诉"><input value={complaint} onChange={(e) => setComplaint(e.target.value)} maxLength={500} data-testid="book-complaint" /></Field>
          <Field label="目前诊断"><input value={diagnosis} onChange={(e) => setDiagnosis(e.target.value)} maxLength={500} /></Field>
        </>
      )}
      <ErrorBox error={error} />
      <div className="row" style={{ gap: 8 }}>
        <button className="btn btn-primary" type="submit" disabled={busy || !resident} data-testid="book-submit">{busy ? '预约中…' : '确认预约'}</button>
        <button className="btn" type="button" onClick={onClose}>返回</button>
      </div>
    </form>
  );
}

function DutyRow({ d, canBook, onBook }: { d: Duty; canBook: boolean; onBook: (d: Duty) => void }) {
  return (
    <li className="task-card" data-testid="week-duty">
      <div className="task-main">
        <div className="task-title">
          <span>{dayLabel(d.on_date)} {d.half_day_label}</span>
          <Badge kind={dutyKind(d)}>{d.kind === 'on_call' ? '值班' : d.status_label}</Badge>
        </div>
        <div className="task-meta">
          <span>{d.expert_name} · {d.specialty_label}</span>
          {d.kind === 'visit' && d.status !== 'cancelled' && <span data-testid="duty-remaining">剩余号源 {d.remaining}/{d.capacity}</span>}
          {d.note && <span>{d.note}</span>}
          {d.cancel_reason && <span className="text-danger">已取消：{d.cancel_reason}</span>}
        </div>
      </div>
      {canBook && d.bookable && <button className="btn btn-primary btn-small" type="button" onClick={() => onBook(d)} data-testid="book-open">预约</button>}
      {canBook && d.kind === 'visit' && d.status === 'scheduled' && !d.bookable && d.remaining === 0 && <Badge kind="badge-warn">已约满</Badge>}
    </li>
  );
}

/** 本周专家: who the township's county expert is this week, who is on call now, and booking a slot. */
export default function WeekPage() {
  const [params, setParams] = useSearchParams();
  const week = params.get('week') ?? mondayOf(localToday());
  const township = params.get('township') ?? '';
  const data = useAsync(() => liaisonApi.week({ week_start: week, township_code: township || undefined }), [week, township]);
  const mine = useAsync(() => liaisonApi.bookings({ start: addDays(week, -7) }), [week]);
  const [booking, setBooking] = useState<Duty | null>(null);
  const [done, setDone] = useState<Booking | null>(null);
  const go = (w: string) => setParams((p) => { p.set('week', w); return p; }, { replace: true });
  const w = data.data;
  return (
    <div className="page">
      <div className="page-head"><h1>本周专家</h1></div>
      <ErrorBox error={data.error} onRetry={data.reload} />
      {data.loading && !w && <Loading />}
      {w && (
        <>
          <p className="muted" data-testid="week-township">{w.township_name} · {dayLabel(w.week_start)} – {dayLabel(w.week_end)}</p>
          <div className="row" style={{ gap: 8 }}>
            <button className="btn btn-small" type="button" onClick={() => go(addDays(week, -7))}>上一周</button>
            <button className="btn btn-small" type="button" onClick={() => go(mondayOf(localToday()))}>本周</button>
            <button className="btn btn-small" type="button" onClick={() => go(addDays(week, 7))} data-testid="week-next">下一周</button>
          </div>
          <section className="card" data-testid="on-call-now">
            <h2>当前值班专家</h2>
            {w.on_call_now.length === 0 ? <p className="muted">当前无值班专家</p> : w.on_call_now.map((d) => (
              <p key={d.id}><strong>{d.expert_name}</strong> · {d.specialty_label}{d.note ? ` · ${d.note}` : ''}（至 {formatDateTime(d.ends_at)}）</p>
            ))}
          </section>
          <section className="card" data-testid="week-experts">
            <h2>本周下沉专家</h2>
            {w.experts.length === 0 ? <p className="muted">本周暂无专家下沉</p> : w.experts.map((e) => (
              <p key={e.user_id}><strong>{e.name}</strong> · {e.specialty_label} · 本周 {e.duties} 次</p>
            ))}
          </section>
          {done && <div className="notice notice-ok" data-testid="book-done">已预约 {done.resident_name}（{done.kind_label}）{done.consult_id ? '，会诊申请已发起，请在「远程会诊」中完成患者知情同意' : ''}</div>}
          {booking ? (
            <BookForm duty={booking} onClose={() => setBooking(null)}
              onDone={(b) => { setDone(b); setBooking(null); data.reload(); mine.reload(); }} />
          ) : w.duties.length === 0 ? <Empty title="本周暂无排班" /> : (
            <ul className="task-list">{w.duties.map((d) => <DutyRow key={d.id} d={d} canBook={w.can_book} onBook={(x) => { setDone(null); setBooking(x); }} />)}</ul>
          )}
        </>
      )}
      {mine.data && mine.data.items.length > 0 && (
        <section data-testid="my-bookings">
          <h2>预约记录</h2>
          <ul className="task-list">
            {mine.data.items.map((b) => (
              <li key={b.id} className="task-card" data-testid="booking-item">
                <div className="task-main">
                  <div className="task-title"><span>{b.resident_name}</span><Badge kind={b.status === 'cancelled' ? 'badge-danger' : 'badge-ok'}>{b.status_label}</Badge></div>
                  <div className="task-meta"><span>{b.kind_label}</span>{b.on_date && <span>{dayLabel(b.on_date)}{b.half_day_label}</span>}<span>{b.expert_name}</span><span>{b.reason}</span></div>
                </div>
                {b.status === 'booked' && w?.can_book && (
                  <button className="btn btn-small" type="button" onClick={() => void liaisonApi.cancelBooking(b.id).then(() => { mine.reload(); data.reload(); })}>取消预约</button>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

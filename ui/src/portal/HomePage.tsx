/** 居民端主页：计划 | 数据 | 用药宣教 | 我的 (bottom tab bar, phone first). */
import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { homeReadingBody, type HomeReadingDraft } from '../lib/homeReadings';
import {
  CHANNEL_LABELS, PURPOSE_LABELS, portal, PortalError, setToken,
  type Consents, type ConsultStatus, type ContractBrief, type ContractSummary, type EducationItem, type Me, type Medication, type Plan, type Proxy, type Reading, type ReferralStatus, type Slot, type Survey,
} from './api';
import { PortalShell } from './PortalApp';

const Chart = lazy(() => import('../components/Chart'));
type Tab = 'plan' | 'data' | 'meds' | 'mine';
const TABS: [Tab, string][] = [['plan', '计划'], ['data', '数据'], ['meds', '用药宣教'], ['mine', '我的']];

function useLoad<T>(path: string, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(() => {
    portal<T>('GET', path).then((d) => { setData(d); setError(null); }).catch((e: PortalError) => setError(e.message));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [path, ...deps]);
  useEffect(reload, [reload]);
  return { data, error, reload };
}

const day = (v: string | null | undefined) => (v ? new Date(v.length === 10 ? `${v}T00:00:00+08:00` : v).toLocaleDateString('zh-CN') : '—');
const time = (v: string | null | undefined) => (v ? new Date(v).toLocaleString('zh-CN', { hour12: false, month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }) : '—');

const yuan = (fen: number | null | undefined) => `${((fen ?? 0) / 100).toFixed(2)} 元`;

function ContractBlock({ c }: { c: ContractBrief }) {
  return (
    <div>
      <p>
        <strong>{c.status_label}</strong> · {c.team_org_name ?? ''}{c.doctor ? ` · ${c.doctor.name}` : ''}
        {c.starts_on && ` · ${day(c.starts_on)} 至 ${day(c.ends_on)}`}
      </p>
      {c.packages.length > 0 && (
        <ul>{c.packages.map((p) => <li key={p.code}>{p.name}{p.self_fen > 0 ? `（个人支付 ${yuan(p.self_fen)}）` : '（免费）'}</li>)}</ul>
      )}
      {c.ledger.length > 0 && (
        <ul className="p-list" data-testid="contract-ledger">
          {c.ledger.map((i) => (
            <li key={i.name}>{i.name}：已提供 {i.delivered}/{i.quantity} 次{i.next_due_on ? `，下次 ${day(i.next_due_on)}` : ''}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ContractCard() {
  const { data, reload } = useLoad<ContractSummary>('/contract');
  const [msg, setMsg] = useState<string | null>(null);
  if (!data) return null;
  async function ask() {
    try {
      await portal('POST', '/contract', {});
      setMsg('已提交签约申请，家庭医生团队会联系您评估并推荐服务包');
      reload();
    } catch (e) {
      setMsg((e as PortalError).message);
    }
  }
  return (
    <section className="p-card" data-testid="contract">
      <h2>家庭医生签约</h2>
      {data.active && <ContractBlock c={data.active} />}
      {data.pending && <ContractBlock c={data.pending} />}
      {!data.active && !data.pending && <p>您还没有签约家庭医生。签约后可享受基础包和个性化服务包。</p>}
      {data.can_request && (
        <button type="button" className="p-btn p-primary" onClick={() => void ask()}>{data.active ? '申请续约' : '申请签约'}</button>
      )}
      {msg && <p role="status">{msg}</p>}
    </section>
  );
}

function PlanTab() {
  const { data, error, reload } = useLoad<Plan>('/plan');
  const slots = useLoad<{ items: Slot[] }>('/bookings/slots');
  const [choice, setChoice] = useState('');
  const [msg, setMsg] = useState<string | null>(null);
  async function book(e: FormEvent) {
    e.preventDefault();
    const [slot_on, half_day] = choice.split('|');
    try {
      await portal('POST', '/bookings', { slot_on, half_day });
      setMsg('已预约，家庭医生会按时接诊，如需改约会电话联系您');
      reload();
      slots.reload();
    } catch (err) {
      setMsg((err as PortalError).message);
      slots.reload();
    }
  }
  if (error) return <div className="p-alert" role="alert">{error}</div>;
  if (!data) return <p role="status">加载中…</p>;
  return (
    <>
      <section className="p-card" data-testid="doctor">
        <h2>我的家庭医生</h2>
        {data.doctor ? (
          <p>
            {data.doctor.name}（{data.doctor.org_name ?? ''}）
            {data.doctor.phone && <> · <a href={`tel:${data.doctor.phone}`} className="p-tel">{data.doctor.phone}</a></>}
          </p>
        ) : <p>尚未指定家庭医生，请联系村卫生室。</p>}
      </section>
      <ContractCard />
      {(data.risks ?? []).length > 0 && (
        <section className="p-card" data-testid="risks">
          <h2>我的健康风险</h2>
          {(data.risks ?? []).map((r) => (
            <div key={r.disease}>
              <h3>{r.disease_name}：{r.level_label}</h3>
              <p>{r.explanation}</p>
            </div>
          ))}
        </section>
      )}
      {data.plans.length === 0 && <section className="p-card"><p>暂无慢病管理计划。</p></section>}
      {data.plans.map((p) => (
        <section className="p-card" key={p.disease} data-testid={`plan-${p.disease}`}>
          <h2>{p.disease_name}管理计划</h2>
          {p.next_due_on ? (
            <p className={p.overdue ? 'p-warn' : ''} data-testid="next-window">
              下次随访：{day(p.window_from)} 至 {day(p.window_to)}（建议 {day(p.next_due_on)}）{p.overdue && '，已逾期，请尽快联系医生'}
            </p>
          ) : <p>下次随访时间待医生安排。</p>}
          {p.targets.length > 0 && (
            <>
              <h3>控制目标</h3>
              <ul>{p.targets.map((t) => <li key={t.key}>{t.label}：{String(t.value)}</li>)}</ul>
            </>
          )}
          {p.guidance.length > 0 && (
            <>
              <h3>生活指导</h3>
              <ul>{p.guidance.map((g) => <li key={g}>{g}</li>)}</ul>
            </>
          )}
        </section>
      ))}
      <form className="p-card" onSubmit={book} data-testid="booking">
        <h2>预约下次随访</h2>
        {data.booking && <p data-testid="booked">已预约：{day(data.booking.slot_on)} {data.booking.half_day === 'am' ? '上午' : '下午'}</p>}
        {slots.error && <p className="p-alert" role="alert">{slots.error}</p>}
        <label className="p-field">
          <span>村卫生室随访时段（两周内）</span>
          <select value={choice} onChange={(e) => setChoice(e.target.value)} required data-testid="booking-slot">
            <option value="">{slots.data ? '请选择时段' : '正在加载时段…'}</option>
            {(slots.data?.items ?? []).map((s) => (
              <option key={`${s.slot_on}|${s.half_day}`} value={`${s.slot_on}|${s.half_day}`} disabled={s.available === 0 && !s.mine}>
                {s.label}{s.mine ? '（您已预约）' : s.available === 0 ? '（已约满）' : `（余 ${s.available} 个）`}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="p-btn" disabled={!choice}>提交预约</button>
        {msg && <p role="status">{msg}</p>}
      </form>
    </>
  );
}

const ORIGIN_COLOR: Record<string, string> = { clinic: '#1f6feb', self: '#d97706', device: '#059669' };
const ORIGIN_SYMBOL: Record<string, string> = { clinic: 'circle', self: 'triangle', device: 'rect' };

function nowLocal(): string {
  const d = new Date(Date.now() + 8 * 3600 * 1000);
  return d.toISOString().slice(0, 16);
}

function DataTab() {
  const { data, error, reload } = useLoad<{ items: Reading[] }>('/readings');
  const [draft, setDraft] = useState<HomeReadingDraft>({ measured_at: nowLocal(), sbp: '', dbp: '', pulse: '', glucose: '', glucose_kind: '' });
  const [msg, setMsg] = useState<string | null>(null);
  const items = data?.items ?? [];
  const option = useMemo(() => {
    const series = [];
    for (const kind of ['sbp', 'dbp'] as const) {
      series.push({
        name: kind === 'sbp' ? '收缩压' : '舒张压', type: 'line', connectNulls: true,
        data: items.filter((r) => r.kind === kind).map((r) => ({
          value: [r.at, r.value], symbol: ORIGIN_SYMBOL[r.origin], symbolSize: 9,
          itemStyle: { color: ORIGIN_COLOR[r.origin] }, origin: r.origin_label,
        })),
      });
    }
    return {
      grid: { left: 40, right: 12, top: 30, bottom: 30 }, legend: { top: 0 },
      tooltip: { trigger: 'item', formatter: (p: { seriesName: string; data: { value: [string, number]; origin: string } }) => `${p.seriesName} ${p.data.value[1]}（${p.data.origin}）<br/>${time(p.data.value[0])}` },
      xAxis: { type: 'time', axisLabel: { hideOverlap: true, formatter: '{M}/{d}' } }, yAxis: { type: 'value', name: 'mmHg', min: 50 },
      series,
    };
  }, [items]);
  const glucose = items.filter((r) => r.kind === 'fpg' || r.kind === 'glucose');
  const glucoseOption = useMemo(() => ({
    grid: { left: 40, right: 12, top: 30, bottom: 30 }, xAxis: { type: 'time', axisLabel: { hideOverlap: true, formatter: '{M}/{d}' } }, yAxis: { type: 'value', name: 'mmol/L' },
    tooltip: { trigger: 'item' },
    series: [{ name: '血糖', type: 'line', data: glucose.map((r) => ({ value: [r.at, r.value], symbol: ORIGIN_SYMBOL[r.origin], itemStyle: { color: ORIGIN_COLOR[r.origin] } })) }],
  }), [glucose]);

  async function upload(e: FormEvent) {
    e.preventDefault();
    setMsg(null);
    try {
      await portal('POST', '/readings', homeReadingBody(draft, crypto.randomUUID()));
      setMsg('已上传，村医可在您的档案中看到（标注为患者自测）');
      setDraft({ ...draft, sbp: '', dbp: '', pulse: '', glucose: '', glucose_kind: '' });
      reload();
    } catch (err) {
      setMsg((err as PortalError).message);
    }
  }
  const set = (k: keyof HomeReadingDraft) => (e: { target: { value: string } }) => setDraft({ ...draft, [k]: e.target.value } as HomeReadingDraft);

  return (
    <>
      <section className="p-card">
        <h2>血压趋势（近 180 天）</h2>
        <p className="p-legend"><span className="lg clinic">● 诊室</span><span className="lg self">▲ 自测</span><span className="lg device">■ 设备</span></p>
        {error && <div className="p-alert" role="alert">{error}</div>}
        {items.some((r) => r.kind === 'sbp') ? (
          <Suspense fallback={<p>图表加载中…</p>}><Chart option={option} height={240} testId="bp-chart" /></Suspense>
        ) : <p>暂无血压记录</p>}
        {glucose.length > 0 && (
          <>
            <h3>血糖趋势</h3>
            <Suspense fallback={null}><Chart option={glucoseOption} height={200} testId="glucose-chart" /></Suspense>
          </>
        )}
      </section>
      <form className="p-card" onSubmit={upload} data-testid="upload">
        <h2>上传家庭测量</h2>
        <label className="p-field"><span>测量时间</span><input type="datetime-local" value={draft.measured_at} onChange={set('measured_at')} required /></label>
        <div className="p-row">
          <label className="p-field"><span>收缩压</span><input name="sbp" inputMode="numeric" value={draft.sbp} onChange={set('sbp')} /></label>
          <label className="p-field"><span>舒张压</span><input name="dbp" inputMode="numeric" value={draft.dbp} onChange={set('dbp')} /></label>
          <label className="p-field"><span>心率</span><input name="pulse" inputMode="numeric" value={draft.pulse} onChange={set('pulse')} /></label>
        </div>
        <div className="p-row">
          <label className="p-field"><span>血糖 mmol/L</span><input name="glucose" inputMode="decimal" value={draft.glucose} onChange={set('glucose')} /></label>
          <label className="p-field">
            <span>类型</span>
            <select name="glucose_kind" value={draft.glucose_kind} onChange={set('glucose_kind')}><option value="">—</option><option value="fasting">空腹</option><option value="random">随机</option></select>
          </label>
        </div>
        <button type="submit" className="p-btn p-primary">上传</button>
        {msg && <p role="status" data-testid="upload-msg">{msg}</p>}
      </form>
      <section className="p-card">
        <h2>最近记录</h2>
        <ul className="p-list" data-testid="reading-list">
          {[...items].reverse().slice(0, 30).map((r) => (
            <li key={r.id}><span className={`p-tag ${r.origin}`}>{r.origin_label}</span> {r.name} {r.value} {r.unit === 'mm[Hg]' ? 'mmHg' : r.unit} · {time(r.at)}</li>
          ))}
        </ul>
      </section>
    </>
  );
}

function MedsTab() {
  const meds = useLoad<{ items: Medication[] }>('/medications');
  const edu = useLoad<{ items: EducationItem[] }>('/education');
  const [open, setOpen] = useState<EducationItem | null>(null);
  async function read(id: number) {
    try {
      setOpen(await portal<EducationItem>('GET', `/education/${id}`));
      edu.reload();
    } catch (e) {
      setOpen({ id, title: '打开失败', summary: (e as PortalError).message, topic: '', pushed_at: '', read_at: null });
    }
  }
  return (
    <>
      <section className="p-card" data-testid="medications">
        <h2>正在使用的药物</h2>
        {meds.error && <div className="p-alert">{meds.error}</div>}
        {meds.data && meds.data.items.length === 0 && <p>暂无用药记录</p>}
        <ul>{meds.data?.items.map((m) => <li key={m.id}>{m.name} {m.dose ?? ''} {m.frequency ?? ''}</li>)}</ul>
        <p className="p-hint">请按医嘱服药，不要自行停药或改量；有疑问请联系家庭医生。</p>
      </section>
      <section className="p-card" data-testid="education">
        <h2>健康宣教</h2>
        {edu.data && edu.data.items.length === 0 && <p>暂无宣教内容</p>}
        <ul className="p-list">
          {edu.data?.items.map((i) => (
            <li key={i.id}>
              <button type="button" className="p-link" onClick={() => void read(i.id)}>{i.title}</button>
              <span className={i.read_at ? 'p-tag read' : 'p-tag unread'}>{i.read_at ? '已读' : '未读'}</span>
            </li>
          ))}
        </ul>
        {open && (
          <article className="p-article" data-testid="education-open">
            <h3>{open.title}</h3>
            <p>{open.body ?? open.summary}</p>
            <button type="button" className="p-btn" onClick={() => setOpen(null)}>收起</button>
          </article>
        )}
      </section>
    </>
  );
}

function MineTab({ me, onSignedOut }: { me: Me; onSignedOut: () => void }) {
  const refs = useLoad<{ items: ReferralStatus[] }>('/referrals');
  const consults = useLoad<{ items: ConsultStatus[] }>('/consults');
  const consents = useLoad<Consents>('/consents');
  const proxies = useLoad<{ items: Proxy[] }>(me.proxy ? '/session' : '/proxies');
  const surveys = useLoad<{ items: Survey[] }>('/surveys');
  const [msg, setMsg] = useState<string | null>(null);
  const [scores, setScores] = useState<Record<string, number>>({});

  async function decide(purpose: string, channel: string, granted: boolean) {
    try {
      await portal('POST', '/consents', { purpose, channel, granted });
      consents.reload();
    } catch (e) {
      setMsg((e as PortalError).message);
    }
  }
  async function proxyAction(id: number, action: string) {
    try {
      await portal('POST', `/proxies/${id}/decision`, { action });
      proxies.reload();
    } catch (e) {
      setMsg((e as PortalError).message);
    }
  }
  async function answer(s: Survey) {
    const overall = scores[`${s.code}:overall`];
    if (!overall) {
      setMsg('请先为总体满意度打分');
      return;
    }
    const answers = Object.fromEntries(s.questions.filter((q) => scores[`${s.code}:${q.key}`]).map((q) => [q.key, scores[`${s.code}:${q.key}`]]));
    try {
      await portal('POST', '/surveys', { code: s.code, overall, answers });
      surveys.reload();
    } catch (e) {
      setMsg((e as PortalError).message);
    }
  }
  async function signOut() {
    await portal('DELETE', '/session').catch(() => undefined);
    setToken(null);
    onSignedOut();
  }
  const stars = (key: string) => (
    <span className="p-stars">
      {[1, 2, 3, 4, 5].map((n) => (
        <button type="button" key={n} aria-label={`${n} 分`} className={scores[key] >= n ? 'on' : ''} onClick={() => setScores({ ...scores, [key]: n })}>★</button>
      ))}
    </span>
  );

  return (
    <>
      {msg && <div className="p-alert" role="alert">{msg}</div>}
      <section className="p-card" data-testid="referrals">
        <h2>转诊与会诊进度</h2>
        {refs.data && refs.data.items.length === 0 && (consults.data?.items ?? []).length === 0 && <p>暂无转诊或会诊</p>}
        <ul className="p-list">
          {refs.data?.items.map((r) => (
            <li key={r.id}>
              <strong>{r.direction_label} · {r.step_label}</strong> {r.hospital ?? ''}
              <div className="p-meta">提交 {time(r.requested_at)}{r.accepted_at && ` · 接收 ${time(r.accepted_at)}`}{r.arrived_at && ` · 就诊 ${time(r.arrived_at)}`}{r.returned_at && ` · 回转 ${time(r.returned_at)}`}</div>
            </li>
          ))}
          {consults.data?.items.map((c) => (
            <li key={`c${c.id}`} data-testid="consult-status">
              <strong>远程会诊 · {c.step_label}</strong> {c.specialty} {c.hospital ?? ''}
              <div className="p-meta">申请 {time(c.requested_at)}{c.scheduled_at && ` · 会诊时间 ${time(c.scheduled_at)}`}{c.reported_at && ` · 报告 ${time(c.reported_at)}`}</div>
            </li>
          ))}
        </ul>
      </section>
      {!me.proxy && (
        <section className="p-card" data-testid="consents">
          <h2>授权管理</h2>
          <ul className="p-list">
            {consents.data?.items.map((c) => (
              <li key={`${c.purpose}:${c.channel}`} data-testid={`consent-${c.purpose}-${c.channel}`}>
                <div><strong>{PURPOSE_LABELS[c.purpose] ?? c.title}</strong> · {CHANNEL_LABELS[c.channel] ?? c.channel}</div>
                <div className="p-meta">{c.granted ? `已同意（${c.version}，${time(c.recorded_at)}）` : c.decided ? `已撤回（${time(c.recorded_at)}）` : '未授权'}</div>
                {c.granted ? (
                  <button type="button" className="p-btn p-small" onClick={() => void decide(c.purpose, c.channel, false)}>撤回</button>
                ) : (
                  <button type="button" className="p-btn p-small" onClick={() => void decide(c.purpose, c.channel, true)}>同意</button>
                )}
              </li>
            ))}
          </ul>
          <details>
            <summary>授权记录</summary>
            <ul className="p-list">
              {consents.data?.history.map((h) => (
                <li key={h.id} className="p-meta">{time(h.recorded_at)} {PURPOSE_LABELS[h.purpose]} · {CHANNEL_LABELS[h.channel]} {h.granted ? '同意' : '撤回'}（{h.version}{h.guardian_name ? `，监护人 ${h.guardian_name}` : ''}）</li>
              ))}
            </ul>
          </details>
        </section>
      )}
      {!me.proxy && (
        <section className="p-card" data-testid="proxies">
          <h2>家属代办</h2>
          <p className="p-hint">家属可在居民端申请代办，经您同意后可查看您的信息，每次查看都会记录；您可随时撤销。</p>
          {(proxies.data?.items ?? []).length === 0 && <p>暂无家属申请</p>}
          <ul className="p-list">
            {proxies.data?.items?.map((p) => (
              <li key={p.id} data-testid={`proxy-${p.id}`}>
                {p.name}（{p.relation}，{p.phone_hint}）· <span className="p-status">{{ pending: '待同意', approved: '已同意', revoked: '已撤销', declined: '已拒绝' }[p.status] ?? p.status}</span>
                {p.status === 'pending' && (
                  <>
                    <button type="button" className="p-btn p-small p-primary" onClick={() => void proxyAction(p.id, 'approve')}>同意</button>
                    <button type="button" className="p-btn p-small" onClick={() => void proxyAction(p.id, 'decline')}>拒绝</button>
                  </>
                )}
                {p.status === 'approved' && <button type="button" className="p-btn p-small" onClick={() => void proxyAction(p.id, 'revoke')}>撤销</button>}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section className="p-card" data-testid="surveys">
        <h2>满意度评价</h2>
        {surveys.data?.items.map((s) => (
          <div key={s.code}>
            <h3>{s.title}</h3>
            {s.answered_at ? <p>已评价，感谢您的反馈。</p> : (
              <>
                <div>总体满意度 {stars(`${s.code}:overall`)}</div>
                {s.questions.map((q) => <div key={q.key}>{q.text} {stars(`${s.code}:${q.key}`)}</div>)}
                <button type="button" className="p-btn" onClick={() => void answer(s)}>提交评价</button>
              </>
            )}
          </div>
        ))}
      </section>
      <button type="button" className="p-btn" onClick={() => void signOut()}>退出登录</button>
    </>
  );
}

export default function HomePage({ me, onSignedOut }: { me: Me; onSignedOut: () => void }) {
  const [tab, setTab] = useState<Tab>('plan');
  return (
    <PortalShell title={me.proxy ? `${me.proxy.name}（家属代办）· ${me.resident_name}` : `${me.resident_name}的健康`}>
      <div className="p-tabpanel" data-testid={`tab-${tab}`}>
        {tab === 'plan' && <PlanTab />}
        {tab === 'data' && <DataTab />}
        {tab === 'meds' && <MedsTab />}
        {tab === 'mine' && <MineTab me={me} onSignedOut={onSignedOut} />}
      </div>
      <nav className="p-tabbar" aria-label="居民端导航">
        {TABS.map(([key, label]) => (
          <button type="button" key={key} className={tab === key ? 'active' : ''} aria-current={tab === key ? 'page' : undefined} onClick={() => setTab(key)}>{label}</button>
        ))}
      </nav>
    </PortalShell>
  );
}

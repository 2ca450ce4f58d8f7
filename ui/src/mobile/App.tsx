/**
 * 村医随访: the village doctor's offline app at /m/ (issue 22.2; docs/mobile.md "Client").
 * Login (online) → PIN → packet downloaded → works with the network off → the outbox lands on reconnect.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import type { RJSFSchema, UiSchema } from '@rjsf/utils';
import TaskForm from '../components/form/TaskForm';
import { ApiError } from '../api/client';
import { auth } from '../api/endpoints';
import { uuid } from '../lib/useAsync';
import { MobileApi, isoLocal, type CompletionBody, type PacketResident, type PacketSchema, type PacketTask } from './api';
import { WrongPinError, pinProblem } from './crypto';
import {
  ACTION_HINTS, ACTION_LABELS, conflictActions, conflictText, invalidText, lastSyncLabel, resolutionText,
} from './conflicts';
import { STATE_LABELS, discard, resolutionsOf, resolveConflict, type OutboxItem } from './outbox';
import { upgradeDraft, upgradeNotice } from './upgrade';
import { hasReadings, prefillForm, readingProblems, toObservations, type Readings } from './readings';
import { MobileStore, type VaultOwner } from './store';
import { syncOnce, type SyncOutcome } from './sync';
import { BleButton, bleEnabled } from './ble';

const MAX_PIN_TRIES = 5;
/** back in front after this long in the background: ask for the PIN again */
const AUTO_LOCK_MS = 5 * 60_000;

let onUpdate: (() => void) | null = null;
let updateListener: ((ready: boolean) => void) | null = null;
/** main.tsx: a new version of the app is waiting; `apply` activates it (reloads). */
export function setUpdateHandler(apply: () => void): void {
  onUpdate = apply;
  updateListener?.(true);
}

type Screen = 'boot' | 'login' | 'pin-set' | 'unlock' | 'app';

interface Me {
  id?: number;
  username?: string;
  display_name?: string;
}

function useHashRoute(): [string, (to: string) => void] {
  const [hash, setHash] = useState(() => window.location.hash.replace(/^#/, '') || '/');
  useEffect(() => {
    const on = () => setHash(window.location.hash.replace(/^#/, '') || '/');
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return [hash, (to: string) => { window.location.hash = to; }];
}

export default function App() {
  const store = useMemo(() => new MobileStore(), []);
  const [screen, setScreen] = useState<Screen>('boot');
  const [notice, setNotice] = useState<string | null>(null);
  const [owner, setOwner] = useState<VaultOwner | null>(null);
  const [deviceId, setDeviceId] = useState<string | null>(null);

  const boot = useCallback(async () => {
    let id = await store.getMeta<string>('device_id');
    if (!id) {
      id = uuid();
      await store.setMeta('device_id', id);
    }
    setDeviceId(id);
    const o = await store.owner();
    setOwner(o ?? null);
    setScreen(store.unlocked ? 'app' : (await store.hasVault()) ? 'unlock' : 'login');
  }, [store]);

  useEffect(() => {
    void boot();
  }, [boot]);

  const wiped = useCallback(async (message: string) => {
    await store.wipe();
    setNotice(message);
    await boot();
  }, [store, boot]);

  if (screen === 'boot' || !deviceId) return <Shell><p className="muted center">正在打开…</p></Shell>;
  if (screen === 'login') {
    return (
      <LoginScreen
        notice={notice}
        onDone={async (me) => {
          setNotice(null);
          const o = await store.owner();
          if (o && String(o.user_id) !== String(me.id)) {
            const n = await store.pendingCount();
            const ok = window.confirm(n
              ? `本机还有 ${n} 条 ${o.display_name} 未同步的记录。继续登录将删除它们，确定吗？`
              : `本机数据属于 ${o.display_name}，继续将清除后重新下载，确定吗？`);
            if (!ok) return;
            await store.wipe();
            await boot();
          }
          setOwner({ user_id: me.id ?? '', username: me.username ?? '', display_name: me.display_name ?? '' });
          setScreen(store.unlocked ? 'app' : (await store.hasVault()) ? 'unlock' : 'pin-set');
        }}
      />
    );
  }
  if (screen === 'pin-set') {
    return <PinSetScreen onSet={async (pin) => {
      await store.create(pin, owner!);
      setScreen('app');
    }} />;
  }
  if (screen === 'unlock') {
    return <UnlockScreen store={store} owner={owner} onUnlocked={() => setScreen('app')}
      onWiped={() => void wiped('PIN 连续输错 5 次，本机数据已清除。请联网重新登录。')}
      onSwitch={() => setScreen('login')} />;
  }
  return (
    <Main
      store={store}
      api={new MobileApi(deviceId)}
      owner={owner}
      onRevoked={() => void wiped('此设备已被停用（例如手机挂失），本机的随访数据已清除。如有疑问请联系县医共体管理员。')}
      onLogin={() => setScreen('login')}
      onLock={() => {
        store.lock();
        setScreen('unlock');
      }}
      onLogout={async () => {
        const n = await store.pendingCount();
        if (n && !window.confirm(`还有 ${n} 条记录未发送，退出将删除它们。确定退出吗？`)) return;
        try {
          await auth.logout();
        } catch {
          /* offline: the session ends with the wipe */
        }
        await wiped('已退出，本机数据已清除。');
      }}
    />
  );
}

function Shell({ children, title = '村医随访' }: { children: ReactNode; title?: string }) {
  return (
    <div className="m-shell">
      <header className="m-header"><h1>{title}</h1></header>
      <main className="m-main">{children}</main>
    </div>
  );
}

function LoginScreen({ notice, onDone }: { notice: string | null; onDone: (me: Me) => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.login(username.trim(), password);
      const me = (await auth.me()) as Me;
      void navigator.storage?.persist?.();
      onDone(me);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : '登录失败');
    } finally {
      setBusy(false);
    }
  };
  return (
    <Shell>
      {notice ? <p className="m-alert" role="status">{notice}</p> : null}
      <form className="m-card m-stack" onSubmit={submit}>
        <h2>登录</h2>
        <p className="muted">首次使用需联网登录；之后没有网络也能办理随访。</p>
        <label className="m-field">用户名<input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required /></label>
        <label className="m-field">密码<input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required /></label>
        {error ? <p className="m-error" role="alert">{error}</p> : null}
        <button className="m-btn m-btn-primary" type="submit" disabled={busy}>{busy ? '正在登录…' : '登录'}</button>
      </form>
    </Shell>
  );
}

function PinInput({ label, value, onChange, name }: { label: string; value: string; onChange: (v: string) => void; name: string }) {
  return (
    <label className="m-field">
      {label}
      <input name={name} type="password" inputMode="numeric" autoComplete="off" maxLength={6} pattern="\d*" value={value}
        onChange={(e) => onChange(e.target.value.replace(/\D/g, ''))} />
    </label>
  );
}

function PinSetScreen({ onSet }: { onSet: (pin: string) => Promise<void> }) {
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const p = pinProblem(a);
    if (p) return setError(p);
    if (a !== b) return setError('两次输入的 PIN 不一致');
    setBusy(true);
    try {
      await onSet(a);
    } catch (err) {
      setError(err instanceof Error ? err.message : '设置失败');
      setBusy(false);
    }
  };
  return (
    <Shell>
      <form className="m-card m-stack" onSubmit={submit}>
        <h2>设置 PIN</h2>
        <p className="muted">本机保存的居民资料用 PIN 加密。每次打开应用时输入；连续输错 {MAX_PIN_TRIES} 次将清除本机数据。</p>
        <PinInput name="pin" label="6 位数字 PIN" value={a} onChange={setA} />
        <PinInput name="pin2" label="再输入一次" value={b} onChange={setB} />
        {error ? <p className="m-error" role="alert">{error}</p> : null}
        <button className="m-btn m-btn-primary" type="submit" disabled={busy}>{busy ? '正在加密…' : '确定'}</button>
      </form>
    </Shell>
  );
}

function UnlockScreen({ store, owner, onUnlocked, onWiped, onSwitch }: {
  store: MobileStore; owner: VaultOwner | null; onUnlocked: () => void; onWiped: () => void; onSwitch: () => void;
}) {
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await store.unlock(pin);
      await store.setMeta('pin_failures', 0);
      onUnlocked();
    } catch (err) {
      if (!(err instanceof WrongPinError)) {
        setError(err instanceof Error ? err.message : '无法解锁');
      } else {
        const n = ((await store.getMeta<number>('pin_failures')) ?? 0) + 1;
        await store.setMeta('pin_failures', n);
        if (n >= MAX_PIN_TRIES) return onWiped();
        setError(`PIN 不正确，还可尝试 ${MAX_PIN_TRIES - n} 次`);
      }
      setPin('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <Shell>
      <form className="m-card m-stack" onSubmit={submit}>
        <h2>输入 PIN</h2>
        {owner ? <p className="muted">{owner.display_name}，请输入 PIN 打开本机数据。</p> : null}
        <PinInput name="pin" label="PIN" value={pin} onChange={setPin} />
        {error ? <p className="m-error" role="alert">{error}</p> : null}
        <button className="m-btn m-btn-primary" type="submit" disabled={busy || pin.length !== 6}>{busy ? '正在解锁…' : '解锁'}</button>
        <button className="m-btn m-btn-link" type="button" onClick={onSwitch}>换一个账号登录</button>
      </form>
    </Shell>
  );
}

interface SyncState {
  syncing: boolean;
  online: boolean;
  lastSync: string | null;
  needLogin: boolean;
  error: string | null;
}

type TaskView = PacketTask & { task_id: string };

function Main({ store, api, owner, onRevoked, onLogin, onLock, onLogout }: {
  store: MobileStore; api: MobileApi; owner: VaultOwner | null; onRevoked: () => void; onLogin: () => void;
  onLock: () => void; onLogout: () => void;
}) {
  const [route, go] = useHashRoute();
  const [tasks, setTasks] = useState<TaskView[]>([]);
  const [outbox, setOutbox] = useState<OutboxItem[]>([]);
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const [sync, setSync] = useState<SyncState>({ syncing: false, online: navigator.onLine, lastSync: null, needLogin: false, error: null });
  const [toast, setToast] = useState<string | null>(null);
  const [updateReady, setUpdateReady] = useState(onUpdate !== null);
  const running = useRef(false);

  useEffect(() => {
    updateListener = setUpdateReady;
    return () => { updateListener = null; };
  }, []);

  const reload = useCallback(async () => {
    setTasks((await store.tasks<PacketTask>()).map((t) => ({ ...t, task_id: String(t.id) })));
    setOutbox(await store.outbox());
    setNames(new Map((await store.residents<PacketResident>()).map((r) => [String(r.id), r.name])));
    const last = await store.getMeta<string>('last_sync');
    setSync((s) => ({ ...s, lastSync: last ?? null }));
  }, [store]);

  const syncNow = useCallback(async () => {
    if (running.current) return;
    running.current = true;
    setSync((s) => ({ ...s, syncing: true, error: null }));
    let out: SyncOutcome;
    try {
      out = await syncOnce(store, api);
    } catch (e) {
      out = { kind: 'error', message: e instanceof Error ? e.message : String(e) };
    } finally {
      running.current = false;
    }
    if (out.kind === 'revoked') return onRevoked();
    if (out.kind === 'synced' && out.flush.delivered + out.flush.conflicts + out.flush.invalid > 0) setToast(null);
    setSync((s) => ({
      ...s,
      syncing: false,
      online: out.kind !== 'offline',
      needLogin: out.kind === 'unauthorized',
      error: out.kind === 'error' ? out.message : null,
      lastSync: out.kind === 'synced' ? out.at : s.lastSync,
    }));
    await reload();
  }, [store, api, onRevoked, reload]);

  // flush on start, on reconnect, when the app comes back to the front, and every minute while open
  useEffect(() => {
    void reload().then(syncNow);
    const online = () => void syncNow();
    const offline = () => setSync((s) => ({ ...s, online: false }));
    const visible = () => { if (document.visibilityState === 'visible') void syncNow(); };
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    document.addEventListener('visibilitychange', visible);
    const timer = window.setInterval(() => { if (document.visibilityState === 'visible') void syncNow(); }, 60_000);
    return () => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      document.removeEventListener('visibilitychange', visible);
      window.clearInterval(timer);
    };
  }, [reload, syncNow]);

  // auto-lock: a phone left in a pocket with the app open does not stay open
  useEffect(() => {
    let hiddenAt = 0;
    const on = () => {
      if (document.visibilityState === 'hidden') hiddenAt = Date.now();
      else if (hiddenAt && Date.now() - hiddenAt > AUTO_LOCK_MS) onLock();
    };
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, [onLock]);

  const byTask = useMemo(() => {
    const m = new Map<string, OutboxItem>();
    for (const i of outbox) if (i.kind === 'completion' && i.state !== 'discarded') m.set(String((i.body as CompletionBody).task_id), i);
    return m;
  }, [outbox]);

  const pending = outbox.filter((i) => i.state === 'queued' || i.state === 'sending').length;
  // a conflict or a 422 waiting for the doctor, or a choice of theirs the server did not accept (shown in its card)
  const needsPerson = outbox.filter((i) => (i.state === 'conflict' || i.state === 'invalid')
    && !(i.kind === 'resolution' && (i.body as { action?: string }).action === 'discard')).length;
  const taskMatch = route.match(/^\/task\/(\d+)$/);

  let body: ReactNode;
  if (taskMatch) {
    const t = tasks.find((x) => x.task_id === taskMatch[1]);
    body = t ? (
      <TaskScreen key={t.task_id} store={store} task={t} done={byTask.get(t.task_id)} onBack={() => go('/')}
        onQueued={async (msg) => {
          setToast(msg);
          go('/');
          await reload();
          void syncNow();
        }} />
    ) : <p className="m-card">该随访已不在本机（可能已同步完成）。<button className="m-btn" onClick={() => go('/')}>返回列表</button></p>;
  } else if (route === '/sync') {
    body = <OutboxScreen store={store} items={outbox} onChanged={async () => { await reload(); void syncNow(); }}
      onBack={() => go('/')} onOpen={(id) => go(`/task/${id}`)} />;
  } else {
    body = <TaskList tasks={tasks} names={names} byTask={byTask} onOpen={(id) => { setToast(null); go(`/task/${id}`); }} />;
  }

  return (
    <div className="m-shell">
      <header className="m-header">
        <h1>村医随访</h1>
        <span className="m-user" data-testid="m-user">{owner?.display_name}</span>
      </header>
      <section className={`m-syncbar ${sync.online ? '' : 'is-offline'}`} aria-label="同步状态" data-testid="syncbar">
        <span className="m-net" data-testid="net">{sync.online ? '在线' : '离线'}</span>
        <span data-testid="last-sync">{lastSyncLabel(sync.lastSync)}</span>
        {pending ? <span className="m-pending" data-testid="pending">{pending} 条待发送</span> : null}
        <button className="m-btn m-btn-small" onClick={() => void syncNow()} disabled={sync.syncing} data-testid="sync-now">
          {sync.syncing ? '同步中…' : '立即同步'}
        </button>
      </section>
      {sync.needLogin ? (
        <p className="m-alert" role="alert">登录已过期。已录入的内容保存在本机，不会丢失；联网后请
          <button className="m-btn m-btn-link" onClick={onLogin}>重新登录</button></p>
      ) : null}
      {sync.error ? <p className="m-alert" role="alert">{sync.error}</p> : null}
      {updateReady ? <p className="m-alert">有新版本。<button className="m-btn m-btn-link" onClick={() => onUpdate?.()}>更新</button></p> : null}
      {needsPerson ? (
        <p className="m-alert m-alert-danger" role="alert" data-testid="conflict-banner">
          {needsPerson} 条提交未被接受，需要您处理。<button className="m-btn m-btn-link" onClick={() => go('/sync')}>查看</button>
        </p>
      ) : null}
      {toast ? <p className="m-toast" role="status" data-testid="toast">{toast}</p> : null}
      <main className="m-main">{body}</main>
      <nav className="m-nav" aria-label="导航">
        <button className={`m-tab ${!taskMatch && route !== '/sync' ? 'is-active' : ''}`} onClick={() => go('/')}>随访任务</button>
        <button className={`m-tab ${route === '/sync' ? 'is-active' : ''}`} onClick={() => { setToast(null); go('/sync'); }} data-testid="tab-sync">
          同步记录{needsPerson ? ` (${needsPerson})` : ''}
        </button>
        <button className="m-tab" onClick={onLock}>锁定</button>
        <button className="m-tab" onClick={onLogout}>退出</button>
      </nav>
    </div>
  );
}

function dueLabel(due: string | null | undefined): string {
  if (!due) return '';
  const d = new Date(due);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getMonth() + 1}月${d.getDate()}日前`;
}

function TaskList({ tasks, names, byTask, onOpen }: {
  tasks: TaskView[]; names: Map<string, string>; byTask: Map<string, OutboxItem>; onOpen: (id: string) => void;
}) {
  if (!tasks.length) return <p className="m-card muted" data-testid="no-tasks">没有待办的随访。</p>;
  return (
    <ul className="m-list" data-testid="task-list">
      {tasks.map((t) => {
        const local = byTask.get(t.task_id);
        return (
          <li key={t.task_id}>
            <button className="m-item" onClick={() => onOpen(t.task_id)} data-testid="m-task" data-task-id={t.task_id}>
              <span className="m-item-title" data-testid="m-task-resident">{names.get(String(t.resident_id)) ?? '居民'} · {t.name}</span>
              <span className="m-item-meta">
                {t.overdue ? <span className="m-chip m-chip-danger">已超期</span> : null}
                {dueLabel(t.due_at)}
                {t.risk_level ? ` · ${t.risk_level}` : ''}
                {local ? <span className={`m-chip m-state-${local.state}`} data-testid="m-task-state">已填写 · {STATE_LABELS[local.state]}</span> : null}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function ResidentCard({ r }: { r: PacketResident }) {
  const sex = r.sex === 'M' ? '男' : r.sex === 'F' ? '女' : '';
  const labels: Record<string, string> = { '8480-6': '收缩压', '8462-4': '舒张压', '8867-4': '心率', '1558-6': '空腹血糖', '2339-0': '随机血糖', '4548-4': '糖化血红蛋白', '29463-7': '体重' };
  return (
    <section className="m-card" aria-label="居民">
      <h2 data-testid="resident-name">{r.name}</h2>
      <p className="muted">{[sex, r.age != null ? `${r.age}岁` : '', r.org_name ?? ''].filter(Boolean).join(' · ')}</p>
      {r.medications?.length ? <p>用药：{r.medications.map((m) => [m.drug, m.dose, m.frequency].filter(Boolean).join(' ')).join('；')}</p> : null}
      {r.latest?.length ? (
        <p className="muted">最近：{r.latest.filter((l) => labels[l.code]).map((l) => `${labels[l.code]} ${l.value}`).join('，')}</p>
      ) : null}
    </section>
  );
}

function num(v: string): number | null {
  if (v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

function ReadingsCard({ readings, onChange, problems }: { readings: Readings; onChange: (r: Readings) => void; problems: Record<string, string> }) {
  const field = (k: 'sbp' | 'dbp' | 'pulse' | 'glucose', label: string, unit: string, step = '1') => (
    <label className="m-field m-field-inline">
      <span>{label}</span>
      <input name={`reading_${k}`} type="number" inputMode="decimal" step={step} value={readings[k] ?? ''}
        onChange={(e) => onChange({ ...readings, [k]: num(e.target.value), device_serial: null })} aria-invalid={!!problems[k]} />
      <span className="muted">{unit}</span>
      {problems[k] ? <span className="m-error">{problems[k]}</span> : null}
    </label>
  );
  return (
    <section className="m-card" aria-label="测量值">
      <h2>本次测量</h2>
      <p className="muted">测量值单独保存到居民档案，即使随访提交遇到冲突也不会丢失；表单中有对应栏目时自动填入。</p>
      {field('sbp', '收缩压', 'mmHg')}
      {field('dbp', '舒张压', 'mmHg')}
      {field('pulse', '心率', '次/分')}
      {field('glucose', '空腹血糖', 'mmol/L', '0.1')}
      {bleEnabled() ? <BleButton onReading={(r) => onChange({ ...readings, ...r })} /> : null}
      {readings.device_serial ? <p className="muted">来自蓝牙设备 {readings.device_serial}</p> : null}
    </section>
  );
}

function TaskScreen({ store, task, done, onBack, onQueued }: {
  store: MobileStore; task: TaskView; done?: OutboxItem; onBack: () => void; onQueued: (msg: string) => void;
}) {
  const [resident, setResident] = useState<PacketResident | null>(null);
  const [schema, setSchema] = useState<PacketSchema | null | undefined>(undefined);
  const [readings, setReadings] = useState<Readings>({});
  const [data, setData] = useState<unknown>(task.data ?? {});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const [draftLoaded, setDraftLoaded] = useState(false);
  const [upgraded, setUpgraded] = useState<string | null>(null);
  useEffect(() => {
    void (async () => {
      if (task.resident_id != null) setResident((await store.resident<PacketResident>(task.resident_id)) ?? null);
      const form = task.schema_ref ? (await store.schema<PacketSchema>(task.schema_ref)) ?? null : null;
      const draft = await store.draft<{ data: unknown; readings: Readings; form_version?: string | null }>(task.task_id);
      if (draft) {
        // filled under a form version that has since been retired: carry what still fits, say what was dropped
        if (form && draft.form_version && task.form_version && draft.form_version !== task.form_version) {
          const u = upgradeDraft(form.schema as never, draft.data);
          setData(u.data);
          setUpgraded(upgradeNotice(u));
        } else {
          setData(draft.data);
        }
        setReadings(draft.readings ?? {});
      }
      setDraftLoaded(true);
      setSchema(form);
    })();
  }, [store, task]);

  // keep what is typed (sealed) so a lock, a restart or a flat battery loses nothing
  useEffect(() => {
    if (!draftLoaded) return;
    const timer = window.setTimeout(() => void store.saveDraft(task.task_id, { data, readings, form_version: task.form_version }), 400);
    return () => window.clearTimeout(timer);
  }, [store, task.task_id, task.form_version, data, readings, draftLoaded]);

  const problems = readingProblems(readings);
  const changeReadings = (r: Readings) => {
    setReadings(r);
    if (schema && !Object.keys(readingProblems(r)).length) setData((d: unknown) => prefillForm(schema.schema as never, d, r));
  };

  const enqueueReadings = async (completion: boolean, formData?: unknown) => {
    if (Object.keys(problems).length) return setError('请先改正测量值');
    if (task.resident_id == null) return setError('该任务没有关联居民');
    setBusy(true);
    setError(null);
    try {
      const at = isoLocal();
      const observations = hasReadings(readings) ? toObservations(readings, task.resident_id, at, task.id) : [];
      const title = `${resident?.name ?? '居民'} · ${task.name}`;
      if (completion) {
        const body: CompletionBody = {
          completion_id: uuid(), task_id: task.id, etag: task.etag, form_version: task.form_version,
          data: formData, observations, completed_at_device: at,
        };
        await store.enqueue({ id: body.completion_id, kind: 'completion', state: 'queued', created_at: at, next_at: 0, attempts: 0,
          resident_id: task.resident_id, title, body });
        await store.removeDraft(task.task_id);
        onQueued(`已保存：${title}。${navigator.onLine ? '正在发送…' : '联网后自动发送。'}`);
      } else {
        if (!observations.length) return setError('请先填写测量值');
        const id = uuid();
        await store.enqueue({ id, kind: 'observations', state: 'queued', created_at: at, next_at: 0, attempts: 0,
          resident_id: task.resident_id, title: `${resident?.name ?? '居民'} · 测量值`, body: { observations } });
        await store.saveDraft(task.task_id, { data, readings: {}, form_version: task.form_version });
        onQueued(`测量值已保存：${resident?.name ?? '居民'}。`);
      }
    } catch (e) {
      setError(e instanceof Error ? e.message : '保存失败');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="m-stack">
      <button className="m-btn m-btn-link m-back" onClick={onBack}>‹ 返回列表</button>
      <h2 className="m-title" data-testid="task-title">{task.name}</h2>
      {task.instructions ? <p className="muted">{task.instructions}</p> : null}
      {resident ? <ResidentCard r={resident} /> : null}
      {done ? (
        <p className="m-alert" data-testid="already-filled">本随访已填写（{STATE_LABELS[done.state]}），无需再填。</p>
      ) : (
        <>
          {upgraded ? <p className="m-alert" role="status" data-testid="draft-upgraded">{upgraded}</p> : null}
          <ReadingsCard readings={readings} onChange={changeReadings} problems={problems} />
          <button className="m-btn" onClick={() => void enqueueReadings(false)} disabled={busy} data-testid="save-readings">只保存测量值</button>
          <section className="m-card" aria-label="随访表单">
            {schema === undefined ? <p className="muted">正在打开表单…</p> : schema === null ? (
              <p className="m-error">本机没有该随访的表单，请联网同步后再填写。</p>
            ) : (
              <TaskForm schema={schema.schema as RJSFSchema} uiSchema={schema.ui_schema as UiSchema} formData={data}
                onChange={setData} onSubmit={(d) => void enqueueReadings(true, d)} disabled={busy}>
                {error ? <p className="m-error" role="alert">{error}</p> : null}
                <button type="submit" className="m-btn m-btn-primary m-submit" disabled={busy} data-testid="m-complete">完成随访</button>
              </TaskForm>
            )}
          </section>
        </>
      )}
    </div>
  );
}

function OutboxScreen({ store, items, onChanged, onBack, onOpen }: {
  store: MobileStore; items: OutboxItem[]; onChanged: () => void; onBack: () => void; onOpen: (taskId: string) => void;
}) {
  const list = [...items].filter((i) => i.state !== 'discarded' && i.kind !== 'resolution').sort((a, b) => b.seq - a.seq);
  const choose = async (i: OutboxItem, action: 'attach_as_note' | 'record_visit' | 'discard') => {
    const label = action === 'discard' ? '放弃' : ACTION_LABELS[action];
    await resolveConflict(store, i.id, action, isoLocal(), `${i.title} · ${label}`);
    onChanged();
  };
  // reopen the visit with what was entered (the task screen upgrades it to the new form if the form changed)
  const refill = async (i: OutboxItem) => {
    const body = i.body as CompletionBody;
    await store.saveDraft(String(body.task_id), { data: body.data, readings: {}, form_version: body.form_version });
    await resolveConflict(store, i.id, 'discard', isoLocal(), `${i.title} · 重新填写`);
    onChanged();
    onOpen(String(body.task_id));
  };
  return (
    <div className="m-stack">
      <button className="m-btn m-btn-link m-back" onClick={onBack}>‹ 返回列表</button>
      <h2 className="m-title">同步记录</h2>
      {!list.length ? <p className="m-card muted">还没有离线提交的记录。</p> : null}
      <ul className="m-list" data-testid="outbox">
        {list.map((i) => {
          const reason = i.result?.reason;
          const text = i.state === 'conflict' || i.state === 'resolved' ? conflictText(reason, i.result?.detail, i.result?.message)
            : i.state === 'invalid' ? invalidText(i.result?.message) : null;
          const chosen = resolutionsOf(items, i.id).filter((r) => (r.body as { action: string }).action !== 'discard');
          const taken = new Set(chosen.filter((r) => r.state !== 'conflict' && r.state !== 'invalid')
            .map((r) => (r.body as { action: string }).action));
          const actions = i.state === 'conflict' || i.state === 'resolved'
            ? conflictActions(reason).filter((a) => !taken.has(a)) : [];
          return (
            <li key={i.id} className={`m-card m-outbox m-state-${i.state}`} data-testid="outbox-item" data-state={i.state}>
              <div className="m-row">
                <strong>{i.title}</strong>
                <span className={`m-chip m-state-${i.state}`} data-testid="outbox-state">{STATE_LABELS[i.state]}</span>
              </div>
              <p className="muted">{i.kind === 'completion' ? '随访' : '测量值'} · 填写于 {i.created_at.slice(5, 16).replace('T', ' ')}</p>
              {i.state === 'queued' && i.last_error ? <p className="muted">上次发送未成功，稍后自动重试。</p> : null}
              {text ? (
                <div className="m-conflict" data-testid="conflict">
                  <p><strong data-testid="conflict-title">{text.title}</strong></p>
                  <p data-testid="conflict-what">{text.what}</p>
                  {i.state !== 'resolved' ? <p>怎么办：{text.todo}</p> : null}
                  {chosen.map((r) => (
                    <p key={r.id} className={r.state === 'done' ? 'm-ok' : r.state === 'conflict' || r.state === 'invalid' ? 'm-error' : 'muted'}
                      data-testid="resolution" data-state={r.state}>
                      {resolutionText(r.state, (r.body as { action: string }).action,
                        r.state === 'done' ? (r.result?.response as { message?: string } | undefined)?.message : r.result?.message,
                        r.result?.reason)}
                    </p>
                  ))}
                  <div className="m-actions">
                    {actions.map((a) => (
                      <button key={a} className="m-btn" title={ACTION_HINTS[a]} data-testid={`conflict-${a}`}
                        onClick={() => void (a === 'refill' ? refill(i) : choose(i, a))}>{ACTION_LABELS[a]}</button>
                    ))}
                    {i.state === 'conflict' ? (
                      <button className="m-btn" data-testid="conflict-dismiss"
                        onClick={async () => {
                          // the server kept no record of a completion it answered 404: nothing to tell it
                          if (reason === 'task_gone') { await discard(store, i.id); onChanged(); } else await choose(i, 'discard');
                        }}>知道了</button>
                    ) : i.state === 'invalid' ? (
                      <button className="m-btn" onClick={async () => { await discard(store, i.id); onChanged(); }}>知道了</button>
                    ) : null}
                  </div>
                </div>
              ) : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

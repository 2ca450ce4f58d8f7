/**
 * The outbox: what the doctor did offline, waiting to reach the server (shared/domain/offline.md §2.5).
 *
 *   queued (待发送) ──send──▶ sending (发送中) ──ok──▶ done (已送达)
 *      ▲                         │ ├─conflict (409)──▶ conflict (冲突)   needs a person; facts were kept
 *      └──transient / recover────┘ └─invalid (422)───▶ invalid (有误)    needs a person; never auto-retried
 *   conflict|invalid ──discard──▶ discarded (the entry is kept for the record, nothing more is sent)
 *   conflict ──resolve──▶ resolved (已处理: the doctor chose 附为备注 / 记为临时随访; that choice travels as a
 *                                   `resolution` item of its own, so it waits for the network like the rest)
 *
 * Items of one resident go in order (a second visit waits for the first); items of other residents pass.
 * Sending is idempotent on the server by the item id (the completion_id / batch id), so a send repeated after a
 * lost answer lands once.
 */

export type OutboxState = 'queued' | 'sending' | 'done' | 'conflict' | 'invalid' | 'discarded' | 'resolved';
export type OutboxEvent = 'send' | 'ok' | 'conflict' | 'invalid' | 'transient' | 'recover' | 'discard' | 'resolve';
/** completion: POST /completions; observations: POST /observations; resolution: what to do with a conflict
 * (POST /completions/{completion_id}/resolve, body {completion_id, action}). */
export type OutboxKind = 'completion' | 'observations' | 'resolution';

export const STATE_LABELS: Record<OutboxState, string> = {
  queued: '待发送',
  sending: '发送中',
  done: '已送达',
  conflict: '冲突',
  invalid: '有误',
  discarded: '已放弃',
  resolved: '已处理',
};

export interface OutboxResult {
  /** the typed 409 reason (task_reassigned, already_completed, ...) or the 422 code */
  reason?: string;
  message?: string;
  detail?: Record<string, unknown>;
  /** server answer on success */
  response?: unknown;
  at?: string;
}

export interface OutboxItem {
  id: string;
  kind: OutboxKind;
  seq: number;
  state: OutboxState;
  created_at: string;
  /** epoch ms before which a retry is not attempted (backoff after a transient failure) */
  next_at: number;
  attempts: number;
  resident_id: string | number | null;
  /** what the doctor sees in the list, e.g. "王秀兰 · 高血压随访" */
  title: string;
  body: unknown;
  last_error?: string;
  result?: OutboxResult;
}

const TRANSITIONS: Record<OutboxState, Partial<Record<OutboxEvent, OutboxState>>> = {
  queued: { send: 'sending' },
  sending: { ok: 'done', conflict: 'conflict', invalid: 'invalid', transient: 'queued', recover: 'queued' },
  done: {},
  conflict: { discard: 'discarded', resolve: 'resolved' },
  invalid: { discard: 'discarded' },
  discarded: {},
  resolved: { discard: 'discarded', resolve: 'resolved' },
};

export class OutboxTransitionError extends Error {
  constructor(state: OutboxState, event: OutboxEvent) {
    super(`outbox: ${event} is not allowed in state ${state}`);
    this.name = 'OutboxTransitionError';
  }
}

export function transition(state: OutboxState, event: OutboxEvent): OutboxState {
  const next = TRANSITIONS[state][event];
  if (!next) throw new OutboxTransitionError(state, event);
  return next;
}

/** Retry delay after the n-th transient failure: 5 s, 10 s, 20 s … capped at 5 min, with ±20 % jitter. */
export function backoffMs(attempts: number, rand: () => number = Math.random): number {
  const base = Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 300_000);
  return Math.round(base * (0.8 + 0.4 * rand()));
}

/** What the server said to one send. */
export type SendResult =
  | { kind: 'ok'; response?: unknown }
  | { kind: 'conflict'; reason: string; message?: string; detail?: Record<string, unknown> }
  | { kind: 'invalid'; reason: string; message?: string; detail?: Record<string, unknown> }
  | { kind: 'transient'; message: string }
  | { kind: 'offline' }
  | { kind: 'unauthorized' }
  | { kind: 'revoked' };

export interface Transport {
  send(item: OutboxItem): Promise<SendResult>;
}

/** The part of the store the flush needs (MobileStore implements it; tests may use the real store too). */
export interface OutboxStore {
  outbox(): Promise<OutboxItem[]>;
  saveOutbox(item: OutboxItem): Promise<void>;
}

export interface FlushReport {
  sent: number;
  delivered: number;
  conflicts: number;
  invalid: number;
  /** the network was unreachable: stopped early, nothing lost */
  offline: boolean;
  /** the session has expired: log in again (online) before sending */
  unauthorized: boolean;
  /** the server revoked this device's lease: the caller must wipe the store */
  revoked: boolean;
  /** queued items still waiting (backoff, an earlier item of the same resident, or stopped early) */
  waiting: number;
}

/** After a crash or reload mid-send, a "sending" item is sent again (the server answers a repeat from its record). */
export async function recoverInterrupted(store: OutboxStore): Promise<number> {
  let n = 0;
  for (const item of await store.outbox()) {
    if (item.state === 'sending') {
      await store.saveOutbox({ ...item, state: transition(item.state, 'recover') });
      n += 1;
    }
  }
  return n;
}

const inFlight = new WeakMap<OutboxStore, Promise<FlushReport>>();

/**
 * Send what is due, in order. Concurrent calls (online event + visibility + button at once) share one run, so an
 * item is never sent twice in parallel.
 */
export function flush(store: OutboxStore, transport: Transport, now: () => number = Date.now): Promise<FlushReport> {
  const running = inFlight.get(store);
  if (running) return running;
  const run = flushOnce(store, transport, now).finally(() => inFlight.delete(store));
  inFlight.set(store, run);
  return run;
}

async function flushOnce(store: OutboxStore, transport: Transport, now: () => number): Promise<FlushReport> {
  const report: FlushReport = { sent: 0, delivered: 0, conflicts: 0, invalid: 0, offline: false, unauthorized: false, revoked: false, waiting: 0 };
  const items = (await store.outbox()).sort((a, b) => a.seq - b.seq);
  const blocked = new Set<string>();
  const residentKey = (i: OutboxItem) => (i.resident_id === null ? null : String(i.resident_id));
  let stop = false;
  for (const item of items) {
    if (item.state !== 'queued' && item.state !== 'sending') continue;
    const rk = residentKey(item);
    if (stop || (rk !== null && blocked.has(rk)) || item.next_at > now()) {
      report.waiting += 1;
      if (rk !== null) blocked.add(rk);
      continue;
    }
    const sending: OutboxItem = { ...item, state: item.state === 'sending' ? 'sending' : transition(item.state, 'send') };
    await store.saveOutbox(sending);
    report.sent += 1;
    let result: SendResult;
    try {
      result = await transport.send(sending);
    } catch (e) {
      result = { kind: 'transient', message: e instanceof Error ? e.message : String(e) };
    }
    const at = new Date(now()).toISOString();
    switch (result.kind) {
      case 'ok':
        await store.saveOutbox({ ...sending, state: transition('sending', 'ok'), result: { response: result.response, at }, last_error: undefined });
        report.delivered += 1;
        break;
      case 'conflict':
        await store.saveOutbox({ ...sending, state: transition('sending', 'conflict'), result: { reason: result.reason, message: result.message, detail: result.detail, at } });
        report.conflicts += 1;
        break;
      case 'invalid':
        await store.saveOutbox({ ...sending, state: transition('sending', 'invalid'), result: { reason: result.reason, message: result.message, detail: result.detail, at } });
        report.invalid += 1;
        break;
      case 'transient': {
        const attempts = sending.attempts + 1;
        await store.saveOutbox({ ...sending, state: transition('sending', 'transient'), attempts, next_at: now() + backoffMs(attempts), last_error: result.message });
        report.waiting += 1;
        if (rk !== null) blocked.add(rk);
        break;
      }
      case 'offline':
      case 'unauthorized':
      case 'revoked':
        // not the item's fault: back in the queue untouched, and stop sending
        await store.saveOutbox({ ...sending, state: transition('sending', 'recover') });
        report.waiting += 1;
        report[result.kind] = true;
        stop = true;
        break;
    }
  }
  return report;
}

/** The doctor gives up on a conflicting or invalid item (the observations already sent stay on the server). */
export async function discard(store: OutboxStore & { outboxItem(id: string): Promise<OutboxItem | undefined> }, id: string): Promise<void> {
  const item = await store.outboxItem(id);
  if (!item) return;
  await store.saveOutbox({ ...item, state: transition(item.state, 'discard') });
}

/** The doctor's choice for a conflicted completion: the conflict becomes 已处理 (or 已放弃 for `discard`) and the
 * choice is queued for the server behind the conflict's resident (the server does each action once). */
export async function resolveConflict(
  store: OutboxStore & {
    outboxItem(id: string): Promise<OutboxItem | undefined>;
    enqueue(item: Omit<OutboxItem, 'seq'>): Promise<unknown>;
    removeOutbox(id: string): Promise<void>;
  },
  id: string, action: 'attach_as_note' | 'record_visit' | 'discard', at: string, title: string,
): Promise<void> {
  const item = await store.outboxItem(id);
  if (!item || item.kind !== 'completion') return;
  const choice = `${id}:${action}`;
  const before = await store.outboxItem(choice);
  if (before && before.state !== 'conflict' && before.state !== 'invalid') return;   // already chosen, on its way
  await store.saveOutbox({ ...item, state: transition(item.state, action === 'discard' ? 'discard' : 'resolve') });
  if (before) await store.removeOutbox(choice);     // the server refused it before (e.g. no open task): try again
  await store.enqueue({
    id: choice, kind: 'resolution', state: 'queued', created_at: at, next_at: 0, attempts: 0,
    resident_id: item.resident_id, title, body: { completion_id: id, action },
  });
}

/** The resolution items sent for one conflicted completion, latest last. */
export function resolutionsOf(items: OutboxItem[], completionId: string): OutboxItem[] {
  return items.filter((i) => i.kind === 'resolution' && (i.body as { completion_id?: string }).completion_id === completionId)
    .sort((a, b) => a.seq - b.seq);
}

/** 已送达 and 已放弃 items older than `keepMs` (default 7 days) leave the list; nothing undelivered is ever pruned. */
export async function prune(store: OutboxStore & { removeOutbox(id: string): Promise<void> }, now: number = Date.now(),
  keepMs = 7 * 24 * 3600_000): Promise<number> {
  let n = 0;
  for (const item of await store.outbox()) {
    const at = Date.parse(item.result?.at ?? item.created_at);
    if ((item.state === 'done' || item.state === 'discarded' || item.state === 'resolved') && Number.isFinite(at) && now - at > keepMs) {
      await store.removeOutbox(item.id);
      n += 1;
    }
  }
  return n;
}

import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MobileStore, LockedError } from './store';
import { WrongPinError } from './crypto';
import {
  OutboxTransitionError, backoffMs, discard, flush, prune, recoverInterrupted, transition,
  type OutboxItem, type SendResult, type Transport,
} from './outbox';

const owner = { user_id: 3, username: 'vd_li', display_name: '李医生' };
let store: MobileStore;
let n = 0;

beforeEach(async () => {
  store = new MobileStore(`test-${++n}`);
  await store.create('482915', owner, 1000);
});
afterEach(async () => {
  await store.wipe();
});

function item(id: string, resident: number | null, extra: Partial<OutboxItem> = {}): Omit<OutboxItem, 'seq'> {
  return {
    id, kind: 'completion', state: 'queued', created_at: '2026-12-04T01:00:00Z', next_at: 0, attempts: 0,
    resident_id: resident, title: `随访 ${id}`, body: { completion_id: id }, ...extra,
  };
}

/** A server stand-in: answers per id from a script, records every send (the real API is tested in its own suite). */
class ScriptedServer implements Transport {
  sends: string[] = [];
  constructor(private answer: (item: OutboxItem, nth: number) => SendResult | Promise<SendResult>) {}
  async send(i: OutboxItem): Promise<SendResult> {
    this.sends.push(i.id);
    return this.answer(i, this.sends.filter((s) => s === i.id).length);
  }
}

describe('outbox state machine', () => {
  it('allows only the documented transitions', () => {
    expect(transition('queued', 'send')).toBe('sending');
    expect(transition('sending', 'ok')).toBe('done');
    expect(transition('sending', 'conflict')).toBe('conflict');
    expect(transition('sending', 'invalid')).toBe('invalid');
    expect(transition('sending', 'transient')).toBe('queued');
    expect(transition('conflict', 'discard')).toBe('discarded');
    expect(() => transition('done', 'send')).toThrow(OutboxTransitionError);
    expect(() => transition('queued', 'ok')).toThrow(OutboxTransitionError);
    expect(() => transition('invalid', 'send')).toThrow(OutboxTransitionError);
    expect(() => transition('done', 'discard')).toThrow(OutboxTransitionError);
  });

  it('backs off exponentially with a cap', () => {
    const mid = () => 0.5;
    expect(backoffMs(1, mid)).toBe(5000);
    expect(backoffMs(2, mid)).toBe(10000);
    expect(backoffMs(3, mid)).toBe(20000);
    expect(backoffMs(30, mid)).toBe(300000);
  });
});

describe('flush', () => {
  it('delivers queued items in order and marks them 已送达', async () => {
    await store.enqueue(item('a', 1));
    await store.enqueue(item('b', 2));
    const server = new ScriptedServer(() => ({ kind: 'ok', response: { status: 'completed' } }));
    const r = await flush(store, server);
    expect(server.sends).toEqual(['a', 'b']);
    expect(r).toMatchObject({ sent: 2, delivered: 2, waiting: 0, offline: false });
    expect((await store.outbox()).map((i) => i.state)).toEqual(['done', 'done']);
    // a second flush sends nothing again
    await flush(store, server);
    expect(server.sends).toEqual(['a', 'b']);
  });

  it('offline: stops at the first unreachable send and loses nothing', async () => {
    await store.enqueue(item('a', 1));
    await store.enqueue(item('b', 2));
    const server = new ScriptedServer(() => ({ kind: 'offline' }));
    const r = await flush(store, server);
    expect(server.sends).toEqual(['a']);
    expect(r).toMatchObject({ offline: true, delivered: 0, waiting: 2 });
    expect((await store.outbox()).map((i) => [i.state, i.attempts])).toEqual([['queued', 0], ['queued', 0]]);
  });

  it('a conflict is kept with its typed reason, and later items still go', async () => {
    await store.enqueue(item('a', 1));
    await store.enqueue(item('b', 1));
    const server = new ScriptedServer((i) =>
      i.id === 'a' ? { kind: 'conflict', reason: 'task_reassigned', detail: { current_owner: { display_name: '王医生' } } } : { kind: 'ok' });
    const r = await flush(store, server);
    expect(r).toMatchObject({ conflicts: 1, delivered: 1 });
    const [a, b] = await store.outbox();
    expect(a.state).toBe('conflict');
    expect(a.result?.reason).toBe('task_reassigned');
    expect(b.state).toBe('done');
    // never re-sent automatically
    await flush(store, server);
    expect(server.sends).toEqual(['a', 'b']);
    await discard(store, 'a');
    expect((await store.outboxItem('a'))?.state).toBe('discarded');
  });

  it('a 422 is 有误 and not retried', async () => {
    await store.enqueue(item('a', 1));
    const server = new ScriptedServer(() => ({ kind: 'invalid', reason: 'validation_failed', message: '收缩压超出范围' }));
    await flush(store, server);
    await flush(store, server);
    expect(server.sends).toEqual(['a']);
    expect((await store.outboxItem('a'))?.state).toBe('invalid');
  });

  it('a transient failure backs off, holds that resident\'s later visits, lets other residents pass', async () => {
    let clock = 1_000_000;
    await store.enqueue(item('a1', 1));
    await store.enqueue(item('a2', 1));
    await store.enqueue(item('b1', 2));
    const server = new ScriptedServer((i, nth) => (i.id === 'a1' && nth === 1 ? { kind: 'transient', message: '503' } : { kind: 'ok' }));
    const r = await flush(store, server, () => clock);
    expect(server.sends).toEqual(['a1', 'b1']);
    expect(r.waiting).toBe(2);
    const a1 = await store.outboxItem('a1');
    expect(a1).toMatchObject({ state: 'queued', attempts: 1, last_error: '503' });
    expect(a1!.next_at).toBeGreaterThan(clock);
    // before the backoff is over nothing is sent
    await flush(store, server, () => clock + 1000);
    expect(server.sends).toEqual(['a1', 'b1']);
    clock += 10 * 60_000;
    await flush(store, server, () => clock);
    expect(server.sends).toEqual(['a1', 'b1', 'a1', 'a2']);
    expect((await store.outbox()).every((i) => i.state === 'done')).toBe(true);
  });

  it('concurrent triggers share one run: each item is sent once', async () => {
    await store.enqueue(item('a', 1));
    await store.enqueue(item('b', 2));
    const server = new ScriptedServer(async () => {
      await new Promise((r) => setTimeout(r, 10));
      return { kind: 'ok' };
    });
    await Promise.all([flush(store, server), flush(store, server), flush(store, server)]);
    expect(server.sends).toEqual(['a', 'b']);
  });

  it('a thrown transport error counts as transient, not as lost', async () => {
    await store.enqueue(item('a', null));
    const server = new ScriptedServer(() => {
      throw new Error('boom');
    });
    const r = await flush(store, server);
    expect(r.waiting).toBe(1);
    expect((await store.outboxItem('a'))?.state).toBe('queued');
  });

  it('revoked and unauthorized stop the run and say so', async () => {
    await store.enqueue(item('a', 1));
    await store.enqueue(item('b', 2));
    expect(await flush(store, new ScriptedServer(() => ({ kind: 'revoked' })))).toMatchObject({ revoked: true, sent: 1, waiting: 2 });
    expect(await flush(store, new ScriptedServer(() => ({ kind: 'unauthorized' })))).toMatchObject({ unauthorized: true, sent: 1 });
    expect(await store.pendingCount()).toBe(2);
  });

  it('an item interrupted mid-send (app closed) is sent again after restart', async () => {
    await store.enqueue(item('a', 1));
    const a = (await store.outboxItem('a'))!;
    await store.saveOutbox({ ...a, state: 'sending' });
    expect(await recoverInterrupted(store)).toBe(1);
    const server = new ScriptedServer(() => ({ kind: 'ok' }));
    await flush(store, server);
    expect(server.sends).toEqual(['a']);
  });
});

describe('prune', () => {
  it('drops delivered and discarded items after a week, never an undelivered one', async () => {
    const old = '2026-11-20T01:00:00Z';
    await store.enqueue(item('done-old', 1, { state: 'done', created_at: old, result: { at: old } }));
    await store.enqueue(item('done-new', 1, { state: 'done', created_at: '2026-12-03T01:00:00Z', result: { at: '2026-12-03T01:00:00Z' } }));
    await store.enqueue(item('discarded-old', 2, { state: 'discarded', created_at: old }));
    await store.enqueue(item('queued-old', 3, { state: 'queued', created_at: old }));
    await store.enqueue(item('conflict-old', 4, { state: 'conflict', created_at: old }));
    expect(await prune(store, Date.parse('2026-12-04T01:00:00Z'))).toBe(2);
    expect((await store.outbox()).map((i) => i.id)).toEqual(['done-new', 'queued-old', 'conflict-old']);
  });
});

describe('encrypted store', () => {
  it('keeps tasks, residents, schemas and the outbox sealed; locked it reads nothing', async () => {
    await store.putTasks([{ task_id: 't1', due: '2026-12-05', resident_id: 7 }, { task_id: 't0', due: '2026-12-01', resident_id: 8 }]);
    await store.putResidents([{ id: 7, name: '王秀兰' }]);
    await store.putSchemas([{ id: '5f0c2e91aa3b7d10', value: { type: 'object' } }]);
    await store.enqueue(item('a', 7, { title: '王秀兰 · 高血压随访' }));
    expect((await store.tasks<{ task_id: string }>()).map((t) => t.task_id)).toEqual(['t0', 't1']);
    expect(await store.resident(7)).toEqual({ id: 7, name: '王秀兰' });
    expect(await store.schema('5f0c2e91aa3b7d10')).toEqual({ type: 'object' });

    // what is on disk: no name in any row
    const raw = JSON.stringify([
      ...(await store.db.residents.toArray()), ...(await store.db.outbox.toArray()), ...(await store.db.tasks.toArray()),
    ], (_k, v) => (v instanceof ArrayBuffer ? new TextDecoder('latin1').decode(v) : v));
    expect(raw).not.toContain('王秀兰');
    expect(raw).not.toContain('resident_id');

    store.lock();
    await expect(store.tasks()).rejects.toBeInstanceOf(LockedError);
    expect(await store.pendingCount()).toBe(1); // counting needs no key (the logout warning)
    await expect(store.unlock('000000')).rejects.toBeInstanceOf(WrongPinError);
    await store.unlock('482915');
    expect(await store.resident(7)).toEqual({ id: 7, name: '王秀兰' });
  });

  it('keeps a half-filled visit sealed across a lock', async () => {
    await store.saveDraft('812', { data: { outcome: '到位' }, readings: { sbp: 150, dbp: 90 } });
    const raw = JSON.stringify(await store.db.meta.get('draft:812'), (_k, v) => (v instanceof ArrayBuffer ? new TextDecoder('latin1').decode(v) : v));
    expect(raw).not.toContain('到位');
    store.lock();
    await expect(store.draft('812')).rejects.toBeInstanceOf(LockedError);
    await store.unlock('482915');
    expect(await store.draft('812')).toEqual({ data: { outcome: '到位' }, readings: { sbp: 150, dbp: 90 } });
    await store.removeDraft('812');
    expect(await store.draft('812')).toBeUndefined();
  });

  it('wipe removes everything, including the vault', async () => {
    await store.putResidents([{ id: 7, name: '王秀兰' }]);
    await store.wipe();
    expect(await store.hasVault()).toBe(false);
    expect(await store.db.residents.count()).toBe(0);
    expect(store.unlocked).toBe(false);
  });

  it('removes tasks the server no longer lists', async () => {
    await store.putTasks([{ task_id: 1, due: null }, { task_id: 2, due: null }]);
    await store.removeTasks([1]);
    expect((await store.tasks<{ task_id: number }>()).map((t) => t.task_id)).toEqual([2]);
  });
});

describe('choosing what to do with a conflict', () => {
  it('marks the conflict 已处理 and queues the choice behind it, sent to the resolve endpoint once', async () => {
    const { resolveConflict, resolutionsOf } = await import('./outbox');
    await store.enqueue(item('c1', 7));
    const server = new ScriptedServer((i) => (i.kind === 'completion'
      ? { kind: 'conflict', reason: 'task_completed_elsewhere' } : { kind: 'ok', response: { message: '已记为临时随访' } }));
    await flush(store, server);
    await resolveConflict(store, 'c1', 'record_visit', '2026-12-04T02:00:00Z', '随访 c1 · 记为临时随访');
    expect((await store.outboxItem('c1'))?.state).toBe('resolved');
    const queued = resolutionsOf(await store.outbox(), 'c1');
    expect(queued.map((r) => [r.kind, r.state, r.body])).toEqual([['resolution', 'queued', { completion_id: 'c1', action: 'record_visit' }]]);
    await flush(store, server);
    await flush(store, server);
    expect(server.sends).toEqual(['c1', 'c1:record_visit']);
    expect(resolutionsOf(await store.outbox(), 'c1')[0].state).toBe('done');
  });
  it('知道了 discards the conflict and tells the server', async () => {
    const { resolveConflict } = await import('./outbox');
    await store.enqueue(item('c2', 8));
    await flush(store, new ScriptedServer(() => ({ kind: 'conflict', reason: 'task_cancelled' })));
    await resolveConflict(store, 'c2', 'discard', '2026-12-04T02:00:00Z', 'x');
    expect((await store.outboxItem('c2'))?.state).toBe('discarded');
    expect((await store.outboxItem('c2:discard'))?.kind).toBe('resolution');
  });
  it('a resolved conflict may take another action but is never sent again itself', () => {
    expect(transition('resolved', 'resolve')).toBe('resolved');
    expect(() => transition('resolved', 'send')).toThrow(OutboxTransitionError);
  });
});

describe('trying a refused choice again', () => {
  it('replaces the refused attempt with a fresh one and never queues the same choice twice', async () => {
    const { resolveConflict, resolutionsOf } = await import('./outbox');
    await store.enqueue(item('c3', 9));
    let refuse = true;
    const server = new ScriptedServer((i) => (i.kind === 'completion' ? { kind: 'conflict', reason: 'task_cancelled' }
      : refuse ? { kind: 'conflict', reason: 'no_open_task_for_note' } : { kind: 'ok', response: { message: '已附' } }));
    await flush(store, server);
    await resolveConflict(store, 'c3', 'attach_as_note', '2026-12-04T02:00:00Z', 'x');
    await resolveConflict(store, 'c3', 'attach_as_note', '2026-12-04T02:00:01Z', 'x');      // a double tap
    await flush(store, server);
    expect(resolutionsOf(await store.outbox(), 'c3').map((r) => r.state)).toEqual(['conflict']);
    refuse = false;
    await resolveConflict(store, 'c3', 'attach_as_note', '2026-12-04T03:00:00Z', 'x');
    await flush(store, server);
    expect(resolutionsOf(await store.outbox(), 'c3').map((r) => r.state)).toEqual(['done']);
    expect(server.sends.filter((s) => s === 'c3:attach_as_note')).toHaveLength(2);
  });
});

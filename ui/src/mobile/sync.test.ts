import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MobileStore } from './store';
import { syncOnce } from './sync';
import type { Packet } from './api';
import type { OutboxItem, SendResult } from './outbox';

const owner = { user_id: 3, username: 'vd_li', display_name: '李医生' };
let store: MobileStore;
let n = 0;

beforeEach(async () => {
  store = new MobileStore(`sync-${++n}`);
  await store.create('482915', owner, 1000);
});
afterEach(async () => {
  await store.wipe();
});

function task(id: number) {
  return { id, etag: `"${id}-1"`, name: '随访', resident_id: id, due_at: null, schema_ref: 's1', form_version: 'v1' };
}

/** A paging server stand-in: 7 tasks, `limit` a page; the token says how many the phone already holds. */
class PagedServer {
  pulls: (string | undefined)[] = [];
  constructor(private total = 7, private failAt = -1) {}
  async send(_i: OutboxItem): Promise<SendResult> { return { kind: 'ok' }; }
  async pull(token: string | undefined, limit = 3): Promise<{ status: number; body: unknown } | null> {
    this.pulls.push(token);
    if (this.pulls.length - 1 === this.failAt) return null;
    const from = token ? Number(token.split('.')[1]) : 0;
    const to = Math.min(this.total, from + limit);
    const ids = Array.from({ length: to - from }, (_, k) => from + k + 1);
    const body: Packet = {
      token: `t.${to}`, reset: from === 0, has_more: to < this.total, tasks: ids.map(task),
      residents: ids.map((id) => ({ id, name: `居民${id}` })),
      schemas: from === 0 ? [{ ref: 's1', version: 'v1', schema: {} }] : [],
      removed: { tasks: [], residents: [], schemas: [] },
    };
    return { status: 200, body };
  }
}

describe('the pull is paged', () => {
  it('loops with each page token until has_more is false', async () => {
    const server = new PagedServer();
    const out = await syncOnce(store, server, undefined, 3);
    expect(out.kind).toBe('synced');
    expect(server.pulls).toEqual([undefined, 't.3', 't.6']);
    expect((await store.tasks()).length).toBe(7);
    expect((await store.residents()).length).toBe(7);
    expect(await store.getMeta('token')).toBe('t.7');
  });
  it('a page that cannot be fetched keeps the pages applied, and the next sync continues from there', async () => {
    const server = new PagedServer(7, 1);
    expect((await syncOnce(store, server, undefined, 3)).kind).toBe('offline');
    expect((await store.tasks()).length).toBe(3);
    expect(await store.getMeta('token')).toBe('t.3');
    const again = new PagedServer();
    await syncOnce(store, again, undefined, 3);
    expect(again.pulls).toEqual(['t.3', 't.6']);
    expect((await store.tasks()).length).toBe(7);
  });
});

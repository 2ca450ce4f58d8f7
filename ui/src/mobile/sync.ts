/**
 * One sync: push the outbox, then pull the packet (push before pull, docs/mobile.md). Triggered on app start,
 * `online`, the page becoming visible, after each submit and by 立即同步. A revoked device wipes the store.
 */
import { messageFor } from '../api/client';
import { classify, type MobileApi, type Packet } from './api';
import { flush, prune, recoverInterrupted, type FlushReport } from './outbox';
import type { MobileStore } from './store';

export type SyncOutcome =
  | { kind: 'synced'; at: string; flush: FlushReport }
  | { kind: 'offline'; flush?: FlushReport }
  | { kind: 'unauthorized' }
  | { kind: 'revoked' }
  | { kind: 'error'; message: string };

/** Apply a pulled packet to the store: a reset replaces tasks/residents/schemas; the outbox is never touched. */
export async function applyPacket(store: MobileStore, p: Packet): Promise<void> {
  if (p.reset) {
    await Promise.all([store.db.tasks.clear(), store.db.residents.clear(), store.db.schemas.clear()]);
  }
  await store.putSchemas((p.schemas ?? []).map((s) => ({ id: s.ref, value: s })));
  await store.putResidents(p.residents ?? []);
  await store.putTasks((p.tasks ?? []).map((t) => ({ ...t, task_id: t.id, due: t.due_at })));
  await store.removeTasks((p.removed?.tasks ?? []).map((t) => t.id));
  await store.removeResidents((p.removed?.residents ?? []).map((r) => r.id));
  await store.removeSchemas(p.removed?.schemas ?? []);
  await store.setMeta('token', p.token);
}

/** Pages one pull may take at most (500 tasks a page: far beyond a village doctor's work). */
export const MAX_PAGES = 40;

export async function syncOnce(store: MobileStore, api: Pick<MobileApi, 'send' | 'pull'>, now: () => Date = () => new Date(),
  pageSize?: number): Promise<SyncOutcome> {
  await recoverInterrupted(store);
  const report = await flush(store, api);
  if (report.revoked) return { kind: 'revoked' };
  if (report.unauthorized) return { kind: 'unauthorized' };
  if (report.offline) return { kind: 'offline', flush: report };
  // the packet comes in pages: each page's token continues where it stopped; a page applied is kept even if a later
  // one cannot be fetched (the stored token names exactly what the phone holds)
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const r = await api.pull(await store.getMeta<string>('token'), pageSize);
    if (r === null) return { kind: 'offline', flush: report };
    if (r.status !== 200) {
      const c = classify(r.status, r.body);
      if (c.kind === 'revoked' || c.kind === 'unauthorized') return { kind: c.kind };
      if (c.kind === 'transient') return { kind: 'offline', flush: report };
      const e = (r.body ?? {}) as { code?: string; message?: string };
      return { kind: 'error', message: `同步失败：${messageFor(r.status, e.code ?? `http_${r.status}`, e.message)}` };
    }
    const packet = r.body as Packet;
    await applyPacket(store, packet);
    if (!packet.has_more) break;
  }
  const at = now().toISOString();
  await store.setMeta('last_sync', at);
  await prune(store, now().getTime());
  return { kind: 'synced', at, flush: report };
}

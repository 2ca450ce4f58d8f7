/**
 * The phone's local store (IndexedDB through Dexie): tasks, residents, form schemas, the outbox and a little
 * plain metadata. Every payload with personal data is sealed with the PIN-unlocked data key (./crypto); only
 * ids, due dates and outbox states are plain, so the lists can be ordered without the key.
 */
import Dexie, { type Table } from 'dexie';
import { createVault, open, seal, unwrap, type Sealed, type WrappedKey } from './crypto';
import type { OutboxItem, OutboxState } from './outbox';

interface SealedRow {
  id: string;
  enc: Sealed;
}
interface TaskRow extends SealedRow {
  due: string;
}
export interface OutboxRow {
  id: string;
  seq: number;
  state: OutboxState;
  next_at: number;
  enc: Sealed;
}
interface MetaRow {
  key: string;
  value: unknown;
}

/** Who the vault belongs to: a different login on the same phone gets a fresh store. */
export interface VaultOwner {
  user_id: number | string;
  username: string;
  display_name: string;
}

export class LockedError extends Error {
  constructor() {
    super('本机数据已锁定，请输入 PIN');
    this.name = 'LockedError';
  }
}

class MobileDb extends Dexie {
  tasks!: Table<TaskRow, string>;
  residents!: Table<SealedRow, string>;
  schemas!: Table<SealedRow, string>;
  outbox!: Table<OutboxRow, string>;
  meta!: Table<MetaRow, string>;

  constructor(name: string) {
    super(name);
    this.version(1).stores({
      tasks: 'id, due',
      residents: 'id',
      schemas: 'id',
      outbox: 'id, seq, state',
      meta: 'key',
    });
  }
}

export class MobileStore {
  readonly name: string;
  db: MobileDb;
  private key: CryptoKey | null = null;

  constructor(name = 'ygt-mobile') {
    this.name = name;
    this.db = new MobileDb(name);
  }

  get unlocked(): boolean {
    return this.key !== null;
  }

  private need(): CryptoKey {
    if (!this.key) throw new LockedError();
    return this.key;
  }

  async getMeta<T>(key: string): Promise<T | undefined> {
    return (await this.db.meta.get(key))?.value as T | undefined;
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    await this.db.meta.put({ key, value });
  }

  async owner(): Promise<VaultOwner | undefined> {
    return this.getMeta<VaultOwner>('owner');
  }

  async hasVault(): Promise<boolean> {
    return (await this.getMeta<WrappedKey>('vault')) !== undefined;
  }

  /** First login on this phone: a new data key under the PIN, for this user. */
  async create(pin: string, owner: VaultOwner, iterations?: number): Promise<void> {
    const { key, wrapped } = await createVault(pin, iterations);
    await this.db.meta.bulkPut([{ key: 'vault', value: wrapped }, { key: 'owner', value: owner }]);
    this.key = key;
  }

  /** WrongPinError when the PIN does not open the vault. */
  async unlock(pin: string): Promise<void> {
    const wrapped = await this.getMeta<WrappedKey>('vault');
    if (!wrapped) throw new Error('本机尚未设置 PIN');
    this.key = await unwrap(pin, wrapped);
  }

  lock(): void {
    this.key = null;
  }

  /** Lost phone, revoked lease, another user: delete everything on the device. */
  async wipe(): Promise<void> {
    this.key = null;
    this.db.close();
    await Dexie.delete(this.name);
    this.db = new MobileDb(this.name);
  }

  private async sealRows<T>(table: string, rows: { id: string; value: T }[]): Promise<SealedRow[]> {
    const key = this.need();
    return Promise.all(rows.map(async (r) => ({ id: r.id, enc: await seal(key, r.value, `${table}:${r.id}`) })));
  }

  private async openRows<T>(table: string, rows: SealedRow[]): Promise<T[]> {
    const key = this.need();
    return Promise.all(rows.map((r) => open<T>(key, r.enc, `${table}:${r.id}`)));
  }

  // tasks ------------------------------------------------------------------------------------------------

  async putTasks<T extends { task_id: string | number; due?: string | null }>(tasks: T[]): Promise<void> {
    const sealed = await this.sealRows('tasks', tasks.map((t) => ({ id: String(t.task_id), value: t })));
    await this.db.tasks.bulkPut(sealed.map((r, i) => ({ ...r, due: tasks[i].due ?? '' })));
  }

  async tasks<T>(): Promise<T[]> {
    return this.openRows<T>('tasks', await this.db.tasks.orderBy('due').toArray());
  }

  async task<T>(id: string): Promise<T | undefined> {
    const row = await this.db.tasks.get(id);
    return row ? (await this.openRows<T>('tasks', [row]))[0] : undefined;
  }

  async removeTasks(ids: (string | number)[]): Promise<void> {
    await this.db.tasks.bulkDelete(ids.map(String));
  }

  // residents ---------------------------------------------------------------------------------------------

  async putResidents<T extends { id: string | number }>(residents: T[]): Promise<void> {
    await this.db.residents.bulkPut(await this.sealRows('residents', residents.map((r) => ({ id: String(r.id), value: r }))));
  }

  async resident<T>(id: string | number): Promise<T | undefined> {
    const row = await this.db.residents.get(String(id));
    return row ? (await this.openRows<T>('residents', [row]))[0] : undefined;
  }

  async residents<T>(): Promise<T[]> {
    return this.openRows<T>('residents', await this.db.residents.toArray());
  }

  async removeResidents(ids: (string | number)[]): Promise<void> {
    await this.db.residents.bulkDelete(ids.map(String));
  }

  // schemas (keyed by the packet's `ref`: a hash of the resolved form, immutable) ------------------------------

  async putSchemas<T>(schemas: { id: string; value: T }[]): Promise<void> {
    await this.db.schemas.bulkPut(await this.sealRows('schemas', schemas));
  }

  async schema<T>(id: string): Promise<T | undefined> {
    const row = await this.db.schemas.get(id);
    return row ? (await this.openRows<T>('schemas', [row]))[0] : undefined;
  }

  async removeSchemas(ids: string[]): Promise<void> {
    await this.db.schemas.bulkDelete(ids);
  }

  // drafts: a half-filled visit survives a lock, a restart or a flat battery (sealed like everything else) ---------

  async saveDraft(taskId: string, value: unknown): Promise<void> {
    await this.db.meta.put({ key: `draft:${taskId}`, value: await seal(this.need(), value, `draft:${taskId}`) });
  }

  async draft<T>(taskId: string): Promise<T | undefined> {
    const sealed = (await this.db.meta.get(`draft:${taskId}`))?.value as Sealed | undefined;
    return sealed ? open<T>(this.need(), sealed, `draft:${taskId}`) : undefined;
  }

  async removeDraft(taskId: string): Promise<void> {
    await this.db.meta.delete(`draft:${taskId}`);
  }

  // outbox -------------------------------------------------------------------------------------------------

  private queue: Promise<unknown> = Promise.resolve();

  /** Append an item at the end of the queue (its seq orders sending). Enqueues of this tab run one at a time. */
  async enqueue(item: Omit<OutboxItem, 'seq'>): Promise<OutboxItem> {
    const key = this.need();
    // WebCrypto is not an IndexedDB request, so sealing cannot happen inside a Dexie transaction: serialise instead
    const next = this.queue.then(async () => {
      const last = await this.db.outbox.orderBy('seq').last();
      const full: OutboxItem = { ...item, seq: (last?.seq ?? 0) + 1 };
      await this.db.outbox.add(await this.outboxRow(key, full));
      return full;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async outboxRow(key: CryptoKey, item: OutboxItem): Promise<OutboxRow> {
    return { id: item.id, seq: item.seq, state: item.state, next_at: item.next_at, enc: await seal(key, item, `outbox:${item.id}`) };
  }

  async saveOutbox(item: OutboxItem): Promise<void> {
    await this.db.outbox.put(await this.outboxRow(this.need(), item));
  }

  async outbox(): Promise<OutboxItem[]> {
    const key = this.need();
    const rows = await this.db.outbox.orderBy('seq').toArray();
    return Promise.all(rows.map((r) => open<OutboxItem>(key, r.enc, `outbox:${r.id}`)));
  }

  async outboxItem(id: string): Promise<OutboxItem | undefined> {
    const row = await this.db.outbox.get(id);
    return row ? open<OutboxItem>(this.need(), row.enc, `outbox:${row.id}`) : undefined;
  }

  async removeOutbox(id: string): Promise<void> {
    await this.db.outbox.delete(id);
  }

  /** Items not yet delivered (what the doctor must not lose by logging out). Needs no key. */
  async pendingCount(): Promise<number> {
    return this.db.outbox.where('state').anyOf('queued', 'sending').count();
  }
}

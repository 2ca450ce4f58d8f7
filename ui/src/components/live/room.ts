/**
 * One connection per live room and page: the snapshot, then one EventSource on the room's stream shared by the
 * vitals panel and the video room (a stream holds a server worker, so a page opens one, not one per component).
 *
 * The server ends each stream after ~25 s and the browser reconnects with Last-Event-ID (docs/live.md). When the
 * stream fails for good (403 after the room closed, network gone) the snapshot is read again every few seconds:
 * 403 → closed, 404 → not a participant, success → the stream is reopened from the snapshot's cursor.
 */
import { ApiError, request } from '../../api/client';
import type { Alarm, Reading, RoomSnapshot, Signal } from './types';

export type RoomEvent =
  | { type: 'snapshot'; snapshot: RoomSnapshot }
  | { type: 'vitals'; readings: Reading[] }
  | { type: 'alarm'; alarm: Alarm }
  | { type: 'signal'; signal: Signal }
  | { type: 'connection'; online: boolean }
  | { type: 'closed' }
  | { type: 'error'; error: unknown };

type Listener = (e: RoomEvent) => void;

export function roomPath(kind: string, ref: number | string): string {
  return `/api/v1/live/rooms/${encodeURIComponent(kind)}/${encodeURIComponent(String(ref))}`;
}

export class RoomConnection {
  readonly path: string;
  snapshot: RoomSnapshot | null = null;
  closed = false;
  error: unknown = null;
  online = false;
  private listeners = new Set<Listener>();
  private source: EventSource | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(kind: string, ref: number | string) {
    this.path = roomPath(kind, ref);
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: RoomEvent) {
    for (const fn of [...this.listeners]) fn(e);
  }

  async start(): Promise<void> {
    this.stopped = false;
    try {
      const snapshot = await request<RoomSnapshot>(this.path);
      if (this.stopped) return;
      this.snapshot = snapshot;
      this.error = null;
      this.emit({ type: 'snapshot', snapshot });
      this.open(snapshot.cursor);
    } catch (e) {
      if (this.stopped) return;
      if (e instanceof ApiError && e.status === 403 && e.code === 'live_room_closed') {
        this.markClosed();
      } else if (e instanceof ApiError && (e.status === 404 || e.status === 403)) {
        this.error = e;
        this.emit({ type: 'error', error: e });
      } else {
        this.setOnline(false);                  // network or server trouble: try again shortly
        this.retryTimer = setTimeout(() => void this.start(), 3000);
      }
    }
  }

  private open(cursor: string) {
    this.source?.close();
    const source = new EventSource(`${this.path}/stream?cursor=${encodeURIComponent(cursor)}`);
    this.source = source;
    source.onopen = () => this.setOnline(true);
    source.addEventListener('vitals', (ev) => this.emit({ type: 'vitals', readings: JSON.parse((ev as MessageEvent).data) }));
    source.addEventListener('alarm', (ev) => this.emit({ type: 'alarm', alarm: JSON.parse((ev as MessageEvent).data) }));
    source.addEventListener('signal', (ev) => this.emit({ type: 'signal', signal: JSON.parse((ev as MessageEvent).data) }));
    source.addEventListener('closed', () => this.markClosed());
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED && !this.stopped && !this.closed) {
        // refused or gone for good: learn why from the snapshot (403 → closed) and reopen from its cursor
        this.setOnline(false);
        source.close();
        this.retryTimer = setTimeout(() => void this.start(), 2000);
      } else if (source.readyState === EventSource.CONNECTING) {
        this.setOnline(false);                  // the browser reconnects by itself (Last-Event-ID)
      }
    };
  }

  private setOnline(online: boolean) {
    if (this.online === online) return;
    this.online = online;
    this.emit({ type: 'connection', online });
  }

  private markClosed() {
    this.closed = true;
    this.source?.close();
    this.source = null;
    this.setOnline(false);
    this.emit({ type: 'closed' });
  }

  /** Relay a WebRTC signalling message to one participant (`to`) or to every other participant. */
  signal(type: Signal['type'], to: number | null, data: Record<string, unknown> = {}): Promise<unknown> {
    return request(`${this.path}/signals`, { method: 'POST', body: { type, to, data } });
  }

  stop() {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.source?.close();
    this.source = null;
  }
}

const rooms = new Map<string, { conn: RoomConnection; users: number }>();

/** The shared connection of a room; `release()` it when the component unmounts (the last one closes it). */
export function acquireRoom(kind: string, ref: number | string): { conn: RoomConnection; release: () => void } {
  const key = roomPath(kind, ref);
  let entry = rooms.get(key);
  if (!entry) {
    entry = { conn: new RoomConnection(kind, ref), users: 0 };
    rooms.set(key, entry);
    void entry.conn.start();
  }
  entry.users += 1;
  const held = entry;
  let released = false;
  return {
    conn: held.conn,
    release: () => {
      if (released) return;
      released = true;
      held.users -= 1;
      if (held.users === 0) {
        held.conn.stop();
        rooms.delete(key);
      }
    },
  };
}

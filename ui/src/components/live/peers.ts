/**
 * WebRTC between the participants of a live room, with the platform as the signalling server (a small wrapper
 * over the standard RTCPeerConnection API; docs/live.md says why no client library).
 *
 * Who offers: of two participants, the one with the higher user id (no glare, no "perfect negotiation" rollback
 * needed). Joining (or re-joining after a reload or network loss) announces `hello` to everyone; each other
 * participant answers with a `hello` addressed to the newcomer, and the higher id of each pair (re)creates its
 * connection and sends an offer. Each offer carries a session id that its answer and candidates repeat, so a late
 * answer or candidate of a replaced offer is ignored. Candidates that arrive before the remote description are
 * queued. A connection
 * that fails (or stays disconnected for 5 s) is rebuilt the same way, so losing the network on one side ends
 * nothing: the room stays open and the picture comes back when the network does.
 */
import type { Signal } from './types';

export type SendSignal = (type: Signal['type'], to: number | null, data?: Record<string, unknown>) => Promise<unknown>;

export interface PeerEvents {
  onStream: (userId: number, stream: MediaStream | null) => void;
  onState: (userId: number, state: RTCPeerConnectionState | 'waiting' | 'left') => void;
}

interface Peer {
  pc: RTCPeerConnection;
  session: string;              // the offer's id: answers and candidates of an older offer are ignored
  queued: RTCIceCandidateInit[];
  timer: ReturnType<typeof setTimeout> | null;
}

let sessions = 0;

export class PeerMesh {
  private peers = new Map<number, Peer>();
  private closed = false;

  constructor(
    private me: number,
    private local: MediaStream | null,
    private iceServers: RTCIceServer[],
    private send: SendSignal,
    private events: PeerEvents,
    private makePc: (config: RTCConfiguration) => RTCPeerConnection = (c) => new RTCPeerConnection(c),
  ) {}

  /** Announce this participant (on start and after every restart of the room's connection). */
  join(): Promise<unknown> {
    return this.send('hello', null, {});
  }

  isOfferer(other: number): boolean {
    return this.me > other;
  }

  async handle(signal: Signal): Promise<void> {
    if (this.closed) return;
    const from = signal.from;
    const data = signal.data as Record<string, unknown>;
    switch (signal.type) {
      case 'hello': {
        // a broadcast hello: `from` (re)started and knows nothing; a reply: `from` answers our broadcast;
        // a restart: `from` lost its link and asks the offerer for a new one
        const fresh = !data.reply || data.restart;
        if (!data.reply) await this.send('hello', from, { reply: true });
        if (!this.isOfferer(from)) this.events.onState(from, 'waiting');
        else if (fresh || !this.usable(from)) await this.call(from);
        break;
      }
      case 'offer': {
        const peer = this.fresh(from, String(data.session ?? ''));     // an offer always starts a new session
        await peer.pc.setRemoteDescription({ type: 'offer', sdp: String(data.sdp ?? '') });
        await this.flush(peer);
        const answer = await peer.pc.createAnswer();
        await peer.pc.setLocalDescription(answer);
        await this.send('answer', from, { type: answer.type, sdp: answer.sdp, session: peer.session });
        break;
      }
      case 'answer': {
        const peer = this.peers.get(from);
        if (!peer || peer.session !== data.session || peer.pc.signalingState !== 'have-local-offer') return;
        await peer.pc.setRemoteDescription({ type: 'answer', sdp: String(data.sdp ?? '') });
        await this.flush(peer);
        break;
      }
      case 'candidate': {
        const peer = this.peers.get(from);
        if (!peer || peer.session !== data.session) return;
        const { session: _session, ...candidate } = data;
        void _session;
        if (peer.pc.remoteDescription) await peer.pc.addIceCandidate(candidate as RTCIceCandidateInit).catch(() => undefined);
        else peer.queued.push(candidate as RTCIceCandidateInit);
        break;
      }
      case 'bye':
        this.drop(from);
        this.events.onState(from, 'left');
        break;
    }
  }

  /** A connection to `other` that is up or still being set up. */
  private usable(other: number): boolean {
    const peer = this.peers.get(other);
    return !!peer && !['failed', 'closed'].includes(peer.pc.connectionState);
  }

  /** (Re)connect to `other` as the offerer. */
  async call(other: number): Promise<void> {
    sessions += 1;
    const peer = this.fresh(other, `${this.me}.${sessions}.${Math.random().toString(36).slice(2, 8)}`);
    const offer = await peer.pc.createOffer();
    if (this.peers.get(other) !== peer) return;           // replaced meanwhile by a newer session
    await peer.pc.setLocalDescription(offer);
    await this.send('offer', other, { type: offer.type, sdp: offer.sdp, session: peer.session });
  }

  private fresh(other: number, session: string): Peer {
    this.drop(other);
    const pc = this.makePc({ iceServers: this.iceServers });
    const peer: Peer = { pc, session, queued: [], timer: null };
    this.peers.set(other, peer);
    if (this.local) for (const track of this.local.getTracks()) pc.addTrack(track, this.local);
    else {
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
    }
    pc.onicecandidate = (e) => {
      if (e.candidate) void this.send('candidate', other, { ...(e.candidate.toJSON() as Record<string, unknown>), session });
    };
    pc.ontrack = (e) => this.events.onStream(other, e.streams[0] ?? new MediaStream([e.track]));
    pc.onconnectionstatechange = () => {
      if (this.peers.get(other) !== peer) return;
      const state = pc.connectionState;
      this.events.onState(other, state);
      if (peer.timer) clearTimeout(peer.timer);
      peer.timer = null;
      if (state === 'failed') this.recover(other);
      else if (state === 'disconnected') peer.timer = setTimeout(() => this.recover(other), 5000);
    };
    return peer;
  }

  /** A broken link is rebuilt by the offerer; the other side asks for it with a hello. */
  private recover(other: number) {
    if (this.closed) return;
    if (this.isOfferer(other)) void this.call(other).catch(() => undefined);
    else void this.send('hello', other, { reply: true, restart: true }).catch(() => undefined);
  }

  private async flush(peer: Peer) {
    const queued = peer.queued.splice(0);
    for (const c of queued) await peer.pc.addIceCandidate(c).catch(() => undefined);
  }

  private drop(other: number) {
    const peer = this.peers.get(other);
    if (!peer) return;
    if (peer.timer) clearTimeout(peer.timer);
    peer.pc.onconnectionstatechange = null;
    peer.pc.onicecandidate = null;
    peer.pc.ontrack = null;
    peer.pc.close();
    this.peers.delete(other);
    this.events.onStream(other, null);
  }

  /** Leave: tell the others (unless the room closed) and close every connection. */
  close(sayBye: boolean) {
    if (this.closed) return;
    this.closed = true;
    if (sayBye) void this.send('bye', null, {}).catch(() => undefined);
    for (const other of [...this.peers.keys()]) this.drop(other);
  }
}

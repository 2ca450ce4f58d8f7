/**
 * WebRTC between the participants of a live room, with the platform as the signalling server (a small wrapper
 * over the standard RTCPeerConnection API; docs/live.md says why no client library).
 *
 * Who offers: of two participants, the one with the higher user id (no glare, no "perfect negotiation" rollback
 * needed). Joining (or re-joining after a reload or network loss) announces `hello` to everyone; each other
 * participant answers with a `hello` addressed to the newcomer, and the higher id of each pair (re)creates its
 * connection and sends an offer. Candidates that arrive before the remote description are queued. A connection
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
  queued: RTCIceCandidateInit[];
  timer: ReturnType<typeof setTimeout> | null;
}

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

  /** Announce this participant (on start and after every reconnect of the stream). */
  join(): Promise<unknown> {
    return this.send('hello', null, {});
  }

  isOfferer(other: number): boolean {
    return this.me > other;
  }

  async handle(signal: Signal): Promise<void> {
    if (this.closed) return;
    const from = signal.from;
    switch (signal.type) {
      case 'hello':
        if (!signal.data.reply) await this.send('hello', from, { reply: true });   // tell the newcomer we are here
        if (this.isOfferer(from)) await this.call(from);
        else this.events.onState(from, 'waiting');
        break;
      case 'offer': {
        const peer = this.fresh(from);                    // an offer always starts a new session
        await peer.pc.setRemoteDescription(signal.data as unknown as RTCSessionDescriptionInit);
        await this.flush(peer);
        const answer = await peer.pc.createAnswer();
        await peer.pc.setLocalDescription(answer);
        await this.send('answer', from, { type: answer.type, sdp: answer.sdp });
        break;
      }
      case 'answer': {
        const peer = this.peers.get(from);
        if (!peer || peer.pc.signalingState !== 'have-local-offer') return;
        await peer.pc.setRemoteDescription(signal.data as unknown as RTCSessionDescriptionInit);
        await this.flush(peer);
        break;
      }
      case 'candidate': {
        const peer = this.peers.get(from);
        const candidate = signal.data as RTCIceCandidateInit;
        if (!peer) return;
        if (peer.pc.remoteDescription) await peer.pc.addIceCandidate(candidate).catch(() => undefined);
        else peer.queued.push(candidate);
        break;
      }
      case 'bye':
        this.drop(from);
        this.events.onState(from, 'left');
        break;
    }
  }

  /** (Re)connect to `other` as the offerer. */
  async call(other: number): Promise<void> {
    const peer = this.fresh(other);
    const offer = await peer.pc.createOffer();
    await peer.pc.setLocalDescription(offer);
    await this.send('offer', other, { type: offer.type, sdp: offer.sdp });
  }

  private fresh(other: number): Peer {
    this.drop(other);
    const pc = this.makePc({ iceServers: this.iceServers });
    const peer: Peer = { pc, queued: [], timer: null };
    this.peers.set(other, peer);
    if (this.local) for (const track of this.local.getTracks()) pc.addTrack(track, this.local);
    else {
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
    }
    pc.onicecandidate = (e) => {
      if (e.candidate) void this.send('candidate', other, e.candidate.toJSON() as Record<string, unknown>);
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
    else void this.send('hello', other, { reply: true }).catch(() => undefined);
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

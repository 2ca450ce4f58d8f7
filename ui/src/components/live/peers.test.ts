import { describe, expect, it } from 'vitest';
import { PeerMesh, type SendSignal } from './peers';
import type { Signal } from './types';

/** Just enough of RTCPeerConnection to follow the signalling state machine. */
class FakePc {
  static all: FakePc[] = [];
  signalingState: RTCSignalingState = 'stable';
  remoteDescription: RTCSessionDescriptionInit | null = null;
  localDescription: RTCSessionDescriptionInit | null = null;
  connectionState: RTCPeerConnectionState = 'new';
  candidates: RTCIceCandidateInit[] = [];
  closed = false;
  onicecandidate: ((e: { candidate: { toJSON: () => RTCIceCandidateInit } | null }) => void) | null = null;
  ontrack: ((e: unknown) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  constructor(public config: RTCConfiguration) { FakePc.all.push(this); }
  addTrack() {}
  addTransceiver() {}
  async createOffer() { return { type: 'offer' as const, sdp: `offer-${FakePc.all.indexOf(this)}` }; }
  async createAnswer() { return { type: 'answer' as const, sdp: `answer-${FakePc.all.indexOf(this)}` }; }
  async setLocalDescription(d: RTCSessionDescriptionInit) {
    this.localDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-local-offer' : 'stable';
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remoteDescription = d;
    this.signalingState = d.type === 'offer' ? 'have-remote-offer' : 'stable';
  }
  async addIceCandidate(c: RTCIceCandidateInit) { this.candidates.push(c); }
  close() { this.closed = true; }
  fail() { this.connectionState = 'failed'; this.onconnectionstatechange?.(); }
}

interface Sent { from: number; type: Signal['type']; to: number | null; data: Record<string, unknown> }

/** Two or more meshes wired through an in-memory "platform" that delivers like the stream (to one or to all others). */
function network(ids: number[]) {
  const log: Sent[] = [];
  const meshes = new Map<number, PeerMesh>();
  const joined = new Set<number>();            // a page that has not joined the video has no mesh yet
  let next = 1;
  const deliver = async (s: Sent) => {
    for (const [id, mesh] of meshes) {
      if (!joined.has(id) || id === s.from || (s.to !== null && s.to !== id)) continue;
      await mesh.handle({ id: next++, from: s.from, type: s.type, data: s.data });
    }
  };
  for (const id of ids) {
    const send: SendSignal = async (type, to, data = {}) => {
      if (type === 'hello' && to === null) joined.add(id);
      const s = { from: id, type, to, data };
      log.push(s);
      await deliver(s);
    };
    meshes.set(id, new PeerMesh(id, null, [], send, { onStream: () => {}, onState: () => {} },
      (c) => new FakePc(c) as unknown as RTCPeerConnection));
  }
  return { log, meshes };
}

describe('PeerMesh', () => {
  it('the higher user id offers; one offer and one answer per pair', async () => {
    FakePc.all = [];
    const { log, meshes } = network([3, 8]);
    await meshes.get(3)!.join();
    await meshes.get(8)!.join();
    expect(log.filter((s) => s.type === 'offer').map((s) => [s.from, s.to])).toEqual([[8, 3]]);
    expect(log.filter((s) => s.type === 'answer').map((s) => [s.from, s.to])).toEqual([[3, 8]]);
    const open = FakePc.all.filter((p) => !p.closed);
    expect(open).toHaveLength(2);
    expect(open.every((p) => p.signalingState === 'stable' && p.remoteDescription)).toBe(true);
  });

  it('the same pair connects whoever joins first', async () => {
    FakePc.all = [];
    const { log, meshes } = network([3, 8]);
    await meshes.get(8)!.join();
    await meshes.get(3)!.join();
    expect(log.filter((s) => s.type === 'offer').map((s) => [s.from, s.to])).toEqual([[8, 3]]);
  });

  it('joining at the same moment still ends with one working session per pair', async () => {
    FakePc.all = [];
    const { meshes } = network([3, 8]);
    await Promise.all([meshes.get(3)!.join(), meshes.get(8)!.join()]);
    const open = FakePc.all.filter((p) => !p.closed);
    expect(open).toHaveLength(2);
    expect(open.every((p) => p.signalingState === 'stable' && p.remoteDescription)).toBe(true);
  });

  it('queues candidates that arrive before the offer and applies them after', async () => {
    FakePc.all = [];
    const sent: Sent[] = [];
    const mesh = new PeerMesh(2, null, [{ urls: 'stun:example.org' }], async (type, to, data = {}) => { sent.push({ from: 2, type, to, data }); },
      { onStream: () => {}, onState: () => {} }, (c) => new FakePc(c) as unknown as RTCPeerConnection);
    await mesh.handle({ id: 1, from: 9, type: 'offer', data: { type: 'offer', sdp: 'x', session: 's1' } });
    const pc = FakePc.all[0];
    expect(pc.config.iceServers).toEqual([{ urls: 'stun:example.org' }]);
    pc.remoteDescription = null;                               // as if the candidate raced ahead of the description
    await mesh.handle({ id: 2, from: 9, type: 'candidate', data: { candidate: 'c1', session: 's1' } });
    await mesh.handle({ id: 3, from: 9, type: 'candidate', data: { candidate: 'old', session: 's0' } });
    expect(pc.candidates).toEqual([]);
    expect(pc.remoteDescription).toBeNull();
    await pc.setRemoteDescription({ type: 'offer', sdp: 'x' });
    await mesh.handle({ id: 4, from: 9, type: 'candidate', data: { candidate: 'c2', session: 's1' } });
    expect(pc.candidates).toEqual([{ candidate: 'c2' }]);        // the stale session's candidate never arrives
    expect(sent.filter((s) => s.type === 'answer').map((s) => s.data.session)).toEqual(['s1']);
  });

  it('a rejoin (reload, network back) or a failed link gets a fresh connection; bye drops it', async () => {
    FakePc.all = [];
    const { log, meshes } = network([3, 8]);
    await meshes.get(3)!.join();
    await meshes.get(8)!.join();
    const first = FakePc.all.slice();
    await meshes.get(3)!.join();                               // the lower side comes back
    expect(first.every((p) => p.closed)).toBe(true);
    expect(log.filter((s) => s.type === 'offer')).toHaveLength(2);
    const before = FakePc.all.length;
    FakePc.all[FakePc.all.length - 1].fail();                  // the lower side's link fails: it asks for a new offer
    await new Promise((r) => setTimeout(r, 0));
    expect(log.filter((s) => s.type === 'offer').length).toBe(3);
    expect(FakePc.all.length).toBe(before + 2);
    meshes.get(3)!.close(true);
    expect(log[log.length - 1]).toMatchObject({ from: 3, type: 'bye', to: null });
    expect(FakePc.all.every((p) => p.closed)).toBe(true);
  });
});

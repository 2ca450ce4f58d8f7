/**
 * 视频会诊: the camera and microphone of this participant and the picture of each other participant, over WebRTC
 * with the platform as the signalling server (peers.ts). Where the site configured an external video service the
 * room shows its link instead. Mount it with the room's owner: `<VideoRoom kind="consult" ref={12} />`.
 */
import { useEffect, useRef, useState } from 'react';
import { ErrorBox, Loading } from '../common';
import { PeerMesh } from './peers';
import type { RoomConnection, RoomEvent } from './room';
import { useRoom } from './useRoom';
import { refOf, type LiveProps } from './VitalsPanel';

const STATE_TEXT: Record<string, string> = {
  new: '正在连接…', connecting: '正在连接…', connected: '已连接', disconnected: '网络中断，正在重连…',
  failed: '连接失败，正在重连…', closed: '已断开', waiting: '等待对方发起连接…', left: '对方已离开',
};

function Video({ stream, muted, label, testId }: { stream: MediaStream | null; muted?: boolean; label: string; testId: string }) {
  const el = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    if (el.current && el.current.srcObject !== stream) el.current.srcObject = stream;
  }, [stream]);
  return (
    <figure style={{ margin: 0, position: 'relative', background: '#111', borderRadius: 8, overflow: 'hidden' }}>
      <video ref={el} autoPlay playsInline muted={muted} data-testid={testId} style={{ width: '100%', aspectRatio: '4 / 3', display: 'block', objectFit: 'cover' }} />
      <figcaption style={{ position: 'absolute', left: 8, bottom: 6, color: '#fff', fontSize: 13, textShadow: '0 0 3px #000' }}>{label}</figcaption>
    </figure>
  );
}

export default function VideoRoom(props: LiveProps) {
  const ref = refOf(props);
  const [local, setLocal] = useState<MediaStream | null>(null);
  const [mediaError, setMediaError] = useState<string | null>(null);
  const [remotes, setRemotes] = useState<Record<number, MediaStream | null>>({});
  const [states, setStates] = useState<Record<number, string>>({});
  const [started, setStarted] = useState(false);
  const mesh = useRef<PeerMesh | null>(null);

  const onEvent = (e: RoomEvent, conn: RoomConnection) => {
    if (e.type === 'signal') {
      // before this participant joins the video nobody offers to it: its own hello starts every handshake
      if (mesh.current) void mesh.current.handle(e.signal).catch(() => undefined);
    } else if (e.type === 'snapshot' && mesh.current) {
      void mesh.current.join().catch(() => undefined);     // after a restart of the connection: announce again
    } else if (e.type === 'closed') {
      mesh.current?.close(false);
      mesh.current = null;
      local?.getTracks().forEach((t) => t.stop());
    }
    void conn;
  };
  const conn = useRoom(props.kind, ref, onEvent);
  const snapshot = conn?.snapshot ?? null;
  const external = snapshot?.video_url ?? null;

  // camera + microphone once the room is known (and uses WebRTC)
  useEffect(() => {
    if (!started || !snapshot || external || conn?.closed) return;
    let stream: MediaStream | null = null;
    let cancelled = false;
    const go = async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: true });
      } catch {
        setMediaError('无法使用摄像头或麦克风，仅接收对方画面。请在浏览器设置中允许访问。');
      }
      if (cancelled) {
        stream?.getTracks().forEach((t) => t.stop());
        return;
      }
      setLocal(stream);
      const m = new PeerMesh(snapshot.me, stream, snapshot.ice_servers, (type, to, data) => conn!.signal(type, to, data), {
        onStream: (user, s) => setRemotes((r) => ({ ...r, [user]: s })),
        onState: (user, state) => setStates((st) => ({ ...st, [user]: state })),
      });
      mesh.current = m;
      await m.join().catch(() => undefined);
    };
    void go();
    return () => {
      cancelled = true;
      mesh.current?.close(true);
      mesh.current = null;
      stream?.getTracks().forEach((t) => t.stop());
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [started, snapshot?.me, external, conn?.closed]);

  if (!conn || (!snapshot && !conn.error && !conn.closed)) return <Loading text="正在进入视频会诊…" />;
  if (conn.error) return <ErrorBox error={conn.error} />;
  const others = (snapshot?.participants ?? []).filter((p) => p.user_id !== snapshot?.me);
  return (
    <section className="card live-video" aria-label="视频会诊" data-testid="video-room">
      <div className="row" style={{ justifyContent: 'space-between', alignItems: 'center' }}>
        <h2 style={{ margin: 0 }}>视频会诊</h2>
        {started && !external && !conn.closed && (
          <button type="button" className="btn btn-small" onClick={() => setStarted(false)}>离开视频</button>
        )}
      </div>
      {conn.closed ? (
        <div className="alert alert-info" role="status">会诊已结束，视频已关闭。</div>
      ) : external ? (
        <p>
          本会诊使用外部视频服务：
          <a href={external} target="_blank" rel="noreferrer" data-testid="external-video-link">打开视频会议</a>
        </p>
      ) : !started ? (
        <button type="button" className="btn btn-primary btn-block" style={{ minHeight: 44 }} onClick={() => setStarted(true)} data-testid="join-video">
          加入视频
        </button>
      ) : (
        <>
          {mediaError && <div className="alert alert-warn">{mediaError}</div>}
          <div style={{ display: 'grid', gap: 8, gridTemplateColumns: 'repeat(auto-fit, minmax(240px, 1fr))' }}>
            {others.map((p) => (
              <div key={p.user_id}>
                <Video stream={remotes[p.user_id] ?? null} label={p.name} testId="remote-video" />
                <div className="muted" data-testid="peer-state">{STATE_TEXT[states[p.user_id] ?? 'waiting'] ?? '正在连接…'}</div>
              </div>
            ))}
            <Video stream={local} muted label="我" testId="local-video" />
          </div>
        </>
      )}
    </section>
  );
}

/** /live/:kind/:ref — the live room on its own (vitals + video), e.g. before a consult page mounts them. */
import { useAsync } from '../../lib/useAsync';
import { request } from '../../api/client';
import { Link, useParams } from 'react-router-dom';
import VideoRoom from './VideoRoom';
import VitalsPanel from './VitalsPanel';
import { useRoom } from './useRoom';

interface RoomItem { kind: string; ref: number; title: string; opened_at: string }

function RoomList() {
  const rooms = useAsync(() => request<{ items: RoomItem[] }>('/api/v1/live/rooms'), []);
  return (
    <div className="page-narrow">
      <h1>实时会诊</h1>
      {rooms.data && rooms.data.items.length === 0 && <p className="muted">您目前没有进行中的实时会诊。</p>}
      <ul className="plain-list">
        {(rooms.data?.items ?? []).map((r) => (
          <li key={`${r.kind}-${r.ref}`}><Link to={`/live/${r.kind}/${r.ref}`} style={{ display: 'inline-block', minHeight: 44, lineHeight: '44px' }}>{r.title}</Link></li>
        ))}
      </ul>
    </div>
  );
}

function RoomTitle({ kind, roomRef }: { kind: string; roomRef: string }) {
  const conn = useRoom(kind, roomRef);              // the page's one shared connection (room.ts)
  return <h1>{conn?.snapshot?.title ?? '实时会诊'}</h1>;
}

export default function LivePage() {
  const { kind, ref } = useParams();
  if (!kind || !ref) return <RoomList />;
  return (
    <div className="page-wide stack" style={{ display: 'grid', gap: 12 }}>
      <RoomTitle kind={kind} roomRef={ref} />
      <VitalsPanel kind={kind} roomRef={ref} />
      <VideoRoom kind={kind} roomRef={ref} />
    </div>
  );
}

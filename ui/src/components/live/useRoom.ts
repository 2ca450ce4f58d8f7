import { useEffect, useState } from 'react';
import { acquireRoom, type RoomConnection, type RoomEvent } from './room';

/** Subscribe a component to the room's shared connection; `onEvent` sees every stream event. */
export function useRoom(kind: string, ref: number | string, onEvent?: (e: RoomEvent, conn: RoomConnection) => void) {
  const [conn, setConn] = useState<RoomConnection | null>(null);
  const [, setTick] = useState(0);

  useEffect(() => {
    const { conn: c, release } = acquireRoom(kind, ref);
    setConn(c);
    const off = c.subscribe((e) => {
      onEvent?.(e, c);
      if (e.type !== 'vitals' && e.type !== 'signal') setTick((t) => t + 1);
    });
    return () => {
      off();
      release();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [kind, ref]);

  return conn;
}

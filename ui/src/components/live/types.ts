/** Shapes of GET /api/v1/live/rooms/{kind}/{ref} and of the stream's events (docs/live.md). */
export type Channel = 'hr' | 'spo2' | 'sbp' | 'dbp' | 'rr' | 'temp';

export interface Threshold {
  op: '<' | '<=' | '>' | '>=';
  value: number;
}

export interface ChannelState {
  channel: Channel;
  label: string;
  unit: string;
  last: { value: number; at: string } | null;
  trend: [string, number][];
  alarm: string | null;
  thresholds: Threshold[];
}

export interface Alarm {
  id: number;
  channel: Channel;
  label: string;
  value: number;
  threshold: string;
  at: string;
}

export interface RoomSnapshot {
  kind: string;
  ref: number;
  title: string;
  status: 'open' | 'closed';
  opened_at: string;
  me: number;
  participants: { user_id: number; name: string }[];
  video_url: string | null;
  ice_servers: RTCIceServer[];
  trend_minutes: number;
  channels: ChannelState[];
  alarms: Alarm[];
  cursor: string;
}

export interface Reading {
  id: number;
  channel: Channel;
  value: number;
  at: string;
}

export interface Signal {
  id: number;
  from: number;
  type: 'hello' | 'offer' | 'answer' | 'candidate' | 'bye';
  data: Record<string, unknown>;
}

/** Pure logic of the vitals panel: new readings into each channel's last value and 15-minute trend, alarms. */
import type { Alarm, ChannelState, Reading, Threshold } from './types';

const OPS: Record<Threshold['op'], (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

/** The threshold the value breaches, written as the server writes it ("<90"), or null. */
export function breach(value: number, thresholds: Threshold[]): string | null {
  const hit = thresholds.find((t) => OPS[t.op](value, t.value));
  return hit ? `${hit.op}${hit.value}` : null;
}

/** Channels after new readings: last value (the latest by time), trend kept to `minutes` before `now`, alarm. */
export function applyReadings(channels: ChannelState[], readings: Reading[], now: Date, minutes = 15): ChannelState[] {
  const start = now.getTime() - minutes * 60_000;
  return channels.map((c) => {
    const mine = readings.filter((r) => r.channel === c.channel);
    let trend = c.trend;
    let last = c.last;
    if (mine.length) {
      trend = [...trend, ...mine.map((r) => [r.at, r.value] as [string, number])];
      trend.sort((a, b) => Date.parse(a[0]) - Date.parse(b[0]));
      const newest = trend[trend.length - 1];
      last = { at: newest[0], value: newest[1] };
    }
    trend = trend.filter(([at]) => Date.parse(at) >= start);
    const alarm = last ? breach(last.value, c.thresholds) : null;
    if (trend === c.trend && last === c.last && alarm === c.alarm) return c;
    return { ...c, trend, last, alarm };
  });
}

/** The alarm log with new alarms first, without repeats, at most `keep`. */
export function addAlarms(log: Alarm[], alarms: Alarm[], keep = 50): Alarm[] {
  const seen = new Set(log.map((a) => a.id));
  const fresh = alarms.filter((a) => !seen.has(a.id)).sort((a, b) => b.id - a.id);
  return [...fresh, ...log].slice(0, keep);
}

/** A value as shown: temperature with one decimal, the rest whole numbers. */
export function shown(channel: string, value: number): string {
  return channel === 'temp' ? value.toFixed(1) : String(Math.round(value));
}

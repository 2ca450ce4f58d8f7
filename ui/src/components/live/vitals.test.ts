import { describe, expect, it } from 'vitest';
import { addAlarms, applyReadings, breach } from './vitals';
import type { ChannelState } from './types';

const spo2: ChannelState = {
  channel: 'spo2', label: '血氧饱和度', unit: '%', last: null, trend: [], alarm: null,
  thresholds: [{ op: '<', value: 90 }],
};
const at = (min: number) => new Date(Date.UTC(2026, 11, 4, 3, min)).toISOString();

describe('vitals', () => {
  it('breach follows the configured operator', () => {
    expect(breach(88, spo2.thresholds)).toBe('<90');
    expect(breach(90, spo2.thresholds)).toBeNull();
    expect(breach(180, [{ op: '>=', value: 180 }])).toBe('>=180');
  });

  it('keeps the last 15 minutes, the newest value and the alarm state', () => {
    const start: ChannelState = { ...spo2, trend: [[at(0), 97], [at(10), 96]], last: { at: at(10), value: 96 } };
    const now = new Date(at(20));
    const [after] = applyReadings([start], [{ id: 1, channel: 'spo2', value: 88, at: at(20) }, { id: 2, channel: 'hr', value: 70, at: at(20) }], now);
    expect(after.trend).toEqual([[at(10), 96], [at(20), 88]]);
    expect(after.last).toEqual({ at: at(20), value: 88 });
    expect(after.alarm).toBe('<90');
    const [recovered] = applyReadings([after], [{ id: 3, channel: 'spo2', value: 95, at: at(21) }], new Date(at(21)));
    expect(recovered.alarm).toBeNull();
  });

  it('a late reading does not replace a newer last value', () => {
    const start: ChannelState = { ...spo2, trend: [[at(10), 96]], last: { at: at(10), value: 96 } };
    const [after] = applyReadings([start], [{ id: 1, channel: 'spo2', value: 80, at: at(9) }], new Date(at(10)));
    expect(after.last?.value).toBe(96);
  });

  it('adds alarms newest first without repeats', () => {
    const a = { id: 1, channel: 'spo2' as const, label: '血氧饱和度', value: 88, threshold: '<90', at: at(1) };
    const b = { ...a, id: 2 };
    expect(addAlarms([a], [a, b]).map((x) => x.id)).toEqual([2, 1]);
  });
});

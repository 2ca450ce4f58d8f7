import { describe, expect, it } from 'vitest';
import { countdown } from './api';

describe('审方 SLA countdown', () => {
  it('counts down from the seconds the server said were left', () => {
    const fetched = 1_000_000;
    expect(countdown(300, fetched, fetched)).toEqual({ text: '剩余 5:00', late: false });
    expect(countdown(300, fetched, fetched + 48_000)).toEqual({ text: '剩余 4:12', late: false });
    expect(countdown(300, fetched, fetched + 365_000)).toEqual({ text: '已超时 1:05', late: true });
  });

  it('shows the right time left on a device whose clock is hours wrong', () => {
    // a phone eight hours behind (its clock says 2026-12-04 08:00 while the server says 16:00): the same answer
    // counts the same, because only the time elapsed since the answer arrived is used
    const wrong = Date.parse('2026-12-04T08:00:00Z');
    const right = Date.parse('2026-12-04T16:00:00Z');
    expect(countdown(180, wrong, wrong + 30_000)).toEqual(countdown(180, right, right + 30_000));
    expect(countdown(180, wrong, wrong + 30_000)).toEqual({ text: '剩余 2:30', late: false });
  });

  it('shows nothing outside review and never counts back up when the device clock steps back', () => {
    expect(countdown(null, 0, 0)).toBeNull();
    expect(countdown(undefined, 0, 0)).toBeNull();
    expect(countdown(60, 10_000, 5_000)).toEqual({ text: '剩余 1:00', late: false });
  });
});

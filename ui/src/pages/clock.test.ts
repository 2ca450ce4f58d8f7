import { describe, expect, it } from 'vitest';
import { CLOCK_STEPS, movedText } from './ClockPage';

describe('平台时钟', () => {
  it('offers the steps a 90-day follow-up model needs', () => {
    expect(CLOCK_STEPS.map((s) => s.days)).toEqual([1, 7, 30, 90]);
    expect(CLOCK_STEPS.every((s) => s.label.endsWith('天'))).toBe(true);
  });

  it('says in Chinese what a move did', () => {
    expect(movedText({ now: '2026-03-01T04:00:00+00:00', instances_with_due_timers: 2 }))
      .toBe('平台时间已前移至 2026-03-01 12:00，2 个流程实例的定时器已触发。');
    expect(movedText({ now: '2026-03-01T04:00:00+00:00', instances_with_due_timers: 0 })).toMatch(/没有到期的定时器。$/);
  });
});

import { describe, expect, it } from 'vitest';
import { addDays, dayLabel, mondayOf } from './api';

describe('liaison week helpers', () => {
  it('finds the Monday of any day of the week', () => {
    expect(mondayOf('2026-12-04')).toBe('2026-11-30');
    expect(mondayOf('2026-11-30')).toBe('2026-11-30');
    expect(mondayOf('2026-12-06')).toBe('2026-11-30');
  });
  it('moves across a month end and labels the day in Chinese', () => {
    expect(addDays('2026-11-30', 7)).toBe('2026-12-07');
    expect(dayLabel('2026-12-08')).toBe('12月08日 周二');
  });
});

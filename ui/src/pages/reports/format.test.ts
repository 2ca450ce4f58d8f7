import { describe, expect, it } from 'vitest';
import { change, monthBefore, shown } from './format';

describe('report formatting', () => {
  it('shows rates with their unit and counts bare', () => {
    expect(shown(60, '%')).toBe('60%');
    expect(shown(5, '人')).toBe('5');
    expect(shown(null, '%')).toBe('—');
  });
  it('words a comparison in points for rates and per cent for counts', () => {
    expect(change({ base: 50, change: 10, change_pct: 20 }, '%')).toBe('+10个百分点');
    expect(change({ base: 4, change: -1, change_pct: -25 }, '人')).toBe('-25%');
    expect(change({ base: null, change: null, change_pct: null }, '%')).toBe('—');
  });
  it('counts months back across a year', () => {
    expect(monthBefore('2026-02', 2)).toBe('2025-12');
    expect(monthBefore('2026-06', 0)).toBe('2026-06');
  });
});

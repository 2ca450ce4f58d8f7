import { describe, expect, it } from 'vitest';
import { normalizeStats } from './stats';

describe('normalizeStats', () => {
  it('reads counts by status and sums per-status counts of each process', () => {
    const s = normalizeStats({ by_status: { running: 3, completed: 2 }, by_process: { screening: { running: 2, completed: 1 }, follow_up: { running: 1 } } });
    expect(s.byStatus).toEqual({ running: 3, completed: 2 });
    expect(s.byProcess).toEqual({ screening: 3, follow_up: 1 });
  });

  it('answers empty counts for nothing', () => {
    expect(normalizeStats(null)).toEqual({ byStatus: {}, byProcess: {} });
  });
});

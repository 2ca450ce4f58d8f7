import { describe, expect, it } from 'vitest';
import { LOINC, seriesOf } from './observations';

describe('seriesOf', () => {
  it('keeps one code, oldest first, and skips values that are not numbers', () => {
    const obs = [
      { code: LOINC.sbp, value: 150, effective_at: '2024-03-01T00:00:00Z' },
      { code: LOINC.dbp, value: 90, effective_at: '2024-03-01T00:00:00Z' },
      { code: LOINC.sbp, value: '138', effective_at: '2024-01-01T00:00:00Z' },
      { code: LOINC.sbp, value: 'n/a', effective_at: '2024-02-01T00:00:00Z' },
    ];
    expect(seriesOf(obs, LOINC.sbp)).toEqual([
      [Date.parse('2024-01-01T00:00:00Z'), 138],
      [Date.parse('2024-03-01T00:00:00Z'), 150],
    ]);
  });
});

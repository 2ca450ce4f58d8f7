import { describe, expect, it } from 'vitest';
import { homeReadingBody, homeReadingRows } from './homeReadings';

describe('home readings', () => {
  it('groups one measurement into one row', () => {
    const at = '2026-12-03T23:00:00+00:00';
    const rows = homeReadingRows([
      { code: '8480-6', value: 132, effective_at: at, source: 'patient', source_label: '患者自测' },
      { code: '8462-4', value: 84, effective_at: at, source: 'patient', source_label: '患者自测' },
      { code: '8867-4', value: 70, effective_at: at, source: 'patient', source_label: '患者自测' },
      { code: '1558-6', value: 6.1, effective_at: '2026-12-02T23:00:00+00:00', source: 'patient' },
    ]);
    expect(rows).toEqual([
      { at, sourceLabel: '患者自测', bp: '132/84', pulse: 70 },
      { at: '2026-12-02T23:00:00+00:00', sourceLabel: '患者自测', glucose: '6.1（空腹）' },
    ]);
  });

  it('sends only what was filled in, at Beijing time', () => {
    expect(homeReadingBody({ measured_at: '2026-12-04T07:30', sbp: '132', dbp: '84', pulse: '', glucose: '', glucose_kind: '' }, 'x1'))
      .toEqual({ id: 'x1', measured_at: '2026-12-04T07:30:00+08:00', sbp: 132, dbp: 84 });
  });
});

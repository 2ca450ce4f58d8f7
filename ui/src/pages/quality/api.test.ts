import { describe, expect, it } from 'vitest';
import { withChart, type FindingChart, type SentFinding } from './api';

const base = {
  id: 'x', kind: 'outlier', kind_label: '与同级相比', rule: 'funnel_95%', severity: 'warning', severity_label: '关注',
  indicator_id: 'follow_up_timeliness', indicator_name: '随访及时率', subject: '第1村', subject_kind: 'village',
  sentence: '…', value: 40, numerator: 8, denominator: 20, reference: 70,
  link: { indicator_id: 'follow_up_timeliness', org_code: 'C01T01V01', period: '2026-06', part: 'gap', doctor_id: null, url: '/quality' },
} as const;

describe('withChart', () => {
  it("gives an outlier the shared funnel with its own highlighted point", () => {
    const funnel: FindingChart = {
      type: 'funnel', group: 'village', group_label: '村', network_rate: 70,
      points: [{ key: 'C01T01V01', label: '第1村', value: 40, numerator: 8, denominator: 20 }],
      curve: [{ n: 20, lo95: 49.9, hi95: 90.1, lo998: 38.3, hi998: 100 }],
    };
    const sent: SentFinding = { ...base, chart: { type: 'funnel', group: 'village', group_label: '村', network_rate: 70,
      highlight: 'C01T01V01', ref: 'funnel:follow_up_timeliness:village' } };
    const f = withChart(sent, { 'funnel:follow_up_timeliness:village': funnel });
    expect(f.chart.points).toEqual(funnel.points);
    expect(f.chart.curve).toEqual(funnel.curve);
    expect(f.chart.highlight).toBe('C01T01V01');
    expect('ref' in f.chart).toBe(false);
  });

  it('keeps a control chart sent with the finding', () => {
    const points = [{ period: '2026-06', value: 40, numerator: 8, denominator: 20, lcl: 20, ucl: 90 }];
    const f = withChart({ ...base, kind: 'drift', chart: { type: 'p_chart', centre: 60, points } }, {});
    expect(f.chart.points).toEqual(points);
    expect(f.chart.centre).toBe(60);
  });
});

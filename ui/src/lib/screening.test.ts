import { describe, expect, it } from 'vitest';
import { funnelBy, pieData, runActive, runChunks, runFraction, runSummary } from './screening';
import type { ScreeningStatsRow } from '../api/types';

const rows: ScreeningStatsRow[] = [
  { org_code: 'T01', disease: 'htn', flagged: 10, verified: 6, rejected: 2, enrolled: 5 },
  { org_code: 'T01', disease: 't2dm', flagged: 4, verified: 3, rejected: 1, enrolled: 2 },
  { org_code: 'T02', disease: 'htn', flagged: 3, verified: 1, rejected: 0, enrolled: 1 },
];

describe('screening stats → chart series', () => {
  it('sums per disease, most flagged first', () => {
    const s = funnelBy(rows, 'disease');
    expect(s.categories).toEqual(['高血压', '2型糖尿病']);
    expect(s.series.map((x) => x.name)).toEqual(['筛出', '已核实', '已排除', '已建档']);
    expect(s.series[0].data).toEqual([13, 4]);
    expect(s.series[3].data).toEqual([6, 2]);
  });

  it('sums per organization with names', () => {
    const s = funnelBy(rows, 'org', (c) => ({ T01: '城关镇卫生院' })[c] ?? c);
    expect(s.categories).toEqual(['城关镇卫生院', 'T02']);
    expect(s.series[1].data).toEqual([9, 1]);
  });

  it('is empty for no rows', () => {
    expect(funnelBy([], 'disease')).toEqual({ categories: [], series: expect.any(Array) });
    expect(funnelBy([], 'disease').series.every((x) => x.data.length === 0)).toBe(true);
  });

  it('makes pie data', () => {
    expect(pieData({ his: 3, insurance: 0, public_health: 5 }, { his: 'HIS', public_health: '公卫系统' })).toEqual([
      { name: '公卫系统', value: 5 },
      { name: 'HIS', value: 3 },
    ]);
    expect(pieData(undefined, {})).toEqual([]);
  });
});

describe('run progress', () => {
  it('reads percent or processed/total', () => {
    expect(runFraction({ id: 1, status: 'running', percent: 42.5 })).toBeCloseTo(0.425);
    expect(runFraction({ id: 1, status: 'running', processed: 50, total: 200 })).toBe(0.25);
    expect(runFraction({ id: 1, status: 'queued' })).toBeNull();
  });
  it('knows when to stop polling', () => {
    expect(runActive({ id: 1, status: 'running' })).toBe(true);
    expect(runActive({ id: 1, status: 'completed' })).toBe(false);
    expect(runActive({ id: 1, status: 'running', finished_at: '2026-01-01T00:00:00Z' })).toBe(false);
  });
  it('summarises', () => {
    expect(runSummary({ id: 1, status: 'running', processed: 1234, total: 2000, cases_created: 12, residents_per_second: 350.4 })).toBe(
      '已处理 1,234 / 2,000 人，新增 12 例，约 350 人/秒',
    );
  });
  it('counts chunks done and failed', () => {
    expect(runChunks({ id: 1, status: 'running', total_chunks: 10, done_chunks: 3, failed_chunks: 0 })).toBe('分块 3 / 10 已完成');
    expect(runChunks({ id: 1, status: 'failed', total_chunks: 10, done_chunks: 9, failed_chunks: 1 })).toBe('分块 9 / 10 已完成，1 块失败');
    expect(runChunks({ id: 1, status: 'completed', total_chunks: 0 })).toBe('');
  });
});

import { runCountsText } from './screening';

describe('run counts', () => {
  it('names cases per disease and kind', () => {
    expect(runCountsText({ cases: { 'htn:suspected': 3, 't2dm:high_risk': 2 }, input_errors: { implausible_value: 1 } })).toEqual({
      cases: '高血压疑似 3、2型糖尿病高危人群 2',
      errors: 'implausible_value 1',
    });
    expect(runCountsText(undefined)).toEqual({ cases: '', errors: '' });
  });
});

import { describe, expect, it } from 'vitest';
import { exampleChanges, exampleInputs, replayForDeploy, replayHeadline, replayLines, type ReplayResult } from './replay';

const base: ReplayResult = {
  decision_id: 'htn_cv_risk', limit: 1000, replayed: 120, changed: 39, unchanged: 81, errors: { from: 0, to: 0 },
  outputs: ['risk_raw', 'risk_resolved'], examples: [],
  matrix: [
    { output: 'risk_resolved', from: 'LOW', to: 'MODERATE', from_label: '低危', to_label: '中危', count: 2 },
    { output: 'risk_resolved', from: 'MODERATE', to: 'HIGH', from_label: '中危', to_label: '高危', count: 37 },
  ],
};

describe('draft replay summary', () => {
  it('counts what would change out of what was replayed', () => {
    expect(replayHeadline(base)).toBe('回放最近 120 次真实评估：39 次结果将改变（32.5%），81 次不变');
    expect(replayHeadline({ ...base, changed: 0, unchanged: 120, matrix: [] })).toBe('回放最近 120 次真实评估：结果全部不变');
    expect(replayHeadline({ ...base, replayed: 0, changed: 0, unchanged: 0 })).toContain('暂无可回放');
  });

  it('lists from → to moves in Chinese labels, largest first, naming the output only when several changed', () => {
    expect(replayLines(base)).toEqual(['37 次将从 中危 变为 高危', '2 次将从 低危 变为 中危']);
    const two = { ...base, matrix: [...base.matrix, { output: 'risk_raw', from: 'LOW', to: 'MODERATE', from_label: '低危', to_label: '中危', count: 1 }] };
    expect(replayLines(two)[0]).toBe('37 次将从 中危 变为 高危（风险分层）');
    expect(replayLines(two)[2]).toBe('1 次将从 低危 变为 中危（风险分层（原表格））');
  });

  it('shows example inputs with the column labels', () => {
    expect(exampleInputs({ sbp: 150, dbp: 92, diabetes: false, egfr: null }, { sbp: '收缩压', dbp: '舒张压', diabetes: '糖尿病' }))
      .toBe('收缩压 150，舒张压 92，糖尿病 否，egfr —');
  });

  it('says what changed for an example with the output label', () => {
    expect(exampleChanges([{ output: 'risk_resolved', from_label: '中危', to_label: '高危' }])).toBe('风险分层 中危 → 高危');
  });

  it('passes the replay on deploy only for the very draft that was replayed', () => {
    expect(replayForDeploy({ id: 'a1', xml: '<x/>' }, '<x/>')).toBe('a1');
    expect(replayForDeploy({ id: 'a1', xml: '<x/>' }, '<y/>')).toBeUndefined();
    expect(replayForDeploy(null, '<x/>')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { changeLine, changePath, drugText, targetText, valueText, withAcknowledgementRows } from './carePlan';

describe('care plan wording', () => {
  it('words drugs and targets', () => {
    expect(drugText({ drug: 'amlodipine', name: '氨氯地平', dose_mg: 5, frequency: 'qd' })).toBe('氨氯地平 5 mg，每日1次');
    expect(drugText({ drug: 'metformin' })).toBe('metformin');
    expect(targetText('sbp_lt', 140)).toBe('收缩压低于 140 mmHg');
    expect(valueText(['medication', 'foot_care'])).toBe('规律服药、糖尿病足护理');
  });

  it('words diff paths and changes', () => {
    expect(changePath('targets.sbp_lt')).toBe('控制目标 · 收缩压低于');
    expect(changePath('drugs.amlodipine')).toBe('用药 · amlodipine');
    expect(changePath('follow_up_interval_days')).toBe('随访间隔（天）');
    expect(changeLine({ path: 'targets.sbp_lt', change: 'changed', from: 140, to: 130 })).toBe('修改 控制目标 · 收缩压低于：140 → 130');
    expect(changeLine({ path: 'drugs.amlodipine', change: 'added', from: null, to: { drug: 'amlodipine', name: '氨氯地平', dose_mg: 5, frequency: 'qd' } })).toBe(
      '新增 用药 · amlodipine：氨氯地平 5 mg，每日1次',
    );
    expect(changeLine({ path: 'notes', change: 'removed', from: '少盐', to: null })).toBe('删除 备注：少盐');
  });
});

describe('regimen acknowledgements', () => {
  it('adds one row per warning the server asks to acknowledge, keeping what is there', () => {
    const data = { content: { drugs: [], acknowledgements: [{ finding: 'a', comment: '已评估' }] }, change_reason: '首次' };
    const out = withAcknowledgementRows(data, { findings: [{ key: 'a' }, { key: 'ras_potassium:losartan+potassium_chloride' }] }) as {
      content: { acknowledgements: unknown[] };
      change_reason: string;
    };
    expect(out.content.acknowledgements).toEqual([
      { finding: 'a', comment: '已评估' },
      { finding: 'ras_potassium:losartan+potassium_chloride', comment: '' },
    ]);
    expect(out.change_reason).toBe('首次');
    expect(withAcknowledgementRows(undefined, {})).toEqual({ content: { acknowledgements: [] } });
  });
});

import { describe, expect, it } from 'vitest';
import { upgradeDraft, upgradeNotice } from './upgrade';

const v2 = {
  properties: {
    visit_date: { type: 'string', title: '随访日期' },
    sbp: { type: 'integer', title: '收缩压' },
    symptoms: { type: 'array', title: '症状', items: { type: 'string', enum: ['头晕', '头痛'] } },
    outcome: { type: 'string', title: '结局', enum: ['continue', 'refer'] },
    weight: { type: 'number', title: '体重' },
    lifestyle: { type: 'object', title: '生活方式', properties: { smoking: { type: 'boolean', title: '吸烟' } } },
  },
};

describe('a draft filled under a retired form version', () => {
  it('carries fields that still exist with the same type and choices, and names what was dropped', () => {
    const u = upgradeDraft(v2, {
      visit_date: '2026-12-04', sbp: 150, symptoms: ['头晕'], weight: 61, outcome: 'stop',
      amount: 5, lifestyle: { smoking: true, drinking: 'daily' },
    });
    expect(u.data).toEqual({ visit_date: '2026-12-04', sbp: 150, symptoms: ['头晕'], weight: 61, lifestyle: { smoking: true } });
    expect(u.kept).toEqual(['随访日期', '收缩压', '症状', '体重', '生活方式 · 吸烟']);
    expect(u.dropped.map((d) => d.field)).toEqual(['结局', 'amount', '生活方式 · drinking']);
  });
  it('drops a value whose type changed (a free text that became a number) and a choice no longer offered', () => {
    const u = upgradeDraft(v2, { sbp: '150/90', symptoms: ['胸闷'] });
    expect(u.data).toEqual({});
    expect(u.dropped).toEqual([{ field: '收缩压', value: '150/90' }, { field: '症状', value: '["胸闷"]' }]);
  });
  it('an integer fits a number field', () => {
    expect(upgradeDraft(v2, { weight: 60 }).data).toEqual({ weight: 60 });
  });
  it('tells the doctor in Chinese, without codes when titles exist', () => {
    const text = upgradeNotice(upgradeDraft(v2, { sbp: 150, outcome: 'stop' }));
    expect(text).toContain('已带入 1 项');
    expect(text).toContain('结局（stop）');
    expect(upgradeNotice(upgradeDraft(v2, { sbp: 150 }))).not.toContain('已移除');
  });
  it('a missing schema or data gives an empty form, never a crash', () => {
    expect(upgradeDraft(null, { a: 1 }).dropped).toHaveLength(1);
    expect(upgradeDraft(v2, null).data).toEqual({});
  });
});

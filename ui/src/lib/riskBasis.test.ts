import { describe, expect, it } from 'vitest';
import { bpBasisText } from './riskBasis';

describe('risk grade basis', () => {
  it('names the untreated BP, its date and source, and when treatment started', () => {
    expect(bpBasisText({ bp: { rule: 'untreated', treatment_started_on: '2026-11-04',
      sbp: { value: 170, on: '2026-11-03', source: 'his' }, dbp: { value: 100, on: '2026-11-03', source: 'his' } } }))
      .toBe('分层血压：170/100 mmHg（2026-11-03 HIS），为开始降压治疗（2026-11-04）前的最高血压；治疗后血压只用于评估控制情况，不降低分层');
  });

  it('says the highest reading grades when no antihypertensive is recorded, and dates SBP and DBP apart', () => {
    const text = bpBasisText({ bp: { rule: 'highest_on_record', treatment_started_on: null,
      sbp: { value: 184, on: '2026-12-01', source: 'village_app' }, dbp: { value: 112, on: '2026-12-02', source: 'x' } } });
    expect(text).toContain('184/112 mmHg（收缩压 2026-12-01 村医录入；舒张压 2026-12-02 其他来源）');
    expect(text).toContain('档案未记录降压药物，取档案中最高血压');
  });

  it('is empty without a BP basis', () => {
    expect(bpBasisText({ values: 'latest' })).toBeNull();
    expect(bpBasisText(null)).toBeNull();
  });
});

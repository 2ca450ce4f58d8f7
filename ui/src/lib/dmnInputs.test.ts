import { describe, expect, it } from 'vitest';
import { buildInputs, firedRules, inputName, parseInputValue } from './dmnInputs';

describe('decision inputs typed by a person', () => {
  it('reads numbers, booleans, JSON and text', () => {
    expect(parseInputValue('150')).toBe(150);
    expect(parseInputValue('7.2')).toBe(7.2);
    expect(parseInputValue('true')).toBe(true);
    expect(parseInputValue('否')).toBe(false);
    expect(parseInputValue('[2, 3]')).toEqual([2, 3]);
    expect(parseInputValue('M')).toBe('M');
    expect(parseInputValue('  ')).toBeUndefined();
  });

  it('leaves out empty inputs (absent means normal)', () => {
    expect(buildInputs({ sbp: '150', dbp: '95', smoking: '' })).toEqual({ sbp: 150, dbp: 95 });
  });

  it('names an input by its expression when that is a plain variable', () => {
    expect(inputName('sbp', '收缩压')).toBe('sbp');
    expect(inputName('', '收缩压')).toBe('收缩压');
  });

  it('finds the rules the platform trace names', () => {
    const trace = [
      { decision_id: 'htn_emergency', table: 'T04', rules: [{ id: 'htn_emergency_r5', index: 5, annotation: 'T04a' }] },
      { decision_id: 'htn_bp_at_target', rules: [{ id: 'htn_bp_r2', index: 2 }] },
    ];
    expect(firedRules(trace)).toEqual({ ids: ['htn_emergency_r5', 'htn_bp_r2'], indexes: [] });
  });

  it('falls back to rule indexes and single rule ids', () => {
    expect(firedRules([{ table: 'T01', rule_id: 'r_g2' }, { rules: [1, 2] }])).toEqual({ ids: ['r_g2'], indexes: [1, 2] });
  });
});

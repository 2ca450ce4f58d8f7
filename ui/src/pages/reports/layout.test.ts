import { describe, expect, it } from 'vitest';
import { buildLayout, canRunAsJob, layoutOf, orgOption, partsFor } from './layout';

describe('report layout', () => {
  it('reads the older dimensions as one row and one column', () => {
    expect(layoutOf({ dimensions: ['org', 'period'] })).toEqual({ rows: ['org'], columns: ['period'] });
    expect(layoutOf({ dimensions: ['period'] })).toEqual({ rows: ['period'], columns: [] });
    expect(layoutOf({ rows: ['org', 'disease'], columns: ['sex'] })).toEqual({ rows: ['org', 'disease'], columns: ['sex'] });
  });
  it('drops blanks and repeats', () => {
    expect(buildLayout('org', 'disease', 'period')).toEqual({ rows: ['org', 'disease'], columns: ['period'] });
    expect(buildLayout('org', 'org', 'org')).toEqual({ rows: ['org'], columns: [] });
    expect(buildLayout('org', '', '')).toEqual({ rows: ['org'], columns: [] });
    expect(buildLayout('', '', 'sex')).toEqual({ rows: [], columns: [] });
  });
  it('indents organisations by depth', () => {
    expect(orgOption({ name: '石门镇卫生院', depth: 1 })).toBe('\u3000石门镇卫生院');
    expect(orgOption({ name: '青溪县', depth: 0 })).toBe('青溪县');
  });
  it('offers the lists a cell has', () => {
    expect(partsFor({ denominator: null })).toEqual(['numerator']);
    expect(partsFor({ denominator: 4 })).toEqual(['gap', 'numerator', 'denominator']);
  });
  it('knows a refusal that may run as a job', () => {
    expect(canRunAsJob({ code: 'too_many_rows', details: { job: true } })).toBe(true);
    expect(canRunAsJob({ code: 'too_many_rows', details: { job: false } })).toBe(false);
    expect(canRunAsJob(new Error('x'))).toBe(false);
    expect(canRunAsJob(null)).toBe(false);
  });
});

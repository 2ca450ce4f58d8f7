import { describe, expect, it } from 'vitest';
import { paramLabel, paramsFor } from './scheme';

describe('appraisal scheme parameters', () => {
  it('keeps only the parameters of the chosen rule, with its default', () => {
    expect(paramsFor({ rule: 'max_type', params: {} })).toEqual({ reference: 'p90' });
    expect(paramsFor({ rule: 'max_type', params: { reference: 'best', below: 'zero' } })).toEqual({ reference: 'best' });
    expect(paramsFor({ rule: 'target', params: { reference: 'best' } })).toEqual({ below: 'linear' });
    expect(paramsFor({ rule: 'interval', params: { below: 'zero' } })).toEqual({});
  });
  it('labels the parameter in Chinese', () => {
    expect(paramLabel({ rule: 'max_type', params: {} })).toBe('达到 P90 得满分');
    expect(paramLabel({ rule: 'target', params: { below: 'zero' } })).toBe('得 0 分');
    expect(paramLabel({ rule: 'max', params: {} })).toBe('—');
  });
});

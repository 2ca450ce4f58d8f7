import { describe, expect, it } from 'vitest';
import { documentsOf, fieldRows, indicatorText } from './api';

describe('referral helpers', () => {
  it('shows counts, rates and ratios as people read them', () => {
    expect(indicatorText({ kind: 'count', value: 7 })).toBe('7');
    expect(indicatorText({ kind: 'rate', value: 0.4286 })).toBe('42.9%');
    expect(indicatorText({ kind: 'ratio', value: 0.1818 })).toBe('0.18');
    expect(indicatorText({ kind: 'rate', value: null })).toBe('—');
  });
  it('lists only named fields, never raw keys or nested parts', () => {
    const rows = fieldRows({ reason: '血压控制差', consent: true, target_org: 'C01D01', trigger: 'manual', approval: { opinion: 'x' } });
    expect(rows).toEqual([['转诊目的/原因', '血压控制差'], ['患者/家属已知情同意', '是']]);
  });
  it('offers the receipt only after the result, the 下转单 only for a down-referral', () => {
    expect(documentsOf({ direction: 'up', status: 'offered', result_at: null, offered_at: 'x' }).map((d) => d.kind)).toEqual(['referral_form']);
    expect(documentsOf({ direction: 'up', status: 'completed', result_at: 'x', offered_at: 'x' }).map((d) => d.kind)).toEqual(['referral_form', 'receipt']);
    expect(documentsOf({ direction: 'down', status: 'received', result_at: null, offered_at: 'x' }).map((d) => d.kind)).toEqual(['down_form']);
  });
});

describe('list filters in the URL', () => {
  it('sets, drops and returns to page 1 on a filter change', async () => {
    const { patchedParams } = await import('../../lib/searchParams');
    const next = patchedParams(new URLSearchParams('status=offered&page=3&q=王'), { status: '', direction: 'up' });
    expect(next.toString()).toBe('q=%E7%8E%8B&direction=up');
    expect(patchedParams(new URLSearchParams('page=2'), { page: '3' }).get('page')).toBe('3');
  });
});

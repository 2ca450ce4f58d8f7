import { describe, expect, it } from 'vitest';
import { inboxEmpty } from './inboxEmpty';

describe('an empty inbox page', () => {
  it('says nothing matches when a search or filter is active, in every view', () => {
    for (const view of ['mine', 'groups', 'org'] as const) {
      expect(inboxEmpty({ view, q: '王' })).toEqual({ title: '没有符合条件的任务', hint: '试试调整或清除筛选条件。', filtered: true });
      expect(inboxEmpty({ view, risk_level: 'high' }).filtered).toBe(true);
      expect(inboxEmpty({ view, overdue: true }).filtered).toBe(true);
      expect(inboxEmpty({ view, process_id: 'follow_up' }).filtered).toBe(true);
    }
  });

  it('says the view is empty without a filter (a blank search is none)', () => {
    expect(inboxEmpty({ view: 'mine', q: '  ' })).toEqual({ title: '您当前没有待办任务', hint: '可在“组内待领”中领取任务。', filtered: false });
    expect(inboxEmpty({ view: 'groups', q: '', overdue: false }).title).toBe('当前没有任务');
  });
});

import { describe, expect, it } from 'vitest';
import { bpLevel, bpText, groupOverdue, overdueClass, overdueText, telHref } from './followUps';
import type { OverdueItem } from '../api/types';

describe('overdue follow-ups', () => {
  it('words days overdue', () => {
    expect(overdueText(0)).toBe('今日到期');
    expect(overdueText(1)).toBe('逾期 1 天');
    expect(overdueText(29)).toBe('逾期 29 天');
    expect(overdueText(65)).toBe('逾期 65 天（约 2 个月）');
    expect(overdueText(800)).toBe('逾期 800 天（超过 2 年）');
    expect(overdueText(undefined)).toBe('—');
  });

  it('grades the badge', () => {
    expect(overdueClass(3)).toBe('badge-info');
    expect(overdueClass(10)).toBe('badge-warn');
    expect(overdueClass(31)).toBe('badge-danger');
    expect(overdueClass(2, true)).toBe('badge-danger');
  });

  it('shows BP and its level', () => {
    expect(bpText(152, 96)).toBe('152/96 mmHg');
    expect(bpText(null, undefined)).toBe('—');
    expect(bpLevel(182, 100)).toBe('severe');
    expect(bpLevel(150, 80)).toBe('high');
    expect(bpLevel(128, 78)).toBe('');
  });

  it('dials only full numbers', () => {
    expect(telHref('152 6056-8086')).toBe('tel:15260568086');
    expect(telHref('152****8086')).toBeNull();
    expect(telHref(null)).toBeNull();
  });

  it('groups by organization and assignee', () => {
    const row = (org: string, days: number, high = false, assignee: number | null = null): OverdueItem => ({
      visit_id: days, resident_id: 1, disease: 'htn', due_on: '2026-01-01', days_overdue: days, org_code: org, high_priority: high, assignee_id: assignee,
    });
    const groups = groupOverdue([row('V1', 3), row('V2', 40, true), row('V1', 12, false, 7)], 'org');
    expect(groups).toEqual([
      { key: 'V1', count: 2, high: 0, maxDays: 12 },
      { key: 'V2', count: 1, high: 1, maxDays: 40 },
    ]);
    expect(groupOverdue([row('V1', 3), row('V1', 12, false, 7)], 'assignee').map((g) => g.key)).toEqual(['7', '']);
  });
});

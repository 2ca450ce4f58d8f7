import { describe, expect, it } from 'vitest';
import { explainingPart, factColumns, factValue, formatParts, formatValue, freshnessText, monthsBack } from './format';

describe('quality formatting', () => {
  it('shows rates with one decimal and counts with their unit', () => {
    expect(formatValue({ value: 60 }, '%')).toBe('60.0%');
    expect(formatValue({ value: 3 }, '人次')).toBe('3 人次');
    expect(formatValue({ value: null }, '%')).toBe('—');
  });

  it('shows the parts of a rate and a count alone', () => {
    expect(formatParts({ numerator: 3, denominator: 5, value: 60, thresholds: null, status: 'met' })).toBe('3 / 5');
    expect(formatParts({ numerator: 3, denominator: null, value: 3, thresholds: null, status: 'none' })).toBe('3');
  });

  it('explains a higher-is-better rate by those not counted, else by those counted', () => {
    const same = { numerator: { source: 'chronic_patients', source_label: '' }, denominator: { source: 'chronic_patients', source_label: '' } };
    expect(explainingPart({ direction: 'higher', formula: same })).toBe('gap');
    expect(explainingPart({ direction: 'lower', formula: same })).toBe('numerator');
    expect(explainingPart({ direction: 'higher', formula: { ...same, denominator: { source: 'residents', source_label: '' } } })).toBe('numerator');
  });

  it('lists months back from today', () => {
    expect(monthsBack(new Date(2026, 0, 15), 3)).toEqual(['2026-01', '2025-12', '2025-11']);
  });

  it('keeps only the facts a clinician reads', () => {
    expect(factColumns({ last_sbp: 150, disease: 'htn', overdue: true })).toEqual(['last_sbp']);
    expect(factValue(true)).toBe('是');
    expect(factValue(null)).toBe('—');
  });

  it('says how fresh the figures are', () => {
    const base = { refresh_status: 'done' as const, refresh_status_label: '已更新', refresh_error: false, window_end: null };
    expect(freshnessText(undefined)).toBe('');
    expect(freshnessText({ ...base, as_of: null, live: true })).toBe('实时计算（汇总尚未生成）');
    expect(freshnessText({ ...base, as_of: '2026-12-04T07:40:00Z', live: false })).toMatch(/^数据更新于 2026-12-04 \d{2}:40$/);
  });
});

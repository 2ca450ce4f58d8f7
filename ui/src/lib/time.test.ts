import { describe, expect, it } from 'vitest';
import { formatDate, formatDateTime, formatDue, localDayEndIso, localDayStartIso, localToday, setTimeZone, timeZone, zoneOffset } from './time';

describe('Asia/Shanghai formatting', () => {
  it('shows a UTC instant in Shanghai time', () => {
    expect(formatDateTime('2024-05-01T00:30:00Z')).toBe('2024-05-01 08:30');
    expect(formatDateTime('2024-12-31T16:00:00+00:00')).toBe('2025-01-01 00:00');
  });

  it('crosses the date line into the next Shanghai day', () => {
    expect(formatDate('2024-05-01T17:00:00Z')).toBe('2024-05-02');
  });

  it('keeps a plain calendar date as it is', () => {
    expect(formatDate('2024-05-01')).toBe('2024-05-01');
  });

  it('shows a dash for nothing or garbage', () => {
    expect(formatDateTime(null)).toBe('—');
    expect(formatDateTime('not a date')).toBe('—');
  });

  it('words due dates relative to now', () => {
    const now = new Date('2024-05-01T00:00:00Z');
    expect(formatDue('2024-05-04T00:00:00Z', now)).toBe('3 天后到期');
    expect(formatDue('2024-04-30T22:00:00Z', now)).toBe('已逾期 2 小时');
    expect(formatDue(null, now)).toBe('无期限');
  });

  it('turns a Shanghai day into its UTC start', () => {
    expect(localDayStartIso('2024-05-01')).toBe('2024-04-30T16:00:00.000Z');
  });
});

describe('localToday', () => {
  it('is the county date, already the next day at 20:00 UTC', () => {
    expect(localToday(new Date('2026-12-03T20:00:00Z'))).toBe('2026-12-04');
    expect(localToday(new Date('2026-12-03T15:59:00Z'))).toBe('2026-12-03');
  });
});

describe('the server\'s display time zone', () => {
  it('replaces the default once the vocabulary names it, and an unknown name changes nothing', () => {
    try {
      setTimeZone('Europe/Berlin');
      expect(timeZone()).toBe('Europe/Berlin');
      expect(formatDateTime('2024-07-01T00:30:00Z')).toBe('2024-07-01 02:30');
      expect(zoneOffset('2024-01-15')).toBe('+01:00');
      expect(localDayStartIso('2024-07-01')).toBe('2024-06-30T22:00:00.000Z');
      expect(localDayEndIso('2024-07-01')).toBe('2024-07-01T21:59:59.999Z');
      setTimeZone('Mars/Olympus_Mons');
      expect(timeZone()).toBe('Europe/Berlin');
      setTimeZone('UTC');
      expect(zoneOffset('2024-07-01')).toBe('+00:00');
      expect(formatDate('2024-07-01')).toBe('2024-07-01');
    } finally {
      setTimeZone('Asia/Shanghai');
    }
  });
});

import { describe, expect, it } from 'vitest';
import { countdown, deviceId, nextStep, pct, tokenFrom } from './training';

describe('tokenFrom', () => {
  it('reads the token from the venue URL of this session', () => {
    expect(tokenFrom('https://ygt.example/training/sign-in/12?t=58871234.abcd27', 12)).toBe('58871234.abcd27');
  });
  it('refuses another session, other sites and junk', () => {
    expect(tokenFrom('https://ygt.example/training/sign-in/13?t=58871234.abcd', 12)).toBeNull();
    expect(tokenFrom('https://evil.example/phish', 12)).toBeNull();
    expect(tokenFrom('hello', 12)).toBeNull();
  });
  it('accepts a bare token', () => {
    expect(tokenFrom(' 58871234.abcd ', 12)).toBe('58871234.abcd');
  });
});

describe('formatting', () => {
  it('shows shares as percentages', () => {
    expect(pct(0.8571)).toBe('85.7%');
    expect(pct(null)).toBe('—');
  });
  it('counts down to a deadline and stops at zero', () => {
    const now = new Date('2026-12-05T01:00:00Z');
    expect(countdown('2026-12-05T01:12:05Z', now)).toBe('12:05');
    expect(countdown('2026-12-05T00:59:00Z', now)).toBe('0:00');
  });
});

describe('deviceId', () => {
  it('is created once and then kept', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    const first = deviceId(storage);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(deviceId(storage)).toBe(first);
  });
});

describe('nextStep', () => {
  const base = { response: 'confirmed', can_sign_in: false, attendance: null, exam: { open: false, attempts: [] }, can_evaluate: false, satisfaction_done: false, capacity: 'trainee' };
  it('asks to answer first, then to sign in, sign out, sit the exam and evaluate', () => {
    expect(nextStep({ ...base, response: 'pending' })).toBe('待确认参加');
    expect(nextStep({ ...base, can_sign_in: true })).toBe('可签到');
    expect(nextStep({ ...base, can_sign_in: true, attendance: { signed_out_at: null } })).toBe('待签退');
    expect(nextStep({ ...base, exam: { open: true, attempts: [] } })).toBe('待考试');
    expect(nextStep({ ...base, can_evaluate: true })).toBe('待评价');
    expect(nextStep({ ...base, capacity: 'lecturer', response: 'pending' })).toBeNull();
  });
});

import { describe, expect, it } from 'vitest';
import { classify, isoLocal } from './api';

describe('mobile API answers for the outbox', () => {
  it('sorts each answer into what the outbox does next', () => {
    expect(classify(200, { status: 'completed' })).toEqual({ kind: 'ok', response: { status: 'completed' } });
    expect(classify(409, { code: 'completion_conflict', message: '该随访已改派给王医生办理', details: { reason: 'task_reassigned', current_holder: '王医生' } }))
      .toMatchObject({ kind: 'conflict', reason: 'task_reassigned', detail: { current_holder: '王医生' } });
    expect(classify(409, { code: 'task_already_claimed' })).toMatchObject({ kind: 'conflict', reason: 'task_already_claimed' });
    expect(classify(404, { code: 'not_found' })).toMatchObject({ kind: 'conflict', reason: 'task_gone' });
    expect(classify(422, { code: 'form_invalid', details: { errors: [] } })).toMatchObject({ kind: 'invalid', reason: 'form_invalid' });
    expect(classify(403, { code: 'device_revoked', details: { wipe: true } })).toEqual({ kind: 'revoked' });
    expect(classify(403, { code: 'forbidden' })).toMatchObject({ kind: 'invalid', reason: 'forbidden' });
    expect(classify(401, {})).toEqual({ kind: 'unauthorized' });
    for (const s of [429, 500, 502, 503, 504]) expect(classify(s, null).kind).toBe('transient');
  });

  it('writes times with the phone\'s offset (the API refuses times without one)', () => {
    const s = isoLocal(new Date(2026, 11, 4, 9, 5, 7));
    expect(s).toMatch(/^2026-12-04T09:05:07[+-]\d\d:\d\d$/);
    const back = new Date(s);
    expect(back.getTime()).toBe(new Date(2026, 11, 4, 9, 5, 7).getTime());
  });
});

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

describe('MobileApi.send', () => {
  it('sends a conflict choice to the resolve endpoint of its completion, with the device id', async () => {
    const { MobileApi } = await import('./api');
    const calls: { url: string; init: RequestInit }[] = [];
    const saved = globalThis.fetch;
    globalThis.fetch = (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ action: 'record_visit', message: '已记为临时随访' }), { status: 200 });
    }) as typeof fetch;
    try {
      const r = await new MobileApi('dev-12345678').send({
        id: 'c1:record_visit', kind: 'resolution', seq: 1, state: 'sending', created_at: '', next_at: 0, attempts: 0,
        resident_id: 1, title: '', body: { completion_id: 'c 1', action: 'record_visit' },
      });
      expect(r.kind).toBe('ok');
      expect(calls[0].url).toBe('/api/mobile/v1/completions/c%201/resolve');
      expect(JSON.parse(String(calls[0].init.body))).toEqual({ action: 'record_visit' });
      expect((calls[0].init.headers as Record<string, string>)['X-Device-Id']).toBe('dev-12345678');
    } finally {
      globalThis.fetch = saved;
    }
  });
});

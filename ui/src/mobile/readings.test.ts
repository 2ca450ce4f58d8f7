import { describe, expect, it } from 'vitest';
import { prefillForm, readingProblems, toObservations } from './readings';

const htn = {
  type: 'object',
  properties: {
    visit: { type: 'object', properties: { visit_date: { type: 'string' } } },
    signs: {
      type: 'object',
      properties: {
        bp_readings: { type: 'array', items: { type: 'object', properties: { sbp: { type: 'integer' }, dbp: { type: 'integer' } } } },
        heart_rate: { type: 'integer' },
        weight_kg: { type: 'number' },
      },
    },
  },
};

describe('readings', () => {
  it('become LOINC observations with their own ids, the device serial when from Bluetooth', () => {
    const obs = toObservations({ sbp: 138, dbp: 86, pulse: 70, glucose: 6.4, device_serial: 'BP-1' }, 55, '2026-12-04T09:12:00+08:00', 812);
    expect(obs.map((o) => [o.code, o.value, o.unit])).toEqual([
      ['8480-6', 138, 'mm[Hg]'], ['8462-4', 86, 'mm[Hg]'], ['8867-4', 70, '/min'], ['1558-6', 6.4, 'mmol/L'],
    ]);
    expect(new Set(obs.map((o) => o.id)).size).toBe(4);
    expect(obs.every((o) => o.resident_id === 55 && o.task_id === 812 && o.device_serial === 'BP-1')).toBe(true);
    expect(toObservations({ glucose: 9.1, glucose_kind: 'random' }, 1, 'x')[0].code).toBe('2339-0');
  });

  it('refuses typos and half blood pressures', () => {
    expect(readingProblems({ sbp: 1380, dbp: 86 }).sbp).toMatch('60–300');
    expect(readingProblems({ sbp: 138 }).dbp).toMatch('同时填写');
    expect(readingProblems({ sbp: 80, dbp: 90 }).dbp).toMatch('低于');
    expect(readingProblems({ sbp: 138, dbp: 86, pulse: 70 })).toEqual({});
  });

  it('fill the follow-up form\'s empty BP and heart-rate fields, never overwriting', () => {
    const filled = prefillForm(htn, { visit: { visit_date: '2026-12-04' } }, { sbp: 138, dbp: 86, pulse: 70 });
    expect(filled).toEqual({ visit: { visit_date: '2026-12-04' }, signs: { bp_readings: [{ sbp: 138, dbp: 86 }], heart_rate: 70 } });
    const kept = prefillForm(htn, { signs: { bp_readings: [{ sbp: 120, dbp: 80 }], heart_rate: 60 } }, { sbp: 138, dbp: 86, pulse: 70 });
    expect(kept).toEqual({ signs: { bp_readings: [{ sbp: 120, dbp: 80 }], heart_rate: 60 } });
  });
});

import { describe, expect, it } from 'vitest';
import type { RJSFValidationError } from '@rjsf/utils';
import { extraErrorsFromDetails, fieldPath, toErrorSchema, transformErrorsZh, withFieldOrder } from './formErrors';

describe('fieldPath', () => {
  it('reads plain, dotted, bracket and pointer paths alike', () => {
    expect(fieldPath('sbp')).toEqual(['sbp']);
    expect(fieldPath('bp.sbp')).toEqual(['bp', 'sbp']);
    expect(fieldPath('drugs[0].dose')).toEqual(['drugs', '0', 'dose']);
    expect(fieldPath('/drugs/0/dose')).toEqual(['drugs', '0', 'dose']);
    expect(fieldPath('.sbp')).toEqual(['sbp']);
    expect(fieldPath('')).toEqual([]);
  });
});

describe('extraErrorsFromDetails', () => {
  it('maps details.errors onto the named fields', () => {
    const details = { errors: [{ field: 'sbp', message: '必须大于等于 40' }, { field: 'bp.dbp', message: '必填项' }] };
    expect(extraErrorsFromDetails(details)).toEqual({
      sbp: { __errors: ['必须大于等于 40'] },
      bp: { dbp: { __errors: ['必填项'] } },
    });
  });

  it('maps details.fields given as an object of field to message', () => {
    expect(extraErrorsFromDetails({ fields: { sbp: '必须大于等于 40', dbp: ['必填项', '必须是整数'] } })).toEqual({
      sbp: { __errors: ['必须大于等于 40'] },
      dbp: { __errors: ['必填项', '必须是整数'] },
    });
  });

  it('puts an error without a field on the whole form', () => {
    expect(toErrorSchema([{ field: '', message: '表单已过期' }])).toEqual({ __errors: ['表单已过期'] });
  });

  it('collects two messages for one field', () => {
    const es = toErrorSchema([
      { field: 'sbp', message: 'a' },
      { field: 'sbp', message: 'b' },
    ]);
    expect(es).toEqual({ sbp: { __errors: ['a', 'b'] } });
  });

  it('reads "data.sbp" as the form field "sbp" when the form is sent under data', () => {
    expect(extraErrorsFromDetails({ errors: [{ field: 'data.sbp', message: '必填项' }] }, 'data')).toEqual({
      sbp: { __errors: ['必填项'] },
    });
  });

  it('answers undefined when nothing is field-shaped', () => {
    expect(extraErrorsFromDetails(undefined)).toBeUndefined();
    expect(extraErrorsFromDetails({ reason: 'x' })).toBeUndefined();
  });
});

describe('transformErrorsZh', () => {
  it('words ajv range and required errors in Chinese', () => {
    const errs = [
      { name: 'minimum', params: { limit: 40 }, property: '.sbp', message: 'must be >= 40', stack: "'收缩压' must be >= 40", title: '收缩压' },
      { name: 'required', params: { missingProperty: 'dbp' }, property: '.dbp', message: "must have required property 'dbp'", stack: "must have required property 'dbp'" },
    ] as RJSFValidationError[];
    const out = transformErrorsZh(errs);
    expect(out[0].message).toBe('必须大于等于 40');
    expect(out[0].stack).toBe('收缩压: 必须大于等于 40');
    expect(out[1].message).toBe('必填项');
    expect(out[1].stack).toBe('dbp: 必填项');
  });
});

describe('withFieldOrder', () => {
  it('puts required fields first, in their listed order, when the uiSchema gives no order', () => {
    const schema = { properties: { dbp: {}, note: {}, sbp: {}, visit_on: {} }, required: ['visit_on', 'sbp', 'dbp'] };
    expect(withFieldOrder(schema, {} as Record<string, unknown>)['ui:order']).toEqual(['visit_on', 'sbp', 'dbp', '*']);
  });

  it('keeps an explicit ui:order', () => {
    expect(withFieldOrder({ properties: { a: {} }, required: ['a'] }, { 'ui:order': ['b', '*'] })['ui:order']).toEqual(['b', '*']);
  });
});

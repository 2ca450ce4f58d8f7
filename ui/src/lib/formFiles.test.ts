import { describe, expect, it } from 'vitest';
import { deployedForm, formFiles } from './formFiles';

describe('form files sent with a BPMN deploy', () => {
  const forms = { 'screening/verify_case': { schema: { type: 'object' }, ui_schema: { 'ui:order': ['a'] } } };

  it('finds a task form by process and task id', () => {
    expect(deployedForm(forms, 'screening', 'verify_case')).toEqual({ schema: { type: 'object' }, ui: { 'ui:order': ['a'] } });
    expect(deployedForm(forms, 'screening', 'other')).toBeNull();
  });

  it('writes one {schema, uiSchema} file, or two files when the BPMN names a uiSchema file', () => {
    const one = formFiles([{ taskId: 'verify_case', schemaFile: 'verify_case.json', uiFile: '', named: true }], (id) => deployedForm(forms, 'screening', id));
    expect(JSON.parse(one['verify_case.json'])).toEqual({ schema: { type: 'object' }, uiSchema: { 'ui:order': ['a'] } });
    const two = formFiles([{ taskId: 'verify_case', schemaFile: 's.json', uiFile: 'u.json', named: true }], (id) => deployedForm(forms, 'screening', id));
    expect(JSON.parse(two['s.json'])).toEqual({ type: 'object' });
    expect(JSON.parse(two['u.json'])).toEqual({ 'ui:order': ['a'] });
  });
});

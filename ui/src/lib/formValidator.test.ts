import { describe, expect, it } from 'vitest';
import defaultValidator from '@rjsf/validator-ajv8';
import { getDefaultFormState, type RJSFSchema } from '@rjsf/utils';
import samples from '../../../tests/fixtures/form_samples.json';
import { FORM_DEFAULTS, FORM_DIALECT, formValidator } from './formValidator';

// Every form the platform deploys, and the samples the server's own test (tests/unit/test_form_samples.py) checks
// the same way: what the server accepts the browser accepts, and the one invalid field is refused on that field.
const forms = import.meta.glob('../../../forms/**/*.json', { eager: true, import: 'default' }) as Record<string, { schema: RJSFSchema }>;
type Sample = { valid: Record<string, unknown>; invalid: { field: string; value?: unknown; missing?: boolean } };
const SAMPLES = samples as Record<string, Sample>;
const rel = (key: string) => key.replace(/^(\.\.\/)+/, '');

function withInvalid(sample: Sample): Record<string, unknown> {
  const data = structuredClone(sample.valid);
  const parts = sample.invalid.field.split('.');
  let node = data as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) node = node[part] as Record<string, unknown>;
  const last = parts[parts.length - 1];
  if (sample.invalid.missing) delete node[last];
  else node[last] = sample.invalid.value;
  return data;
}

const entries = Object.entries(forms).map(([key, doc]) => [rel(key), doc.schema] as const);

describe('the form validator', () => {
  it('covers every form in forms/ and every form has a sample', () => {
    expect(entries.length).toBeGreaterThan(30);
    expect(entries.map(([name]) => name).sort()).toEqual(Object.keys(SAMPLES).sort());
  });

  it.each(entries)('%s: valid sample passes, the invalid field is refused on that field', (name, schema) => {
    expect(schema.$schema ?? FORM_DIALECT).toBe(FORM_DIALECT);
    const ok = formValidator.validateFormData(SAMPLES[name].valid, schema);
    expect(ok.errors).toEqual([]);
    const bad = formValidator.validateFormData(withInvalid(SAMPLES[name]), schema);
    expect(bad.errors.length).toBeGreaterThan(0);
    const fields = new Set(bad.errors.filter((e) => e.name !== 'if').map((e) => (e.property ?? '').replace(/^\./, '')));
    expect([...fields]).toEqual([SAMPLES[name].invalid.field]);
  });

  it.each(entries)('%s: the defaults the renderer fills in do not answer for the user', (name, schema) => {
    const filled = (data: Record<string, unknown>) => getDefaultFormState(formValidator, schema, data, schema, false, FORM_DEFAULTS);
    expect(formValidator.validateFormData(filled(SAMPLES[name].valid), schema).errors).toEqual([]);
    const bad = formValidator.validateFormData(filled(withInvalid(SAMPLES[name])), schema);
    expect(bad.errors.map((e) => (e.property ?? '').replace(/^\./, ''))).toContain(SAMPLES[name].invalid.field);
  });

  it('leaves consent and yes/no questions unanswered (rjsf would pre-tick a const and answer "no")', () => {
    const schema = entries.find(([name]) => name === 'forms/referral_up/fill_referral_form.json')![1];
    expect(getDefaultFormState(formValidator, schema, {}, schema, false, FORM_DEFAULTS)).not.toHaveProperty('consent');
    expect(getDefaultFormState(formValidator, schema, {}, schema)).toHaveProperty('consent', true);
    const approve = entries.find(([name]) => name === 'forms/care_plan/approve_plan.json')![1];
    expect(getDefaultFormState(formValidator, approve, {}, approve, false, FORM_DEFAULTS)).not.toHaveProperty('approved');
  });

  it("is ajv's 2020-12 class: the draft-07 default cannot even compile these forms", () => {
    const schema = entries.find(([, s]) => s.$schema === FORM_DIALECT)![1];
    const sample = SAMPLES[entries.find(([, s]) => s === schema)![0]].valid;
    const draft07 = defaultValidator.validateFormData(sample, schema);
    expect(draft07.errors.map((e) => e.stack).join(' ')).toMatch(/no schema with key or ref/);
    expect(formValidator.validateFormData(sample, schema).errors).toEqual([]);
  });

  it('applies a top-level if/then (a refusal needs its reason)', () => {
    const [, schema] = entries.find(([name]) => name === 'forms/care_plan/approve_plan.json')!;
    expect(formValidator.validateFormData({ approved: true }, schema).errors).toEqual([]);
    const refused = formValidator.validateFormData({ approved: false }, schema);
    expect(refused.errors.map((e) => (e.property ?? '').replace(/^\./, ''))).toContain('approval_comment');
  });
});

import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { RJSFSchema, UiSchema } from '@rjsf/utils';
import htn from '../../../../forms/follow_up/record_htn_visit.json';
import htnHigh from '../../../../forms/follow_up/record_htn_visit_high_risk.json';
import dm from '../../../../forms/follow_up/record_dm_visit.json';
import dmHigh from '../../../../forms/follow_up/record_dm_visit_high_risk.json';
import TaskForm from './TaskForm';
import { errorCount, errorFieldId, initialOpen, sectionNames, sectionOfError, sectionsOf, sectionsWithErrors } from './Sections';

const FOLLOW_UPS = { htn, htnHigh, dm, dmHigh } as unknown as Record<string, { schema: RJSFSchema; uiSchema: UiSchema }>;

function render(form: { schema: RJSFSchema; uiSchema: UiSchema }, formData: unknown = {}) {
  return renderToStaticMarkup(createElement(TaskForm, { schema: form.schema, uiSchema: form.uiSchema, formData }));
}

/** the section names in the markup, each with whether its body is shown */
function shownSections(html: string): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const m of html.matchAll(/<div id="section-([a-z_]+)-body"([^>]*)>/g)) out[m[1]] = !/\shidden(=|\s|$)/.test(m[2]);
  return out;
}

describe('follow-up forms in sections (issue 22.3)', () => {
  it.each(Object.keys(FOLLOW_UPS))('%s asks for sections and opens with only 随访信息 shown', (key) => {
    const form = FOLLOW_UPS[key];
    expect(sectionsOf(form.uiSchema)).not.toBeNull();
    const html = render(form);
    const shown = shownSections(html);
    expect(Object.keys(shown)).toEqual(['visit', 'symptoms', 'signs', 'lifestyle', 'labs', 'medication', 'assessment', 'referral']);
    expect(Object.entries(shown).filter(([, s]) => s).map(([n]) => n)).toEqual(['visit']);
    // every section has a head that says what it is and whether it is open, and 下一项 leads on
    expect(html).toContain('aria-expanded="false"');
    expect(html).toMatch(/下一项：症状/);
    // the death fields stay conditional: absent until the outcome is 死亡
    expect(html).not.toContain('root_visit_death_date');
    expect(render(form, { visit: { outcome: '死亡' } })).toContain('root_visit_death_date');
  });

  it('a form without ui:sections renders as before (no section markup)', () => {
    const plain = { schema: htn.schema as unknown as RJSFSchema, uiSchema: { ...(htn.uiSchema as UiSchema), 'ui:sections': undefined } };
    expect(render(plain)).not.toContain('form-section');
  });
});

describe('section helpers', () => {
  const schema = htn.schema as unknown as RJSFSchema;
  const ui = htn.uiSchema as unknown as UiSchema;
  it('lists object fields in the form order and opens the first (or the named ones)', () => {
    expect(sectionNames(schema, ui)[0]).toBe('visit');
    expect([...initialOpen(schema, ui)]).toEqual(['visit']);
    expect([...initialOpen(schema, { ...ui, 'ui:sections': { open: ['signs', 'nope'] } })]).toEqual(['signs']);
    expect(sectionsOf({})).toBeNull();
  });
  it('finds the section and the field of an error', () => {
    const names = sectionNames(schema, ui);
    expect(sectionOfError('.signs.bp_readings.0.sbp', names)).toBe('signs');
    expect(sectionOfError("['medication'].adherence", names)).toBe('medication');
    expect(sectionOfError('.unknown', names)).toBeNull();
    expect(errorFieldId('.signs.bp_readings.0.sbp')).toBe('root_signs_bp_readings_0_sbp');
  });
  it('counts errors at any depth and names the sections that have them', () => {
    const errors = { signs: { bp_readings: { 0: { sbp: { __errors: ['太低'] } } } }, visit: { __errors: [] }, medication: { adherence: { __errors: ['必填', 'x'] } } };
    expect(errorCount(errors as never)).toBe(3);
    expect(sectionsWithErrors(errors as never, sectionNames(schema, ui))).toEqual(['signs', 'medication']);
  });
});

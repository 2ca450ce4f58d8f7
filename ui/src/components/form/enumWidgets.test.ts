import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { RJSFSchema, UiSchema } from '@rjsf/utils';
import TaskForm from './TaskForm';
import { NO_CHOICE, labelNullChoice } from './enumWidgets';

interface Form { schema: RJSFSchema; uiSchema?: UiSchema }
const FORMS = import.meta.glob('../../../../forms/**/*.json', { eager: true, import: 'default' }) as Record<string, Form>;

const render = (schema: RJSFSchema, uiSchema: UiSchema = {}, formData: unknown = {}) =>
  renderToStaticMarkup(createElement(TaskForm, { schema, uiSchema, formData }));

/** the text a person reads: option labels and visible text, without markup */
const visibleText = (html: string) => html.replace(/<[^>]+>/g, ' ');

describe('an enum with a null choice', () => {
  it('labels the null choice for the clinician, keeps the others and a label the form gave', () => {
    expect(labelNullChoice([{ value: null, label: 'null' }, { value: 'OGTT', label: 'OGTT' }])).toEqual([
      { value: null, label: NO_CHOICE }, { value: 'OGTT', label: 'OGTT' }]);
    expect(labelNullChoice([{ value: null, label: '不需要' }])).toEqual([{ value: null, label: '不需要' }]);
  });

  it('never shows "null" in a select or a radio group', () => {
    const schema: RJSFSchema = {
      type: 'object',
      properties: {
        test: { title: '需要的检查', type: ['string', 'null'], enum: [null, '空腹血糖复查', 'OGTT'] },
        mode: { title: '就诊方式', type: ['string', 'null'], enum: ['门诊', '住院', null] },
      },
    };
    const html = render(schema, { mode: { 'ui:widget': 'radio' } });
    expect(visibleText(html)).not.toContain('null');
    expect(html.split(NO_CHOICE).length - 1).toBe(2);
  });

  it('reads right in every form of the repository that has one', () => {
    const withNull = Object.entries(FORMS).filter(([, f]) => JSON.stringify(f.schema).includes('null]')
      || /"enum":\[[^\]]*null/.test(JSON.stringify(f.schema)));
    expect(withNull.length).toBeGreaterThan(0);
    for (const [path, form] of withNull) {
      expect(visibleText(render(form.schema, form.uiSchema)), path).not.toMatch(/\bnull\b/);
    }
  });
});

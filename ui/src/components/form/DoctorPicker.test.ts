import { describe, expect, it } from 'vitest';
import { doctorLabel, doctorValue } from './DoctorPicker';

interface Form { schema: { properties?: Record<string, Prop> }; uiSchema?: Record<string, unknown> }
interface Prop { type?: string | string[]; title?: string; enum?: unknown[]; properties?: Record<string, Prop> }

const FORMS = import.meta.glob('../../../../forms/**/*.json', { eager: true, import: 'default' }) as Record<string, Form>;

/** a field that could hold a person: a number or a text, not a yes/no or a fixed choice */
const asksForPerson = (p: Prop) => !p.enum && [p.type].flat().some((t) => t === 'integer' || t === 'string');

/** every field of a form that asks for a doctor (its key says doctor, or its title 医生; not a choice among fixed
 * answers such as 医生回复), with its uiSchema */
function doctorFields(form: Form): { path: string; ui: Record<string, unknown> | undefined }[] {
  const out: { path: string; ui: Record<string, unknown> | undefined }[] = [];
  const walk = (props: Record<string, Prop> | undefined, ui: Record<string, unknown> | undefined, path: string) => {
    for (const [key, prop] of Object.entries(props ?? {})) {
      const sub = ui?.[key] as Record<string, unknown> | undefined;
      if (prop.properties) walk(prop.properties, sub, `${path}${key}.`);
      else if (asksForPerson(prop) && (/doctor/.test(key) || /医生/.test(prop.title ?? ''))) out.push({ path: path + key, ui: sub });
    }
  };
  walk(form.schema.properties, form.uiSchema, '');
  return out;
}

describe('doctor picker (issue 22.3)', () => {
  it('shows a doctor by name and organisation, never the username or number', () => {
    const d = { id: 42, display_name: '李明', org_name: '上塘村卫生室', username: 'vd_shangtang' };
    expect(doctorLabel(d)).toBe('李明 · 上塘村卫生室');
    expect(doctorLabel(d)).not.toMatch(/42|vd_/);
    expect(doctorValue(d, 'id')).toBe('42');
    expect(doctorValue(d, 'name')).toBe('李明');
  });

  it('is used by every form field that asks for a doctor', () => {
    const fields = Object.entries(FORMS).flatMap(([file, form]) => doctorFields(form).map((f) => ({ file, ...f })));
    expect(fields.length).toBeGreaterThanOrEqual(2);
    const typed = fields.filter((f) => f.ui?.['ui:widget'] !== 'doctorPicker').map((f) => `${f.file}: ${f.path}`);
    expect(typed).toEqual([]);
  });
});

/**
 * Long forms in steps (issue 22.3): a form whose root uiSchema says `"ui:sections": {…}` shows each top-level object
 * field (随访信息, 症状, 体征, …) as a numbered, collapsible section. Only the open sections take room on a phone; each
 * ends with a 下一项 button that closes it and opens the next, so the form reads as steps. Fields stay mounted while
 * closed (the data, pickers and validation are the whole form's), and conditional fields keep appearing only when
 * their condition holds (death fields when the outcome is 死亡).
 *
 * Options: `{"open": ["visit"]}` names the sections open at first (default: the first section). A failed submit opens
 * every section that holds an error and focuses the first error's field; a server's field errors (`extraErrors`) open
 * their sections too. The state lives in TaskForm and reaches the root's ObjectFieldTemplate through `formContext`.
 */
import type { ErrorSchema, ObjectFieldTemplateProps, RJSFSchema, UiSchema } from '@rjsf/utils';
import { getDefaultRegistry } from '@rjsf/core';
import './sections.css';

export interface SectionsOptions {
  /** the sections open when the form first shows (default: the first section) */
  open?: string[];
}

/** What the root template needs to draw and change the sections (passed as `formContext.sections`). */
export interface SectionsState {
  open: ReadonlySet<string>;
  toggle: (name: string) => void;
  /** close `name`, open `next` and bring it into view */
  advance: (name: string, next: string) => void;
}

type Props = Record<string, { type?: unknown; title?: string; properties?: unknown }>;

/** The form's section options, or null when the form is not sectioned. */
export function sectionsOf(uiSchema: UiSchema | undefined): SectionsOptions | null {
  const raw = uiSchema?.['ui:sections'];
  if (!raw) return null;
  return typeof raw === 'object' ? (raw as SectionsOptions) : {};
}

/** The top-level fields shown as sections: object fields, in the form's order (`ui:order`, else the schema's). */
export function sectionNames(schema: RJSFSchema, uiSchema: UiSchema | undefined): string[] {
  const props = (schema.properties ?? {}) as Props;
  const isObject = (k: string) => props[k] && (props[k].type === 'object' || (!props[k].type && !!props[k].properties));
  const order = (uiSchema?.['ui:order'] as string[] | undefined)?.filter((k) => k !== '*') ?? [];
  const names = [...order.filter((k) => k in props), ...Object.keys(props).filter((k) => !order.includes(k))];
  return names.filter(isObject);
}

export function initialOpen(schema: RJSFSchema, uiSchema: UiSchema | undefined): Set<string> {
  const options = sectionsOf(uiSchema);
  const names = sectionNames(schema, uiSchema);
  const wanted = (options?.open ?? []).filter((n) => names.includes(n));
  return new Set(wanted.length ? wanted : names.slice(0, 1));
}

/** Path segments of an rjsf error property (".signs.bp_readings.0.sbp", "['a'].b"). */
export function errorPath(property: string | undefined): string[] {
  return (property ?? '').replace(/\[['"]?([^\]'"]+)['"]?\]/g, '.$1').split('.').filter(Boolean);
}

/** The section holding an error (its first path segment), when that is a section. */
export function sectionOfError(property: string | undefined, sections: readonly string[]): string | null {
  const first = errorPath(property)[0];
  return first && sections.includes(first) ? first : null;
}

/** How many error messages an error schema holds, at any depth. */
export function errorCount(errors: ErrorSchema | undefined): number {
  if (!errors || typeof errors !== 'object') return 0;
  let n = 0;
  for (const [key, value] of Object.entries(errors)) {
    if (key === '__errors') n += Array.isArray(value) ? value.length : 0;
    else n += errorCount(value as ErrorSchema);
  }
  return n;
}

/** The sections an error schema (the server's field errors) touches. */
export function sectionsWithErrors(errors: ErrorSchema | undefined, sections: readonly string[]): string[] {
  return sections.filter((s) => errorCount((errors as Record<string, ErrorSchema> | undefined)?.[s]) > 0);
}

/** The rjsf id of the field an error is about (`root_signs_bp_readings_0_sbp`). */
export function errorFieldId(property: string | undefined): string {
  return ['root', ...errorPath(property)].join('_');
}

/** Focus the field of an error (or the first input whose id starts with it: radio groups, checkboxes) and show it. */
export function focusErrorField(property: string | undefined) {
  const id = errorFieldId(property);
  const el = document.getElementById(id) ?? document.querySelector<HTMLElement>(`[id^="${CSS.escape(id)}"]`);
  const target = el && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(el.tagName) ? el : el?.querySelector<HTMLElement>('input, select, textarea, button') ?? el;
  if (!target) return;
  target.focus({ preventScroll: true });
  target.scrollIntoView({ block: 'center' });
}

const DefaultObjectTemplate = getDefaultRegistry().templates.ObjectFieldTemplate;

/** The root's ObjectFieldTemplate of a sectioned form: the default template, each section field wrapped. */
export function SectionedObjectTemplate(props: ObjectFieldTemplateProps) {
  const state = (props.registry.formContext as { sections?: SectionsState } | undefined)?.sections;
  if (!state) return <DefaultObjectTemplate {...props} />;
  const names = sectionNames(props.schema, props.uiSchema);
  const props_ = (props.schema.properties ?? {}) as Props;
  const titleOf = (name: string) =>
    ((props.uiSchema?.[name] as UiSchema | undefined)?.['ui:title'] as string | undefined) ?? props_[name]?.title ?? name;
  const properties = props.properties.map((p) => {
    const index = names.indexOf(p.name);
    if (p.hidden || index < 0) return p;
    const open = state.open.has(p.name);
    const errors = errorCount((props.errorSchema as Record<string, ErrorSchema> | undefined)?.[p.name]);
    const next = names[index + 1];
    const head = `section-${p.name}-head`;
    const body = `section-${p.name}-body`;
    const content = (
      <section key={p.name} className={`form-section${open ? ' is-open' : ''}${errors ? ' has-errors' : ''}`} data-section={p.name}>
        <h3 className="form-section-head">
          <button type="button" id={head} aria-expanded={open} aria-controls={body} onClick={() => state.toggle(p.name)}>
            <span className="form-section-step" aria-hidden="true">{index + 1}</span>
            <span className="form-section-title">{titleOf(p.name)}</span>
            {errors > 0 && <span className="form-section-errors">{errors} 处需修改</span>}
            <span className="form-section-toggle" aria-hidden="true">{open ? '收起' : '展开'}</span>
          </button>
        </h3>
        <div id={body} className="form-section-body" role="region" aria-labelledby={head} hidden={!open}>
          {p.content}
          {next && (
            <button type="button" className="btn form-section-next" onClick={() => state.advance(p.name, next)}>
              下一项：{titleOf(next)}
            </button>
          )}
        </div>
      </section>
    );
    return { ...p, content };
  });
  return <DefaultObjectTemplate {...props} properties={properties} />;
}

/**
 * Server-side form validation errors → rjsf `extraErrors`, and rjsf's own (ajv) errors → Chinese.
 *
 * The platform answers 422 with `details.errors = [{field, message}]` or `details.fields = {field: message}`.
 * A field may be a plain name ("sbp"), a dotted path ("bp.sbp", "drugs.0.dose"), a bracket path
 * ("drugs[0].dose") or a JSON pointer ("/bp/sbp"). An empty field is an error of the whole form.
 */
import type { ErrorSchema, RJSFValidationError } from '@rjsf/utils';

export interface FieldError {
  field: string;
  message: string;
}

/** Split a field reference into path segments. */
export function fieldPath(field: string | null | undefined): string[] {
  if (!field) return [];
  let f = field.trim();
  if (f.startsWith('#')) f = f.slice(1);
  if (f.startsWith('/')) {
    return f
      .slice(1)
      .split('/')
      .filter((s) => s !== '')
      .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  if (f.startsWith('.')) f = f.slice(1);
  return f
    .replace(/\[(\d+|'[^']*'|"[^"]*")\]/g, (_m, k: string) => `.${k.replace(/^['"]|['"]$/g, '')}`)
    .split('.')
    .filter((s) => s !== '');
}

/** Collect the field errors of a 422 `details` object in either of the platform's two shapes. */
export function fieldErrorsFromDetails(details: unknown): FieldError[] {
  if (!details || typeof details !== 'object') return [];
  const d = details as { errors?: unknown; fields?: unknown };
  const out: FieldError[] = [];
  if (Array.isArray(d.errors)) {
    for (const e of d.errors) {
      if (e && typeof e === 'object') {
        const { field, message, path } = e as { field?: unknown; message?: unknown; path?: unknown };
        const name = typeof field === 'string' ? field : Array.isArray(path) ? path.join('.') : '';
        out.push({ field: name, message: String(message ?? '无效') });
      } else if (typeof e === 'string') {
        out.push({ field: '', message: e });
      }
    }
  }
  if (d.fields && typeof d.fields === 'object' && !Array.isArray(d.fields)) {
    for (const [field, msg] of Object.entries(d.fields as Record<string, unknown>)) {
      const messages = Array.isArray(msg) ? msg : [msg];
      for (const m of messages) out.push({ field, message: String(m ?? '无效') });
    }
  }
  return out;
}

/** Turn field errors into the nested ErrorSchema that rjsf's `extraErrors` expects. */
export function toErrorSchema(errors: readonly FieldError[]): ErrorSchema {
  const root: Record<string, unknown> = {};
  for (const { field, message } of errors) {
    let node = root;
    for (const seg of fieldPath(field)) {
      if (!node[seg] || typeof node[seg] !== 'object') node[seg] = {};
      node = node[seg] as Record<string, unknown>;
    }
    const list = (node.__errors as string[] | undefined) ?? [];
    list.push(message);
    node.__errors = list;
  }
  return root as ErrorSchema;
}

/**
 * 422 `details` → rjsf `extraErrors`; undefined when there is nothing field-shaped.
 * `under` names the request-body key that holds the form (`data`): "data.sbp" is the form's "sbp".
 */
export function extraErrorsFromDetails(details: unknown, under?: string): ErrorSchema | undefined {
  let errors = fieldErrorsFromDetails(details);
  if (under) {
    errors = errors.map((e) => {
      const path = fieldPath(e.field);
      return path[0] === under ? { ...e, field: path.slice(1).join('.') } : e;
    });
  }
  return errors.length ? toErrorSchema(errors) : undefined;
}

type Params = Record<string, unknown>;

const AJV_MESSAGES: Record<string, (p: Params) => string> = {
  required: () => '必填项',
  minimum: (p) => `必须大于等于 ${p.limit}`,
  maximum: (p) => `必须小于等于 ${p.limit}`,
  exclusiveMinimum: (p) => `必须大于 ${p.limit}`,
  exclusiveMaximum: (p) => `必须小于 ${p.limit}`,
  minLength: (p) => `至少 ${p.limit} 个字符`,
  maxLength: (p) => `最多 ${p.limit} 个字符`,
  minItems: (p) => `至少选择 ${p.limit} 项`,
  maxItems: (p) => `最多选择 ${p.limit} 项`,
  uniqueItems: () => '不能有重复项',
  pattern: () => '格式不正确',
  enum: () => '请从选项中选择',
  const: () => '取值不正确',
  multipleOf: (p) => `必须是 ${p.multipleOf} 的倍数`,
  format: (p) => FORMAT_MESSAGES[String(p.format)] ?? '格式不正确',
  type: (p) => TYPE_MESSAGES[String(p.type)] ?? '类型不正确',
  oneOf: () => '请只满足其中一种情况',
  anyOf: () => '不符合任何一种允许的情况',
  if: () => '不满足条件要求',
  dependencies: () => '缺少关联字段',
  additionalProperties: () => '含有不允许的字段',
};

const FORMAT_MESSAGES: Record<string, string> = {
  date: '请输入有效日期',
  'date-time': '请输入有效的日期时间',
  time: '请输入有效时间',
  email: '请输入有效的电子邮箱',
  uri: '请输入有效的网址',
};

const TYPE_MESSAGES: Record<string, string> = {
  number: '请输入数字',
  integer: '请输入整数',
  string: '请输入文字',
  boolean: '请选择是或否',
  array: '请选择列表',
  object: '格式不正确',
};

/** rjsf `transformErrors`: the same ajv errors, worded in Chinese. */
export function transformErrorsZh(errors: RJSFValidationError[]): RJSFValidationError[] {
  return errors.map((e) => {
    const make = e.name ? AJV_MESSAGES[e.name] : undefined;
    if (!make) return e;
    const message = make((e.params ?? {}) as Params);
    const title = e.title || (e.property ?? '').replace(/^\./, '');
    return { ...e, message, stack: title ? `${title}: ${message}` : message };
  });
}

/**
 * A uiSchema whose fields follow the form's intended order. JSON stores may sort object keys, so a schema's
 * `properties` can arrive alphabetically; without a `ui:order`, required fields come first in the order the
 * schema's `required` list gives (arrays keep their order), then the rest.
 */
export function withFieldOrder<T extends Record<string, unknown>>(schema: { properties?: Record<string, unknown>; required?: string[] } | undefined, ui: T | undefined): T {
  const base = (ui ?? {}) as T;
  if (!schema?.properties || base['ui:order'] || !schema.required?.length) return base;
  const required = schema.required.filter((k) => k in schema.properties!);
  return { ...base, 'ui:order': [...required, '*'] };
}

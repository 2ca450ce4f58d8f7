/**
 * A visit filled in offline under a form version that has since been retired: carry what still fits into the new
 * form (the same field, a value of the type and choices the new form allows) and say what had to be dropped, so
 * the doctor checks instead of re-typing everything (offline.md §2.4, CommCare's form-version trap §1.4).
 */
type Json = unknown;

interface Prop {
  type?: string | string[];
  enum?: unknown[];
  title?: string;
  properties?: Record<string, Prop>;
  items?: Prop;
  oneOf?: { const?: unknown }[];
}

export interface Upgrade {
  data: Record<string, Json>;
  /** titles (or keys) of the carried fields */
  kept: string[];
  /** titles (or keys) of the fields the new form has no place for, with the value dropped */
  dropped: { field: string; value: string }[];
}

function typeOf(v: Json): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function fits(prop: Prop, v: Json): boolean {
  const types = prop.type === undefined ? [] : Array.isArray(prop.type) ? prop.type : [prop.type];
  const t = typeOf(v);
  if (types.length && !types.includes(t) && !(t === 'integer' && types.includes('number'))) return false;
  const choices = prop.enum ?? prop.oneOf?.filter((o) => 'const' in o).map((o) => o.const);
  if (choices && choices.length && !choices.some((c) => JSON.stringify(c) === JSON.stringify(v))) return false;
  if (t === 'array' && prop.items && Array.isArray(v)) return v.every((x) => fits(prop.items as Prop, x));
  return true;
}

function shown(v: Json): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function walk(props: Record<string, Prop>, data: Record<string, Json>, out: Upgrade, prefix: string): Record<string, Json> {
  const next: Record<string, Json> = {};
  for (const [key, value] of Object.entries(data)) {
    if (value === undefined || value === null || value === '') continue;
    const prop = props[key];
    const name = `${prefix}${prop?.title ?? key}`;
    if (!prop) {
      out.dropped.push({ field: name, value: shown(value) });
    } else if (prop.properties && value && typeof value === 'object' && !Array.isArray(value)) {
      next[key] = walk(prop.properties, value as Record<string, Json>, out, `${name} · `);
    } else if (fits(prop, value)) {
      next[key] = value;
      out.kept.push(name);
    } else {
      out.dropped.push({ field: name, value: shown(value) });
    }
  }
  return next;
}

/** Carry `data` (entered under an older form) into `schema` (the form now). */
export function upgradeDraft(schema: { properties?: Record<string, Prop> } | null | undefined, data: unknown): Upgrade {
  const out: Upgrade = { data: {}, kept: [], dropped: [] };
  if (!data || typeof data !== 'object' || Array.isArray(data)) return out;
  out.data = walk(schema?.properties ?? {}, data as Record<string, Json>, out, '');
  return out;
}

/** One line for the doctor: what was carried and what the new form has no place for. */
export function upgradeNotice(u: Upgrade): string {
  const head = `表单已更新为新版本：已带入 ${u.kept.length} 项填写内容，请核对后再提交。`;
  if (!u.dropped.length) return head;
  return `${head}新表单中没有以下内容，已移除：${u.dropped.map((d) => `${d.field}（${d.value}）`).join('、')}。`;
}

/** Turn what a person typed in the "试算" panel into the JSON inputs of a decision. */
export function parseInputValue(text: string): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  if (t === 'true' || t === '是') return true;
  if (t === 'false' || t === '否') return false;
  if (t === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^[[{"]/.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return t;
    }
  }
  return t;
}

export function buildInputs(values: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) {
    const parsed = parseInputValue(v);
    if (parsed !== undefined) out[k] = parsed;
  }
  return out;
}

/** The variable an input column reads: its expression when that is a plain name, else its label. */
export function inputName(expression: string | undefined, label: string | undefined): string {
  const e = (expression ?? '').trim();
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(e)) return e;
  return e || (label ?? '').trim();
}

/**
 * Rule ids (and 1-based rule indexes where no id is given) named in an evaluate trace. The platform's trace is
 * `[{decision_id, table, rules: [{id, index, annotation}], …}]`; `rule_id`/`rule_index` are read too.
 */
export function firedRules(trace: unknown): { ids: string[]; indexes: number[] } {
  const ids = new Set<string>();
  const indexes = new Set<number>();
  const rule = (r: unknown) => {
    if (typeof r === 'string') ids.add(r);
    else if (typeof r === 'number') indexes.add(r);
    else if (r && typeof r === 'object') {
      const o = r as { id?: unknown; index?: unknown };
      if (typeof o.id === 'string') ids.add(o.id);
      else if (typeof o.index === 'number') indexes.add(o.index);
    }
  };
  const walk = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.rules)) o.rules.forEach(rule);
    if (Array.isArray(o.rule_ids)) o.rule_ids.forEach(rule);
    if (typeof o.rule_id === 'string') ids.add(o.rule_id);
    else if (typeof o.rule_index === 'number') indexes.add(o.rule_index);
    for (const [k, x] of Object.entries(o)) if (k !== 'rules' && typeof x === 'object') walk(x);
  };
  walk(trace);
  return { ids: [...ids], indexes: [...indexes] };
}

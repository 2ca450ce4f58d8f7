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

/** Rule ids and 1-based rule indexes named anywhere in an evaluate trace. */
export function firedRules(trace: unknown): { ids: string[]; indexes: number[] } {
  const ids = new Set<string>();
  const indexes = new Set<number>();
  const walk = (v: unknown, key = '') => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
    else if (typeof v === 'string' && /rule/i.test(key)) ids.add(v);
    else if (typeof v === 'number' && /^(rule|rules|rule_index|rule_indexes|row|rows)$/i.test(key)) indexes.add(v);
  };
  walk(trace);
  return { ids: [...ids], indexes: [...indexes] };
}

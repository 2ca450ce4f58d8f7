/**
 * A form field that picks one entry of a platform list (a catalogue, the caller's organisations) by its Chinese
 * label while storing the code the schema asks for (issue 22.3: no codes typed or shown). The list is loaded once per
 * page and shared by every field using the same loader; a stored value not in the list is kept and shown with a
 * label; without the list (offline) the field falls back to a text box so the form can still be filled.
 */
import { useEffect, useState } from 'react';
import type { WidgetProps } from '@rjsf/utils';

/** A loader that fetches once and shares the answer; a failed fetch is retried by the next field that asks. */
export function sharedLoader<T>(load: () => Promise<T[]>): () => Promise<T[]> {
  let pending: Promise<T[]> | null = null;
  return () => {
    pending ??= load().catch((e) => {
      pending = null;
      throw e;
    });
    return pending;
  };
}

export interface Choice { value: string; label: string }

interface Props<T> {
  widget: WidgetProps;
  load: () => Promise<T[]>;
  choices: (items: T[]) => Choice[];
  /** The label of a stored value that is not among the choices. */
  unknownLabel: (current: string, items: T[]) => string;
  placeholder: string;
  loading: string;
}

export default function CatalogueSelect<T>({ widget, load, choices, unknownLabel, placeholder, loading }: Props<T>) {
  const { id, value, required, disabled, readonly, onChange, onBlur, onFocus } = widget;
  const [items, setItems] = useState<T[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    load().then((l) => live && setItems(l), () => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [load]);
  const current = typeof value === 'string' ? value : '';
  const events = {
    onChange: (e: { target: { value: string } }) => onChange(e.target.value || undefined),
    onBlur: () => onBlur(id, current),
    onFocus: () => onFocus(id, current),
  };
  if (failed) {
    return <input id={id} type="text" className="form-control" value={current} required={required} disabled={disabled || readonly} {...events} />;
  }
  const options = items ? choices(items) : [];
  const known = options.some((o) => o.value === current);
  return (
    <select id={id} className="form-control" value={current} required={required} disabled={disabled || readonly || !items} {...events}>
      <option value="">{items ? placeholder : loading}</option>
      {current && !known && <option value={current}>{unknownLabel(current, items ?? [])}</option>}
      {options.map((o) => (
        <option key={o.value} value={o.value}>{o.label}</option>
      ))}
    </select>
  );
}

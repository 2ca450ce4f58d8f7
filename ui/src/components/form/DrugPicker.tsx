/**
 * `ui:widget: "drugPicker"`: a drug from the platform's catalogue (药品目录, `GET /api/v1/vocabulary/drugs`), chosen
 * by its Chinese name; the stored value stays the generic name the schema asks for (issue 22.3: no English codes typed
 * on a phone). A value not in the catalogue (an older plan line) is kept and shown as it is; without the catalogue
 * (offline) the field falls back to a text box.
 */
import { useEffect, useState } from 'react';
import type { WidgetProps } from '@rjsf/utils';
import { api } from '../../api/client';

interface Drug { drug: string; name_zh: string; drug_class: string }

let catalogue: Promise<Drug[]> | null = null;
function loadCatalogue(): Promise<Drug[]> {
  catalogue ??= api.get<Drug[]>('/api/v1/vocabulary/drugs').catch((e) => {
    catalogue = null;
    throw e;
  });
  return catalogue;
}

export default function DrugPicker({ id, value, required, disabled, readonly, onChange, onBlur, onFocus }: WidgetProps) {
  const [drugs, setDrugs] = useState<Drug[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    loadCatalogue().then((d) => live && setDrugs(d), () => live && setFailed(true));
    return () => {
      live = false;
    };
  }, []);
  const current = typeof value === 'string' ? value : '';
  if (failed) {
    return (
      <input id={id} type="text" className="form-control" value={current} required={required} disabled={disabled || readonly}
        onChange={(e) => onChange(e.target.value || undefined)} onBlur={() => onBlur(id, current)} onFocus={() => onFocus(id, current)} />
    );
  }
  const known = drugs?.some((d) => d.drug === current);
  return (
    <select id={id} className="form-control" value={current} required={required} disabled={disabled || readonly || !drugs}
      onChange={(e) => onChange(e.target.value || undefined)} onBlur={() => onBlur(id, current)} onFocus={() => onFocus(id, current)}>
      <option value="">{drugs ? '请选择药品' : '正在加载药品目录…'}</option>
      {current && !known && <option value={current}>{current}</option>}
      {(drugs ?? []).map((d) => (
        <option key={d.drug} value={d.drug}>{d.name_zh}</option>
      ))}
    </select>
  );
}

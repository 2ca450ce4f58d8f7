/**
 * `ui:widget: "villagePicker"`: a village clinic (村卫生室) of the caller's scope, chosen by its name
 * (`GET /api/v1/organizations`, level village); the stored value stays the organization code the schema asks for
 * (issue 22.3: no codes typed or shown). A code outside the list is kept and shown by its name when known; without
 * the list (offline) the field falls back to a text box.
 */
import { useEffect, useState } from 'react';
import type { WidgetProps } from '@rjsf/utils';
import { organizations } from '../../api/endpoints';
import type { Org } from '../../api/types';

let orgs: Promise<Org[]> | null = null;
function loadOrgs(): Promise<Org[]> {
  orgs ??= organizations.list().catch((e) => {
    orgs = null;
    throw e;
  });
  return orgs;
}

export default function VillagePicker({ id, value, required, disabled, readonly, onChange, onBlur, onFocus }: WidgetProps) {
  const [list, setList] = useState<Org[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    loadOrgs().then((l) => live && setList(l), () => live && setFailed(true));
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
  const villages = (list ?? []).filter((o) => o.level === 'village');
  const known = villages.some((o) => o.code === current);
  const other = list?.find((o) => o.code === current);
  return (
    <select id={id} className="form-control" value={current} required={required} disabled={disabled || readonly || !list}
      onChange={(e) => onChange(e.target.value || undefined)} onBlur={() => onBlur(id, current)} onFocus={() => onFocus(id, current)}>
      <option value="">{list ? '请选择村卫生室' : '正在加载…'}</option>
      {current && !known && <option value={current}>{other?.name ?? '（不在本机构范围内的村卫生室）'}</option>}
      {villages.map((o) => (
        <option key={o.code} value={o.code}>{o.name}</option>
      ))}
    </select>
  );
}

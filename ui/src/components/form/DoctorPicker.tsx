/**
 * `ui:widget: "doctorPicker"`: a doctor of the caller's scope (`GET /api/v1/users`, the server scopes the rows),
 * chosen by name with their organisation (王医生 · 上塘村卫生室); no usernames or user numbers are shown (issue 22.3).
 * Options (`ui:options`): `roles` — the roles offered (default village and township doctors); `store` — `"id"`
 * (default: the user number the schema asks for) or `"name"` (a text field that records the doctor's name).
 * A stored doctor outside the list is kept and shown as such; without the list (offline) the field keeps its value
 * and says the list cannot be loaded.
 */
import { useEffect, useMemo, useState } from 'react';
import type { WidgetProps } from '@rjsf/utils';
import { staff } from '../../api/endpoints';
import type { StaffMember } from '../../api/types';

export const DEFAULT_DOCTOR_ROLES = ['village_doctor', 'township_doctor'];

const lists = new Map<string, Promise<StaffMember[]>>();
function loadDoctors(roles: readonly string[]): Promise<StaffMember[]> {
  const key = [...roles].sort().join(',');
  let list = lists.get(key);
  if (!list) {
    list = staff.list({ role: roles }).catch((e) => {
      lists.delete(key);
      throw e;
    });
    lists.set(key, list);
  }
  return list;
}

/** What a doctor is called in the picker: the name and the organisation, never the username or number. */
export function doctorLabel(d: Pick<StaffMember, 'display_name' | 'org_name'>): string {
  return d.org_name ? `${d.display_name} · ${d.org_name}` : d.display_name;
}

/** The option value of a doctor for the stored kind (the number as a string, or the name). */
export function doctorValue(d: Pick<StaffMember, 'id' | 'display_name'>, store: 'id' | 'name'): string {
  return store === 'name' ? d.display_name : String(d.id);
}

export default function DoctorPicker({ id, value, required, disabled, readonly, options, schema, onChange, onBlur, onFocus }: WidgetProps) {
  const roles = useMemo(() => (Array.isArray(options.roles) ? (options.roles as string[]) : DEFAULT_DOCTOR_ROLES), [options.roles]);
  const store: 'id' | 'name' = options.store === 'name' ? 'name' : 'id';
  const [doctors, setDoctors] = useState<StaffMember[] | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    loadDoctors(roles).then((d) => live && setDoctors(d), () => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [roles]);
  const current = value === undefined || value === null ? '' : String(value);
  const known = doctors?.some((d) => doctorValue(d, store) === current);
  const emit = (v: string) => {
    if (!v) return onChange(schema.type && [schema.type].flat().includes('null') ? null : undefined);
    if (store === 'name') return onChange(v);
    onChange(Number(v));
  };
  const outside = store === 'name' ? current : '当前责任医生（不在可选名单中）';
  return (
    <select id={id} className="form-control" value={current} required={required} disabled={disabled || readonly || !doctors}
      onChange={(e) => emit(e.target.value)} onBlur={() => onBlur(id, value)} onFocus={() => onFocus(id, value)}>
      <option value="">{failed ? '医生名单暂时无法加载' : doctors ? '请选择医生' : '正在加载医生名单…'}</option>
      {current && !known && <option value={current}>{outside}</option>}
      {(doctors ?? []).map((d) => (
        <option key={d.id} value={doctorValue(d, store)}>{doctorLabel(d)}</option>
      ))}
    </select>
  );
}

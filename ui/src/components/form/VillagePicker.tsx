/**
 * `ui:widget: "villagePicker"`: a village clinic (村卫生室) of the caller's scope, chosen by its name
 * (`GET /api/v1/organizations`, level village); the stored value stays the organization code the schema asks for
 * (issue 22.3: no codes typed or shown). A code outside the list is kept and shown by its name when known; without
 * the list (offline) the field falls back to a text box.
 */
import type { WidgetProps } from '@rjsf/utils';
import { organizations } from '../../api/endpoints';
import type { Org } from '../../api/types';
import CatalogueSelect, { sharedLoader } from './CatalogueSelect';

const loadOrgs = sharedLoader(() => organizations.list());

export default function VillagePicker(props: WidgetProps) {
  return (
    <CatalogueSelect widget={props} load={loadOrgs} placeholder="请选择村卫生室" loading="正在加载…"
      choices={(list: Org[]) => list.flatMap((o) => (o.level === 'village' && o.code ? [{ value: o.code, label: o.name ?? '（未命名村卫生室）' }] : []))}
      unknownLabel={(current, list: Org[]) => list.find((o) => o.code === current)?.name ?? '（不在本机构范围内的村卫生室）'} />
  );
}

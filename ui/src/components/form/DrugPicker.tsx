/**
 * `ui:widget: "drugPicker"`: a drug from the platform's catalogue (药品目录, `GET /api/v1/vocabulary/drugs`), chosen
 * by its Chinese name; the stored value stays the generic name the schema asks for (issue 22.3: no English codes typed
 * on a phone). A value not in the catalogue (an older plan line) is kept and shown as it is; without the catalogue
 * (offline) the field falls back to a text box.
 */
import type { WidgetProps } from '@rjsf/utils';
import { api } from '../../api/client';
import CatalogueSelect, { sharedLoader } from './CatalogueSelect';

interface Drug { drug: string; name_zh: string; drug_class: string }

const loadCatalogue = sharedLoader(() => api.get<Drug[]>('/api/v1/vocabulary/drugs'));

export default function DrugPicker(props: WidgetProps) {
  return (
    <CatalogueSelect widget={props} load={loadCatalogue} placeholder="请选择药品" loading="正在加载药品目录…"
      choices={(drugs: Drug[]) => drugs.map((d) => ({ value: d.drug, label: d.name_zh }))}
      unknownLabel={(current) => current} />
  );
}

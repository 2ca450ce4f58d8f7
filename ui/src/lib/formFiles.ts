/**
 * The form files a BPMN deploy must carry. The server needs every form the BPMN names in the same upload,
 * so a deploy from the browser re-sends the version's forms (as edited here, or as deployed).
 */
export interface TaskFormRef {
  taskId: string;
  schemaFile: string; // formJsonSchemaFilename, or the conventional `<task_id>.json`
  uiFile: string; // formUiSchemaFilename, or ''
  named: boolean; // the BPMN names the schema file (then it must be sent)
}

export interface FormContent {
  schema: unknown;
  ui: unknown;
}

export type DeployedForms = Record<string, { schema?: unknown; ui_schema?: unknown; uiSchema?: unknown }>;

/** The deployed form of a task, from the version's `/forms` map keyed `<process>/<task>`. */
export function deployedForm(forms: DeployedForms | undefined, processId: string, taskId: string): FormContent | null {
  const f = forms?.[`${processId}/${taskId}`];
  if (!f) return null;
  return { schema: f.schema ?? {}, ui: f.ui_schema ?? f.uiSchema ?? {} };
}

/** Files (name → JSON text) to upload with the BPMN for these tasks. */
export function formFiles(tasks: readonly TaskFormRef[], contentOf: (taskId: string) => FormContent | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tasks) {
    const c = contentOf(t.taskId);
    if (!c) continue;
    if (t.uiFile) {
      out[t.schemaFile] = JSON.stringify(c.schema, null, 2);
      out[t.uiFile] = JSON.stringify(c.ui ?? {}, null, 2);
    } else {
      const ui = c.ui && typeof c.ui === 'object' && Object.keys(c.ui).length ? c.ui : undefined;
      out[t.schemaFile] = JSON.stringify(ui ? { schema: c.schema, uiSchema: ui } : { schema: c.schema }, null, 2);
    }
  }
  return out;
}

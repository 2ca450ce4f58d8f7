/** Edit a user task's form (JSON Schema + uiSchema) as JSON, with a live preview in the real renderer. */
import { Component, useMemo, useState, type ReactNode } from 'react';
import type { RJSFSchema, UiSchema } from '@rjsf/utils';
import TaskForm from '../../components/form/TaskForm';

export interface FormTexts {
  schema: string;
  ui: string;
}

export function templateSchema(taskId: string): unknown {
  return {
    title: taskId,
    type: 'object',
    required: ['sbp', 'dbp'],
    properties: {
      sbp: { type: 'integer', title: '收缩压 (mmHg)', minimum: 40, maximum: 300 },
      dbp: { type: 'integer', title: '舒张压 (mmHg)', minimum: 20, maximum: 200 },
      note: { type: 'string', title: '备注' },
    },
  };
}

function parse(text: string): { value?: unknown; error?: string } {
  if (!text.trim()) return { value: {} };
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** A schema being typed can be invalid in ways that make the renderer throw: show that, not a blank page. */
class PreviewBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  render() {
    if (this.state.error) return <div className="alert alert-error">表单结构无法渲染：{this.state.error.message}</div>;
    return this.props.children;
  }
}

interface Props {
  taskId: string;
  schemaFile: string;
  uiFile: string;
  texts: FormTexts;
  fromTemplate: boolean;
  onEdit: (texts: FormTexts) => void;
  onClose: () => void;
}

export default function FormEditor({ taskId, schemaFile, uiFile, texts, fromTemplate, onEdit, onClose }: Props) {
  const [preview, setPreview] = useState<unknown>({});
  const [note, setNote] = useState<string | null>(null);
  const schema = useMemo(() => parse(texts.schema), [texts.schema]);
  const ui = useMemo(() => parse(texts.ui), [texts.ui]);

  return (
    <section className="card" data-testid="form-editor">
      <div className="row">
        <h2 style={{ margin: 0 }}>表单：{taskId}</h2>
        <span className="muted mono">
          {schemaFile}
          {uiFile ? ` + ${uiFile}` : ''}
        </span>
        <span className="spacer" />
        <button type="button" className="btn btn-small" onClick={onClose}>
          关闭
        </button>
      </div>
      {fromTemplate && <div className="alert alert-info">此任务在当前版本中没有表单，已填入示例表单。</div>}
      {note && <div className="alert alert-ok">{note}</div>}
      <p className="muted">修改会随流程一起部署。右侧预览就是办理人看到的表单，可直接试填以检查校验规则。</p>
      <div className="json-editor">
        <div className="stack">
          <label className="field">
            <span className="field-label">JSON Schema</span>
            <textarea value={texts.schema} onChange={(e) => onEdit({ ...texts, schema: e.target.value })} spellCheck={false} />
          </label>
          {schema.error && <div className="alert alert-error">JSON 格式错误：{schema.error}</div>}
          <label className="field">
            <span className="field-label">uiSchema（界面设置，可留空）</span>
            <textarea value={texts.ui} onChange={(e) => onEdit({ ...texts, ui: e.target.value })} spellCheck={false} style={{ minHeight: 140 }} />
          </label>
          {ui.error && <div className="alert alert-error">JSON 格式错误：{ui.error}</div>}
        </div>
        <div>
          <div className="field-label">预览</div>
          <div className="card">
            {schema.value && !schema.error ? (
              <PreviewBoundary key={texts.schema + texts.ui}>
                <TaskForm
                  schema={schema.value as RJSFSchema}
                  uiSchema={(ui.error ? {} : ui.value ?? {}) as UiSchema}
                  formData={preview}
                  onChange={setPreview}
                  onSubmit={() => setNote('预览：表单校验通过。')}
                  liveValidate
                >
                  <div className="form-actions">
                    <button type="submit" className="btn btn-primary btn-small">
                      试提交
                    </button>
                  </div>
                </TaskForm>
              </PreviewBoundary>
            ) : (
              <p className="muted">修正 JSON 后显示预览。</p>
            )}
          </div>
        </div>
      </div>
    </section>
  );
}

/** Edit a user task's form (JSON Schema + uiSchema) as JSON, with a live preview in the real renderer. */
import { Component, useEffect, useMemo, useState, type ReactNode } from 'react';
import type { RJSFSchema, UiSchema } from '@rjsf/utils';
import { definitions } from '../../api/endpoints';
import { ApiError } from '../../api/client';
import { Loading } from '../../components/common';
import TaskForm from '../../components/form/TaskForm';

export function templateSchema(taskId: string): string {
  return JSON.stringify(
    {
      title: taskId,
      type: 'object',
      required: ['sbp', 'dbp'],
      properties: {
        sbp: { type: 'integer', title: '收缩压 (mmHg)', minimum: 40, maximum: 300 },
        dbp: { type: 'integer', title: '舒张压 (mmHg)', minimum: 20, maximum: 200 },
        note: { type: 'string', title: '备注' },
      },
    },
    null,
    2,
  );
}

/** A form file may hold the schema alone or {schema, ui_schema}; split it. */
export function splitFormFile(body: unknown): { schema?: unknown; ui?: unknown } {
  if (body && typeof body === 'object' && 'schema' in body) {
    const b = body as { schema: unknown; ui_schema?: unknown; uiSchema?: unknown };
    return { schema: b.schema, ui: b.ui_schema ?? b.uiSchema };
  }
  return { schema: body };
}

function parse(text: string): { value?: unknown; error?: string } {
  if (!text.trim()) return { value: {} };
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

interface Props {
  processId: string;
  version: number | null;
  schemaFile: string;
  uiFile: string;
  taskId: string;
  edited: Record<string, string>;
  onEdit: (file: string, text: string) => void;
  onClose: () => void;
}

export default function FormEditor({ processId, version, schemaFile, uiFile, taskId, edited, onEdit, onClose }: Props) {
  const [loading, setLoading] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [preview, setPreview] = useState<unknown>({});
  const schemaText = edited[schemaFile];
  const uiText = uiFile ? edited[uiFile] : undefined;

  useEffect(() => {
    if (schemaText !== undefined && (!uiFile || uiText !== undefined)) return;
    let cancelled = false;
    const load = async (file: string): Promise<unknown> => {
      if (!version) throw new ApiError(404, 'http_404', '');
      return definitions.file(processId, version, file);
    };
    setLoading(true);
    (async () => {
      try {
        const body = await load(schemaFile);
        const { schema, ui } = splitFormFile(body);
        if (cancelled) return;
        onEdit(schemaFile, JSON.stringify(schema ?? {}, null, 2));
        if (uiFile && ui !== undefined) onEdit(uiFile, JSON.stringify(ui, null, 2));
        if (uiFile && ui === undefined) {
          try {
            const u = await load(uiFile);
            if (!cancelled) onEdit(uiFile, JSON.stringify(u ?? {}, null, 2));
          } catch {
            if (!cancelled) onEdit(uiFile, '{}');
          }
        }
      } catch {
        if (cancelled) return;
        setNote('未能读取已部署的表单文件（服务器暂不提供或文件不存在），已填入示例表单。');
        onEdit(schemaFile, templateSchema(taskId));
        if (uiFile) onEdit(uiFile, '{}');
      } finally {
        if (!cancelled) setLoading(false);
      }
    })();
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [processId, version, schemaFile, uiFile]);

  const schema = useMemo(() => parse(schemaText ?? ''), [schemaText]);
  const ui = useMemo(() => parse(uiText ?? ''), [uiText]);

  if (loading) return <Loading text="正在读取表单…" />;

  return (
    <section className="card" data-testid="form-editor">
      <div className="row">
        <h2 style={{ margin: 0 }}>表单：{taskId}</h2>
        <span className="muted mono">{schemaFile}</span>
        <span className="spacer" />
        <button type="button" className="btn btn-small" onClick={onClose}>
          关闭
        </button>
      </div>
      {note && <div className="alert alert-info">{note}</div>}
      <p className="muted">修改会随流程一起部署（作为同名文件上传）。右侧预览即村医看到的表单，可直接试填以检查校验。</p>
      <div className="json-editor">
        <div className="stack">
          <label className="field">
            <span className="field-label">JSON Schema（{schemaFile}）</span>
            <textarea value={schemaText ?? ''} onChange={(e) => onEdit(schemaFile, e.target.value)} spellCheck={false} />
          </label>
          {schema.error && <div className="alert alert-error">JSON 格式错误：{schema.error}</div>}
          {uiFile && (
            <>
              <label className="field">
                <span className="field-label">uiSchema（{uiFile}）</span>
                <textarea value={uiText ?? ''} onChange={(e) => onEdit(uiFile, e.target.value)} spellCheck={false} style={{ minHeight: 160 }} />
              </label>
              {ui.error && <div className="alert alert-error">JSON 格式错误：{ui.error}</div>}
            </>
          )}
        </div>
        <div>
          <div className="field-label">预览</div>
          <div className="card">
            {schema.value && !schema.error ? (
              <PreviewBoundary key={schemaText}>
                <TaskForm
                  schema={schema.value as RJSFSchema}
                  uiSchema={(ui.value ?? {}) as UiSchema}
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

/**
 * Edit one BPMN process in bpmn-js, with the engine's properties beside it; check, deploy as a new version
 * (the BPMN plus any form files edited here), and download the XML. A rejected deploy points at its element.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import Modeler from 'bpmn-js/lib/Modeler';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import { definitions } from '../../api/endpoints';
import { ApiError } from '../../api/client';
import type { Decision, DeployResult } from '../../api/types';
import { ErrorBox, Loading, ProgressBar } from '../../components/common';
import spiffModdle from '../../bpmn/spiffworkflow.json';
import { zhTranslateModule } from '../../bpmn/translate';
import { getExtensionText, getOperator, getProperties, getTimer, laneOf, type BO, type Services } from '../../bpmn/extensions';
import { lintElements, type LintElement, type LintFinding } from '../../lib/bpmnLint';
import { downloadText } from '../../lib/useAsync';
import PropertiesPanel from './PropertiesPanel';
import { problemsFromError, type Problem } from '../../lib/definitionErrors';
import FormEditor, { templateSchema, type FormTexts } from './FormEditor';
import { deployedForm, formFiles, type DeployedForms, type FormContent, type TaskFormRef } from '../../lib/formFiles';

interface Props {
  processId: string;
  version: number | null;
  xml: string;
  decisions: Decision[];
  onDeployed: (result: DeployResult) => void;
  /** Edits not yet deployed (the page asks before leaving). */
  onDirtyChange?: (dirty: boolean) => void;
}

/** Fit the diagram, then move it right of the palette, which floats over the canvas's left edge. */
function fitBesidePalette(canvas: BO): void {
  canvas.zoom('fit-viewport');
  const box = canvas.viewbox();
  const paletteWidth = 110 / (box.scale || 1);
  if (box.x > box.inner.x - paletteWidth) canvas.viewbox({ ...box, x: box.inner.x - paletteWidth, width: box.width + paletteWidth });
}

export default function BpmnEditor({ processId, version, xml, decisions, onDeployed, onDirtyChange }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const modeler = useRef<Modeler | null>(null);
  const [services, setServices] = useState<Services | null>(null);
  const [selected, setSelected] = useState<BO>(null);
  const [, setTick] = useState(0);
  const [importError, setImportError] = useState<unknown>(null);
  const [importing, setImporting] = useState(true);
  const [dirty, setDirty] = useState(false);
  useEffect(() => onDirtyChange?.(dirty), [dirty, onDirtyChange]);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [deploying, setDeploying] = useState<number | null | false>(false);
  const [result, setResult] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [deployedForms, setDeployedForms] = useState<DeployedForms | undefined>(undefined);
  const [edits, setEdits] = useState<Record<string, FormTexts>>({});
  const [formEdit, setFormEdit] = useState<{ schemaFile: string; uiFile: string; taskId: string; fromTemplate: boolean } | null>(null);

  useEffect(() => {
    let cancelled = false;
    setDeployedForms(undefined);
    if (version) {
      definitions.forms(processId, version).then(
        (f) => !cancelled && setDeployedForms(f ?? {}),
        () => !cancelled && setDeployedForms({}),
      );
    }
    return () => {
      cancelled = true;
    };
  }, [processId, version]);

  useEffect(() => {
    const m = new Modeler({
      container: container.current!,
      additionalModules: [zhTranslateModule],
      moddleExtensions: { spiffworkflow: spiffModdle },
    } as ConstructorParameters<typeof Modeler>[0]);
    modeler.current = m;
    const s: Services = { modeling: m.get('modeling'), moddle: m.get('moddle'), elementRegistry: m.get('elementRegistry') };
    setServices(s);
    m.on('selection.changed', (e: { newSelection: BO[] }) => setSelected(e.newSelection[0] ?? null));
    m.on('commandStack.changed', () => {
      setDirty(true);
      setTick((t) => t + 1);
    });
    return () => {
      m.destroy();
      modeler.current = null;
    };
  }, []);

  useEffect(() => {
    const m = modeler.current;
    if (!m) return;
    let cancelled = false;
    setImporting(true);
    setImportError(null);
    setProblems([]);
    setResult(null);
    setEdits({});
    setFormEdit(null);
    m.importXML(xml).then(
      () => {
        if (cancelled) return;
        fitBesidePalette(m.get('canvas') as BO);
        setDirty(false);
        setImporting(false);
        setSelected(null);
      },
      (e: unknown) => {
        if (cancelled) return;
        setImportError(e);
        setImporting(false);
      },
    );
    return () => {
      cancelled = true;
    };
  }, [xml]);

  /** Put problems on the canvas: red outline and the reason beside the element. */
  const showProblems = useCallback((list: Problem[]) => {
    const m = modeler.current;
    if (!m) return;
    const canvas = m.get('canvas') as BO;
    const overlays = m.get('overlays') as BO;
    const registry = m.get('elementRegistry') as BO;
    overlays.remove({ type: 'ygt-problem' });
    for (const el of registry.getAll()) canvas.removeMarker(el, 'ygt-invalid');
    let first: BO = null;
    for (const p of list) {
      const el = p.element_id ? registry.get(p.element_id) : null;
      if (!el) continue;
      canvas.addMarker(el, 'ygt-invalid');
      const note = document.createElement('div');
      note.className = 'error-overlay';
      note.textContent = p.message;
      note.dataset.testid = 'problem-overlay';
      overlays.add(el, 'ygt-problem', { position: { bottom: -8, left: 0 }, html: note });
      if (!first && p.level === 'error') first = el;
    }
    if (first) {
      (m.get('selection') as BO).select(first);
      canvas.scrollToElement?.(first);
    }
    setProblems(list);
  }, []);

  const lint = useCallback((): LintFinding[] => {
    const m = modeler.current;
    if (!m || !services) return [];
    const registry = m.get('elementRegistry') as BO;
    const items: LintElement[] = registry
      .filter((e: BO) => !e.labelTarget && e.type !== 'bpmn:Process' && e.type !== 'bpmn:Collaboration' && e.type !== 'label')
      .map((e: BO) => {
        const bo = e.businessObject;
        const lane = e.type === 'bpmn:Lane' ? null : laneOf(services, bo);
        const hasLanes = registry.filter((x: BO) => x.type === 'bpmn:Lane').length > 0;
        const timer = getTimer(bo);
        return {
          id: bo.id,
          type: e.type,
          name: bo.name,
          formSchema: getProperties(bo).formJsonSchemaFilename,
          hasForm: e.type === 'bpmn:UserTask' && (!!edits[bo.id] || !!deployedForm(deployedForms, processId, bo.id)),
          decisionId: getExtensionText(bo, 'calledDecisionId'),
          operator: getOperator(bo).id,
          laneName: lane ? lane.name ?? '' : hasLanes ? null : null,
          timerExpression: timer ? timer.expression : undefined,
          script: e.type === 'bpmn:ScriptTask' ? bo.script ?? '' : undefined,
        };
      });
    return lintElements(items);
  }, [services, edits, deployedForms, processId]);

  /** The user tasks of the diagram and the form files they name. */
  const userTasks = (): TaskFormRef[] => {
    const registry = modeler.current?.get('elementRegistry') as BO;
    return (registry?.filter((e: BO) => e.type === 'bpmn:UserTask') ?? []).map((e: BO) => {
      const props = getProperties(e.businessObject);
      return {
        taskId: e.businessObject.id,
        schemaFile: props.formJsonSchemaFilename || `${e.businessObject.id}.json`,
        uiFile: props.formUiSchemaFilename ?? '',
        named: !!props.formJsonSchemaFilename,
      };
    });
  };

  const contentOf = (taskId: string): FormContent | null => {
    const edit = edits[taskId];
    if (edit) return { schema: JSON.parse(edit.schema || '{}'), ui: JSON.parse(edit.ui || '{}') };
    return deployedForm(deployedForms, processId, taskId);
  };

  /** A form being edited that is not valid JSON, by task id. */
  const brokenForm = (): string | null => {
    for (const [taskId, t] of Object.entries(edits)) {
      try {
        JSON.parse(t.schema || '{}');
        JSON.parse(t.ui || '{}');
      } catch {
        return taskId;
      }
    }
    return null;
  };

  const files = async (): Promise<File[]> => {
    const m = modeler.current!;
    const { xml: out } = await m.saveXML({ format: true });
    const list = [new File([out ?? ''], `${processId}.bpmn`, { type: 'application/xml' })];
    for (const [name, text] of Object.entries(formFiles(userTasks(), contentOf))) {
      list.push(new File([text], name, { type: 'application/json' }));
    }
    return list;
  };

  const openForm = (schemaFile: string, uiFile: string, taskId: string) => {
    const deployed = deployedForm(deployedForms, processId, taskId);
    if (!edits[taskId]) {
      const base = deployed ?? { schema: templateSchema(taskId), ui: {} };
      setEdits((e) => ({ ...e, [taskId]: { schema: JSON.stringify(base.schema, null, 2), ui: JSON.stringify(base.ui ?? {}, null, 2) } }));
    }
    setFormEdit({ schemaFile, uiFile, taskId, fromTemplate: !deployed && !edits[taskId] });
  };

  const check = async () => {
    const findings = lint();
    const local: Problem[] = findings.map((f) => ({ element_id: f.element_id, message: f.message, level: f.level }));
    const broken = brokenForm();
    if (broken) local.push({ element_id: broken, message: `任务 ${broken} 的表单不是有效的 JSON`, level: 'error' });
    let serverNote = '';
    try {
      if (broken) throw new Error('broken form');
      const res = await definitions.validate(await files());
      for (const f of res?.unused_forms ?? []) local.push({ message: `表单文件 ${f} 没有被任何用户任务引用`, level: 'warning' });
      serverNote = '服务器校验通过（与部署时的检查相同，未保存任何内容）。';
    } catch (e) {
      if (e instanceof ApiError && e.isUnavailable) serverNote = '（服务器校验暂不可用，仅完成本地检查）';
      else if (e instanceof ApiError && e.status === 422) local.unshift(...problemsFromError(e));
      else if (e instanceof ApiError) serverNote = `服务器校验失败：${e.message}`;
    }
    showProblems(local);
    const errors = local.filter((p) => p.level === 'error').length;
    setResult({
      kind: errors ? 'error' : 'ok',
      text: errors ? `发现 ${errors} 个错误、${local.length - errors} 个提醒。${serverNote}` : `检查通过${local.length ? `（${local.length} 个提醒）` : ''}。${serverNote}`,
    });
  };

  const deploy = async () => {
    setResult(null);
    const broken = brokenForm();
    if (broken) {
      setResult({ kind: 'error', text: `任务 ${broken} 的表单不是有效的 JSON，请先修正。` });
      return;
    }
    setDeploying(0);
    try {
      const res = await definitions.deploy(await files(), (f) => setDeploying(f >= 1 ? null : f));
      showProblems([]);
      setDirty(false);
      onDeployed(res); // the page shows the outcome: it reloads this editor with the new version
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        const list = problemsFromError(e);
        showProblems(list);
        setResult({ kind: 'error', text: `部署被拒绝：${list.map((p) => `${p.file ? `${p.file} ` : ''}${p.element_id ? `[${p.element_id}] ` : ''}${p.message}`).join('；')}` });
      } else {
        setResult({ kind: 'error', text: e instanceof ApiError ? `部署失败：${e.message}` : '部署失败' });
      }
    } finally {
      setDeploying(false);
    }
  };

  const download = async () => {
    const { xml: out } = await modeler.current!.saveXML({ format: true });
    downloadText(`${processId}.bpmn`, out ?? '');
  };

  const command = (name: 'undo' | 'redo') => (modeler.current?.get('commandStack') as BO)?.[name]();
  const fit = () => modeler.current && fitBesidePalette(modeler.current.get('canvas') as BO);

  return (
    <>
      <div className="modeler-toolbar">
        <button type="button" className="btn btn-small" onClick={() => command('undo')} title="撤销 (Ctrl+Z)">
          撤销
        </button>
        <button type="button" className="btn btn-small" onClick={() => command('redo')} title="重做">
          重做
        </button>
        <button type="button" className="btn btn-small" onClick={fit}>
          适应画布
        </button>
        <span className="spacer" />
        {dirty && <span className="badge badge-warn">未部署的修改</span>}
        <button type="button" className="btn btn-small" onClick={check} disabled={importing}>
          检查
        </button>
        <button type="button" className="btn btn-small" onClick={download} disabled={importing}>
          下载 XML
        </button>
        <button type="button" className="btn btn-primary btn-small" onClick={deploy} disabled={importing || deploying !== false || (!!version && deployedForms === undefined)} data-testid="deploy">
          部署为新版本
        </button>
      </div>
      {deploying !== false && <ProgressBar value={deploying} label={deploying === null ? '服务器正在校验并部署…' : '正在上传'} />}
      {result && (
        <div className={result.kind === 'ok' ? 'alert alert-ok' : 'alert alert-error'} role="status" data-testid="check-result">
          {result.text}
        </div>
      )}
      {problems.length > 0 && (
        <ul className="card" style={{ paddingLeft: '1.6rem', fontSize: '0.88rem' }}>
          {problems.map((p, i) => (
            <li key={i} className={p.level === 'error' ? 'case-fail' : ''}>
              {p.element_id ? (
                <button
                  type="button"
                  className="btn-ghost"
                  style={{ border: 'none', background: 'none', color: 'inherit', cursor: 'pointer', padding: 0, textAlign: 'left' }}
                  onClick={() => {
                    const el = (modeler.current?.get('elementRegistry') as BO)?.get(p.element_id);
                    if (el) {
                      (modeler.current!.get('selection') as BO).select(el);
                      (modeler.current!.get('canvas') as BO).scrollToElement?.(el);
                    }
                  }}
                >
                  <span className="mono">[{p.element_id}]</span> {p.message}
                </button>
              ) : (
                <>
                  {p.file && <span className="mono">{p.file}：</span>}
                  {p.message}
                </>
              )}
            </li>
          ))}
        </ul>
      )}
      <div className="modeler-work">
        <div className="canvas" data-testid="bpmn-modeler">
          <div ref={container} style={{ position: 'absolute', inset: 0 }} />
          {importing && (
            <div style={{ position: 'absolute', inset: 0, background: '#fff' }}>
              <Loading text="正在打开流程图…" />
            </div>
          )}
          {importError ? (
            <div style={{ position: 'absolute', inset: 0, padding: '1rem', background: '#fff' }}>
              <ErrorBox error={new Error(`无法打开流程图：${(importError as Error).message ?? importError}`)} />
            </div>
          ) : null}
        </div>
        <aside className="card props">
          {services && (
            <PropertiesPanel
              services={services}
              element={selected ?? (modeler.current && !importing ? (modeler.current.get('canvas') as BO).getRootElement() : null)}
              decisions={decisions}
              onEditForm={openForm}
            />
          )}
        </aside>
      </div>
      {formEdit && edits[formEdit.taskId] && (
        <FormEditor
          taskId={formEdit.taskId}
          schemaFile={formEdit.schemaFile}
          uiFile={formEdit.uiFile}
          texts={edits[formEdit.taskId]}
          fromTemplate={formEdit.fromTemplate}
          onEdit={(texts) => {
            setEdits((e) => ({ ...e, [formEdit.taskId]: texts }));
            setDirty(true);
          }}
          onClose={() => setFormEdit(null)}
        />
      )}
    </>
  );
}

/**
 * Edit one DMN decision in dmn-js; try inputs against it and run its conformance cases (the decision
 * pack's endpoints); deploy it as a new version; download the XML. Rules the server names light up.
 */
import { useEffect, useRef, useState } from 'react';
import DmnModeler from 'dmn-js/lib/Modeler';
import 'dmn-js/dist/assets/diagram-js.css';
import 'dmn-js/dist/assets/dmn-js-shared.css';
import 'dmn-js/dist/assets/dmn-js-drd.css';
import 'dmn-js/dist/assets/dmn-js-decision-table.css';
import 'dmn-js/dist/assets/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-js-literal-expression.css';
import 'dmn-js/dist/assets/dmn-font/css/dmn.css';
import { decisions as decisionsApi, definitions } from '../../api/endpoints';
import { ApiError } from '../../api/client';
import type { CaseRunResult, DeployResult, EvaluateResult } from '../../api/types';
import { useAuth } from '../../auth';
import { ErrorBox, Loading, ProgressBar } from '../../components/common';
import { buildInputs, firedRules, inputName } from '../../lib/dmnInputs';
import { downloadText } from '../../lib/useAsync';
import { canOverrideFindings, problemsFromError } from '../../lib/definitionErrors';
import { dmnZhOptions } from '../../lib/dmnTranslate';
import { exampleChanges, exampleInputs, replayForDeploy, replayHeadline, replayLines, type ReplayResult } from '../../lib/replay';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;

interface Props {
  decisionId: string;
  xml: string;
  onDeployed: (r: DeployResult) => void;
  /** Edits not yet deployed (the page asks before leaving). */
  onDirtyChange?: (dirty: boolean) => void;
}

interface InputCol {
  name: string;
  label: string;
  typeRef?: string;
  allowed?: string;
  required?: boolean;
}

function tableInputs(m: Any): InputCol[] {
  const defs = m.getDefinitions?.();
  const out: InputCol[] = [];
  const seen = new Set<string>();
  for (const d of defs?.drgElement ?? []) {
    for (const i of d.decisionLogic?.input ?? []) {
      const name = inputName(i.inputExpression?.text, i.label);
      if (!name || seen.has(name)) continue;
      seen.add(name);
      out.push({ name, label: i.label ?? name, typeRef: i.inputExpression?.typeRef });
    }
  }
  return out;
}

function openTable(m: Any): void {
  const view = m.getViews().find((v: Any) => v.type === 'decisionTable') ?? m.getViews()[0];
  if (view) m.open(view);
}

type CaseResult = NonNullable<CaseRunResult['results']>[number];

/** What differed in a failed case, in a line. */
function caseNote(r: CaseResult): string {
  if (r.message) return r.message;
  if (r.error) return `出错：${r.error.code ?? ''}${r.error.field ? `（${r.error.field}）` : ''} ${r.error.reason ?? ''}`;
  if (r.diff && Object.keys(r.diff).length) {
    return Object.entries(r.diff)
      .map(([k, d]) => `${k}：期望 ${JSON.stringify(d.expected)}，实际 ${JSON.stringify(d.got)}`)
      .join('；');
  }
  if (r.expected_error) return `期望出错 ${JSON.stringify(r.expected_error)}，实际得到 ${JSON.stringify(r.got)}`;
  if (r.expected !== undefined) return `期望 ${JSON.stringify(r.expected)}，实际 ${JSON.stringify(r.actual ?? r.got)}`;
  return r.source ?? '';
}

export default function DmnEditor({ decisionId, xml, onDeployed, onDirtyChange }: Props) {
  const container = useRef<HTMLDivElement>(null);
  const modeler = useRef<Any>(null);
  const [importing, setImporting] = useState(true);
  const [dirty, setDirty] = useState(false);
  const [overridable, setOverridable] = useState(false);
  const [overrideReason, setOverrideReason] = useState('');
  useEffect(() => onDirtyChange?.(dirty), [dirty, onDirtyChange]);
  const [importError, setImportError] = useState<unknown>(null);
  const [inputs, setInputs] = useState<InputCol[]>([]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [evalDeployed, setEvalDeployed] = useState(false);
  const [evalResult, setEvalResult] = useState<EvaluateResult | null>(null);
  const [evalError, setEvalError] = useState<unknown>(null);
  const [cases, setCases] = useState<CaseRunResult | null>(null);
  const [casesError, setCasesError] = useState<unknown>(null);
  const [running, setRunning] = useState<'' | 'eval' | 'cases'>('');
  const [casesProgress, setCasesProgress] = useState<number | null>(null);
  // Only process owners may analyse drafts or run cases (the server answers 403 to anyone else).
  const mayAnalyse = (useAuth().me?.roles ?? []).includes('process_owner');
  const [deploying, setDeploying] = useState<number | null | false>(false);
  const [result, setResult] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  // The last replay of the draft over recent real evaluations (14.14); its id goes with the deploy of that draft.
  const [replay, setReplay] = useState<{ id: string; xml: string; result: ReplayResult } | null>(null);
  const [replayError, setReplayError] = useState<unknown>(null);
  const [replaying, setReplaying] = useState<number | null | false>(false);
  const [replayLimit, setReplayLimit] = useState(1000);
  const [replayStale, setReplayStale] = useState(false);

  // The decision's own inputs (a chained decision takes raw data, not its tables' intermediate columns).
  useEffect(() => {
    let alive = true;
    decisionsApi.get(decisionId).then(
      (d) => {
        if (!alive || !d.inputs?.length) return;
        setInputs(d.inputs.map((i) => ({ name: i.name, label: i.label ?? i.name, typeRef: i.type, allowed: i.allowed, required: i.required })));
      },
      () => undefined,
    );
    return () => {
      alive = false;
    };
  }, [decisionId, xml]);

  useEffect(() => {
    const m = new DmnModeler({ container: container.current!, ...dmnZhOptions });
    modeler.current = m;
    // each view (table, DRD, literal) has its own command stack: any edit in any of them is unsaved work
    const watched = new WeakSet<object>();
    m.on('views.changed', () => {
      const viewer = m.getActiveViewer();
      if (!viewer || watched.has(viewer)) return;
      watched.add(viewer);
      viewer.get('eventBus').on('commandStack.changed', () => {
        setDirty(true);
        setReplayStale(true);
      });
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
    setEvalResult(null);
    setCases(null);
    setResult(null);
    setInputs([]);
    m.importXML(xml).then(
      () => {
        if (cancelled) return;
        openTable(m);
        setInputs((known) => (known.length ? known : tableInputs(m)));
        setValues({});
        setDirty(false);
        setImporting(false);
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

  /** Outline rules (by id or 1-based index) in the open decision table. */
  const highlight = (ids: string[], indexes: number[], cls: string) => {
    const root = container.current;
    if (!root) return;
    root.querySelectorAll(`.${cls}`).forEach((n) => n.classList.remove(cls));
    for (const id of ids) {
      root.querySelectorAll(`[data-row-id="${CSS.escape(id)}"], [data-element-id="${CSS.escape(id)}"]`).forEach((n) => n.classList.add(cls));
    }
    const indexCells = root.querySelectorAll('td.rule-index');
    for (const i of indexes) {
      const cell = indexCells[i - 1] as HTMLElement | undefined;
      const rowId = cell?.dataset.elementId;
      if (rowId) root.querySelectorAll(`[data-row-id="${CSS.escape(rowId)}"], [data-element-id="${CSS.escape(rowId)}"]`).forEach((n) => n.classList.add(cls));
    }
  };

  const saveXml = async (): Promise<string> => (await modeler.current.saveXML({ format: true })).xml;

  const evaluate = async () => {
    setRunning('eval');
    setEvalError(null);
    setEvalResult(null);
    try {
      const inputs = buildInputs(values);
      let r: EvaluateResult;
      if (evalDeployed || !mayAnalyse) r = await decisionsApi.evaluate(decisionId, inputs);
      else {
        try {
          r = await decisionsApi.evaluateDraft(decisionId, await saveXml(), inputs);
        } catch (e) {
          // A server without draft evaluation: evaluate the deployed version and say so.
          if (!(e instanceof ApiError && e.isUnavailable)) throw e;
          r = { ...(await decisionsApi.evaluate(decisionId, inputs)), reason: '（服务器暂不支持草稿试算，以下为已部署版本的结果）' };
        }
      }
      setEvalResult(r);
      const fired = firedRules(r.trace);
      highlight(fired.ids, fired.indexes, 'ygt-fired');
    } catch (e) {
      setEvalError(e);
    } finally {
      setRunning('');
    }
  };

  const runCases = async (draft: boolean) => {
    setRunning('cases');
    setCasesError(null);
    setCases(null);
    setCasesProgress(null);
    try {
      setCases(await decisionsApi.runCases(decisionId, draft ? await saveXml() : undefined, setCasesProgress));
    } catch (e) {
      setCasesError(e);
    } finally {
      setRunning('');
    }
  };

  const runReplay = async () => {
    setReplayError(null);
    setReplaying(null);
    try {
      const xml = await saveXml();
      const r = await decisionsApi.replay(decisionId, xml, replayLimit, setReplaying);
      setReplay({ id: r.id, xml, result: r.result });
      setReplayStale(false);
    } catch (e) {
      setReplay(null);
      setReplayError(e);
    } finally {
      setReplaying(false);
    }
  };

  const deploy = async (override?: { decisions: string[]; reason: string }) => {
    setResult(null);
    setOverridable(false);
    setDeploying(0);
    const text = await saveXml();
    try {
      const file = new File([text], `${decisionId}.dmn`, { type: 'application/xml' });
      const res = await definitions.deploy([file], (f) => setDeploying(f >= 1 ? null : f), override, replayForDeploy(replay, text));
      highlight([], [], 'ygt-invalid-rule');
      setDirty(false);
      onDeployed(res);
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        const list = problemsFromError(e);
        const d = e.details as { rules?: number[] };
        highlight(list.map((p) => p.element_id ?? '').filter(Boolean), d.rules ?? [], 'ygt-invalid-rule');
        setResult({ kind: 'error', text: `部署被拒绝：${list.map((p) => p.message).join('；')}` });
        setOverridable(canOverrideFindings(text, e.details));
      } else {
        setResult({ kind: 'error', text: e instanceof ApiError ? `部署失败：${e.message}` : '部署失败' });
      }
    } finally {
      setDeploying(false);
    }
  };

  return (
    <>
      <div className="modeler-toolbar">
        <button type="button" className="btn btn-small" onClick={() => modeler.current && openTable(modeler.current)}>
          决策表
        </button>
        <span className="spacer" />
        <button type="button" className="btn btn-small" onClick={async () => downloadText(`${decisionId}.dmn`, await saveXml())} disabled={importing}>
          下载 XML
        </button>
        {mayAnalyse && (
          <>
            <label className="muted" style={{ fontSize: '0.85em' }}>
              最近
              <input
                type="number"
                min={1}
                max={5000}
                value={replayLimit}
                onChange={(e) => setReplayLimit(Math.max(1, Math.min(5000, Number(e.target.value) || 1000)))}
                style={{ width: '5em', margin: '0 0.25em' }}
                aria-label="回放评估次数"
              />
              次
            </label>
            <button type="button" className="btn btn-small" onClick={runReplay} disabled={importing || replaying !== false} data-testid="replay-draft">
              回放影响
            </button>
          </>
        )}
        <button type="button" className="btn btn-primary btn-small" onClick={() => deploy()} disabled={importing || deploying !== false}>
          部署为新版本
        </button>
      </div>
      {replaying !== false && <ProgressBar value={replaying} label="正在用草稿回放最近的真实评估…" />}
      {replayError ? <ErrorBox error={replayError} /> : null}
      {replay && (
        <div className={replay.result.changed ? 'alert alert-warn' : 'alert alert-ok'} data-testid="replay-result">
          <p>
            <strong>{replayHeadline(replay.result)}</strong>
            {replay.result.errors.to > 0 && `；草稿对 ${replay.result.errors.to} 次评估报错`}
          </p>
          {replayLines(replay.result).length > 0 && (
            <ul>
              {replayLines(replay.result).map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
          )}
          {replay.result.examples.length > 0 && (
            <details>
              <summary>示例（已去除姓名、身份证号等身份信息）</summary>
              <ul>
                {replay.result.examples.map((ex, i) => (
                  <li key={i}>
                    {exampleInputs(ex.inputs, Object.fromEntries(inputs.map((c) => [c.name, c.label])))}：
                    {exampleChanges(ex.changes)}
                  </li>
                ))}
              </ul>
            </details>
          )}
          <p className="muted">
            {replayStale ? '草稿在回放后又有修改，部署前请重新回放。' : '部署此草稿时，本次回放结果将随部署记入审计。'}
          </p>
        </div>
      )}
      {deploying !== false && <ProgressBar value={deploying} label={deploying === null ? '服务器正在校验（重叠与遗漏）并部署…' : '正在上传'} />}
      {result && <div className={result.kind === 'ok' ? 'alert alert-ok' : 'alert alert-error'}>{result.text}</div>}
      {overridable && (
        <div className="alert alert-warn" data-testid="findings-override">
          <p>此表为 ANY/FIRST 命中策略：确认上述重叠/遗漏符合临床规则时，可写明理由后豁免部署（理由与部署人记入审计）。</p>
          <textarea value={overrideReason} onChange={(e) => setOverrideReason(e.target.value)} rows={2} placeholder="豁免理由（至少 4 个字）" aria-label="豁免理由" />
          <button
            type="button"
            className="btn btn-small"
            disabled={overrideReason.trim().length < 4 || deploying !== false}
            onClick={() => deploy({ decisions: [decisionId], reason: overrideReason.trim() })}
          >
            豁免并部署
          </button>
        </div>
      )}
      <div className="canvas dmn-canvas" style={{ overflow: 'auto' }} data-testid="dmn-modeler">
        <div ref={container} style={{ position: 'absolute', inset: 0 }} />
        {importing && (
          <div style={{ position: 'absolute', inset: 0, background: '#fff' }}>
            <Loading text="正在打开决策表…" />
          </div>
        )}
        {importError ? (
          <div style={{ position: 'absolute', inset: 0, padding: '1rem', background: '#fff' }}>
            <ErrorBox error={new Error(`无法打开决策表：${(importError as Error).message ?? importError}`)} />
          </div>
        ) : null}
      </div>
      <div className="grid-2" style={{ marginTop: '0.8rem' }}>
        <section className="card">
          <h2>试算</h2>
          <p className="muted" style={{ fontSize: '0.85rem' }}>
            默认按编辑中的草稿计算（不部署）。数字直接填写，是/否填 true/false，未填写的输入视为“无/正常”。
          </p>
          <label className="check" style={{ marginBottom: '0.5rem' }}>
            <input type="checkbox" checked={evalDeployed} onChange={(e) => setEvalDeployed(e.target.checked)} /> 改用已部署版本计算
          </label>
          <form
            className="stack"
            onSubmit={(e) => {
              e.preventDefault();
              void evaluate();
            }}
          >
            {inputs.map((i) => (
              <label key={i.name} className="field">
                <span className="field-label">
                  {i.required && <span className="text-danger">* </span>}
                  {i.label} <span className="mono">{i.name !== i.label ? i.name : ''}</span>{' '}
                  {i.typeRef || i.allowed ? <span className="muted">（{[i.typeRef, i.allowed].filter(Boolean).join('，')}）</span> : null}
                </span>
                <input value={values[i.name] ?? ''} onChange={(e) => setValues((v) => ({ ...v, [i.name]: e.target.value }))} data-input={i.name} />
              </label>
            ))}
            <button type="submit" className="btn btn-primary btn-small" disabled={running !== ''}>
              {running === 'eval' ? '计算中…' : '试算'}
            </button>
          </form>
          {evalError ? <ErrorBox error={evalError} /> : null}
          {evalResult && (
            <div className="trace">
              <h3>结果</h3>
              <dl className="kv">
                {Object.entries(evalResult.outputs ?? {}).map(([k, v]) => (
                  <div className="kv-row" key={k}>
                    <dt className="mono">{k}</dt>
                    <dd>{JSON.stringify(v)}</dd>
                  </div>
                ))}
              </dl>
              {evalResult.reason && <div className="alert alert-info">依据：{evalResult.reason}</div>}
              {Array.isArray(evalResult.trace) && (
                <details>
                  <summary>判定过程（命中的规则已在表中标出）</summary>
                  <ol className="timeline">
                    {(evalResult.trace as Record<string, unknown>[]).map((t, i) => (
                      <li key={i}>
                        <div className="timeline-head">
                          <strong>{String(t.decision_name ?? t.decision_id ?? '')}</strong>
                          {t.table ? <span className="mono">{String(t.table)}</span> : null}
                          {Array.isArray(t.rules) && <span className="muted">命中规则 {(t.rules as { index?: number }[]).map((r) => r.index ?? '?').join('、')}</span>}
                        </div>
                        <div className="timeline-data">
                          {t.reason ? String(t.reason) : ''} {t.outputs ? `→ ${JSON.stringify(t.outputs)}` : ''}
                        </div>
                      </li>
                    ))}
                  </ol>
                </details>
              )}
            </div>
          )}
        </section>
        <section className="card">
          <h2>一致性用例</h2>
          <div className="btn-group">
            <button type="button" className="btn btn-small btn-primary" onClick={() => runCases(true)} disabled={running !== '' || !mayAnalyse}>
              {running === 'cases' ? '运行中…' : '用当前草稿运行'}
            </button>
            <button type="button" className="btn btn-small" onClick={() => runCases(false)} disabled={running !== '' || !mayAnalyse}>
              用已部署版本运行
            </button>
          </div>
          {!mayAnalyse && <p className="muted">仅流程负责人可运行用例、试算草稿；试算将使用已部署版本。</p>}
          {running === 'cases' && <ProgressBar value={casesProgress} label="正在运行用例" />}
          {casesError ? <ErrorBox error={casesError} /> : null}
          {cases && (
            <>
              <p>
                <span className="case-pass">通过 {cases.passed}</span> · <span className={cases.failed ? 'case-fail' : ''}>失败 {cases.failed}</span>
              </p>
              <div className="table-wrap">
                <table className="table">
                  <thead>
                    <tr>
                      <th>用例</th>
                      <th>结果</th>
                      <th>说明</th>
                    </tr>
                  </thead>
                  <tbody>
                    {(cases.results ?? []).map((r, i) => {
                      const ok = r.passed ?? r.ok;
                      return (
                        <tr key={i}>
                          <td className="mono">{r.name ?? r.id ?? i + 1}</td>
                          <td className={ok ? 'case-pass' : 'case-fail'}>{ok ? '通过' : '失败'}</td>
                          <td style={{ fontSize: '0.8rem' }}>{caseNote(r)}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </section>
      </div>
    </>
  );
}

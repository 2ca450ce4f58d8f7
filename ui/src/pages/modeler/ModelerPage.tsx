/** The process owner's workbench: processes and decisions on the left, the chosen one open in its editor. */
import { useState } from 'react';
import { LEAVE_MESSAGE, useLeaveGuard } from '../../lib/unsaved';
import { useSearchParams } from 'react-router-dom';
import { decisions as decisionsApi, definitions } from '../../api/endpoints';
import type { Decision, DeployResult, ProcessDefinition, ProcessVersion } from '../../api/types';
import { Empty, ErrorBox, Loading } from '../../components/common';
import { useAsync } from '../../lib/useAsync';
import { PROCESS_NAMES, label } from '../../lib/labels';
import { formatDateTime } from '../../lib/time';
import BpmnEditor from './BpmnEditor';
import DmnEditor from './DmnEditor';

export function blankProcess(id: string, name: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="${id}_definitions" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${id}" name="${name}" isExecutable="true">
    <bpmn:startEvent id="start" name="开始" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="${id}_diagram">
    <bpmndi:BPMNPlane id="${id}_plane" bpmnElement="${id}">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="180" y="160" width="36" height="36" />
      </bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
`;
}

function versionNumbers(d: ProcessDefinition): number[] {
  const vs = (d.versions ?? []).map((v) => (typeof v === 'number' ? v : (v as ProcessVersion).version));
  if (!vs.includes(d.latest_version)) vs.push(d.latest_version);
  return [...new Set(vs)].sort((a, b) => b - a);
}

function versionInfo(d: ProcessDefinition, v: number): ProcessVersion | undefined {
  return (d.versions ?? []).find((x): x is ProcessVersion => typeof x === 'object' && x.version === v);
}

const decisionIdOf = (d: Decision) => d.id ?? d.decision_id ?? '';

export default function ModelerPage() {
  const [params, setParams] = useSearchParams();
  const tab = params.get('decision') || params.get('tab') === 'decisions' ? 'decisions' : 'processes';
  const processId = params.get('process') ?? '';
  const decisionId = params.get('decision') ?? '';
  const defs = useAsync(() => definitions.list(), []);
  const decs = useAsync(() => decisionsApi.list().catch(() => [] as Decision[]), []);
  const [draft, setDraft] = useState<{ id: string; xml: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [dirty, setDirty] = useState(false);
  useLeaveGuard(dirty);

  const def = defs.data?.find((d) => d.process_id === processId);
  const version = def ? Number(params.get('version') ?? def.latest_version) : null;
  const processXml = useAsync(
    () => (draft && draft.id === processId ? Promise.resolve(draft.xml) : def && version ? definitions.xml(def.process_id, version) : Promise.resolve('')),
    [processId, version, def?.process_id, draft?.id],
  );
  const decisionXml = useAsync(() => (decisionId ? decisionsApi.xml(decisionId) : Promise.resolve('')), [decisionId]);

  const select = (patch: Record<string, string>) => {
    if (dirty && !window.confirm(LEAVE_MESSAGE)) return;
    setDirty(false);
    setNotice(null);
    setParams(patch, { replace: false });
  };

  const onDeployed = (res: DeployResult) => {
    setDirty(false);
    defs.reload();
    decs.reload();
    const mine = res?.deployed?.find((d) => (d.process_id ?? d.id) === processId);
    const dec = (res?.decisions ?? []).find((d) => d.decision_id === decisionId) ?? (decisionId ? res?.decisions?.[0] : undefined);
    const what = mine ?? dec ?? res?.deployed?.[0];
    setNotice(
      !what
        ? '已部署。'
        : what.changed === false
          ? `内容未变化，仍为 v${what.version}。`
          : `已部署为新版本 v${what.version}。新发起的流程使用此版本，运行中的流程保持原版本。`,
    );
    if (mine) {
      setDraft(null);
      setParams({ process: processId, version: String(mine.version) });
    }
  };

  const newProcess = () => {
    const id = window.prompt('新流程编号（小写英文和下划线，如 hypertension_education）：')?.trim();
    if (!id) return;
    if (!/^[a-z][a-z0-9_]*$/.test(id)) {
      window.alert('编号只能使用小写英文字母、数字和下划线，并以字母开头。');
      return;
    }
    const name = window.prompt('流程名称：', id)?.trim() || id;
    setDraft({ id, xml: blankProcess(id, name) });
    select({ process: id });
  };

  return (
    <div className="page page-wide">
      <div className="page-head">
        <h1>流程建模</h1>
        <span className="muted">修改后“部署为新版本”：新发起的流程使用新版本，运行中的流程保持原版本。</span>
      </div>
      <div className="modeler">
        <aside className="card modeler-list" aria-label="模型列表">
          <div className="tabs" role="tablist">
            <button type="button" className={tab === 'processes' ? 'tab active' : 'tab'} onClick={() => select({})}>
              流程
            </button>
            <button type="button" className={tab === 'decisions' ? 'tab active' : 'tab'} onClick={() => select({ tab: 'decisions' })}>
              决策表
            </button>
          </div>
          {tab === 'processes' ? (
            defs.loading && !defs.data ? (
              <Loading />
            ) : defs.error ? (
              <ErrorBox error={defs.error} onRetry={defs.reload} />
            ) : (
              <>
                <ul data-testid="process-list">
                  {(defs.data ?? []).map((d) => (
                    <li key={d.process_id}>
                      <button type="button" className={d.process_id === processId ? 'active' : ''} onClick={() => select({ process: d.process_id })} data-process-id={d.process_id}>
                        {d.name || label(PROCESS_NAMES, d.process_id)}
                        <span className="sub mono">
                          {d.process_id} · v{d.latest_version}
                        </span>
                      </button>
                      {d.process_id === processId && (
                        <div className="btn-group" style={{ padding: '0.2rem 0.5rem 0.5rem' }} data-testid="version-list">
                          {versionNumbers(d).map((v) => (
                            <button
                              key={v}
                              type="button"
                              className={v === version ? 'btn btn-small btn-primary' : 'btn btn-small'}
                              style={{ width: 'auto', minHeight: '1.6rem', padding: '0 0.5rem' }}
                              title={versionInfo(d, v)?.deployed_at ? `部署于 ${formatDateTime(versionInfo(d, v)?.deployed_at)}` : undefined}
                              onClick={() => select({ process: d.process_id, version: String(v) })}
                              data-version={v}
                            >
                              v{v}
                            </button>
                          ))}
                        </div>
                      )}
                    </li>
                  ))}
                  {draft && !defs.data?.some((d) => d.process_id === draft.id) && (
                    <li>
                      <button type="button" className={draft.id === processId ? 'active' : ''} onClick={() => select({ process: draft.id })}>
                        {draft.id} <span className="sub">未部署的新流程</span>
                      </button>
                    </li>
                  )}
                </ul>
                {!defs.data?.length && !draft && <Empty title="还没有部署任何流程" />}
                <button type="button" className="btn btn-small btn-block" style={{ marginTop: '0.5rem' }} onClick={newProcess}>
                  ＋ 新建流程
                </button>
              </>
            )
          ) : decs.loading && !decs.data ? (
            <Loading />
          ) : !decs.data?.length ? (
            <Empty title="暂无决策表" />
          ) : (
            <ul data-testid="decision-list">
              {decs.data.map((d) => (
                <li key={decisionIdOf(d)}>
                  <button type="button" className={decisionIdOf(d) === decisionId ? 'active' : ''} onClick={() => select({ decision: decisionIdOf(d) })}>
                    {d.name || decisionIdOf(d)}
                    <span className="sub mono">
                      {decisionIdOf(d)}
                      {d.version !== undefined ? ` · v${d.version}` : ''}
                    </span>
                    {d.source && <span className="sub">{d.source}</span>}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </aside>
        <div className="modeler-main">
          {notice && (
            <div className="alert alert-ok" role="status" data-testid="deploy-result">
              {notice}
              <button type="button" className="btn btn-small btn-ghost" onClick={() => setNotice(null)} aria-label="关闭">
                ✕
              </button>
            </div>
          )}
          {tab === 'processes' ? (
            !processId ? (
              <Empty title="请选择左侧的流程">或新建一个流程。</Empty>
            ) : processXml.loading ? (
              <Loading text="正在读取流程定义…" />
            ) : processXml.error ? (
              <ErrorBox error={processXml.error} onRetry={processXml.reload} />
            ) : (
              <BpmnEditor processId={processId} version={def ? version : null} xml={processXml.data ?? ''} decisions={decs.data ?? []} onDeployed={onDeployed} onDirtyChange={setDirty} />
            )
          ) : !decisionId ? (
            <Empty title="请选择左侧的决策表" />
          ) : decisionXml.loading ? (
            <Loading text="正在读取决策表…" />
          ) : decisionXml.error ? (
            <ErrorBox error={decisionXml.error} onRetry={decisionXml.reload} />
          ) : (
            <DmnEditor decisionId={decisionId} xml={decisionXml.data ?? ''} onDeployed={onDeployed} onDirtyChange={setDirty} />
          )}
        </div>
      </div>
    </div>
  );
}

/**
 * The properties the engine reads, for the selected BPMN element: ids and names, lanes (roles), forms,
 * scripts, decisions, service operators, timers, messages and flow conditions.
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { Decision } from '../../api/types';
import {
  getCondition, getExtensionText, getMessageName, getOperator, getProperties, getTimer, laneOf, setCondition,
  setExtensionText, setMessageName, setOperator, setProperty, setTimer, type BO, type Services, type TimerKind,
} from '../../bpmn/extensions';
import { isModelerDefaultId } from '../../lib/bpmnLint';
import { ROLE_NAMES, roleName } from '../../lib/roles';

const TYPE_NAMES: Record<string, string> = {
  'bpmn:Process': '流程',
  'bpmn:Collaboration': '协作',
  'bpmn:Participant': '池',
  'bpmn:Lane': '泳道（角色）',
  'bpmn:UserTask': '用户任务',
  'bpmn:ManualTask': '手工任务',
  'bpmn:Task': '任务',
  'bpmn:ScriptTask': '脚本任务',
  'bpmn:ServiceTask': '服务任务',
  'bpmn:BusinessRuleTask': '业务规则任务',
  'bpmn:SendTask': '发送任务',
  'bpmn:ReceiveTask': '接收任务',
  'bpmn:CallActivity': '调用活动',
  'bpmn:SubProcess': '子流程',
  'bpmn:StartEvent': '开始事件',
  'bpmn:EndEvent': '结束事件',
  'bpmn:IntermediateCatchEvent': '中间捕获事件',
  'bpmn:IntermediateThrowEvent': '中间抛出事件',
  'bpmn:BoundaryEvent': '边界事件',
  'bpmn:ExclusiveGateway': '排他网关',
  'bpmn:ParallelGateway': '并行网关',
  'bpmn:InclusiveGateway': '包容网关',
  'bpmn:EventBasedGateway': '事件网关',
  'bpmn:SequenceFlow': '顺序流',
  'bpmn:TextAnnotation': '注释',
};

const TASKS_WITH_SCRIPTS = ['bpmn:UserTask', 'bpmn:ManualTask', 'bpmn:Task', 'bpmn:ScriptTask', 'bpmn:ServiceTask', 'bpmn:BusinessRuleTask'];

/** A text input that commits on blur or Enter (ids), or on every change (names). */
function TextField({
  label, value, onCommit, live, placeholder, list, hint, testId, multiline, code,
}: {
  label: string; value: string; onCommit: (v: string) => void; live?: boolean; placeholder?: string; list?: string;
  hint?: ReactNode; testId?: string; multiline?: boolean; code?: boolean;
}) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  const commit = () => {
    if (draft !== value) onCommit(draft);
  };
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      {multiline ? (
        <textarea
          rows={4}
          className={code ? 'code' : undefined}
          value={draft}
          placeholder={placeholder}
          data-testid={testId}
          onChange={(e) => {
            setDraft(e.target.value);
            if (live) onCommit(e.target.value);
          }}
          onBlur={commit}
        />
      ) : (
        <input
          value={draft}
          placeholder={placeholder}
          list={list}
          data-testid={testId}
          className={code ? 'mono' : undefined}
          onChange={(e) => {
            setDraft(e.target.value);
            if (live) onCommit(e.target.value);
          }}
          onBlur={commit}
          onKeyDown={(e) => {
            if (e.key === 'Enter') commit();
          }}
        />
      )}
      {hint && <span className="muted" style={{ fontSize: '0.8rem' }}>{hint}</span>}
    </label>
  );
}

interface Props {
  services: Services;
  element: BO;
  decisions: Decision[];
  onEditForm: (schemaFile: string, uiFile: string, taskId: string) => void;
}

export default function PropertiesPanel({ services, element, decisions, onEditForm }: Props) {
  const [idError, setIdError] = useState<string | null>(null);
  if (!element?.businessObject) return <p className="muted">在图中选择一个元素以编辑其属性。</p>;
  const bo = element.businessObject;
  const type: string = bo.$type;
  const update = (props: Record<string, unknown>) => services.modeling.updateProperties(element, props);

  const changeId = (id: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(id)) {
      setIdError('编号只能包含英文字母、数字和下划线，且不能以数字开头');
      return;
    }
    if (id !== bo.id && services.elementRegistry.get(id)) {
      setIdError(`编号“${id}”已被使用`);
      return;
    }
    setIdError(null);
    update({ id });
  };

  const props = getProperties(bo);
  const lane = type !== 'bpmn:Lane' ? laneOf(services, bo) : null;
  const timer = getTimer(bo);
  const hasMessage = (bo.eventDefinitions ?? []).some((d: BO) => d.$type === 'bpmn:MessageEventDefinition') || type === 'bpmn:ReceiveTask' || type === 'bpmn:SendTask';
  const op = getOperator(bo);
  const fromGateway = type === 'bpmn:SequenceFlow' && /Gateway$/.test(bo.sourceRef?.$type ?? '');

  return (
    <div data-testid="properties-panel">
      <h2>
        {TYPE_NAMES[type] ?? type.replace('bpmn:', '')}
        <span className="muted mono" style={{ fontSize: '0.8rem', marginLeft: '0.4rem' }}>{bo.id}</span>
      </h2>
      <TextField label="编号（id）" value={bo.id} onCommit={changeId} code testId="prop-id" />
      {idError && <div className="alert alert-error">{idError}</div>}
      {isModelerDefaultId(bo.id) && <div className="alert alert-warn">这是建模器生成的默认编号，请改为有业务含义的编号（如 verify_case）。</div>}
      {type !== 'bpmn:Collaboration' && (
        <TextField
          label={type === 'bpmn:Lane' ? '泳道名称（角色编码）' : '名称'}
          value={bo.name ?? ''}
          onCommit={(v) => update({ name: v || undefined })}
          live
          list={type === 'bpmn:Lane' ? 'role-codes' : undefined}
          testId="prop-name"
          hint={type === 'bpmn:Lane' && bo.name ? `角色：${roleName(bo.name)}` : undefined}
        />
      )}
      <datalist id="role-codes">
        {Object.entries(ROLE_NAMES).map(([code, name]) => (
          <option key={code} value={code}>
            {name}
          </option>
        ))}
      </datalist>

      {lane && (
        <div className="field">
          <span className="field-label">办理角色（来自泳道）</span>
          <span>
            {roleName(lane.name)} <span className="muted mono">{lane.name}</span>
          </span>
        </div>
      )}

      {type === 'bpmn:UserTask' && (
        <>
          <h3>表单</h3>
          <TextField label="表单结构文件（JSON Schema）" value={props.formJsonSchemaFilename ?? ''} onCommit={(v) => setProperty(services, element, 'formJsonSchemaFilename', v)} code placeholder={`${bo.id}.json`} />
          <TextField label="界面文件（uiSchema，可选）" value={props.formUiSchemaFilename ?? ''} onCommit={(v) => setProperty(services, element, 'formUiSchemaFilename', v)} code />
          <button
            type="button"
            className="btn btn-small"
            onClick={() => {
              const schemaFile = props.formJsonSchemaFilename || `${bo.id}.json`;
              if (!props.formJsonSchemaFilename) setProperty(services, element, 'formJsonSchemaFilename', schemaFile);
              onEditForm(schemaFile, props.formUiSchemaFilename ?? '', bo.id);
            }}
          >
            编辑表单并预览
          </button>
          <TextField label="办理说明（显示在表单上方）" value={getExtensionText(bo, 'instructionsForEndUser')} onCommit={(v) => setExtensionText(services, element, 'instructionsForEndUser', v)} multiline />
          <h3>期限与分派</h3>
          {/* the spiffworkflow properties the engine honours on a user task (app/engine/runtime.py); each is a Python
              expression over the task data, so literals need quotes */}
          <TextField label="办理期限（dueIn）" value={props.dueIn ?? ''} onCommit={(v) => setProperty(services, element, 'dueIn', v)} code placeholder={'"P7D"'} hint={'ISO 时长（如 "P7D"）或天数；也可写表达式'} testId="prop-dueIn" />
          <TextField label="优先级（priority，1 最急 – 5）" value={props.priority ?? ''} onCommit={(v) => setProperty(services, element, 'priority', v)} code placeholder="3" testId="prop-priority" />
          <TextField label="分派机构（assignOrg）" value={props.assignOrg ?? ''} onCommit={(v) => setProperty(services, element, 'assignOrg', v)} code placeholder="township_code" hint={'机构编码的表达式，如 township_code 或 "C01T01"'} testId="prop-assignOrg" />
          <TextField label="候选角色（candidateRole，覆盖泳道）" value={props.candidateRole ?? ''} onCommit={(v) => setProperty(services, element, 'candidateRole', v)} code placeholder={'"township_doctor"'} testId="prop-candidateRole" />
        </>
      )}

      {type === 'bpmn:ScriptTask' && (
        <>
          <h3>脚本</h3>
          <TextField label="脚本（Python）" value={bo.script ?? ''} onCommit={(v) => update({ script: v, scriptFormat: bo.scriptFormat ?? 'python' })} multiline code />
        </>
      )}

      {type === 'bpmn:BusinessRuleTask' && (
        <>
          <h3>决策</h3>
          <TextField label="决策表编号" value={getExtensionText(bo, 'calledDecisionId')} onCommit={(v) => setExtensionText(services, element, 'calledDecisionId', v)} list="decision-ids" code />
          <datalist id="decision-ids">
            {decisions.map((d) => (
              <option key={d.id ?? d.decision_id} value={d.id ?? d.decision_id}>
                {d.name}
              </option>
            ))}
          </datalist>
        </>
      )}

      {type === 'bpmn:ServiceTask' && (
        <>
          <h3>服务</h3>
          <TextField label="服务名（operator）" value={op.id} onCommit={(v) => setOperator(services, element, { id: v })} code />
          <TextField label="结果变量" value={op.resultVariable} onCommit={(v) => setOperator(services, element, { resultVariable: v })} code />
        </>
      )}

      {timer && (
        <>
          <h3>定时器</h3>
          <label className="field">
            <span className="field-label">类型</span>
            <select value={timer.kind} onChange={(e) => setTimer(services, element, e.target.value as TimerKind, timer.expression)}>
              <option value="timeDuration">持续时间（如 "P7D"）</option>
              <option value="timeDate">到期时间点</option>
              <option value="timeCycle">周期（如 "R3/P1D"）</option>
            </select>
          </label>
          <TextField label="表达式（Python，字面量需加引号）" value={timer.expression} onCommit={(v) => setTimer(services, element, timer.kind, v)} code placeholder='"P7D"' />
        </>
      )}

      {hasMessage && (
        <>
          <h3>消息</h3>
          <TextField label="消息名称" value={getMessageName(bo)} onCommit={(v) => setMessageName(services, element, v)} code hint="与 webhook 消息目录中的名称一致，如 lab_result" />
          <TextField label="消息内容存入变量" value={getExtensionText(bo, 'messageVariable')} onCommit={(v) => setExtensionText(services, element, 'messageVariable', v)} code />
        </>
      )}

      {fromGateway && (
        <>
          <h3>条件</h3>
          <TextField label="条件表达式（Python）" value={getCondition(bo)} onCommit={(v) => setCondition(services, element, v)} code placeholder="risk_level == 'HIGH'" />
        </>
      )}

      {TASKS_WITH_SCRIPTS.includes(type) && (
        <>
          <h3>前置/后置脚本</h3>
          <TextField label="前置脚本（任务就绪时执行）" value={getExtensionText(bo, 'preScript')} onCommit={(v) => setExtensionText(services, element, 'preScript', v)} multiline code />
          <TextField label="后置脚本（任务完成时执行）" value={getExtensionText(bo, 'postScript')} onCommit={(v) => setExtensionText(services, element, 'postScript', v)} multiline code />
        </>
      )}
    </div>
  );
}

/**
 * Checks a process owner gets before deploying, on the facts the engine relies on (STYLE.md: domain ids,
 * one form per user task, a decision per business-rule task, an operator per service task, a role per lane).
 * The server's validation stays the authority; this only catches the common slips early.
 */
import { ROLE_CODES, ROLE_NAMES } from './roles';

export interface LintElement {
  id: string;
  type: string; // 'bpmn:UserTask', …
  name?: string;
  formSchema?: string;
  /** the task has a form without naming a file: found by convention (`forms/<process>/<task>.json`) in the
   * deployed version, or being edited here */
  hasForm?: boolean;
  decisionId?: string;
  operator?: string;
  laneName?: string | null;
  timerExpression?: string;
  script?: string;
}

export interface LintFinding {
  element_id: string;
  level: 'error' | 'warning';
  message: string;
}

const DEFAULT_ID = /^(Activity|Event|Gateway|Flow|StartEvent|EndEvent|Task|Lane|LaneSet|Participant|Process|DataObject(Reference)?|DataStoreReference|Association|TextAnnotation|Collaboration|Group|Message|Timer(EventDefinition)?|MessageEventDefinition|[A-Za-z]+EventDefinition)_[0-9a-z]{5,}$/;
const SNAKE = /^[a-z][a-z0-9_]*$/;

export function isModelerDefaultId(id: string): boolean {
  return DEFAULT_ID.test(id);
}

export function lintElements(elements: readonly LintElement[]): LintFinding[] {
  const out: LintFinding[] = [];
  const add = (e: LintElement, level: LintFinding['level'], message: string) => out.push({ element_id: e.id, level, message });
  for (const e of elements) {
    const isFlowish = e.type === 'bpmn:SequenceFlow' || e.type === 'bpmn:Association' || e.type.startsWith('bpmndi:');
    if (isModelerDefaultId(e.id) && !isFlowish) add(e, 'error', `编号“${e.id}”是建模器默认值，请改为有业务含义的英文编号（如 verify_case）`);
    else if (!isFlowish && !SNAKE.test(e.id) && e.type !== 'bpmn:Lane' && e.type !== 'bpmn:Participant') {
      add(e, 'warning', `编号“${e.id}”建议使用小写英文和下划线`);
    }
    switch (e.type) {
      case 'bpmn:UserTask':
        // the engine also finds a form by convention (forms/<process>/<task>.json): only a task with none is flagged
        if (!e.formSchema && !e.hasForm) add(e, 'error', `用户任务“${e.name ?? e.id}”没有配置表单（formJsonSchemaFilename）`);
        if (e.laneName === undefined || e.laneName === null) add(e, 'warning', `用户任务“${e.name ?? e.id}”不在任何泳道中，将分派给流程发起人`);
        if (!e.name) add(e, 'warning', '用户任务没有名称，待办中将无法辨认');
        break;
      case 'bpmn:BusinessRuleTask':
        if (!e.decisionId) add(e, 'error', `业务规则任务“${e.name ?? e.id}”没有指定决策表`);
        break;
      case 'bpmn:ServiceTask':
        if (!e.operator) add(e, 'error', `服务任务“${e.name ?? e.id}”没有指定服务（operator）`);
        break;
      case 'bpmn:ScriptTask':
        if (!e.script?.trim()) add(e, 'error', `脚本任务“${e.name ?? e.id}”没有脚本`);
        break;
      case 'bpmn:Lane':
        if (e.name && !ROLE_CODES.includes(e.name) && !Object.values(ROLE_NAMES).includes(e.name)) add(e, 'warning', `泳道名称“${e.name}”不是平台角色编码（${ROLE_CODES.join('、')}）`);
        if (!e.name) add(e, 'error', '泳道没有名称，无法确定由哪个角色办理');
        break;
      default:
        break;
    }
    if (e.timerExpression !== undefined && !e.timerExpression.trim()) add(e, 'error', `定时事件“${e.name ?? e.id}”没有时间表达式`);
  }
  return out;
}

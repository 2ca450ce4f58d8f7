/**
 * Read and write the SpiffWorkflow extension elements (`spiffworkflow:*`) the engine uses, through bpmn-js's
 * modeling service so every change is undoable and lands in the saved XML.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
export type BO = any;

export interface Services {
  modeling: any;
  moddle: any;
  elementRegistry: any;
}

const NS = 'spiffworkflow:';

export function extensionValues(bo: BO): BO[] {
  return bo?.extensionElements?.values ?? [];
}

export function findExtension(bo: BO, type: string): BO | undefined {
  return extensionValues(bo).find((v: BO) => v.$type === NS + type);
}

/** Body text of a simple extension element (preScript, calledDecisionId, …). */
export function getExtensionText(bo: BO, type: string): string {
  return findExtension(bo, type)?.value ?? '';
}

function withExtensions(s: Services, element: BO, mutate: (values: BO[]) => BO[]): void {
  const bo = element.businessObject;
  const ext = bo.extensionElements ?? s.moddle.create('bpmn:ExtensionElements', { values: [] });
  const values = mutate([...(ext.values ?? [])]);
  const next = s.moddle.create('bpmn:ExtensionElements', { values });
  for (const v of values) v.$parent = next;
  s.modeling.updateProperties(element, { extensionElements: values.length ? next : undefined });
}

/** Set (or, with an empty text, remove) a simple extension element. */
export function setExtensionText(s: Services, element: BO, type: string, text: string): void {
  withExtensions(s, element, (values) => {
    const rest = values.filter((v) => v.$type !== NS + type);
    if (!text) return rest;
    return [...rest, s.moddle.create(NS + type, { value: text })];
  });
}

/** `<spiffworkflow:properties><spiffworkflow:property name value/>` as a plain object. */
export function getProperties(bo: BO): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of findExtension(bo, 'properties')?.properties ?? []) out[p.name] = p.value ?? '';
  return out;
}

export function setProperty(s: Services, element: BO, name: string, value: string): void {
  withExtensions(s, element, (values) => {
    const old = values.find((v) => v.$type === NS + 'properties');
    const props: BO[] = (old?.properties ?? []).filter((p: BO) => p.name !== name);
    if (value) props.push(s.moddle.create(NS + 'property', { name, value }));
    const rest = values.filter((v) => v !== old);
    if (!props.length) return rest;
    const container = s.moddle.create(NS + 'properties', { properties: props });
    for (const p of props) p.$parent = container;
    return [...rest, container];
  });
}

export function getOperator(bo: BO): { id: string; resultVariable: string } {
  const op = findExtension(bo, 'serviceTaskOperator');
  return { id: op?.id ?? '', resultVariable: op?.resultVariable ?? '' };
}

export function setOperator(s: Services, element: BO, patch: { id?: string; resultVariable?: string }): void {
  withExtensions(s, element, (values) => {
    const old = values.find((v) => v.$type === NS + 'serviceTaskOperator');
    const attrs = { id: old?.id ?? '', resultVariable: old?.resultVariable ?? '', ...patch };
    const op = s.moddle.create(NS + 'serviceTaskOperator', {
      id: attrs.id || undefined,
      resultVariable: attrs.resultVariable || undefined,
      parameterList: old?.parameterList,
      retry: old?.retry,
    });
    const rest = values.filter((v) => v !== old);
    return attrs.id || attrs.resultVariable || old?.parameterList ? [...rest, op] : rest;
  });
}

export type TimerKind = 'timeDuration' | 'timeDate' | 'timeCycle';

export function timerDefinition(bo: BO): BO | undefined {
  return (bo?.eventDefinitions ?? []).find((d: BO) => d.$type === 'bpmn:TimerEventDefinition');
}

export function messageDefinition(bo: BO): BO | undefined {
  if (bo?.$type === 'bpmn:ReceiveTask' || bo?.$type === 'bpmn:SendTask') return bo;
  return (bo?.eventDefinitions ?? []).find((d: BO) => d.$type === 'bpmn:MessageEventDefinition');
}

export function getTimer(bo: BO): { kind: TimerKind; expression: string } | null {
  const def = timerDefinition(bo);
  if (!def) return null;
  for (const kind of ['timeDuration', 'timeDate', 'timeCycle'] as TimerKind[]) {
    if (def[kind]) return { kind, expression: def[kind].body ?? '' };
  }
  return { kind: 'timeDuration', expression: '' };
}

export function setTimer(s: Services, element: BO, kind: TimerKind, expression: string): void {
  const def = timerDefinition(element.businessObject);
  if (!def) return;
  const body = s.moddle.create('bpmn:FormalExpression', { body: expression });
  s.modeling.updateModdleProperties(element, def, {
    timeDuration: kind === 'timeDuration' ? body : undefined,
    timeDate: kind === 'timeDate' ? body : undefined,
    timeCycle: kind === 'timeCycle' ? body : undefined,
  });
}

function definitionsOf(bo: BO): BO {
  let p = bo;
  while (p && p.$type !== 'bpmn:Definitions') p = p.$parent;
  return p;
}

export function getMessageName(bo: BO): string {
  return messageDefinition(bo)?.messageRef?.name ?? '';
}

/** Point the element's message at the bpmn:Message with this name, creating it when new. */
export function setMessageName(s: Services, element: BO, name: string): void {
  const def = messageDefinition(element.businessObject);
  if (!def) return;
  const defs = definitionsOf(element.businessObject);
  let msg = (defs?.rootElements ?? []).find((r: BO) => r.$type === 'bpmn:Message' && r.name === name);
  if (!msg && name) {
    msg = s.moddle.create('bpmn:Message', { id: name.replace(/[^A-Za-z0-9_]/g, '_'), name });
    msg.$parent = defs;
    defs.rootElements = [...(defs.rootElements ?? []), msg];
  }
  s.modeling.updateModdleProperties(element, def, { messageRef: msg ?? undefined });
}

/** The lane a flow node sits in (its name names the role), or null. */
export function laneOf(s: Services, bo: BO): BO | null {
  const lanes = s.elementRegistry.filter((e: BO) => e.type === 'bpmn:Lane');
  for (const lane of lanes) {
    if ((lane.businessObject.flowNodeRef ?? []).includes(bo)) return lane.businessObject;
  }
  return null;
}

export function getCondition(bo: BO): string {
  return bo?.conditionExpression?.body ?? '';
}

export function setCondition(s: Services, element: BO, expression: string): void {
  s.modeling.updateProperties(element, {
    conditionExpression: expression ? s.moddle.create('bpmn:FormalExpression', { body: expression }) : undefined,
  });
}

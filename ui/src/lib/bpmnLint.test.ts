import { describe, expect, it } from 'vitest';
import { isModelerDefaultId, lintElements } from './bpmnLint';

describe('lintElements', () => {
  it('flags modeler default ids and accepts domain ids', () => {
    expect(isModelerDefaultId('Activity_0x7k2pq')).toBe(true);
    expect(isModelerDefaultId('Gateway_1abcde9')).toBe(true);
    expect(isModelerDefaultId('verify_case')).toBe(false);
  });

  it('requires a form on every user task and a decision on every business-rule task', () => {
    const findings = lintElements([
      { id: 'verify_case', type: 'bpmn:UserTask', name: '核实', laneName: 'township_doctor' },
      { id: 'grade', type: 'bpmn:BusinessRuleTask', name: '分级' },
      { id: 'ok_task', type: 'bpmn:UserTask', name: '随访', formSchema: 'follow_up.json', laneName: 'village_doctor' },
    ]);
    expect(findings.map((f) => [f.element_id, f.level])).toEqual([
      ['verify_case', 'error'],
      ['grade', 'error'],
    ]);
  });

  it('warns on a lane that names no platform role', () => {
    const [f] = lintElements([{ id: 'lane_doctors', type: 'bpmn:Lane', name: '医生' }]);
    expect(f.level).toBe('warning');
    expect(f.message).toContain('不是平台角色编码');
  });
});

describe('user task forms (14.13: no false 没有配置表单)', () => {
  it('accepts a form found by convention or being edited; a task with no form at all is still flagged', () => {
    const conv = lintElements([{ id: 'verify_case', type: 'bpmn:UserTask', name: '核实', hasForm: true, laneName: 'village_doctor' }]);
    expect(conv).toEqual([]);
    const none = lintElements([{ id: 'confirm', type: 'bpmn:UserTask', name: '确认', laneName: 'village_doctor' }]);
    expect(none.map((f) => f.level)).toEqual(['error']);
  });
});

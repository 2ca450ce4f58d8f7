import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { canOverrideFindings, problemsFromError } from './definitionErrors';

describe('problemsFromError', () => {
  it('names the file, element and reason of a refused deploy', () => {
    const e = new ApiError(422, 'invalid_definition', '模型校验未通过', { file: 'screening.bpmn', element_id: 'verify_case', reason: "form file 'verify_case.json' not provided" });
    expect(problemsFromError(e)).toEqual([
      { element_id: 'verify_case', file: 'screening.bpmn', message: "form file 'verify_case.json' not provided", level: 'error' },
    ]);
  });

  it('lists every finding of a DMN analysis', () => {
    const e = new ApiError(422, 'invalid_definition', '规则重叠', { errors: [{ element_id: 'r1', message: '规则 1 与 2 重叠' }, { element_id: 'r2', message: '遗漏 sbp<40' }] });
    expect(problemsFromError(e).map((p) => p.element_id)).toEqual(['r1', 'r2']);
  });

  it('falls back to the message when the details say nothing', () => {
    expect(problemsFromError(new ApiError(422, 'invalid_definition', '模型校验未通过'))[0].message).toBe('模型校验未通过');
  });

  it('puts each failing conformance case on the cell that produced the wrong value (14.3)', () => {
    const e = new ApiError(422, 'invalid_definition', 'T01: 2 / 26 个一致性用例未通过', {
      file: 'bp_grade.dmn', element_id: 'bp_grade_r1_o1', reason: 'T01: 2 / 26 个一致性用例未通过', problem: 'cases_failed',
      failures: [{ name: 'SBP 140 为 1 级', element_id: 'bp_grade_r1_o1', diff: { bp_grade: { expected: 'G1', got: 'G3' } } }],
    });
    const problems = problemsFromError(e);
    expect(problems.map((p) => p.element_id)).toEqual(['bp_grade_r1_o1', 'bp_grade_r1_o1']);
    expect(problems[1].message).toBe('用例「SBP 140 为 1 级」未通过：bp_grade 应为 G1，实为 G3');
  });

  it('offers an override only for the findings of ANY/FIRST tables (14.3)', () => {
    const overlap = { reason: 'T99: 规则 1 与 2 重叠 (overlap)' };
    expect(canOverrideFindings('<decisionTable hitPolicy="ANY">', overlap)).toBe(true);
    expect(canOverrideFindings('<decisionTable hitPolicy="FIRST">', overlap)).toBe(true);
    expect(canOverrideFindings('<decisionTable hitPolicy="UNIQUE">', overlap)).toBe(false);
    expect(canOverrideFindings('<decisionTable>', overlap)).toBe(false);
    expect(canOverrideFindings('<decisionTable hitPolicy="ANY">', { ...overlap, problem: 'cases_failed' })).toBe(false);
  });
});

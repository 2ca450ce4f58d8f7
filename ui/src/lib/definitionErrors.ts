/** A refused deploy (422 `invalid_definition`) as problems to put on the diagram or the table. */
import type { ApiError } from '../api/client';

export interface Problem {
  element_id?: string;
  file?: string;
  message: string;
  level: 'error' | 'warning';
}

/** 422 invalid_definition details → problems to show on the canvas. */
export function problemsFromError(e: ApiError): Problem[] {
  const d = e.details as { file?: string; element_id?: string; reason?: string; errors?: unknown; findings?: unknown };
  const list: Problem[] = [];
  const many = (Array.isArray(d.errors) ? d.errors : Array.isArray(d.findings) ? d.findings : []) as Record<string, unknown>[];
  for (const x of many) {
    list.push({ element_id: x.element_id as string | undefined, file: x.file as string | undefined, message: String(x.reason ?? x.message ?? ''), level: 'error' });
  }
  // a table whose conformance cases fail (14.3): each failing case on the cell that produced the wrong value
  const failures = (Array.isArray((d as { failures?: unknown }).failures) ? (d as { failures: unknown[] }).failures : []) as CaseFailure[];
  for (const f of failures) list.push({ element_id: f.element_id ?? undefined, file: d.file, message: caseMessage(f), level: 'error' });
  if (d.element_id || d.reason || !list.length) {
    list.unshift({ element_id: d.element_id, file: d.file, message: d.reason ?? e.message, level: 'error' });
  }
  return list;
}


interface CaseFailure {
  name?: string;
  element_id?: string | null;
  diff?: Record<string, { expected: unknown; got: unknown }>;
  error?: { code?: string; reason?: string };
}

const shown = (v: unknown) => (v === null || v === undefined ? '空' : typeof v === 'string' ? v : JSON.stringify(v));

/** "用例「SBP 140 为 1 级」未通过：bp_grade 应为 G1，实为 G3". */
export function caseMessage(f: CaseFailure): string {
  const parts = Object.entries(f.diff ?? {}).map(([k, v]) => `${k} 应为 ${shown(v.expected)}，实为 ${shown(v.got)}`);
  if (f.error) parts.push(`出错：${f.error.reason ?? f.error.code ?? ''}`);
  return `用例「${f.name ?? ''}」未通过${parts.length ? '：' + parts.join('；') : ''}`;
}

/** Whether a refused DMN deploy may be overridden (14.3): analysis findings (overlap/gap) of an ANY or FIRST table.
 * UNIQUE findings, failing cases and broken cells are never overridable. */
export function canOverrideFindings(xml: string, details: unknown): boolean {
  const d = (details ?? {}) as { problem?: string; reason?: string };
  if (d.problem) return false;
  const policy = /hitPolicy="([A-Z ]+)"/.exec(xml)?.[1] ?? 'UNIQUE';
  if (policy !== 'ANY' && policy !== 'FIRST') return false;
  return /重叠|遗漏|overlap|gap|无法证明|cannot prove/i.test(d.reason ?? '');
}

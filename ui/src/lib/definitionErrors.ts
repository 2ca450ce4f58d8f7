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
  if (d.element_id || d.reason || !list.length) {
    list.unshift({ element_id: d.element_id, file: d.file, message: d.reason ?? e.message, level: 'error' });
  }
  return list;
}


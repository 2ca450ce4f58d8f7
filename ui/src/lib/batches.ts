/** 批量启动: a batch start's status and progress as the page shows them. */
import type { BatchStart } from '../api/types';

export const BATCH_STATUS: Record<string, string> = {
  running: '启动中',
  done: '已完成',
  done_with_failures: '已完成（有失败）',
};

export function batchStatusName(status: string): string {
  return BATCH_STATUS[status] ?? '未知状态';
}

export function batchStatusBadge(b: Pick<BatchStart, 'status' | 'failed'>): string {
  if (b.status === 'running') return 'badge-info';
  if (b.status === 'done_with_failures' || b.failed > 0) return 'badge-danger';
  if (b.status === 'done') return 'badge-ok';
  return 'badge-warn';
}

/** Share of the items dealt with (started, skipped or failed), 0..1. */
export function batchFraction(b: Pick<BatchStart, 'total' | 'started' | 'skipped' | 'failed'>): number {
  if (!b.total) return 1;
  return Math.min(1, (b.started + b.skipped + b.failed) / b.total);
}

export function batchCounts(b: Pick<BatchStart, 'total' | 'started' | 'skipped' | 'failed' | 'pending'>): string {
  const n = (x: number) => x.toLocaleString('zh-CN');
  const parts = [`已启动 ${n(b.started)}`, `跳过 ${n(b.skipped)}`, `失败 ${n(b.failed)}`, `总数 ${n(b.total)}`];
  if (b.pending > 0) parts.push(`待启动 ${n(b.pending)}`);
  return parts.join(' · ');
}

/** Why 继续 is (not) offered: only pending items are started again; failed ones need their cause fixed first. */
export function resumeHint(b: Pick<BatchStart, 'resumable' | 'status' | 'pending'>): string {
  if (b.resumable) return `还有 ${b.pending.toLocaleString('zh-CN')} 个待启动，继续将只启动这些，已启动的不会重复。`;
  return '没有待启动的项目，无需继续。';
}

export const BATCH_POLL_MS = 3000;

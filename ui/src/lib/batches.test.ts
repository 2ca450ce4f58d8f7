import { describe, expect, it } from 'vitest';
import { batchCounts, batchFraction, batchStatusBadge, batchStatusName, resumeHint } from './batches';

const b = { id: 1, status: 'running', total: 10, started: 4, skipped: 1, failed: 1, pending: 4, resumable: true, process_name: '随访', source_name: '随访周期' };

describe('batch starts in words', () => {
  it('names every status in Chinese and never shows a code', () => {
    expect(batchStatusName('running')).toBe('启动中');
    expect(batchStatusName('done_with_failures')).toBe('已完成（有失败）');
    expect(batchStatusName('weird')).toBe('未知状态');
  });

  it('counts the progress over all items dealt with', () => {
    expect(batchFraction(b)).toBeCloseTo(0.6);
    expect(batchFraction({ ...b, total: 0, started: 0, skipped: 0, failed: 0 })).toBe(1);
    expect(batchCounts(b)).toBe('已启动 4 · 跳过 1 · 失败 1 · 总数 10 · 待启动 4');
    expect(batchCounts({ ...b, pending: 0, total: 1200, started: 1200, skipped: 0, failed: 0 })).toBe('已启动 1,200 · 跳过 0 · 失败 0 · 总数 1,200');
  });

  it('marks failures and explains when 继续 has nothing to do', () => {
    expect(batchStatusBadge({ status: 'done_with_failures', failed: 2 })).toBe('badge-danger');
    expect(batchStatusBadge({ status: 'done', failed: 0 })).toBe('badge-ok');
    expect(resumeHint({ ...b, resumable: false, pending: 0 })).toBe('没有待启动的项目，无需继续。');
    expect(resumeHint(b)).toContain('还有 4 个待启动');
  });
});

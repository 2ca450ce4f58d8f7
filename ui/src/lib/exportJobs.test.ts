import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { finished, jobLine, pollJob, type ExportJob } from './exportJobs';

const job = (over: Partial<ExportJob>): ExportJob => ({
  id: 1, title: '报告', status: 'queued', status_label: '排队中', percent: 0, filename: null, error_code: null,
  error_message: null, created_at: '2026-12-04T10:00:00Z', finished_at: null, download: null, ...over,
});

describe('export jobs', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('words the status for the page', () => {
    expect(jobLine(job({}))).toBe('排队中');
    expect(jobLine(job({ status: 'running', status_label: '生成中', percent: 44.6 }))).toBe('生成中 45%');
    expect(jobLine(job({ status: 'failed', status_label: '失败', error_message: '该考核期尚未计算' }))).toBe('失败：该考核期尚未计算');
    expect(finished(job({ status: 'done' }))).toBe(true);
    expect(finished(job({ status: 'running' }))).toBe(false);
  });

  it('polls until the job is finished', async () => {
    const answers = [job({ status: 'running', percent: 50 }), job({ status: 'done', download: '/x' })];
    const get = vi.fn(() => Promise.resolve(answers.shift() as ExportJob));
    const seen: string[] = [];
    pollJob(get, (j) => seen.push(j.status), () => undefined, 1000);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(1000);
    await vi.advanceTimersByTimeAsync(5000);
    expect(seen).toEqual(['running', 'done']);
    expect(get).toHaveBeenCalledTimes(2);
  });

  it('stops when told to and reports a failed request', async () => {
    const get = vi.fn(() => Promise.resolve(job({ status: 'running' })));
    const stop = pollJob(get, () => undefined, () => undefined, 1000);
    await vi.advanceTimersByTimeAsync(1000);
    stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(get).toHaveBeenCalledTimes(1);
    const errors: unknown[] = [];
    pollJob(() => Promise.reject(new Error('x')), () => undefined, (e) => errors.push(e), 1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(errors).toHaveLength(1);
  });
});

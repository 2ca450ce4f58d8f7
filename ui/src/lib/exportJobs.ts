/** Export jobs (a large custom report, the appraisal report of every type): poll a job until it is done or failed. */

export interface ExportJob {
  id: number; title: string; status: 'queued' | 'running' | 'done' | 'failed'; status_label: string; percent: number;
  filename: string | null; error_code: string | null; error_message: string | null; created_at: string;
  finished_at: string | null; download: string | null;
}

export function finished(job: Pick<ExportJob, 'status'>): boolean {
  return job.status === 'done' || job.status === 'failed';
}

/** One line for the page: 排队中 / 生成中 45% / 已完成 / 失败：reason. */
export function jobLine(job: ExportJob): string {
  if (job.status === 'running') return `${job.status_label} ${Math.round(job.percent)}%`;
  if (job.status === 'failed') return `${job.status_label}：${job.error_message ?? '请稍后重试'}`;
  return job.status_label;
}

/**
 * Ask for the job every `intervalMs` until it is finished, telling `onUpdate` each answer; returns a function that
 * stops polling (call it when the page goes away). A failed request stops polling and is passed to `onError`.
 */
export function pollJob(
  get: () => Promise<ExportJob>, onUpdate: (job: ExportJob) => void, onError: (e: unknown) => void,
  intervalMs = 1500,
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const tick = async () => {
    try {
      const job = await get();
      if (stopped) return;
      onUpdate(job);
      if (!finished(job)) timer = setTimeout(tick, intervalMs);
    } catch (e) {
      if (!stopped) onError(e);
    }
  };
  timer = setTimeout(tick, intervalMs);
  return () => { stopped = true; if (timer) clearTimeout(timer); };
}

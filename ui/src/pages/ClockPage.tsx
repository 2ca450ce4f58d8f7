/** 平台时钟 (issue 14.12): on the embedded demo/test install a process owner or county administrator sees the
 * platform time and moves it forward (+1/+7/+30/+90 days or to a date), so the timers that became due fire at once
 * and a 90-day follow-up model can be tried in minutes. Elsewhere the page says the clock cannot be moved (the
 * server refuses with clock_control_disabled; the menu link shows only where it can). */
import { useState } from 'react';
import { platformClock } from '../api/endpoints';
import { ApiError } from '../api/client';
import type { ClockAdvance, ClockState } from '../api/types';
import { ErrorBox, Loading } from '../components/common';
import { useAsync } from '../lib/useAsync';
import { formatDate, formatDateTime } from '../lib/time';

export const CLOCK_STEPS: readonly { days: number; label: string }[] = [
  { days: 1, label: '+1 天' },
  { days: 7, label: '+7 天' },
  { days: 30, label: '+30 天' },
  { days: 90, label: '+90 天' },
];

/** What a move did, in a sentence a process owner reads. */
export function movedText(result: Pick<ClockState, 'now' | 'instances_with_due_timers'>): string {
  const fired = result.instances_with_due_timers ?? 0;
  const head = `平台时间已前移至 ${formatDateTime(result.now ?? null)}`;
  return fired > 0 ? `${head}，${fired} 个流程实例的定时器已触发。` : `${head}，没有到期的定时器。`;
}

export default function ClockPage() {
  const state = useAsync(() => platformClock.get(), []);
  const [busy, setBusy] = useState(false);
  const [day, setDay] = useState('');
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const clock = state.data;

  const move = async (body: ClockAdvance) => {
    setBusy(true);
    setNotice(null);
    try {
      const result = await platformClock.advance(body);
      setNotice({ kind: 'ok', text: movedText(result) });
      state.reload();
    } catch (e) {
      setNotice({ kind: 'error', text: e instanceof ApiError ? e.message : '调整时钟失败' });
    } finally {
      setBusy(false);
    }
  };

  if (state.loading && !clock) return <Loading />;
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (!clock) return null;

  return (
    <div className="page" data-testid="clock-page">
      <h1>平台时钟</h1>
      <section className="card">
        <p>
          平台时间：<strong data-testid="platform-now">{formatDateTime(clock.now ?? null)}</strong>
        </p>
        <p data-testid="pending-timers">
          {clock.pending_timers
            ? `等待中的定时器 ${clock.pending_timers} 个，最早 ${formatDateTime(clock.next_timer_at ?? null)} 到期。`
            : '当前没有等待中的定时器。'}
        </p>
        {!clock.enabled && (
          <p className="muted" data-testid="clock-disabled">
            本环境的平台时钟不可调整：仅嵌入式演示与测试环境可前移时钟，生产环境从不允许。
          </p>
        )}
      </section>
      {clock.enabled && (
        <section className="card">
          <h2>前移时钟</h2>
          <p className="muted">
            时钟只能向前移动；前移后到期的定时器（如 90 天随访）立即触发，相应待办随即出现。每次调整都记入审计日志。
          </p>
          <div className="row">
            {CLOCK_STEPS.map((s) => (
              <button key={s.days} type="button" className="btn" disabled={busy} onClick={() => move({ days: s.days })}
                data-testid={`advance-${s.days}`}>
                {s.label}
              </button>
            ))}
          </div>
          <div className="row" style={{ marginTop: '0.75rem' }}>
            <label>
              前移到日期（当天 23:59）：
              <input type="date" value={day} min={formatDate(clock.now ?? null)} onChange={(e) => setDay(e.target.value)}
                data-testid="advance-date" />
            </label>
            <button type="button" className="btn btn-primary" disabled={busy || !day}
              onClick={() => move({ until_date: day })} data-testid="advance-to-date">
              前移到该日
            </button>
          </div>
          {notice && (
            <p className={notice.kind === 'ok' ? 'alert alert-ok' : 'alert alert-error'} role="status" data-testid="clock-notice">
              {notice.text}
            </p>
          )}
        </section>
      )}
    </div>
  );
}

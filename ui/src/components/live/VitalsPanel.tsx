/**
 * 实时生命体征: each channel's last value and 15-minute trend (ECharts), updated from the room's event stream,
 * and an alarm banner while a value breaches its configured threshold. Mount it with the room's owner:
 * `<VitalsPanel kind="consult" ref={12} />` (the prop is `ref`, as agreed; React reserves that name for refs, so
 * it is also accepted as `roomRef`).
 */
import { lazy, Suspense, useMemo, useRef, useState } from 'react';
import type { EChartsCoreOption } from 'echarts/core';
import { ErrorBox, Loading } from '../common';
import { useRoom } from './useRoom';
import { addAlarms, applyReadings, shown } from './vitals';
import type { Alarm, ChannelState } from './types';

const Chart = lazy(() => import('../Chart'));

export interface LiveProps {
  kind: string;
  roomRef?: number | string;
  /** alias of roomRef, as `<VitalsPanel kind ref/>` reads; see the note above */
  ref?: number | string;
}

export function refOf(props: LiveProps): number | string {
  return props.roomRef ?? (props as { ref?: number | string }).ref ?? '';
}

function timeOf(iso: string): string {
  const d = new Date(iso);
  return d.toLocaleTimeString('zh-CN', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

function trendOption(c: ChannelState): EChartsCoreOption {
  return {
    animation: false,
    grid: { left: 36, right: 8, top: 8, bottom: 20 },
    xAxis: { type: 'time', axisLabel: { fontSize: 10, hideOverlap: true } },
    // a steady value (a temperature) gets a narrow band around it, not an axis from 10 to 60
    yAxis: {
      type: 'value', scale: true, axisLabel: { fontSize: 10 },
      min: (v: { min: number }) => Math.floor(v.min - (c.channel === 'temp' ? 0.5 : 2)),
      max: (v: { max: number }) => Math.ceil(v.max + (c.channel === 'temp' ? 0.5 : 2)),
    },
    tooltip: { trigger: 'axis' },
    series: [{
      type: 'line', showSymbol: false, data: c.trend, lineStyle: { width: 1.5 },
      markLine: c.thresholds.length ? {
        silent: true, symbol: 'none', lineStyle: { color: '#c62828', type: 'dashed' },
        data: c.thresholds.map((t) => ({ yAxis: t.value })), label: { show: false },
      } : undefined,
    }],
  };
}

export default function VitalsPanel(props: LiveProps) {
  const ref = refOf(props);
  const [channels, setChannels] = useState<ChannelState[]>([]);
  const [alarms, setAlarms] = useState<Alarm[]>([]);
  const pending = useRef<ChannelState[]>([]);
  const conn = useRoom(props.kind, ref, (e) => {
    if (e.type === 'snapshot') {
      pending.current = e.snapshot.channels as ChannelState[];
      setChannels(pending.current);
      setAlarms(e.snapshot.alarms);
    } else if (e.type === 'vitals') {
      pending.current = applyReadings(pending.current, e.readings, new Date());
      setChannels(pending.current);
    } else if (e.type === 'alarm') {
      setAlarms((log) => addAlarms(log, [e.alarm]));
    }
  });
  const options = useMemo(() => channels.map(trendOption), [channels]);

  if (!conn || (!conn.snapshot && !conn.error && !conn.closed)) return <Loading text="正在连接实时数据…" />;
  if (conn.error) return <ErrorBox error={conn.error} />;
  const active = channels.filter((c) => c.alarm && c.last);
  return (
    <section className="card live-vitals" aria-label="实时生命体征" data-testid="vitals-panel">
      <div className="row" style={{ justifyContent: 'space-between', alignItems: 'center' }}>
        <h2 style={{ margin: 0 }}>实时生命体征</h2>
        <span className={`badge ${conn.closed ? '' : conn.online ? 'badge-ok' : 'badge-warn'}`} data-testid="vitals-status">
          {conn.closed ? '会诊已结束' : conn.online ? '实时' : '重新连接中…'}
        </span>
      </div>
      {conn.closed && <div className="alert alert-info" role="status">会诊已结束，实时数据已关闭。</div>}
      {active.map((c) => (
        <div key={c.channel} className="alert alert-error" role="alert" data-testid="vitals-alarm">
          <strong>报警：</strong>{c.label} {shown(c.channel, c.last!.value)}{c.unit}（阈值 {c.alarm}{c.unit}）
        </div>
      ))}
      <div className="live-grid" style={{ display: 'grid', gap: 8, gridTemplateColumns: 'repeat(auto-fill, minmax(160px, 1fr))' }}>
        {channels.map((c, i) => (
          <div key={c.channel} className="stat-tile" data-testid={`vital-${c.channel}`} style={c.alarm ? { borderColor: '#c62828' } : undefined}>
            <div className="stat-label">{c.label}</div>
            <div className={`stat-value ${c.alarm ? 'text-danger' : ''}`} data-testid={`vital-${c.channel}-value`}>
              {c.last ? shown(c.channel, c.last.value) : '—'}
              <small className="muted" style={{ fontSize: '0.6em', marginLeft: 4 }}>{c.unit}</small>
            </div>
            <div className="muted" style={{ fontSize: 12 }}>{c.last ? timeOf(c.last.at) : '暂无数据'}</div>
            {c.trend.length > 1 && (
              <Suspense fallback={null}>
                <Chart option={options[i]} height={90} testId={`trend-${c.channel}`} />
              </Suspense>
            )}
          </div>
        ))}
      </div>
      <details style={{ marginTop: 8 }}>
        <summary>报警记录（{alarms.length}）</summary>
        {alarms.length === 0 ? <p className="muted">暂无报警</p> : (
          <ul className="plain-list" data-testid="alarm-log">
            {alarms.map((a) => (
              <li key={a.id}>{timeOf(a.at)} {a.label} {shown(a.channel, a.value)}（阈值 {a.threshold}）</li>
            ))}
          </ul>
        )}
      </details>
    </section>
  );
}

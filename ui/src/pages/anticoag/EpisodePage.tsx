import { useMemo } from 'react';
import { Link, useParams } from 'react-router-dom';
import { Badge, ErrorBox, Loading } from '../../components/common';
import Chart from '../../components/Chart';
import { formatDate, formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { indicationLabel } from './AnticoagPage';
import { anticoag, pct, ttrKind, type EpisodeDetail, type TtrDetail } from './api';

const PATHS: Record<string, [string, string]> = {
  urgent: ['紧急处理', 'badge-danger'],
  dose: ['需调整剂量', 'badge-warn'],
  renal_review: ['药师复核剂量', 'badge-warn'],
  routine: ['常规', 'badge-ok'],
};

/**
 * One anticoagulant episode (抗凝管理 › 患者): the INR chart with the therapeutic range as a band, the TTR (Rosendaal) and
 * its days in / below / above range, the checks due, every result with its action, the dose history and events.
 */
export default function EpisodePage() {
  const { id } = useParams();
  const q = useAsync(() => anticoag.episode(Number(id)), [id]);
  if (q.loading) return <div className="page"><Loading /></div>;
  if (q.error || !q.data) return <div className="page"><ErrorBox error={q.error} onRetry={q.reload} /></div>;
  const e = q.data;
  return (
    <div className="page page-narrow anticoag-episode">
      <p><Link to="/anticoag">‹ 抗凝管理</Link></p>
      <h1>{e.resident_name} · {e.drug_name}</h1>
      <p className="muted">
        {e.org_name} · {indicationLabel(e.indication)} · {e.status_label} · {e.phase_label} · 自 {formatDate(e.started_on)} 起
        {' · '}<Link to={`/residents/${e.resident_id}`}>居民档案</Link>
      </p>
      <section className="card" aria-label="当前方案">
        <h2>当前方案</h2>
        <div>剂量：{e.dose_mg ? `${e.dose_mg} mg ${e.frequency_label}` : '—'}{e.weekly_dose_mg ? `（每周 ${e.weekly_dose_mg} mg）` : ''}</div>
        {e.target_lo !== null && e.target_lo !== undefined && <div>INR目标范围：{e.target_lo}–{e.target_hi}</div>}
        {e.dose_band_label && <div>剂量表推荐：{e.dose_band_label}</div>}
        {e.crcl_ml_min ? <div>最近CrCl：{e.crcl_ml_min.toFixed(0)} mL/min</div> : null}
      </section>
      <Schedule e={e} />
      {e.drug === 'warfarin' && <InrSection e={e} />}
      <Results e={e} />
      <section className="card" aria-label="剂量记录">
        <h2>剂量记录</h2>
        {e.doses.length === 0 && <p className="muted">暂无剂量记录。</p>}
        <ul className="timeline" data-testid="dose-history">
          {e.doses.map((d, i) => (
            <li key={i}>
              <strong>{d.dose_text}</strong> <span className="muted">{d.label} · {formatDateTime(d.at)}</span>
              {d.note && <div className="muted">{d.note}</div>}
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-label="事件">
        <h2>事件</h2>
        <ul className="timeline" data-testid="events">
          {e.events.map((v) => (
            <li key={v.id}>
              <Badge kind={v.kind === 'urgent' || v.kind === 'bleeding' ? 'badge-danger' : ''}>{v.label}</Badge>{' '}
              <span className="muted">{formatDateTime(v.at)}</span>
              {typeof (v.detail as Record<string, unknown> | undefined)?.text === 'string' && <div>{String((v.detail as Record<string, unknown>).text)}</div>}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function Schedule({ e }: { e: EpisodeDetail }) {
  return (
    <section className="card" aria-label="检查计划">
      <h2>检查计划</h2>
      {e.status !== 'active' && <p className="muted">已停药，不再安排检查。</p>}
      {e.status === 'active' && e.schedule.length === 0 && <p className="muted">暂无待查项目。</p>}
      <ul className="plain-list" data-testid="schedule">
        {e.schedule.map((c) => (
          <li key={c.kind}>
            {c.label}：<span className={c.overdue ? 'text-danger' : ''}>{formatDate(c.due_on)}{c.overdue ? '（已逾期）' : ''}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function InrSection({ e }: { e: EpisodeDetail }) {
  const inrs = e.results.filter((r) => r.kind === 'inr');
  // a nullable nested object comes typed loosely from the OpenAPI generator
  const t = e.ttr_detail as TtrDetail | null | undefined;
  const option = useMemo(() => {
    const lo = e.target_lo ?? 2;
    const hi = e.target_hi ?? 3;
    const max = Math.max(hi + 1, ...inrs.map((r) => r.value + 0.5));
    return {
      grid: { left: 36, right: 16, top: 20, bottom: 40 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', name: 'INR', min: 0, max: Math.ceil(max) },
      series: [{
        type: 'line', name: 'INR', symbolSize: 8,
        data: inrs.map((r) => ({ value: [r.measured_on, r.value], itemStyle: { color: r.in_range ? '#2e7d32' : '#c62828' } })),
        markArea: { silent: true, itemStyle: { color: 'rgba(46,125,50,0.12)' }, data: [[{ yAxis: lo, name: `目标 ${lo}–${hi}` }, { yAxis: hi }]] },
      }],
    };
  }, [e, inrs]);
  return (
    <section className="card" aria-label="INR">
      <div className="page-head">
        <h2>INR与TTR</h2>
        <span data-testid="episode-ttr">TTR <Badge kind={ttrKind(e.ttr)}>{pct(e.ttr)}</Badge></span>
      </div>
      {inrs.length === 0 ? <p className="muted">尚无INR结果。</p> : <Chart option={option} height={240} testId="inr-chart" />}
      {t && t.days_total > 0 && (
        <p className="muted" data-testid="ttr-detail">
          共 {t.days_total.toFixed(1)} 天（{t.tests} 次INR）：范围内 {t.days_in_range.toFixed(1)} 天，低于 {t.days_below.toFixed(1)} 天，高于 {t.days_above.toFixed(1)} 天
          {t.gaps_excluded > 0 ? `；${t.gaps_excluded} 段间隔超过56天未计入` : ''}。
        </p>
      )}
      {t && t.days_total === 0 && <p className="muted">INR不足2次，暂不计算TTR。</p>}
    </section>
  );
}

function Results({ e }: { e: EpisodeDetail }) {
  const unit = (kind: string) => (kind === 'crcl' ? ' mL/min' : kind === 'plt' ? '×10⁹/L' : '');
  const name = (kind: string) => (kind === 'inr' ? 'INR' : kind === 'crcl' ? 'CrCl' : '血小板');
  return (
    <section className="card" aria-label="检查结果">
      <h2>检查结果</h2>
      {e.results.length === 0 && <p className="muted">暂无结果。</p>}
      <ul className="timeline" data-testid="results">
        {[...e.results].reverse().map((r) => {
          const [label, kind] = PATHS[r.path ?? 'routine'] ?? PATHS.routine;
          return (
            <li key={r.id}>
              <strong className={r.in_range === false ? 'text-danger' : ''}>{name(r.kind)} {r.kind === 'crcl' ? r.value.toFixed(0) : r.value}{unit(r.kind)}</strong>{' '}
              <span className="muted">{formatDate(r.measured_on)} · {r.source_label}{r.on_time === false ? ' · 未按时' : ''}</span>{' '}
              <Badge kind={kind}>{label}</Badge>
              {r.action_label && <div>{r.action_label}</div>}
              {r.bleeding !== 'none' && <div className="text-danger">{r.bleeding_label}</div>}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

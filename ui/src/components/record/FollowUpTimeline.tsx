/** A resident's follow-up: schedule per disease (next due, control rate) and every visit, newest first. */
import { Link } from 'react-router-dom';
import { residents } from '../../api/endpoints';
import type { FollowUpVisit } from '../../api/types';
import { useAsync } from '../../lib/useAsync';
import { DISEASES, RISK_LEVELS, label, riskClass } from '../../lib/labels';
import { bpLevel, bpText } from '../../lib/followUps';
import { formatDate } from '../../lib/time';
import { Badge, Empty, ErrorBox, Loading } from '../common';
import { vocabMap } from '../../lib/vocabulary';

export const VISIT_STATUS = vocabMap('visit_status');
export const VISIT_TYPES = vocabMap('visit_type');

const DIRECTION: Record<string, string> = { improving: '好转', worsening: '变差', stable: '平稳', insufficient_data: '数据不足' };

function visitValues(v: FollowUpVisit): string {
  const parts: string[] = [];
  const target = v.decision?.target;
  const bpTarget = target?.sbp_lt && target?.dbp_lt ? `（方案目标 <${target.sbp_lt}/${target.dbp_lt}）` : '';
  const fpgTarget = target?.fpg_lt ? `（方案目标 <${target.fpg_lt}）` : '';
  if (v.sbp || v.dbp) parts.push(`血压 ${bpText(v.sbp, v.dbp)}${bpTarget}`);
  if (v.heart_rate) parts.push(`心率 ${v.heart_rate}`);
  if (v.fpg) parts.push(`空腹血糖 ${v.fpg} mmol/L${fpgTarget}`);
  if (v.hba1c) parts.push(`糖化 ${v.hba1c}%`);
  if (v.weight_kg) parts.push(`体重 ${v.weight_kg} kg`);
  return parts.join('，');
}

export default function FollowUpTimeline({ residentId }: { residentId: string }) {
  const state = useAsync(() => residents.followUps(residentId), [residentId]);
  const t = state.data;
  if (state.loading && !t) return <Loading text="正在加载随访记录…" />;
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (!t || (!t.schedules?.length && !t.visits?.length)) return <Empty title="暂无随访记录" />;
  const visits = [...(t.visits ?? [])].sort((a, b) =>
    String(b.visited_on ?? b.due_on ?? '').localeCompare(String(a.visited_on ?? a.due_on ?? '')) || b.id - a.id,
  );
  return (
    <div className="stack" data-testid="follow-up-timeline">
      {(t.schedules ?? []).map((s) => {
        const tr = t.trend?.[s.disease];
        return (
          <div key={s.disease} className="schedule">
            <div className="row">
              <strong>{label(DISEASES, s.disease)}</strong>
              {s.risk_level && <Badge kind={riskClass(s.risk_level)}>{label(RISK_LEVELS, s.risk_level)}</Badge>}
              {s.status && s.status !== 'active' && <Badge>{s.status === 'paused' ? '暂停' : s.status}</Badge>}
              {s.last_classification && <Badge kind={s.last_classification === '控制满意' ? 'badge-ok' : 'badge-warn'}>{s.last_classification}</Badge>}
            </div>
            <div className="timeline-data">
              下次随访 <strong>{formatDate(s.next_due_on)}</strong>
              {s.interval_days ? ` · 每 ${s.interval_days} 天` : ''}
              {s.last_visit_on ? ` · 上次 ${formatDate(s.last_visit_on)}` : ''}
              {s.consecutive_uncontrolled ? ` · 连续 ${s.consecutive_uncontrolled} 次控制不满意` : ''}
              {tr?.control_rate !== null && tr?.control_rate !== undefined ? ` · 控制率 ${Math.round(tr.control_rate * 100)}%（${tr.controlled}/${tr.visits}）` : ''}
              {tr?.direction && tr.direction !== 'insufficient_data' ? ` · 趋势${DIRECTION[tr.direction] ?? tr.direction}` : ''}
            </div>
          </div>
        );
      })}
      {visits.length ? (
        <ol className="timeline">
          {visits.map((v) => {
            const level = bpLevel(v.sbp, v.dbp);
            return (
              <li key={v.id} className={v.status === 'done' ? '' : 'is-pending'}>
                <div className="timeline-head">
                  <strong>{formatDate(v.visited_on ?? v.due_on)}</strong>
                  <span>{label(DISEASES, v.disease)}第 {v.cycle_no ?? '?'} 次</span>
                  <Badge kind={v.status === 'done' ? 'badge-ok' : ''}>{label(VISIT_STATUS, v.status)}</Badge>
                  {v.visit_type && <span className="muted">{label(VISIT_TYPES, v.visit_type)}</span>}
                  {v.classification && <Badge kind={v.classification === '控制满意' ? 'badge-ok' : 'badge-warn'}>{v.classification}</Badge>}
                  {level && <Badge kind={level === 'severe' ? 'badge-danger' : 'badge-warn'}>{level === 'severe' ? '血压很高' : '血压偏高'}</Badge>}
                </div>
                <div className="timeline-data">
                  {[visitValues(v), v.action, v.performed_by && `随访人 ${v.performed_by_name ?? '—'}`, v.next_due_on && `下次 ${formatDate(v.next_due_on)}`].filter(Boolean).join(' · ') ||
                    (v.status === 'done' ? '' : `应于 ${formatDate(v.due_on)} 前随访`)}
                  {v.instance_id ? (
                    <>
                      {' '}
                      <Link to={`/instances/${v.instance_id}`}>流程 #{v.instance_id}</Link>
                    </>
                  ) : null}
                </div>
              </li>
            );
          })}
        </ol>
      ) : null}
    </div>
  );
}

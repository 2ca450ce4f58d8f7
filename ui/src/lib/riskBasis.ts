/** How the record words a risk grade's basis (issue 12.1): which BP graded it, and why a later reading did not. */
import type { BasisReading, RiskBasis } from '../api/types';

const READING_SOURCES: Record<string, string> = {
  his: 'HIS', public_health: '公卫系统', insurance: '医保', village_app: '村医录入', follow_up: '随访',
  device: '设备', patient: '患者自测', lis: '检验系统',
};

function reading(r: BasisReading): string {
  return `${r.on}${r.source ? ` ${READING_SOURCES[r.source] ?? '其他来源'}` : ''}`;
}

/** "分层血压：170/100 mmHg（2026-11-03 HIS），为开始降压治疗（2026-11-04）前的最高血压；…" or null without a BP basis. */
export function bpBasisText(basis: RiskBasis | null | undefined): string | null {
  const bp = basis?.bp;
  if (!bp) return null;
  const when = bp.sbp.on === bp.dbp.on && bp.sbp.source === bp.dbp.source
    ? `（${reading(bp.sbp)}）`
    : `（收缩压 ${reading(bp.sbp)}；舒张压 ${reading(bp.dbp)}）`;
  const rule = bp.rule === 'untreated'
    ? `，为开始降压治疗（${bp.treatment_started_on ?? '—'}）前的最高血压`
    : '，档案未记录降压药物，取档案中最高血压';
  return `分层血压：${bp.sbp.value}/${bp.dbp.value} mmHg${when}${rule}；治疗后血压只用于评估控制情况，不降低分层`;
}

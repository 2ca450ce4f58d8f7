/** How a care plan reads: targets, drugs, lifestyle, topics, and the paths of a version diff, in Chinese. */
import type { CarePlanChange, CarePlanDrug } from '../api/types';
import { vocabMap } from './vocabulary';

export const FREQUENCIES = vocabMap('frequency');
export const TOPICS = vocabMap('education_topic');
export const PLAN_STATUS = vocabMap('care_plan_status');

const SECTION: Record<string, string> = {
  targets: '控制目标',
  drugs: '用药',
  lifestyle: '生活方式',
  follow_up_interval_days: '随访间隔（天）',
  education_topics: '健康教育主题',
  notes: '备注',
};

const FIELD: Record<string, string> = {
  sbp_lt: '收缩压低于',
  dbp_lt: '舒张压低于',
  hba1c_lt: '糖化血红蛋白低于',
  fpg_min: '空腹血糖下限',
  fpg_max: '空腹血糖上限',
  ldl_lt: 'LDL-C 低于',
  note: '说明',
  salt_g_per_day: '每日食盐（克）',
  exercise: '运动',
  smoking: '吸烟',
  alcohol: '饮酒',
  diet: '饮食',
  weight_target_kg: '目标体重（千克）',
};

const UNITS: Record<string, string> = { sbp_lt: ' mmHg', dbp_lt: ' mmHg', hba1c_lt: '%', fpg_min: ' mmol/L', fpg_max: ' mmol/L', ldl_lt: ' mmol/L' };

/** "氨氯地平 5 mg，每日1次" */
export function drugText(d: CarePlanDrug): string {
  const name = d.name || d.drug || '—';
  const dose = d.dose_mg !== null && d.dose_mg !== undefined ? ` ${d.dose_mg} mg` : '';
  const freq = d.frequency ? `，${FREQUENCIES[d.frequency] ?? d.frequency}` : '';
  return `${name}${dose}${freq}`;
}

/** One target with its unit: "收缩压低于 140 mmHg". */
export function targetText(key: string, value: unknown): string {
  return `${FIELD[key] ?? key} ${valueText(value)}${UNITS[key] ?? ''}`;
}

export function valueText(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'boolean') return v ? '是' : '否';
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? TOPICS[x] ?? x : valueText(x))).join('、');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('drug' in o || 'dose_mg' in o) return drugText(o as CarePlanDrug);
    return Object.entries(o)
      .map(([k, x]) => `${FIELD[k] ?? k}：${valueText(x)}`)
      .join('，');
  }
  return String(v);
}

/** A diff path as people read it: "targets.sbp_lt" → "控制目标 · 收缩压低于", "drugs.amlodipine" → "用药 · amlodipine". */
export function changePath(path: string): string {
  const [section, ...rest] = path.split('.');
  const sub = rest.join('.');
  const head = SECTION[section] ?? section;
  if (!sub) return head;
  return `${head} · ${section === 'drugs' ? sub : FIELD[sub] ?? sub}`;
}

export const CHANGE_NAMES: Record<string, string> = { added: '新增', removed: '删除', changed: '修改' };

/** One line per change: "修改 控制目标 · 收缩压低于：140 → 130". */
export function changeLine(c: CarePlanChange): string {
  const what = `${CHANGE_NAMES[c.change] ?? c.change} ${changePath(c.path)}`;
  if (c.change === 'added') return `${what}：${valueText(c.to)}`;
  if (c.change === 'removed') return `${what}：${valueText(c.from)}`;
  return `${what}：${valueText(c.from)} → ${valueText(c.to)}`;
}

/**
 * A 422 `acknowledgement_required` (issue 12.5) lists the regimen warnings by key: add one row per missing key to
 * `content.acknowledgements` so the doctor only writes why the regimen stays as it is.
 */
export function withAcknowledgementRows(formData: unknown, details: Record<string, unknown>): unknown {
  const findings = Array.isArray(details.findings) ? (details.findings as { key?: unknown }[]) : [];
  const keys = findings.map((f) => f.key).filter((k): k is string => typeof k === 'string');
  const data = (formData && typeof formData === 'object' ? formData : {}) as Record<string, unknown>;
  const content = (data.content && typeof data.content === 'object' ? data.content : {}) as Record<string, unknown>;
  const rows: { finding?: unknown; comment?: unknown }[] = Array.isArray(content.acknowledgements) ? [...content.acknowledgements] : [];
  for (const key of keys) if (!rows.some((r) => r && r.finding === key)) rows.push({ finding: key, comment: '' });
  return { ...data, content: { ...content, acknowledgements: rows } };
}

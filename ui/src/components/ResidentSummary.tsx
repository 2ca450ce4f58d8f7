import { Link } from 'react-router-dom';
import { DISEASES, RISK_LEVELS, SEX, label } from '../lib/labels';
import { formatDateTime } from '../lib/time';

/** Chinese labels for the resident-summary keys the backend is expected to send. */
const KEYS: Record<string, string> = {
  name: '姓名',
  sex: '性别',
  age: '年龄',
  birth_date: '出生日期',
  id_number: '身份证号',
  id_number_masked: '身份证号',
  phone: '电话',
  village: '村',
  address: '住址',
  org_name: '管理机构',
  conditions: '慢病',
  diseases: '慢病',
  risk_levels: '风险等级',
  risk_level: '风险等级',
  management_level: '管理级别',
  medications: '用药',
  last_follow_up: '上次随访',
  last_follow_up_at: '上次随访',
  next_follow_up_on: '下次随访',
  latest_bp: '最近血压',
  last_bp: '最近血压',
  latest_glucose: '最近血糖',
  allergies: '过敏史',
};

const HIDDEN = new Set(['id', 'org_code', 'resident_id', 'village_code']);

function show(key: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (key === 'sex' && typeof value === 'string') return SEX[value] ?? value;
  if (key.endsWith('_at')) return formatDateTime(value as string);
  if (typeof value === 'string') return DISEASES[value] ?? RISK_LEVELS[value] ?? value;
  if (typeof value === 'number' || typeof value === 'boolean') return value === true ? '是' : value === false ? '否' : String(value);
  if (Array.isArray(value)) return value.map((v) => show(key, v)).join('、') || '—';
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('sbp' in o && 'dbp' in o) return `${o.sbp}/${o.dbp} mmHg${o.at || o.effective_at ? `（${formatDateTime((o.at ?? o.effective_at) as string)}）` : ''}`;
    if ('value' in o) return `${o.value}${o.unit ? ` ${o.unit}` : ''}${o.effective_at ? `（${formatDateTime(o.effective_at as string)}）` : ''}`;
    if ('disease' in o || 'level' in o || 'risk_level' in o) {
      return `${label(DISEASES, (o.disease as string) ?? '')} ${label(RISK_LEVELS, (o.level ?? o.risk_level) as string)}`.trim();
    }
    if ('name' in o) return String(o.name) + (o.dose ? ` ${o.dose}` : '');
    if ('display' in o) return String(o.display);
    return Object.entries(o)
      .map(([k, v]) => `${KEYS[k] ?? k}：${show(k, v)}`)
      .join('；');
  }
  return String(value);
}

export default function ResidentSummary({ summary, residentId }: { summary: Record<string, unknown>; residentId?: string | number }) {
  const id = residentId ?? (summary.id as string | number | undefined);
  const order = Object.keys(KEYS);
  const rank = (k: string) => (order.includes(k) ? order.indexOf(k) : order.length);
  const entries = Object.entries(summary)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== null && v !== undefined && v !== '')
    .sort(([a], [b]) => rank(a) - rank(b));
  return (
    <section className="card resident-summary" aria-label="居民摘要" id="resident-summary">
      <h2>居民摘要</h2>
      <dl className="kv">
        {entries.map(([k, v]) => (
          <div key={k} className="kv-row">
            <dt>{KEYS[k] ?? k}</dt>
            <dd>{show(k, v)}</dd>
          </div>
        ))}
      </dl>
      {id !== undefined && (
        <Link to={`/residents/${id}`} className="btn btn-small">
          查看完整档案
        </Link>
      )}
    </section>
  );
}

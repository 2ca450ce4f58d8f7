import { useMemo } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { EChartsCoreOption } from 'echarts/core';
import { residents } from '../api/endpoints';
import type { Observation, Resident } from '../api/types';
import { Badge, Empty, ErrorBox, Loading } from '../components/common';
import Chart from '../components/Chart';
import { useAsync } from '../lib/useAsync';
import { DISEASES, INSTANCE_STATUS, PROCESS_NAMES, RISK_LEVELS, label, riskClass } from '../lib/labels';
import { LOINC, LOINC_NAMES, seriesOf } from '../lib/observations';
import { formatDate, formatDateTime } from '../lib/time';
import { useOrgNames } from '../lib/orgs';
import { conditionNames } from './ResidentsPage';

const SEX: Record<string, string> = { M: '男', F: '女' };

const CARE_PLAN_KEYS: Record<string, string> = {
  targets: '控制目标',
  drugs: '用药',
  medications: '用药',
  lifestyle: '生活方式',
  follow_up_frequency: '随访频率',
  follow_up_interval_days: '随访间隔（天）',
  education: '健康教育',
  management_level: '管理级别',
  status: '状态',
  approved_by: '审核人',
  approved_at: '审核时间',
  issued_at: '下达时间',
  version: '版本',
};

function text(v: unknown): string {
  if (v === null || v === undefined || v === '') return '—';
  if (Array.isArray(v)) return v.map(text).join('；');
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${CARE_PLAN_KEYS[k] ?? k}：${text(x)}`)
      .join('，');
  }
  if (typeof v === 'boolean') return v ? '是' : '否';
  return String(v);
}

function trendOption(title: string, series: { name: string; code: string }[], obs: Observation[], unit: string, limits: { value: number; name: string }[]): EChartsCoreOption {
  return {
    title: { text: title, left: 0, top: 0, textStyle: { fontSize: 13, fontWeight: 'normal', color: '#67737e' } },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: number) => `${v}${unit ? ` ${unit}` : ''}`,
      axisPointer: { label: { formatter: (p: { value: number }) => formatDateTime(p.value) } },
    },
    legend: { right: 0, top: 0 },
    grid: { left: 44, right: 36, top: 48, bottom: 30 },
    xAxis: { type: 'time', splitNumber: 4, axisLabel: { hideOverlap: true, formatter: (v: number) => formatDate(v).slice(2) } },
    yAxis: { type: 'value', scale: true, axisLabel: { formatter: (v: number) => `${v}` } },
    series: series.map((s, i) => ({
      name: s.name,
      type: 'line',
      showSymbol: true,
      data: seriesOf(obs, s.code),
      markLine: i === 0 && limits.length ? { silent: true, symbol: 'none', lineStyle: { type: 'dashed', color: '#e53935' }, data: limits.map((l) => ({ yAxis: l.value, name: l.name })), label: { formatter: '{b}' } } : undefined,
    })),
  };
}

function Trends({ obs }: { obs: Observation[] }) {
  const bp = useMemo(
    () => trendOption('血压（mmHg）', [{ name: '收缩压', code: LOINC.sbp }, { name: '舒张压', code: LOINC.dbp }], obs, 'mmHg', [{ value: 140, name: '140' }, { value: 90, name: '90' }]),
    [obs],
  );
  const glu = useMemo(
    () => trendOption('血糖（mmol/L）· 糖化血红蛋白（%）', [{ name: '空腹血糖', code: LOINC.fpg }, { name: '糖化血红蛋白', code: LOINC.hba1c }], obs, '', [{ value: 7.0, name: '7.0' }]),
    [obs],
  );
  const hasBp = obs.some((o) => o.code === LOINC.sbp || o.code === LOINC.dbp);
  const hasGlu = obs.some((o) => o.code === LOINC.fpg || o.code === LOINC.hba1c);
  if (!hasBp && !hasGlu) return <Empty title="暂无血压、血糖记录" />;
  return (
    <div className="grid-2">
      {hasBp ? <Chart option={bp} testId="bp-chart" /> : <Empty title="暂无血压记录" />}
      {hasGlu ? <Chart option={glu} testId="glucose-chart" /> : <Empty title="暂无血糖记录" />}
    </div>
  );
}

function Header({ r }: { r: Resident }) {
  const orgName = useOrgNames();
  return (
    <section className="card">
      <div className="page-head" style={{ marginBottom: 0 }}>
        <div>
          <Link to="/residents" className="back">
            ← 居民档案
          </Link>
          <h1 data-testid="resident-name">{r.name}</h1>
          <div className="task-meta">
            <span>{SEX[r.sex ?? ''] ?? r.sex}</span>
            {r.age !== undefined && <span>{r.age} 岁</span>}
            {r.birth_date && <span>生于 {formatDate(r.birth_date)}</span>}
            <span className="mono">{r.id_number ?? r.id_number_masked}</span>
            {r.phone && <span>{r.phone}</span>}
          </div>
          <div className="task-meta">
            {r.address && <span>{r.address}</span>}
            {(r.org_name || r.org_code) && <span>管理机构：{r.org_name ?? orgName(r.org_code)}</span>}
          </div>
        </div>
        <div className="task-badges">
          {conditionNames(r).map((c) => (
            <Badge key={c} kind="badge-info">
              {c}
            </Badge>
          ))}
        </div>
      </div>
    </section>
  );
}

export default function ResidentPage() {
  const { id = '' } = useParams();
  const state = useAsync(() => residents.get(id), [id]);
  const r = state.data;
  const extraObs = useAsync(
    () => (r && !r.observations ? residents.observations(id).catch(() => [] as Observation[]) : Promise.resolve([] as Observation[])),
    [r, id],
  );
  const obs = r?.observations ?? extraObs.data ?? [];

  if (state.loading && !r) return <Loading text="正在加载居民档案…" />;
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (!r) return <Empty title="居民不存在" />;

  const followUps = [...(r.follow_ups ?? [])].sort((a, b) => String(b.at ?? b.done_at ?? b.due_on ?? '').localeCompare(String(a.at ?? a.done_at ?? a.due_on ?? '')));

  return (
    <div className="page">
      <Header r={r} />
      <div className="grid-2">
        <section className="card">
          <h2>风险分层</h2>
          {!r.risk_levels?.length ? (
            <p className="muted">暂无风险评估</p>
          ) : (
            <ul className="comments">
              {r.risk_levels.map((x, i) => {
                const reasons = x.reasons ?? x.reason;
                return (
                  <li key={i}>
                    <div className="row">
                      <strong>{label(DISEASES, x.disease)}</strong>
                      <Badge kind={riskClass(x.level ?? x.risk_level)}>{label(RISK_LEVELS, x.level ?? x.risk_level)}</Badge>
                      {x.decided_at && <span className="muted">{formatDateTime(x.decided_at)}</span>}
                    </div>
                    {reasons && <div className="timeline-data">依据：{Array.isArray(reasons) ? reasons.join('；') : reasons}</div>}
                  </li>
                );
              })}
            </ul>
          )}
          {r.medications?.length ? (
            <>
              <h3>当前用药</h3>
              <ul>
                {r.medications.map((m, i) => (
                  <li key={i}>{[m.name, m.dose, m.frequency].filter(Boolean).join(' ')}</li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
        <section className="card">
          <h2>管理方案</h2>
          {!r.care_plan ? (
            <p className="muted">暂无管理方案</p>
          ) : (
            <dl className="kv">
              {Object.entries(r.care_plan)
                .filter(([k]) => k !== 'id')
                .map(([k, v]) => (
                  <div className="kv-row" key={k}>
                    <dt>{CARE_PLAN_KEYS[k] ?? k}</dt>
                    <dd>{k.endsWith('_at') ? formatDateTime(v as string) : text(v)}</dd>
                  </div>
                ))}
            </dl>
          )}
        </section>
      </div>
      <section className="card">
        <h2>指标趋势</h2>
        <Trends obs={obs} />
        {obs.length > 0 && (
          <details>
            <summary>全部检测记录（{obs.length}）</summary>
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th>时间</th>
                    <th>项目</th>
                    <th>结果</th>
                    <th>来源</th>
                  </tr>
                </thead>
                <tbody>
                  {[...obs]
                    .sort((a, b) => b.effective_at.localeCompare(a.effective_at))
                    .map((o, i) => (
                      <tr key={o.id ?? i}>
                        <td>{formatDateTime(o.effective_at)}</td>
                        <td>{LOINC_NAMES[o.code] ?? o.code}</td>
                        <td>
                          {o.value} {o.unit}
                        </td>
                        <td>{o.source ?? '—'}</td>
                      </tr>
                    ))}
                </tbody>
              </table>
            </div>
          </details>
        )}
      </section>
      <div className="grid-2">
        <section className="card">
          <h2>随访记录</h2>
          {!followUps.length ? (
            <p className="muted">暂无随访记录</p>
          ) : (
            <ol className="timeline">
              {followUps.map((f, i) => (
                <li key={i}>
                  <div className="timeline-head">
                    <strong>{formatDate(f.at ?? f.done_at ?? f.due_on)}</strong>
                    {f.disease && <span>{label(DISEASES, f.disease)}</span>}
                    {f.classification && <Badge>{f.classification}</Badge>}
                    {f.status && <span className="muted">{f.status}</span>}
                  </div>
                  <div className="timeline-data">{[f.action, f.by].filter(Boolean).join(' · ')}</div>
                </li>
              ))}
            </ol>
          )}
        </section>
        <section className="card">
          <h2>相关流程</h2>
          {!r.instances?.length ? (
            <p className="muted">暂无相关流程</p>
          ) : (
            <ul className="comments">
              {r.instances.map((i) => (
                <li key={i.id}>
                  <Link to={`/instances/${i.id}`}>{i.process_name ?? label(PROCESS_NAMES, i.process_id)} #{i.id}</Link>{' '}
                  <Badge kind={`status-${i.status}`}>{label(INSTANCE_STATUS, i.status)}</Badge>{' '}
                  <span className="muted">{formatDateTime(i.started_at)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}

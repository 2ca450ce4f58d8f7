import { useMemo } from 'react';
import { Link, useParams } from 'react-router-dom';
import type { EChartsCoreOption } from 'echarts/core';
import { residents } from '../api/endpoints';
import { ApiError } from '../api/client';
import type { ChronicSummary, HealthRecord, KeyValue, Observation, RecordCondition, RecordRiskLevel } from '../api/types';
import { Badge, Empty, ErrorBox, Loading } from '../components/common';
import Chart from '../components/Chart';
import CarePlans from '../components/record/CarePlans';
import FollowUpTimeline from '../components/record/FollowUpTimeline';
import HomeReadings from '../components/record/HomeReadings';
import RiskReassess from '../components/record/RiskReassess';
import ResidentReferrals from './referral/ResidentReferrals';
import ResidentConsults from './consult/ResidentConsults';
import ResidentContract from './contracting/ResidentContract';
import ResidentPrescriptions from './pharmacy/ResidentPrescriptions';
import ResidentAnticoag from './anticoag/ResidentAnticoag';
import NetworkRecord from '../components/network_record/NetworkRecord';
import PortalQrButton from '../portal/PortalQrButton';
import { useAsync } from '../lib/useAsync';
import { DISEASES, INSTANCE_STATUS, PROCESS_NAMES, RISK_LEVELS, SEX, label, riskClass, sourceLabel } from '../lib/labels';
import { vocabMap } from '../lib/vocabulary';
import { LOINC, LOINC_NAMES, seriesOf } from '../lib/observations';
import { FREQUENCIES, TOPICS, valueText } from '../lib/carePlan';
import { telHref } from '../lib/followUps';
import { bpBasisText } from '../lib/riskBasis';
import { formatDate, formatDateTime } from '../lib/time';
import { useOrgNames } from '../lib/orgs';


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

const DIRECTION_ARROW: Record<string, { text: string; title: string }> = {
  up: { text: '↑', title: '较上次升高' },
  down: { text: '↓', title: '较上次降低' },
  flat: { text: '→', title: '与上次持平' },
};

const FLAG_SOURCES: Record<string, string> = { his: 'HIS', public_health: '公卫系统', insurance: '医保' };

const CONDITION_STATUS = vocabMap('condition_status');

const ENCOUNTER_KINDS = vocabMap('encounter_kind');

/** Which readings the grade used (issue 12.1): the untreated BP with its dates, or who re-assessed it and why. */
function RiskBasisLine({ level }: { level: RecordRiskLevel }) {
  const text = bpBasisText(level.basis);
  return (
    <>
      {text && <div className="timeline-data" data-testid="risk-basis">{text}</div>}
      {level.source === 'clinician' && (
        <div className="timeline-data" data-testid="risk-reassessed">
          {level.source_label ?? '医生复核'}：{level.reassessed_reason}
          {level.proposed_level && level.proposed_level !== level.level && `（自动分层建议：${level.proposed_label ?? label(RISK_LEVELS, level.proposed_level)}）`}
        </div>
      )}
    </>
  );
}

function conditionText(c: RecordCondition): string {
  return c.disease_name ?? (c.disease ? label(DISEASES, c.disease) : '') ?? '';
}

function Header({ r }: { r: HealthRecord }) {
  const orgName = useOrgNames();
  const s = r.summary ?? {};
  const diseases = [...new Set([...(s.enrolments ?? []).map((e) => e.disease_name ?? label(DISEASES, e.disease)), ...(s.diagnoses ?? []).map(conditionText).filter(Boolean)])];
  const tel = telHref(r.phone);
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
            <span className="mono">{r.id_number}</span>
            {r.phone && (tel ? <a href={tel} title="拨打电话">{r.phone}</a> : <span>{r.phone}</span>)}
          </div>
          <div className="task-meta">
            {r.address && <span>{r.address}</span>}
            {(r.org_name || r.org_code) && <span>管理机构：{r.org_name ?? orgName(r.org_code)}</span>}
            {r.family_doctor_name && <span>家庭医生：{r.family_doctor_name}</span>}
            {r.id !== undefined && <PortalQrButton residentId={r.id} />}
          </div>
        </div>
        <div className="task-badges">
          {diseases.map((c) => (
            <Badge key={c} kind="badge-info">
              {c}
            </Badge>
          ))}
          {(s.referral_flags ?? []).length > 0 && (
            <Badge kind="badge-danger" title={(s.referral_flags ?? []).map((f) => `${label(FLAG_SOURCES, f.source)}：${f.reason ?? ''}`).join('；')}>
              转诊标记
            </Badge>
          )}
        </div>
      </div>
      {(s.open_emergencies ?? []).map((e) => (
        <div key={e.id} className="alert alert-error" data-testid="open-emergency">
          紧急转诊进行中：{e.status_label ?? ''}{e.referral_no ? `（转诊单号 ${e.referral_no}）` : ''}
          {e.to_org_name ? ` · 接收：${e.to_org_name}` : ''}
          {e.reason ? ` · ${e.reason}` : ''}
          {e.requested_at ? `（${formatDateTime(e.requested_at)} 发起）` : ''}
        </div>
      ))}
    </section>
  );
}

function KeyValues({ values }: { values: Record<string, KeyValue> }) {
  const rows = Object.values(values);
  if (!rows.length) return <p className="muted">暂无检测指标</p>;
  return (
    <div className="table-wrap">
      <table className="table table-compact" data-testid="key-values">
        <thead>
          <tr>
            <th>指标</th>
            <th>最近值</th>
            <th>时间</th>
            <th>近期变化</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((k) => {
            const arrow = k.direction ? DIRECTION_ARROW[k.direction] : null;
            return (
              <tr key={k.code}>
                <td>{LOINC_NAMES[k.code] ?? k.name ?? k.code}</td>
                <td>
                  <strong>{k.latest?.value ?? '—'}</strong> {k.unit && k.unit !== '{INR}' ? k.unit.replace('mm[Hg]', 'mmHg') : ''}{' '}
                  {arrow && (
                    <span title={arrow.title} className="muted">
                      {arrow.text}
                    </span>
                  )}
                </td>
                <td className="muted">
                  {formatDate(k.latest?.at)}
                  {k.latest?.source ? ` · ${sourceLabel(k.latest.source)}` : ''}
                </td>
                <td className="muted mono">{(k.trend ?? []).map((p) => p.value).join(' → ')}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function nextFollowUpText(v: ChronicSummary['next_follow_up']): string | null {
  if (!v) return null;
  if (typeof v === 'string') return formatDate(v);
  const o = v as Record<string, unknown>;
  const due = (o.due_on ?? o.next_due_on ?? o.at) as string | undefined;
  return [due && formatDate(due), o.disease && label(DISEASES, String(o.disease)), o.overdue ? '（已逾期）' : ''].filter(Boolean).join(' ');
}

function Summary({ r, onChanged }: { r: HealthRecord; onChanged: () => void }) {
  const s = r.summary ?? {};
  const next = nextFollowUpText(s.next_follow_up);
  return (
    <section className="card" data-testid="chronic-summary">
      <h2>慢病概要</h2>
      <div className="grid-2">
        <div>
          <h3>诊断</h3>
          {!(s.enrolments?.length || s.diagnoses?.length) ? (
            <p className="muted">暂无慢病诊断</p>
          ) : (
            <ul className="plain-list">
              {(s.enrolments ?? []).map((e) => (
                <li key={`e-${e.disease}`}>
                  <strong>{e.disease_name ?? label(DISEASES, e.disease)}</strong> <span className="mono muted">{e.icd10}</span>{' '}
                  <span className="muted">
                    已建档{e.diagnosed_on ? ` · 诊断于 ${formatDate(e.diagnosed_on)}` : ''}
                    {e.source ? ` · ${sourceLabel(e.source)}` : ''}
                  </span>
                </li>
              ))}
              {(s.diagnoses ?? [])
                .filter((c) => !(s.enrolments ?? []).some((e) => e.icd10 === c.icd10))
                .map((c, i) => (
                  <li key={`d-${c.id ?? i}`}>
                    <strong>{conditionText(c) || c.icd10}</strong> <span className="mono muted">{c.icd10}</span>{' '}
                    <span className="muted">
                      {label(CONDITION_STATUS, c.status)}
                      {c.onset_on ? ` · ${formatDate(c.onset_on)}` : ''}
                      {c.source ? ` · ${sourceLabel(c.source)}` : ''}
                    </span>
                  </li>
                ))}
            </ul>
          )}
          <h3>并发症</h3>
          {!s.complications?.length ? (
            <p className="muted">暂无并发症记录</p>
          ) : (
            <ul className="plain-list">
              {s.complications.map((c, i) => (
                <li key={c.id ?? i}>
                  {conditionText(c) || c.icd10} <span className="mono muted">{c.icd10}</span> <span className="muted">{formatDate(c.onset_on)}</span>
                </li>
              ))}
            </ul>
          )}
          <h3>当前用药</h3>
          {!s.current_medications?.length ? (
            <p className="muted">暂无在用药物</p>
          ) : (
            <ul className="plain-list" data-testid="current-medications">
              {s.current_medications.map((m, i) => (
                <li key={m.id ?? i}>
                  {[m.drug_name ?? m.drug ?? m.name, m.dose, m.frequency && (FREQUENCIES[m.frequency] ?? m.frequency)].filter(Boolean).join(' ')}{' '}
                  <span className="muted">
                    {m.started_on ? `自 ${formatDate(m.started_on)}` : ''}
                    {m.source ? ` · ${sourceLabel(m.source)}` : ''}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div>
          <h3>风险分层</h3>
          {!s.risk_levels?.length ? (
            <p className="muted">暂无风险评估</p>
          ) : (
            <ul className="comments" data-testid="risk-levels">
              {s.risk_levels.map((x) => {
                const reasons = Array.isArray(x.reason) ? x.reason.join('；') : x.reason;
                return (
                  <li key={x.disease}>
                    <div className="row">
                      <strong>{x.disease_name ?? label(DISEASES, x.disease)}</strong>
                      <Badge kind={riskClass(x.level)}>{x.label ?? label(RISK_LEVELS, x.level)}</Badge>
                      {x.previous_level && x.previous_level !== x.level && <span className="muted">原为{label(RISK_LEVELS, x.previous_level)}</span>}
                      {x.assessed_at && <span className="muted">{formatDateTime(x.assessed_at)}</span>}
                    </div>
                    {reasons && <div className="timeline-data">依据：{reasons}</div>}
                    <RiskBasisLine level={x} />
                    <RiskReassess residentId={r.id} level={x} onChanged={onChanged} />
                  </li>
                );
              })}
            </ul>
          )}
          <dl className="kv">
            <div className="kv-row">
              <dt>下次随访</dt>
              <dd>{next ?? <span className="muted">见随访记录</span>}</dd>
            </div>
            <div className="kv-row">
              <dt>转诊标记</dt>
              <dd>
                {!s.referral_flags?.length
                  ? '无'
                  : s.referral_flags.map((f, i) => (
                      <div key={i}>
                        <Badge kind="badge-danger">{label(FLAG_SOURCES, f.source)}</Badge> {f.reason ?? ''} <span className="muted">{formatDate(f.flagged_at)}</span>
                      </div>
                    ))}
              </dd>
            </div>
            <div className="kv-row">
              <dt>进行中的流程</dt>
              <dd>
                {!s.open_instances?.length
                  ? '无'
                  : s.open_instances.map((i) => (
                      <div key={i.id}>
                        <Link to={`/instances/${i.id}`}>
                          {i.process_name ?? label(PROCESS_NAMES, i.process_id)} #{i.id}
                        </Link>{' '}
                        <Badge kind={`status-${i.status}`}>{label(INSTANCE_STATUS, i.status)}</Badge>{' '}
                        <span className="muted">{formatDate(i.started_at)}</span>
                      </div>
                    ))}
              </dd>
            </div>
          </dl>
        </div>
      </div>
      <h3>关键指标</h3>
      <KeyValues values={s.key_values ?? {}} />
    </section>
  );
}

const TREND_CODES = [LOINC.sbp, LOINC.dbp, LOINC.fpg, LOINC.hba1c];

/** One series per code from `observations?code=` (synonym codes folded in); null when the endpoint fails. */
function useTrendObservations(id: string) {
  return useAsync(async (): Promise<Observation[] | null> => {
    try {
      const lists = await Promise.all(TREND_CODES.map((code) => residents.observations(id, code, 200)));
      return lists.flatMap((list, i) => list.map((o) => ({ ...o, code: TREND_CODES[i] })));
    } catch {
      return null;
    }
  }, [id]);
}

function Education({ id }: { id: string }) {
  const state = useAsync(() => residents.education(id), [id]);
  if (state.loading && !state.data) return <Loading />;
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (!state.data?.length) return <Empty title="暂无推送的健康教育" />;
  return (
    <ul className="comments" data-testid="education">
      {state.data.map((p) => (
        <li key={p.id}>
          <div className="row">
            <strong>{p.title}</strong>
            {p.topic && <span className="muted">{TOPICS[p.topic] ?? p.topic}</span>}
            <Badge kind={p.read_at ? 'badge-ok' : 'badge-warn'}>{p.read_at ? '已读' : '未读'}</Badge>
          </div>
          <div className="timeline-data">
            {formatDateTime(p.pushed_at)} 推送{p.pushed_by_name ? `（${p.pushed_by_name}）` : ''}
            {p.read_at ? ` · ${formatDateTime(p.read_at)} 阅读` : ''}
            {p.reason ? ` · ${p.reason}` : ''}
          </div>
          {p.summary && <div className="timeline-data">{p.summary}</div>}
        </li>
      ))}
    </ul>
  );
}

// what connectors/pacs stores (KINDS: imaging_study, document) and older feeds' words; never the stored code itself
const LINK_KINDS: Record<string, string> = {
  imaging_study: '影像检查', study: '影像', imaging: '影像', pacs: '影像', document: '病历文书', emr: '病历文书', report: '报告',
};
const LINK_SYSTEMS: Record<string, string> = { pacs: 'PACS 影像系统', emr: '电子病历系统', his: '医院信息系统', lis: '检验系统' };

function Links({ id }: { id: string }) {
  const state = useAsync(() => residents.links(id), [id]);
  if (state.loading && !state.data) return <Loading />;
  if (state.error) {
    if (state.error instanceof ApiError && state.error.status === 403) return <p className="muted">您的角色不能查看影像与病历链接。</p>;
    return <ErrorBox error={state.error} onRetry={state.reload} />;
  }
  if (!state.data?.length) return <Empty title="暂无影像与病历" />;
  return (
    <ul className="comments" data-testid="record-links">
      {state.data.map((l) => (
        <li key={l.id}>
          <div className="row">
            <Badge kind="badge-info">{(l.kind && LINK_KINDS[l.kind]) || '外部记录'}</Badge>
            <strong>{l.title ?? l.external_id}</strong>
            {l.modality && <span className="mono muted">{l.modality}</span>}
            <span className="muted">{formatDateTime(l.performed_at)}</span>
            {l.system && <span className="muted">{LINK_SYSTEMS[l.system] ?? '外部系统'}</span>}
            <span className="spacer" />
            {l.viewer_url && (
              <a className="btn btn-small" href={l.viewer_url} target="_blank" rel="noopener noreferrer">
                查看
              </a>
            )}
          </div>
          {l.report_text && (
            <details>
              <summary>报告</summary>
              <div className="pre-wrap timeline-data">{l.report_text}</div>
            </details>
          )}
        </li>
      ))}
    </ul>
  );
}

function RecordDetails({ r, obs }: { r: HealthRecord; obs: Observation[] }) {
  const orgName = useOrgNames();
  const factors = Object.entries(r.risk_factors ?? {});
  return (
    <section className="card">
      <h2>档案明细</h2>
      <details>
        <summary>近期检测记录（{obs.length}）</summary>
        {obs.length ? (
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
                      <td>{LOINC_NAMES[o.code] ?? (o as { name?: string }).name ?? o.code}</td>
                      <td>
                        {o.value} {o.unit && o.unit !== '{INR}' ? o.unit.replace('mm[Hg]', 'mmHg') : ''}
                      </td>
                      <td>{o.source ? sourceLabel(o.source) : '—'}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p className="muted">暂无检测记录</p>
        )}
      </details>
      <details>
        <summary>就诊记录（{r.encounters?.length ?? 0}）</summary>
        {r.encounters?.length ? (
          <ul className="plain-list">
            {r.encounters.map((e, i) => (
              <li key={e.id ?? i}>
                {formatDateTime(e.started_at)} · {label(ENCOUNTER_KINDS, e.kind)} · {e.org_name ?? (e.org_code ? orgName(e.org_code) : '')}{' '}
                <span className="muted">
                  {Array.isArray(e.diagnoses) ? (e.diagnoses as unknown[]).map(String).join('、') : ''} {sourceLabel(e.source)}
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">暂无就诊记录</p>
        )}
      </details>
      <details>
        <summary>危险因素（{factors.length}）</summary>
        {factors.length ? (
          <dl className="kv">
            {factors.map(([k, v]) => (
              <div className="kv-row" key={k}>
                <dt>{RISK_FACTORS[k] ?? k}</dt>
                <dd>
                  {valueText(v.value)} <span className="muted">{sourceLabel(v.source)}</span>
                </dd>
              </div>
            ))}
          </dl>
        ) : (
          <p className="muted">暂无危险因素记录</p>
        )}
      </details>
    </section>
  );
}

const RISK_FACTORS = vocabMap('risk_factor');

export default function ResidentPage() {
  const { id = '' } = useParams();
  const state = useAsync(() => residents.record(id), [id]);
  const r = state.data;
  const trendObs = useTrendObservations(id);
  // trends are the clinic's values; the resident's own readings have their own section
  const obs = (trendObs.data ?? r?.observations ?? []).filter((o) => !o.home);

  if (state.loading && !r) return <Loading text="正在加载居民档案…" />;
  if (state.error) return <ErrorBox error={state.error} onRetry={state.reload} />;
  if (!r) return <Empty title="居民不存在" />;

  return (
    <div className="page">
      <Header r={r} />
      <Summary r={r} onChanged={state.reload} />
      <ResidentContract residentId={id} />
      <ResidentAnticoag residentId={id} />
      <ResidentReferrals residentId={id} />
      <ResidentConsults residentId={id} />
      <ResidentPrescriptions residentId={id} />
      <NetworkRecord residentId={id} />
      <section className="card">
        <h2>指标趋势</h2>
        {trendObs.loading && !trendObs.data ? <Loading text="正在加载趋势…" /> : <Trends obs={obs} />}
      </section>
      <section className="card">
        <h2>居家自测</h2>
        <HomeReadings residentId={id} items={r.summary?.home_readings ?? []} onAdded={state.reload} />
      </section>
      <div className="grid-2">
        <section className="card">
          <h2>管理方案</h2>
          <CarePlans residentId={id} />
        </section>
        <section className="card">
          <h2>随访记录</h2>
          <FollowUpTimeline residentId={id} />
        </section>
      </div>
      <div className="grid-2">
        <section className="card">
          <h2>健康教育</h2>
          <Education id={id} />
        </section>
        <section className="card">
          <h2>影像与病历</h2>
          <Links id={id} />
        </section>
      </div>
      <RecordDetails r={r} obs={r.observations ?? []} />
    </div>
  );
}

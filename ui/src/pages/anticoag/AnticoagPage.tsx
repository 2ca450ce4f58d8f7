import { useMemo } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { organizations } from '../../api/endpoints';
import { Badge, Empty, ErrorBox, Loading } from '../../components/common';
import { useAuth } from '../../auth';
import { canSeeTtrDistribution } from '../../lib/roles';
import { formatDate } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import Chart from '../../components/Chart';
import { anticoag, DRUGS, pct, ttrKind, type Episode, type TtrDistribution } from './api';

type Tab = 'list' | 'ttr';

/**
 * 抗凝管理: the anticoagulant episodes in the caller's scope (patient, drug, indication, next check — overdue in red —,
 * last INR and TTR), filtered by drug, organisation and overdue; and, for pharmacists and supervisors, the TTR
 * distribution of the organisation (histogram, bands, per township). Phone-first: one column of cards.
 */
export default function AnticoagPage() {
  const { me } = useAuth();
  const roles = me?.roles ?? [];
  const [params, setParams] = useSearchParams();
  const tab = (params.get('tab') as Tab | null) ?? 'list';
  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const showTtr = canSeeTtrDistribution(roles);
  return (
    <div className="page page-narrow anticoag-page">
      <h1>抗凝管理</h1>
      {showTtr && (
        <nav className="tabs" role="tablist" aria-label="功能">
          {([['list', '监测患者'], ['ttr', 'TTR分布']] as [Tab, string][]).map(([key, label]) => (
            <button key={key} type="button" role="tab" aria-selected={tab === key} className={tab === key ? 'tab active' : 'tab'}
              onClick={() => setParam('tab', key === 'list' ? '' : key)} data-testid={`tab-${key}`}>{label}</button>
          ))}
        </nav>
      )}
      {tab === 'ttr' && showTtr ? <TtrTab orgCode={params.get('org') ?? ''} onOrg={(v) => setParam('org', v)} />
        : <ListTab params={params} setParam={setParam} />}
    </div>
  );
}

function useOrgOptions() {
  const orgs = useAsync(() => organizations.list(), []);
  return useMemo(() => (orgs.data ?? []).filter((o) => o.level === 'township' || o.level === 'county'), [orgs.data]);
}

function ListTab({ params, setParam }: { params: URLSearchParams; setParam: (k: string, v: string) => void }) {
  const drug = params.get('drug') ?? '';
  const org = params.get('org') ?? '';
  const overdue = params.get('overdue') === '1';
  const list = useAsync(() => anticoag.episodes({ status: 'active', ...(drug ? { drug } : {}), ...(org ? { org_code: org } : {}), ...(overdue ? { overdue: true } : {}) }), [drug, org, overdue]);
  const orgs = useOrgOptions();
  return (
    <>
      <div className="filters" aria-label="筛选">
        <label className="field">
          <span className="field-label">药物</span>
          <select value={drug} onChange={(e) => setParam('drug', e.target.value)} data-testid="filter-drug">
            <option value="">全部</option>
            {DRUGS.map(([code, name]) => <option key={code} value={code}>{name}</option>)}
          </select>
        </label>
        <label className="field">
          <span className="field-label">机构</span>
          <select value={org} onChange={(e) => setParam('org', e.target.value)} data-testid="filter-org">
            <option value="">全部</option>
            {orgs.map((o) => <option key={o.code} value={o.code ?? ""}>{o.name}</option>)}
          </select>
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={overdue} onChange={(e) => setParam('overdue', e.target.checked ? '1' : '')} data-testid="filter-overdue" /> 只看逾期
        </label>
      </div>
      {list.loading && <Loading />}
      <ErrorBox error={list.error} onRetry={list.reload} />
      {list.data && list.data.items.length === 0 && <Empty title={overdue ? '没有逾期未查的患者' : '暂无抗凝监测患者'} />}
      <ul className="card-list" data-testid="episodes">
        {!list.loading && list.data?.items.map((e) => <EpisodeCard key={e.id} e={e} />)}
      </ul>
    </>
  );
}

function EpisodeCard({ e }: { e: Episode }) {
  return (
    <li className="card" data-testid="episode-card">
      <div className="page-head">
        <Link to={`/anticoag/${e.id}`}><strong>{e.resident_name}</strong></Link>
        <span>{e.drug_name}</span>
      </div>
      <div className="muted">{e.org_name} · {indicationLabel(e.indication)} · {e.phase_label}</div>
      <div>
        下次检查：{e.next_due ? <span className={e.overdue ? 'text-danger' : ''} data-testid="next-due">{formatDate(e.next_due)}{e.overdue ? '（已逾期）' : ''}</span> : '—'}
      </div>
      {e.drug === 'warfarin' ? (
        <div>
          最近INR：{e.last_inr !== null && e.last_inr !== undefined ? <span className={e.last_inr_in_range === false ? 'text-danger' : ''}>{e.last_inr}（{formatDate(e.last_inr_on)}）</span> : '—'}
          {' · '}TTR <Badge kind={ttrKind(e.ttr)}>{pct(e.ttr)}</Badge>
        </div>
      ) : (
        <div>当前剂量：{e.dose_band_label ?? (e.dose_mg ? `${e.dose_mg} mg` : '—')}{e.crcl_ml_min ? ` · CrCl ${e.crcl_ml_min.toFixed(0)} mL/min` : ''}</div>
      )}
    </li>
  );
}

const INDICATIONS: Record<string, string> = {
  NVAF: '非瓣膜性房颤', VTE_TREATMENT: '静脉血栓治疗', DVT_TREATMENT: '深静脉血栓治疗', VTE: '静脉血栓',
  MECHANICAL_VALVE: '机械瓣膜', BIOPROSTHETIC_VALVE: '生物瓣膜', VTE_PROPHYLAXIS_THA: '髋关节置换后预防',
  VTE_PROPHYLAXIS_TKA: '膝关节置换后预防', VTE_PROPHYLAXIS_HIGH_RISK: '静脉血栓预防（高危）',
  VTE_PROPHYLAXIS_MODERATE_RISK: '静脉血栓预防（中危）', UA_NSTEMI: '不稳定心绞痛/非ST段抬高心梗',
};

export function indicationLabel(code: string): string {
  return INDICATIONS[code] ?? '其他适应证';
}

function TtrTab({ orgCode, onOrg }: { orgCode: string; onOrg: (v: string) => void }) {
  const dist = useAsync(() => anticoag.ttr(orgCode || undefined), [orgCode]);
  const orgs = useOrgOptions();
  const d = dist.data;
  return (
    <>
      <label className="field">
        <span className="field-label">机构</span>
        <select value={orgCode} onChange={(e) => onOrg(e.target.value)} data-testid="ttr-org">
          <option value="">本人管辖范围</option>
          {orgs.map((o) => <option key={o.code} value={o.code ?? ""}>{o.name}</option>)}
        </select>
      </label>
      {dist.loading && <Loading />}
      <ErrorBox error={dist.error} onRetry={dist.reload} />
      {d && <TtrFigures d={d} />}
    </>
  );
}

function TtrFigures({ d }: { d: TtrDistribution }) {
  const option = useMemo(() => ({
    grid: { left: 36, right: 12, top: 24, bottom: 48 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: d.histogram.map((b) => b.label), axisLabel: { rotate: 45, fontSize: 10 }, name: 'TTR' },
    yAxis: { type: 'value', minInterval: 1, name: '人数' },
    series: [{ type: 'bar', data: d.histogram.map((b) => ({ value: b.patients, itemStyle: { color: b.lo >= 65 ? '#2e7d32' : b.hi > 50 ? '#ef8c00' : '#c62828' } })) }],
  }), [d]);
  return (
    <section aria-label="TTR分布" data-testid="ttr-distribution">
      <div className="stat-row">
        <div className="stat"><div className="stat-value" data-testid="pooled-ttr">{pct(d.pooled_ttr)}</div><div className="stat-label">总体TTR（按天合计）</div></div>
        <div className="stat"><div className="stat-value">{pct(d.mean_ttr)}</div><div className="stat-label">患者平均TTR</div></div>
        <div className="stat"><div className="stat-value">{d.patients}</div><div className="stat-label">有TTR的华法林患者</div></div>
      </div>
      {d.without_ttr > 0 && <p className="muted">另有 {d.without_ttr} 名患者INR不足2次，暂不计算TTR。</p>}
      {d.patients === 0 ? <Empty title="暂无可计算TTR的患者" /> : <Chart option={option} height={260} testId="ttr-histogram" />}
      <p>
        <Badge kind="badge-danger">&lt;50%：{d.bands['<50'] ?? 0}人</Badge>{' '}
        <Badge kind="badge-warn">50–65%：{d.bands['50-65'] ?? 0}人</Badge>{' '}
        <Badge kind="badge-ok">≥65%：{d.bands['>=65'] ?? 0}人</Badge>
      </p>
      {d.by_org.length > 0 && (
        <table className="table">
          <thead><tr><th>机构</th><th>患者</th><th>总体TTR</th><th>平均TTR</th></tr></thead>
          <tbody>
            {d.by_org.map((o) => (
              <tr key={o.org_code}><td>{o.org_name}</td><td>{o.patients}</td><td>{pct(o.pooled_ttr)}</td><td>{pct(o.mean_ttr)}</td></tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="muted">TTR按Rosendaal线性插值法计算（相邻两次INR间隔超过56天不插值）。</p>
    </section>
  );
}

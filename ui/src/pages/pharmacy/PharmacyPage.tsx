import { useEffect, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { organizations, staff } from '../../api/endpoints';
import { useAuth } from '../../auth';
import { Badge, Empty, ErrorBox, Field, Loading, Pager } from '../../components/common';
import { roleNames } from '../../lib/roles';
import { formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { countdown, GRADE, prescriptions, type PrescriptionQuery, type PrescriptionRow } from './api';

type Tab = 'queue' | 'search' | 'auto' | 'privilege';
const PER_PAGE = 20;

/**
 * 审方工作台 (issue 18.2): the county review centre's queue of prescriptions under review with the 5-minute SLA
 * countdown and the graded findings (阻断/警示/提示), each linked to its review task in the inbox; and the search by
 * drug, prescriber, organisation, state and dates. Desktop first, one column on a phone.
 */
export default function PharmacyPage() {
  const [params, setParams] = useSearchParams();
  const tab = (params.get('tab') as Tab | null) ?? 'queue';
  const setTab = (t: Tab) => setParams(new URLSearchParams({ tab: t }), { replace: true });
  const { me } = useAuth();
  const admin = (me?.roles ?? []).includes('county_admin');
  const tabs: [Tab, string][] = [['queue', '待审处方'], ['search', '处方查询'], ['auto', '自动通过设置'],
    ...(admin ? [['privilege', '处方权管理'] as [Tab, string]] : [])];
  return (
    <div className="page pharmacy-page">
      <h1>审方工作台</h1>
      <nav className="tabs" role="tablist" aria-label="功能">
        {tabs.map(([key, label]) => (
          <button key={key} type="button" role="tab" aria-selected={tab === key} className={tab === key ? 'tab active' : 'tab'}
            onClick={() => setTab(key)} data-testid={`tab-${key}`}>{label}</button>
        ))}
      </nav>
      {tab === 'queue' && <Queue />}
      {tab === 'search' && <Search />}
      {tab === 'auto' && <AutoPass canEdit={(me?.roles ?? []).some((r) => r === 'county_admin' || r === 'pharmacist')} />}
      {tab === 'privilege' && admin && <Privileges />}
    </div>
  );
}

function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  return now;
}

function Queue() {
  const rows = useAsync(() => prescriptions.search({ state: 'reviewing', per_page: 100 }), []);
  const tasks = useAsync(() => prescriptions.reviewTasks(), []);
  const now = useNow();
  // when this answer arrived (device clock): the countdown runs from the server's seconds left at that moment
  const fetchedAt = useMemo(() => Date.now(), [rows.data]);
  if (rows.loading) return <Loading />;
  if (rows.error) return <ErrorBox error={rows.error} onRetry={rows.reload} />;
  const items = [...(rows.data?.items ?? [])].sort((a, b) => (a.review_seconds_left ?? Infinity) - (b.review_seconds_left ?? Infinity));
  if (!items.length) return <Empty title="暂无待审处方" />;
  return (
    <div className="rx-queue" data-testid="rx-queue">
      <p className="muted">门诊处方审方时限 5 分钟，住院 15 分钟；按剩余时间排序。</p>
      <button type="button" className="btn btn-small" onClick={() => { rows.reload(); tasks.reload(); }}>刷新</button>
      <ul className="card-list">
        {items.map((row) => {
          const clock = countdown(row.review_seconds_left, fetchedAt, now);
          const taskId = row.instance_id != null ? tasks.data?.get(row.instance_id) : undefined;
          return (
            <li key={row.id} className="card" data-testid="rx-queue-item">
              <div className="card-title">
                <Link to={`/pharmacy/prescriptions/${row.id}`}>{row.resident_name ?? '居民'} · {row.summary}</Link>
                {' '}<Badge kind={GRADE[row.grade]?.[1]}>{GRADE[row.grade]?.[0] ?? row.grade_label}</Badge>
                {clock && <Badge kind={clock.late ? 'badge-danger' : 'badge-info'}><span data-testid="sla">{clock.text}</span></Badge>}
                {row.escalated && <Badge kind="badge-danger">已超时升级</Badge>}
              </div>
              <div className="muted">{row.org_name} · 开方医生 {row.prescriber} · {row.diagnosis} · 第{row.version}版 · {formatDateTime(row.received_at)}</div>
              <Findings findings={row.findings} />
              <div className="actions">
                {taskId ? <Link className="btn btn-primary btn-small" to={`/tasks/${taskId}`} data-testid="open-review">处理审方</Link>
                  : <span className="muted">审方任务已由其他药师处理中</span>}
                {' '}<Link className="btn btn-small" to={`/pharmacy/prescriptions/${row.id}`}>处方详情</Link>
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

export function Findings({ findings }: { findings: PrescriptionRow['findings'] }) {
  if (!findings.length) return <p className="muted">自动审核未发现问题</p>;
  return (
    <ul className="findings" data-testid="findings">
      {findings.map((f, i) => (
        <li key={`${f.code}-${i}`}>
          <Badge kind={GRADE[f.grade]?.[1]}>{GRADE[f.grade]?.[0] ?? f.grade_label}</Badge> {f.message}
        </li>
      ))}
    </ul>
  );
}

function Search() {
  const options = useAsync(() => prescriptions.options(), []);
  const orgs = useAsync(() => organizations.list(), []);
  const [form, setForm] = useState<PrescriptionQuery>({});
  const [query, setQuery] = useState<PrescriptionQuery>({ page: 1 });
  const result = useAsync(() => prescriptions.search({ ...query, per_page: PER_PAGE }), [JSON.stringify(query)]);
  const set = (key: keyof PrescriptionQuery) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  return (
    <div className="rx-search">
      <form className="filters" onSubmit={(e) => { e.preventDefault(); setQuery({ ...form, page: 1 }); }} data-testid="rx-search-form">
        <Field label="药品">
          <select value={form.drug ?? ''} onChange={set('drug')} data-testid="f-drug">
            <option value="">全部</option>
            {options.data?.drugs.map((d) => <option key={d.code} value={d.code}>{d.label}</option>)}
          </select>
        </Field>
        <Field label="开方医生">
          <select value={form.prescriber ?? ''} onChange={set('prescriber')} data-testid="f-prescriber">
            <option value="">全部</option>
            {options.data?.prescribers.map((name) => <option key={name} value={name}>{name}</option>)}
          </select>
        </Field>
        <Field label="开方机构">
          <select value={form.org_code ?? ''} onChange={set('org_code')} data-testid="f-org">
            <option value="">全部</option>
            {orgs.data?.map((o) => <option key={o.code} value={o.code}>{o.name}</option>)}
          </select>
        </Field>
        <Field label="处方状态">
          <select value={form.state ?? ''} onChange={set('state')} data-testid="f-state">
            <option value="">全部</option>
            {options.data?.states.map((s) => <option key={s.code} value={s.code}>{s.label}</option>)}
          </select>
        </Field>
        <Field label="开始日期"><input type="date" value={form.from ?? ''} onChange={set('from')} /></Field>
        <Field label="结束日期"><input type="date" value={form.to ?? ''} onChange={set('to')} /></Field>
        <button type="submit" className="btn btn-primary" data-testid="rx-search">查询</button>
      </form>
      {result.loading && <Loading />}
      {result.error ? <ErrorBox error={result.error} onRetry={result.reload} /> : null}
      {result.data && (result.data.items.length === 0 ? <Empty title="没有符合条件的处方" /> : (
        <>
          <table className="table" data-testid="rx-results">
            <thead><tr><th>开具时间</th><th>居民</th><th>处方</th><th>开方机构</th><th>开方医生</th><th>状态</th><th>审核</th></tr></thead>
            <tbody>
              {result.data.items.map((row) => (
                <tr key={row.id}>
                  <td>{formatDateTime(row.received_at)}</td>
                  <td>{row.resident_name ?? ''}</td>
                  <td><Link to={`/pharmacy/prescriptions/${row.id}`}>{row.summary}</Link></td>
                  <td>{row.org_name}</td>
                  <td>{row.prescriber}</td>
                  <td>{row.state_label}</td>
                  <td><Badge kind={GRADE[row.grade]?.[1]}>{GRADE[row.grade]?.[0] ?? row.grade_label}</Badge></td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager page={query.page ?? 1} perPage={PER_PAGE} total={result.data.total} onPage={(page) => setQuery({ ...query, page })} />
        </>
      ))}
    </div>
  );
}

const SOURCE: Record<string, string> = { own: '本机构设置', inherited: '继承上级', default: '默认（关闭）' };

/**
 * 自动通过设置 (wave2 §3.1 step 4): per organisation and supervised drug class, whether a prescription with no finding
 * above 提示 passes without a pharmacist. Off by default; a closer organisation's own setting wins over its parent's.
 * County administrators and pharmacists switch it (audited); supervisors read it.
 */
function AutoPass({ canEdit }: { canEdit: boolean }) {
  const orgs = useAsync(() => organizations.list(), []);
  const [org, setOrg] = useState('');
  const code = org || orgs.data?.[0]?.code || '';
  const rows = useAsync(() => (code ? prescriptions.autoPass(code) : Promise.resolve([])), [code]);
  const [error, setError] = useState<unknown>(null);
  const toggle = async (drugClass: string, enabled: boolean) => {
    setError(null);
    try { await prescriptions.setAutoPass(code, drugClass, enabled); rows.reload(); } catch (e) { setError(e); }
  };
  return (
    <div className="rx-auto-pass" data-testid="rx-auto-pass">
      <p className="muted">系统审核无警示（仅有提示或无问题）的处方，只有在本机构对该药类开启“自动通过”时才不经药师审核直接通过；默认关闭，均由药师审核。下级机构未单独设置时沿用上级机构的设置。</p>
      <Field label="机构">
        <select value={code} onChange={(e) => setOrg(e.target.value)} data-testid="auto-org">
          {orgs.data?.map((o) => <option key={o.code} value={o.code}>{o.name}</option>)}
        </select>
      </Field>
      {error ? <ErrorBox error={error} /> : null}
      {rows.loading && <Loading />}
      {rows.error ? <ErrorBox error={rows.error} onRetry={rows.reload} /> : null}
      {rows.data && (
        <table className="table">
          <thead><tr><th>药品类别</th><th>自动通过</th><th>来源</th><th>最后修改</th></tr></thead>
          <tbody>
            {rows.data.map((r) => (
              <tr key={r.drug_class} data-testid={`auto-${r.drug_class}`}>
                <td>{r.class_label}</td>
                <td>
                  <label className="check">
                    <input type="checkbox" checked={r.enabled} disabled={!canEdit}
                      onChange={(e) => { void toggle(r.drug_class, e.target.checked); }} />
                    {r.enabled ? '开启' : '关闭'}
                  </label>
                </td>
                <td>{SOURCE[r.source ?? 'default']}{r.source === 'inherited' && r.from_org_name ? `（${r.from_org_name}）` : ''}</td>
                <td>{r.updated_at ? `${r.updated_by_name ?? ''} · ${formatDateTime(r.updated_at)}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

const PRESCRIBING_ROLES = ['village_doctor', 'township_doctor', 'county_specialist'] as const;

/**
 * 处方权管理 (R6a): the county administrator grants (授予处方权) or withdraws (撤销处方权, with the reason) a doctor's
 * 处方权 at their organisation; the next prescription they sign is judged with it. Audited on the server.
 */
function Privileges() {
  const [q, setQ] = useState('');
  const rows = useAsync(() => staff.list({ role: PRESCRIBING_ROLES, q: q || undefined, limit: 200 }), [q]);
  const [withdrawing, setWithdrawing] = useState<number | null>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const change = async (id: number, granted: boolean) => {
    setError(null);
    try {
      await staff.setPrivilege(id, granted, granted ? undefined : reason);
      setWithdrawing(null);
      setReason('');
      rows.reload();
    } catch (e) { setError(e); }
  };
  return (
    <div className="rx-privileges" data-testid="rx-privileges">
      <p className="muted">处方权按医生所在机构授予；撤销后该医生新开具的处方在合法性审核中被阻断，须填写撤销原因。操作均记入审计日志。</p>
      <Field label="姓名">
        <input value={q} onChange={(e) => setQ(e.target.value)} placeholder="按姓名查找" data-testid="privilege-q" />
      </Field>
      {error ? <ErrorBox error={error} /> : null}
      {rows.loading && <Loading />}
      {rows.error ? <ErrorBox error={rows.error} onRetry={rows.reload} /> : null}
      {rows.data && rows.data.length === 0 && <Empty title="没有符合条件的医生" />}
      {rows.data && rows.data.length > 0 && (
        <table className="table">
          <thead><tr><th>医生</th><th>机构</th><th>角色</th><th>处方权</th><th>操作</th></tr></thead>
          <tbody>
            {rows.data.map((u) => (
              <tr key={u.id} data-testid={`privilege-${u.id}`}>
                <td>{u.display_name}</td>
                <td>{u.org_name}</td>
                <td>{roleNames(u.roles)}</td>
                <td>{u.prescribing_privilege ? <Badge kind="badge-ok">有处方权</Badge> : <Badge kind="badge-warn">无处方权</Badge>}</td>
                <td>
                  {!u.prescribing_privilege && (
                    <button type="button" className="btn btn-small" onClick={() => { void change(u.id, true); }}>授予处方权</button>
                  )}
                  {u.prescribing_privilege && withdrawing !== u.id && (
                    <button type="button" className="btn btn-small btn-ghost" onClick={() => { setWithdrawing(u.id); setReason(''); }}>
                      撤销处方权
                    </button>
                  )}
                  {u.prescribing_privilege && withdrawing === u.id && (
                    <span className="inline-form">
                      <input value={reason} onChange={(e) => setReason(e.target.value)} placeholder="撤销原因（必填）"
                        aria-label="撤销原因" data-testid="privilege-reason" />
                      <button type="button" className="btn btn-small" disabled={!reason.trim()}
                        onClick={() => { void change(u.id, false); }}>确认撤销</button>
                      <button type="button" className="btn btn-small btn-ghost" onClick={() => setWithdrawing(null)}>取消</button>
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

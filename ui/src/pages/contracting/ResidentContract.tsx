import { Link } from 'react-router-dom';
import { Badge } from '../../components/common';
import { formatDate } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { contractApi, statusKind, yuan, type ResidentContractBrief, type ResidentContractEnded } from './api';

/** The resident record's 家庭医生签约 card: the active contract (team, cycle, packages), the package ledger
 *  (delivered / remaining per item), the next due items, a contract being signed and the last ended one, each
 *  linking to its contract page. Hidden for roles that may not read contracts. */
export default function ResidentContract({ residentId }: { residentId: string }) {
  const q = useAsync(() => contractApi.ofResident(Number(residentId)), [residentId]);
  const c = q.data;
  if (!c) return null;
  // nullable nested objects come typed loosely from the OpenAPI generator
  const active = c.active as ResidentContractBrief | null | undefined;
  const pending = c.pending as ResidentContractBrief | null | undefined;
  const ended = c.last_ended as ResidentContractEnded | null | undefined;
  return (
    <section className="card" data-testid="resident-contract">
      <div className="page-head">
        <h2>家庭医生签约</h2>
        {active && <Link className="btn btn-small" to={`/contracts/${active.contract_id}`}>查看协议</Link>}
      </div>
      {!active && !pending && <p className="muted">暂无有效签约。{ended ? '' : '可在“签约管理”中为居民发起签约。'}</p>}
      {active && (
        <>
          <p>
            <Badge kind={statusKind(active.status)}>{active.status_label}</Badge>{' '}
            {active.team_org_name}{doctorName(active) ? ` · ${doctorName(active)}` : ''} · {formatDate(active.starts_on)} 至 {formatDate(active.ends_on)}
          </p>
          <p className="muted">
            服务包：{(active.packages ?? []).map((p) => p.name).join('、') || '—'}
            {(active.amount_due_fen ?? 0) > 0 && `（个人自付 ${yuan(active.amount_due_fen)}${active.paid ? '，已缴' : '，待缴'}）`}
          </p>
          {(c.next_due ?? []).length > 0 && (
            <div data-testid="contract-next-due">
              <h3>近期应提供</h3>
              <ul className="plain-list">
                {(c.next_due ?? []).map((i) => (
                  <li key={i.item_id}>{formatDate(i.next_due_on)} 前：{i.name}（{i.kind_label}，还剩 {i.remaining} 次）</li>
                ))}
              </ul>
            </div>
          )}
          <details>
            <summary>服务台账（已完成 / 约定）</summary>
            <table className="table" data-testid="contract-ledger">
              <thead><tr><th>服务项目</th><th>已完成</th><th>剩余</th></tr></thead>
              <tbody>
                {(active.ledger ?? []).map((i) => (
                  <tr key={i.item_id}><td>{i.name}</td><td>{i.delivered} / {i.quantity}</td><td>{i.remaining}</td></tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
      {pending && (
        <p>
          <Badge kind={statusKind(pending.status)}>{pending.status_label}</Badge>{' '}
          <Link to={`/contracts/${pending.contract_id}`}>签约办理中（{pending.team_org_name}）</Link>
        </p>
      )}
      {ended && (
        <p className="muted" data-testid="contract-last-ended">
          上一周期：<Link to={`/contracts/${ended.contract_id}`}>{ended.status_label}</Link>
          {ended.ends_on && `（${formatDate(ended.ends_on)}）`}{ended.end_reason && `，${ended.end_reason}`}
        </p>
      )}
    </section>
  );
}

function doctorName(c: ResidentContractBrief): string | undefined {
  return (c.doctor as { name?: string } | null | undefined)?.name;
}

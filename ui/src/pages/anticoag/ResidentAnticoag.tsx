import { Link } from 'react-router-dom';
import { Badge } from '../../components/common';
import { formatDate } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { anticoag, pct } from './api';

/** The resident record's 抗凝治疗 card: the resident's anticoagulant episodes, each linking to its page (抗凝管理).
 *  Hidden when the resident has none. */
export default function ResidentAnticoag({ residentId }: { residentId: string }) {
  const q = useAsync(() => anticoag.episodes({ resident_id: Number(residentId) }), [residentId]);
  const items = q.data?.items ?? [];
  if (items.length === 0) return null;
  return (
    <section className="card" data-testid="resident-anticoag">
      <h2>抗凝治疗</h2>
      <ul className="plain-list">
        {items.map((e) => (
          <li key={e.id}>
            <Link to={`/anticoag/${e.id}`}>{e.drug_name}</Link> <Badge>{e.status_label}</Badge>
            {e.next_due && <> · 下次检查 <span className={e.overdue ? 'text-danger' : ''}>{formatDate(e.next_due)}{e.overdue ? '（已逾期）' : ''}</span></>}
            {e.drug === 'warfarin' && <> · TTR {pct(e.ttr)}</>}
          </li>
        ))}
      </ul>
    </section>
  );
}

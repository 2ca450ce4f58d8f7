import { Link } from 'react-router-dom';
import { Badge } from '../../components/common';
import { formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { consultApi, statusKind } from './api';

/** The resident record's 远程会诊 card: each consult with the signed diagnosis opinion and its adoption. */
export default function ResidentConsults({ residentId }: { residentId: string }) {
  const q = useAsync(() => consultApi.ofResident(Number(residentId)), [residentId]);
  if (!q.data) return null;
  return (
    <section className="card" data-testid="resident-consults">
      <div className="page-head"><h2>远程会诊</h2><Link className="btn btn-small" to={`/consults/new?resident_id=${residentId}`}>发起会诊</Link></div>
      <ul className="timeline">
        {q.data.map((c) => (
          <li key={c.id}>
            <span className="muted">{formatDateTime(c.requested_at)}</span>{' '}
            <Link to={`/consults/${c.id}`}>{c.type_label}会诊 · {c.invited_org_name}</Link>{' '}
            <Badge kind={statusKind(c.status)}>{c.status_label}</Badge>
            {c.diagnosis && <div className="timeline-data">会诊意见：{c.diagnosis}{c.adoption_label && `（${c.adoption_label}）`}</div>}
          </li>
        ))}
      </ul>
    </section>
  );
}

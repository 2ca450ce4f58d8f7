import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useAuth } from '../../auth';
import { Badge } from '../../components/common';
import { canSeePharmacy } from '../../lib/roles';
import { formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { GRADE, prescriptions } from './api';
import { Timeline } from './Timeline';

/** The resident's supervised-drug prescriptions on the record (issue 18.2): where each stands now and, opened, its
 * trace as a timeline. Nothing is shown when there are none (or the role reads none). */
export default function ResidentPrescriptions({ residentId }: { residentId: string }) {
  const list = useAsync(() => prescriptions.search({ resident_id: Number(residentId), per_page: 50 }), [residentId]);
  const roles = useAuth().me?.roles ?? [];
  const [open, setOpen] = useState<number | null>(null);
  if (!list.data?.items.length) return null;
  return (
    <section className="card" data-testid="resident-prescriptions">
      <h2>处方与审方</h2>
      <ul className="card-list">
        {list.data.items.map((row) => (
          <li key={row.id}>
            <div>
              {formatDateTime(row.received_at)} · {row.summary} · <Badge>{row.state_label}</Badge>{' '}
              <Badge kind={GRADE[row.grade]?.[1]}>{GRADE[row.grade]?.[0] ?? row.grade_label}</Badge>
            </div>
            <div className="muted">{row.org_name} · 开方医生 {row.prescriber} · 第{row.version}版</div>
            <button type="button" className="btn btn-small" onClick={() => setOpen(open === row.id ? null : row.id)}>
              {open === row.id ? '收起追溯' : '处方追溯'}
            </button>
            {canSeePharmacy(roles) && <> <Link to={`/pharmacy/prescriptions/${row.id}`}>审方详情</Link></>}
            {open === row.id && <Trace id={row.id} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Trace({ id }: { id: number }) {
  const rx = useAsync(() => prescriptions.get(id), [id]);
  return rx.data ? <Timeline states={rx.data.states} lines={rx.data.versions} /> : null;
}

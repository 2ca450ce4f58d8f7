import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { training } from '../../api/training';
import { Badge, Empty, ErrorBox, Loading } from '../../components/common';
import { useAuth } from '../../auth';
import { canManageTraining } from '../../lib/roles';
import { formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';

/** 培训管理: the plans of the caller's organization subtree and the sessions that need attention. */
export default function TrainingPage() {
  const { me } = useAuth();
  const manager = canManageTraining(me?.roles ?? []);
  const year = new Date().getFullYear();
  const plans = useAsync(() => training.plans(), []);
  const sessions = useAsync(() => training.sessions(), []);
  const navigate = useNavigate();
  const [title, setTitle] = useState(`${year}年度业务培训计划`);
  const [error, setError] = useState<unknown>(null);

  const create = async () => {
    try {
      const plan = await training.createPlan({ year, title });
      navigate(`/training/plans/${plan.id}`);
    } catch (e) {
      setError(e);
    }
  };

  const active = (sessions.data ?? []).filter((s) => !['completed', 'cancelled', 'planned'].includes(s.phase));
  return (
    <div className="page">
      <div className="page-head">
        <h1>培训管理</h1>
        <div className="btn-group">
          <Link className="btn btn-small" to="/training/items">题库</Link>
          <Link className="btn btn-small" to="/training/dashboard">培训统计</Link>
          <Link className="btn btn-small" to="/training/my">我的培训</Link>
        </div>
      </div>
      <div className="grid-2 training-home">
        <section className="card">
          <h2>进行中的培训</h2>
          {sessions.loading && !sessions.data && <Loading />}
          <ErrorBox error={sessions.error} onRetry={sessions.reload} />
          {sessions.data && active.length === 0 && <Empty title="暂无进行中的培训" />}
          <table className="table table-compact">
            <tbody>
              {active.map((s) => (
                <tr key={s.id}>
                  <td><Link to={`/training/sessions/${s.id}`} data-testid="session-link">{s.topic}</Link><div className="muted">{s.org_name}</div></td>
                  <td>{formatDateTime(s.starts_at)}</td>
                  <td><Badge kind={s.phase === 'sign_in_open' || s.phase.endsWith('_open') ? 'badge-info' : ''}>{s.phase_label}</Badge></td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
        <section className="card">
          <h2>年度培训计划</h2>
          {plans.loading && !plans.data && <Loading />}
          <ErrorBox error={plans.error} onRetry={plans.reload} />
          <table className="table table-compact">
            <thead><tr><th>计划</th><th>机构</th><th>场次</th></tr></thead>
            <tbody>
              {plans.data?.map((p) => (
                <tr key={p.id}>
                  <td><Link to={`/training/plans/${p.id}`}>{p.title}</Link></td>
                  <td>{p.org_name}</td>
                  <td>{p.started}/{p.sessions}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {manager && (
            <div className="inline-form">
              <input aria-label="新计划名称" value={title} onChange={(e) => setTitle(e.target.value)} />
              <button type="button" className="btn btn-primary btn-small" onClick={create} disabled={title.trim().length < 2}>新建计划</button>
            </div>
          )}
          <ErrorBox error={error} />
        </section>
      </div>
    </div>
  );
}

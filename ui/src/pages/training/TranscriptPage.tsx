import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { training } from '../../api/training';
import { Badge, ErrorBox, Loading } from '../../components/common';
import { useAuth } from '../../auth';
import { canManageTraining } from '../../lib/roles';
import { useAsync } from '../../lib/useAsync';

/** A person's 学时/学分 of a year against the annual minimum (their own, or a staff member's for managers). */
export default function TranscriptPage() {
  const userId = useParams().userId;
  const { me } = useAuth();
  const [year, setYear] = useState(new Date().getFullYear());
  const t = useAsync(() => training.transcript(year, userId ? Number(userId) : undefined), [year, userId]);
  const manager = canManageTraining(me?.roles ?? []);
  return (
    <div className="page page-narrow">
      <p><Link to="/training/my">← 我的培训</Link></p>
      <div className="page-head">
        <h1>{userId && t.data ? `${t.data.name} 的学分` : '我的学分'}</h1>
        <select aria-label="年度" value={year} onChange={(e) => setYear(Number(e.target.value))}>
          {[0, 1, 2].map((k) => <option key={k} value={new Date().getFullYear() - k}>{new Date().getFullYear() - k} 年</option>)}
        </select>
      </div>
      {t.loading && !t.data && <Loading />}
      <ErrorBox error={t.error} onRetry={t.reload} />
      {t.data && (
        <>
          <div className="stat-row">
            <div className="stat card"><div className="stat-value" data-testid="credits-total">{t.data.totals.credits}</div><div className="stat-label">学分（I类 {t.data.totals.I} / II类 {t.data.totals.II}）</div></div>
            <div className="stat card"><div className="stat-value">{t.data.totals.hours}</div><div className="stat-label">学时</div></div>
            <div className="stat card"><div className="stat-value">{t.data.meets_minimum ? <Badge kind="badge-ok">已达标</Badge> : <Badge kind="badge-warn">未达标</Badge>}</div>
              <div className="stat-label">年度要求 ≥{t.data.minimum.min_total}{t.data.minimum.min_class1 ? `（I类≥${t.data.minimum.min_class1}，II类≥${t.data.minimum.min_class2}）` : ''}</div></div>
          </div>
          <div className="card">
            <table className="table table-compact" data-testid="transcript">
              <thead><tr><th>日期</th><th>项目</th><th>级别</th><th>身份</th><th>学时</th><th>学分</th></tr></thead>
              <tbody>
                {t.data.lines.map((l) => (
                  <tr key={`${l.session_id}-${l.capacity}`}><td>{l.date}</td><td>{l.topic}<div className="muted">{l.reason}</div></td>
                    <td>{l.level_label}</td><td>{l.capacity === 'lecturer' ? '授课' : '学员'}</td><td>{l.hours}</td>
                    <td>{l.credits} {l.credit_class !== 'none' && <span className="muted">{l.credit_class_label}</span>}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
          <p className="muted">{t.data.disclaimer}</p>
          {manager && (
            <p><a className="btn btn-small" href={training.links.creditExport(year, 'xlsx')}>导出本机构学分（省继教平台申报用）</a></p>
          )}
        </>
      )}
    </div>
  );
}

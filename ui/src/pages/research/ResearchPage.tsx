import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { Badge, Empty, ErrorBox, Loading } from '../../components/common';
import { useAsync } from '../../lib/useAsync';
import { researchApi, statusKind } from './api';
import ProjectForm from './ProjectForm';

/** The county's data/ethics committee; the county administrator names its members and chair (usernames). */
function CommitteeCard() {
  const c = useAsync(() => researchApi.committee(), []);
  const [editing, setEditing] = useState(false);
  const [members, setMembers] = useState('');
  const [chair, setChair] = useState('');
  const [error, setError] = useState<unknown>(null);
  if (!c.data) return <ErrorBox error={c.error} onRetry={c.reload} />;
  const d = c.data;
  const save = async () => {
    setError(null);
    try {
      await researchApi.setCommittee(members.split(/[,，\s]+/).filter(Boolean), chair.trim() || null);
      setEditing(false);
      c.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section className="card" data-testid="committee">
      <h2>数据/伦理委员会</h2>
      <p>
        委员：<span data-testid="committee-list">{d.members.map((m) => m.name).join('、') || '—'}</span>
        {d.source === 'role' ? `（未指定委员时为县内全部「${d.role_label}」）` : ''}；主任委员：{d.chair?.name ?? '—'}
      </p>
      <p className="muted">每位委员并行投票（同意 / 不同意 / 需修改），申请人不参与自己申请的投票；{d.vote_days} 天内投票，截止前 {d.reminder_days} 天提醒未投票委员；截止时未达法定人数由主任委员决定。</p>
      {d.can_edit && !editing && (
        <button className="btn btn-small" type="button" data-testid="committee-edit"
          onClick={() => { setMembers(d.source === 'named' ? d.members.map((m) => m.username).join(', ') : ''); setChair(d.chair?.username ?? ''); setEditing(true); }}>指定委员</button>
      )}
      {editing && (
        <div className="form">
          <label>委员用户名（逗号分隔，留空则按角色）<input value={members} onChange={(e) => setMembers(e.target.value)} data-testid="committee-members-input" /></label>
          <label>主任委员用户名<input value={chair} onChange={(e) => setChair(e.target.value)} data-testid="committee-chair-input" /></label>
          <div className="row" style={{ gap: 8 }}>
            <button className="btn btn-small btn-primary" type="button" onClick={save} data-testid="committee-save">保存</button>
            <button className="btn btn-small" type="button" onClick={() => setEditing(false)}>取消</button>
          </div>
          <ErrorBox error={error} />
        </div>
      )}
    </section>
  );
}

/** 科研数据: the caller's research projects (the committee sees every submitted one); a researcher drafts a new one with
 * the criteria builder. The extract itself is only on the project page, for its requester, once released. */
export default function ResearchPage() {
  const list = useAsync(() => researchApi.projects(), []);
  const options = useAsync(() => researchApi.options(), []);
  const [drafting, setDrafting] = useState(false);
  const navigate = useNavigate();
  return (
    <div className="page">
      <div className="page-head">
        <h1>科研数据</h1>
        {list.data?.can_create && !drafting && (
          <button className="btn btn-small btn-primary" type="button" onClick={() => setDrafting(true)} data-testid="research-new">新建科研项目</button>
        )}
      </div>
      <p className="muted">科研数据须经数据/伦理委员会投票审批；导出的数据集已去标识化（假名编号、日期平移或泛化到月、年龄分段、小单元格抑制、敏感属性 l-多样性），限次下载并记入审计。</p>
      <CommitteeCard />
      {drafting && options.data && <ProjectForm options={options.data} onSaved={(p) => navigate(`/research/${p.id}`)} />}
      <ErrorBox error={list.error || options.error} onRetry={list.reload} />
      {list.loading && !list.data && <Loading />}
      {list.data && (list.data.items.length === 0 ? <Empty title="暂无科研项目" /> : (
        <ul className="plain">
          {list.data.items.map((p) => (
            <li key={p.id} className="card" data-testid="research-item">
              <div className="task-title">
                <Link to={`/research/${p.id}`}><strong>{p.title}</strong></Link>
                <Badge kind={statusKind(p.status)}>{p.status_label}</Badge>
              </div>
              <div className="task-meta">
                <span>申请人 {p.requester_name}</span>
                {p.cohort_size !== null && <span>队列 {p.cohort_size} 人</span>}
                <span>k = {p.k} · l = {p.l}</span>
                <span>{p.date_mode_label}</span>
              </div>
              <p className="muted">{p.criteria_label}</p>
            </li>
          ))}
        </ul>
      ))}
    </div>
  );
}

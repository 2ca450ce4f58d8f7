import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { Badge, Empty, ErrorBox, Loading } from '../../components/common';
import { useAsync } from '../../lib/useAsync';
import { researchApi, statusKind } from './api';
import ProjectForm from './ProjectForm';

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
      <p className="muted">科研数据须经数据/伦理委员会审批；导出的数据集已去标识化（假名编号、日期平移或泛化到月、年龄分段、小单元格抑制），限次下载并记入审计。</p>
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

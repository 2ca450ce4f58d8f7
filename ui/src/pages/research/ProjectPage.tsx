import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { Badge, ErrorBox, Loading } from '../../components/common';
import { useAsync } from '../../lib/useAsync';
import { researchApi, statusKind, type Extract, type Project } from './api';
import ProjectForm from './ProjectForm';

function dateTime(s: string | null | undefined): string {
  return s ? new Date(s).toLocaleString('zh-CN', { hour12: false }) : '—';
}

/** What de-identification did: the committee reads this before release (k-anonymity, suppressed cells and rows). */
function ExtractSummary({ e }: { e: Extract }) {
  return (
    <section className="card" data-testid="extract-summary">
      <h2>去标识化数据集</h2>
      <dl className="kv">
        <dt>k-匿名</dt>
        <dd><strong data-testid="k-value">{e.k_label}</strong>（要求 k ≥ {e.k_required}{e.meets_k ? '，已达标' : '，未达标'}）</dd>
        <dt>准标识符</dt><dd>{e.qi_label}</dd>
        <dt>行数</dt><dd data-testid="extract-rows">{e.row_count} 行（队列 {e.cohort_size} 人）</dd>
        <dt>抑制</dt><dd data-testid="extract-suppressed">{e.suppressed_cells} 个单元格显示为 *，删除 {e.suppressed_rows} 行</dd>
        <dt>抑制前 k</dt><dd>{e.k_before ?? '—'}</dd>
        <dt>l-多样性</dt>
        <dd><strong data-testid="l-value">{e.l_label}</strong>（敏感属性：{e.sensitive_label}；要求 l ≥ {e.l_required}{e.meets_l ? '，已达标' : '，未达标'}；抑制前 l = {e.l_before ?? '—'}）</dd>
        <dt>因 l 删除</dt><dd data-testid="extract-suppressed-l">{e.suppressed_rows_l} 行</dd>
        <dt>列</dt><dd>{e.columns.join('、')}</dd>
        {e.data_until && <><dt>数据截至</dt><dd data-testid="extract-until">{e.data_until}（已更新 {e.refreshes ?? 0} 次）</dd></>}
      </dl>
      {e.below_l.length > 0 && (
        <details data-testid="below-l">
          <summary>生成前低于 l 的等价类（{e.below_l.length} 个）</summary>
          <ul className="plain">
            {e.below_l.map((c, i) => <li key={i}>{c.label}：{c.size} 人，{c.attribute_label}仅 {c.distinct} 种取值</li>)}
          </ul>
        </details>
      )}
    </section>
  );
}

/** The committee's vote: this round's members and their votes, every vote with its opinion, and the result. */
function CommitteeVotes({ p }: { p: Project }) {
  const members = p.committee ?? [];
  const votes = p.votes ?? [];
  if (!members.length && !votes.length && !p.committee_result) return null;
  const r = p.committee_result;
  return (
    <section className="card" data-testid="committee-votes">
      <h2>委员会投票{p.review_round ? `（第 ${p.review_round} 轮）` : ''}</h2>
      {r && (
        <p data-testid="committee-result">
          <strong>{r.decision_label}</strong>（{r.by_label}{r.rule ? ` · 规则 ${r.rule}` : ''}）· {r.tally_label}
        </p>
      )}
      {members.length > 0 && (
        <ul className="plain" data-testid="committee-members">
          {members.map((m, i) => (
            <li key={i}>{m.name}{m.chair ? '（主任委员）' : ''}：<span data-vote={m.vote ?? 'none'}>{m.vote_label}</span></li>
          ))}
        </ul>
      )}
      {votes.length > 0 && (
        <details open data-testid="vote-log">
          <summary>投票记录（{votes.length}）</summary>
          <ul className="plain">
            {votes.map((v, i) => (
              <li key={i}>第 {v.round} 轮 · {v.voter_name} · <strong>{v.vote_label}</strong>{v.opinion ? `：${v.opinion}` : ''} · {dateTime(v.at)}</li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}

/** One research project: criteria, variables, review, the extract's k-anonymity and the downloads (requester only). */
export default function ProjectPage() {
  const id = Number(useParams().id);
  const project = useAsync(() => researchApi.project(id), [id]);
  const options = useAsync(() => researchApi.options(), []);
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [until, setUntil] = useState('');
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      project.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const p = project.data;
  return (
    <div className="page">
      <p><Link to="/research">← 科研数据</Link></p>
      <ErrorBox error={project.error} onRetry={project.reload} />
      {project.loading && !p && <Loading />}
      {p && (
        <>
          <div className="page-head">
            <h1 data-testid="project-title">{p.title}</h1>
            <Badge kind={statusKind(p.status)}><span data-testid="project-status">{p.status_label}</span></Badge>
          </div>
          {editing && options.data ? (
            <ProjectForm options={options.data} initial={p} onSaved={() => { setEditing(false); project.reload(); }} />
          ) : (
            <section className="card">
              <dl className="kv">
                <dt>申请人</dt><dd>{p.requester_name}</dd>
                <dt>研究目的</dt><dd>{p.purpose || '—'}</dd>
                <dt>筛选条件</dt><dd data-testid="project-criteria">{p.criteria_label}</dd>
                <dt>队列人数</dt><dd data-testid="project-cohort">{p.cohort_size === null ? '提交时统计' : `${p.cohort_size} 人`}</dd>
                <dt>导出变量</dt><dd>{(p.variable_labels ?? []).join('、')}</dd>
                <dt>日期处理</dt><dd>{p.date_mode_label}</dd>
                <dt>k 值</dt><dd>{p.k}</dd>
                <dt>l 值</dt><dd>{p.l}</dd>
                {p.free_text_requested && <><dt>自由文本</dt><dd>{p.free_text_approved ? '委员会已批准导出' : '未批准（不导出）'}</dd></>}
                {p.review_comment && <><dt>委员会意见</dt><dd data-testid="review-comment">{p.review_comment}</dd></>}
                {p.reviewed_at && <><dt>审查时间</dt><dd>{dateTime(p.reviewed_at)}</dd></>}
                {p.released_at && p.status === 'released' && <><dt>发布时间</dt><dd>{dateTime(p.released_at)}</dd></>}
                {p.expires_at && <><dt>下载截止</dt><dd>{dateTime(p.expires_at)}</dd></>}
              </dl>
              {p.editable && (
                <div className="row" style={{ gap: 8 }}>
                  <button className="btn btn-small" type="button" onClick={() => setEditing(true)} data-testid="project-edit">修改</button>
                  {p.status === 'draft' && (
                    <button className="btn btn-small btn-primary" type="button" disabled={busy} data-testid="project-submit"
                      onClick={() => act(() => researchApi.submit(p.id))}>提交委员会审查</button>
                  )}
                  {p.status === 'changes_requested' && <span className="muted">修改后请在「待办」中完成「按意见修改申请」任务以重新提交。</span>}
                </div>
              )}
            </section>
          )}
          <CommitteeVotes p={p} />
          {p.extract && <ExtractSummary e={p.extract} />}
          {p.mine && p.status === 'released' && (
            <section className="card" data-testid="downloads">
              <h2>下载</h2>
              <p>剩余下载次数：<strong data-testid="downloads-left">{p.downloads_left}</strong> / {p.download_limit}</p>
              {p.can_download && (
                <div className="row" style={{ gap: 8 }}>
                  <button className="btn btn-small btn-primary" type="button" disabled={busy} data-testid="download-csv"
                    onClick={() => act(() => researchApi.download(p.id, 'csv'))}>下载 CSV</button>
                  <button className="btn btn-small" type="button" disabled={busy} data-testid="download-xlsx"
                    onClick={() => act(() => researchApi.download(p.id, 'xlsx'))}>下载 Excel</button>
                </div>
              )}
              {p.can_download && (
                <div className="form" data-testid="refresh">
                  <h3>更新数据集</h3>
                  <p className="muted">在审批有效期内按原筛选条件和变量重新提取截至某日的数据（研究编号不变），重新抑制到 k 与 l，占用一次下载次数并记入审计。</p>
                  <label>数据截止日期（留空为今日）<input type="date" value={until} onChange={(e) => setUntil(e.target.value)} data-testid="refresh-until" /></label>
                  <button className="btn btn-small" type="button" disabled={busy} data-testid="refresh-csv"
                    onClick={() => act(() => researchApi.download(p.id, 'csv', until || null))}>更新并下载 CSV</button>
                </div>
              )}
            </section>
          )}
          {(p.downloads ?? []).length > 0 && (
            <section className="card">
              <h2>下载记录</h2>
              <ul className="plain" data-testid="download-log">
                {(p.downloads ?? []).map((d, k) => <li key={k}>{dateTime(d.at)} · {d.format.toUpperCase()}{d.refresh ? ` · 更新数据集（数据截至 ${d.data_until ?? '—'}）` : ''}</li>)}
              </ul>
            </section>
          )}
          <ErrorBox error={error} />
        </>
      )}
    </div>
  );
}

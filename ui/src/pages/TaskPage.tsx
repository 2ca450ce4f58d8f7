import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import type { ErrorSchema } from '@rjsf/utils';
import { tasks } from '../api/endpoints';
import { ApiError } from '../api/client';
import type { Comment, TaskDetail } from '../api/types';
import { Badge, Empty, ErrorBox, Loading } from '../components/common';
import { announceTasksChanged } from '../components/Layout';
import ResidentSummary from '../components/ResidentSummary';
import TaskForm from '../components/form/TaskForm';
import { useAuth } from '../auth';
import { useAsync, uuid } from '../lib/useAsync';
import { handoverChoices } from '../lib/handover';
import { PROCESS_NAMES, RISK_LEVELS, assigneeOf, isAssigned, isAssignedTo, label, priorityLabel, riskClass } from '../lib/labels';
import { laneName, roleName } from '../lib/roles';
import { formatDateTime, formatDue } from '../lib/time';
import { withAcknowledgementRows } from '../lib/carePlan';
import { takePrefetched } from '../routes/prefetch';

const CONFLICT_MESSAGES: Record<string, string> = {
  task_already_completed: '该任务已被完成，无需重复提交。',
  task_reassigned: '该任务已转给其他人办理。',
  definition_changed: '流程已更新，表单已变化，请刷新后重新填写。',
};

function Comments({ taskId }: { taskId: string }) {
  const list = useAsync<Comment[]>(() => tasks.comments(taskId), [taskId]);
  const [text, setText] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await tasks.addComment(taskId, text.trim());
      setText('');
      list.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-label="评论">
      <h2>评论</h2>
      {list.loading ? (
        <Loading />
      ) : list.error ? (
        <ErrorBox error={list.error} />
      ) : !list.data?.length ? (
        <p className="muted">暂无评论</p>
      ) : (
        <ul className="comments">
          {list.data.map((c, i) => (
            <li key={c.id ?? i}>
              <div className="comment-head">
                <strong>{c.author_name ?? c.author ?? '—'}</strong>
                <span className="muted">{formatDateTime(c.created_at)}</span>
              </div>
              <div className="comment-body">{c.body ?? c.text}</div>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={add} className="stack">
        <textarea rows={2} value={text} onChange={(e) => setText(e.target.value)} placeholder="写下评论，团队成员可见" aria-label="评论内容" />
        {error ? <ErrorBox error={error} /> : null}
        <button type="submit" className="btn btn-small" disabled={busy || !text.trim()}>
          发表评论
        </button>
      </form>
    </section>
  );
}

/** Hand the task to someone else: delegate (they may return it) or, for leads, assign to a candidate. */
function HandOver({ task, onDone }: { task: TaskDetail; onDone: () => void }) {
  const { me } = useAuth();
  const [to, setTo] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const can = task.can;
  const canDelegate = can ? !!can.delegate : true;
  const canAssign = !!can?.assign;
  const choices = handoverChoices(task.candidates ?? [], [me?.username, assigneeOf(task)?.username]);
  if (!canDelegate && !canAssign) return null;

  const act = async (fn: () => Promise<unknown>) => {
    if (!to.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await fn();
      announceTasksChanged();
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-label="转交">
      <h2>转交他人</h2>
      <form
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          void act(() => tasks.delegate(String(task.id), to.trim()));
        }}
        className="stack"
      >
        {choices.length ? (
          <select value={to} onChange={(e) => setTo(e.target.value)} aria-label="转交给">
            <option value="">请选择同事</option>
            {choices.map((c) => (
              <option key={c.username} value={c.username}>
                {c.label}
              </option>
            ))}
          </select>
        ) : (
          <p className="muted">没有可以转交的同事（本任务的岗位在本机构没有其他人员）。</p>
        )}
        {error ? <ErrorBox error={error} /> : null}
        <div className="btn-group" hidden={!choices.length}>
          {canDelegate && (
            <button type="submit" className="btn btn-small" disabled={busy || !to.trim()} title="委派后对方可退回给您">
              委派
            </button>
          )}
          {canAssign && (
            <button type="button" className="btn btn-small" disabled={busy || !to.trim()} onClick={() => act(() => tasks.assign(String(task.id), to.trim()))}>
              分派
            </button>
          )}
        </div>
      </form>
    </section>
  );
}

export default function TaskPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const { me } = useAuth();
  const state = useAsync(() => takePrefetched<TaskDetail>(`task:${id}`) ?? tasks.get(id), [id]);
  const task = state.data;
  const [formData, setFormData] = useState<unknown>(undefined);
  const [extraErrors, setExtraErrors] = useState<ErrorSchema | undefined>(undefined);
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [conflict, setConflict] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<'' | 'draft' | 'complete' | 'claim'>('');
  const completionId = useRef<string>(uuid());

  useEffect(() => {
    if (task) setFormData(task.draft ?? task.form?.data ?? {});
  }, [task]);

  if (state.loading && !task) return <Loading text="正在打开任务…" />;
  if (state.error) {
    return (
      <div className="page">
        <ErrorBox error={state.error} onRetry={state.reload} />
        <Link to="/inbox">返回待办</Link>
      </div>
    );
  }
  if (!task) return <Empty title="任务不存在" />;

  const mine = isAssignedTo(task, me);
  const taken = isAssigned(task);
  const holder = assigneeOf(task);
  const closed = task.status === 'completed' || task.status === 'cancelled';
  // The server says what the caller may do; without that, the holder may complete and others may claim.
  const canComplete = !closed && (task.can ? !!task.can.complete : mine);
  const canClaim = !closed && (task.can ? !!task.can.claim : !taken);
  const prio = priorityLabel(task.priority);
  // the role's Chinese name, or the lane's title without the modeller's English words (a lane titled "trainee" shows
  // nothing): never a raw code in front of a clinician
  const who = task.role ? roleName(task.role) : laneName(task.lane);

  const holderAction = async (fn: () => Promise<unknown>) => {
    setBusy('claim');
    try {
      await fn();
      announceTasksChanged();
      state.reload();
    } catch (e) {
      setNotice({ kind: 'error', text: e instanceof ApiError ? e.message : '操作失败' });
    } finally {
      setBusy('');
    }
  };

  const saveDraft = async () => {
    setBusy('draft');
    setNotice(null);
    try {
      await tasks.saveDraft(String(task.id), formData);
      setNotice({ kind: 'ok', text: `草稿已保存（${formatDateTime(new Date())}）` });
    } catch (e) {
      setNotice({ kind: 'error', text: e instanceof ApiError ? e.message : '保存失败' });
    } finally {
      setBusy('');
    }
  };

  const complete = async (data: unknown) => {
    setBusy('complete');
    setNotice(null);
    setExtraErrors(undefined);
    try {
      await tasks.complete(String(task.id), data, completionId.current, task.etag);
      announceTasksChanged();
      navigate('/inbox', { replace: true, state: { flash: `“${task.name}”已完成` } });
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        completionId.current = uuid();
        if (e.code === 'acknowledgement_required') setFormData(withAcknowledgementRows(data, e.details));
        setExtraErrors(e.extraErrors ?? ({ __errors: [e.message] } as ErrorSchema));
        setNotice({ kind: 'error', text: e.message });
      } else if (e instanceof ApiError && (e.status === 409 || e.status === 412)) {
        setConflict(e);
      } else {
        // A lost answer: keep the completion id so a retry is answered as the first.
        setNotice({ kind: 'error', text: e instanceof ApiError ? e.message : '提交失败，请重试' });
      }
    } finally {
      setBusy('');
    }
  };

  return (
    <div className="page task-page">
      <div className="page-head">
        <div>
          <Link to="/inbox" className="back">
            ← 待办
          </Link>
          <h1 data-testid="task-name">{task.name}</h1>
          <div className="task-meta">
            <span>{task.process_name ?? label(PROCESS_NAMES, task.process_id)}</span>
            {who && <span>{who}</span>}
            {task.org_name && <span>{task.org_name}</span>}
            <span className={task.overdue ? 'text-danger' : ''}>{formatDue(task.due_at)}</span>
            {prio && <Badge kind={prio.urgent ? 'badge-warn' : ''}>{prio.text}</Badge>}
            {task.risk_level && <Badge kind={riskClass(task.risk_level)}>{label(RISK_LEVELS, task.risk_level)}</Badge>}
          </div>
          {task.resident?.name && (
            <div className="task-meta only-narrow">
              <a href="#resident-summary">
                居民 {task.resident.name}
                {task.resident.village ? ` · ${task.resident.village}` : ''} · 查看摘要 ↓
              </a>
            </div>
          )}
        </div>
      </div>

      {conflict && (
        <div className="alert alert-error" role="alert">
          {CONFLICT_MESSAGES[conflict.code] ?? conflict.message}{' '}
          <Link to="/inbox">返回待办</Link>
        </div>
      )}

      <div className="two-col">
        <div className="col-main">
          {(task.instructions || task.links?.length) && (
            <section className="card instructions">
              <h2>办理说明</h2>
              {task.instructions && <div className="pre-wrap">{task.instructions}</div>}
              {task.links?.length ? (
                <div className="row" data-testid="task-links">
                  {task.links.map((l) => (
                    <Link key={l.href} to={l.href} className="btn btn-small">
                      {l.label}
                    </Link>
                  ))}
                </div>
              ) : null}
            </section>
          )}
          {closed && <div className="alert alert-info">该任务已{task.status === 'completed' ? '完成' : '取消'}。</div>}
          {!closed && task.delegated_from && mine && (
            <div className="alert alert-info">
              由 {task.delegated_from.display_name ?? task.delegated_from.username} 委派给您。
              {task.can?.return && (
                <button type="button" className="btn btn-small" onClick={() => holderAction(() => tasks.returnTask(task.id))} disabled={busy !== ''}>
                  退回给委派人
                </button>
              )}
            </div>
          )}
          {!closed && !mine && (
            <div className="alert alert-info">
              {taken ? `该任务由 ${holder?.name ?? '他人'} 办理中。` : canComplete ? '该任务尚未领取：可直接办理，或先领取以免他人重复办理。' : '该任务尚未领取，领取后才能提交。'}
              {canClaim && (
                <button type="button" className="btn btn-primary btn-small" onClick={() => holderAction(() => tasks.claim(task.id))} disabled={busy !== ''}>
                  领取任务
                </button>
              )}
            </div>
          )}
          {!closed && mine && task.can?.unclaim && !task.delegated_from && (
            <div className="row" style={{ justifyContent: 'flex-end', marginBottom: '0.5rem' }}>
              <button type="button" className="btn btn-small btn-ghost" onClick={() => holderAction(() => tasks.unclaim(task.id))} disabled={busy !== ''}>
                退回组内
              </button>
            </div>
          )}
          <section className="card">
            <h2>表单</h2>
            {task.form?.schema ? (
              <TaskForm
                schema={task.form.schema}
                uiSchema={task.form.ui_schema}
                formData={formData}
                extraErrors={extraErrors}
                disabled={!canComplete || busy === 'complete'}
                onChange={setFormData}
                onSubmit={complete}
              >
                {notice && (
                  <div className={notice.kind === 'ok' ? 'alert alert-ok' : 'alert alert-error'} role="status" data-testid="form-notice">
                    {notice.text}
                  </div>
                )}
                <div className="form-actions">
                  <button type="submit" className="btn btn-primary" disabled={!canComplete || busy !== ''} data-testid="complete">
                    {busy === 'complete' ? '正在提交…' : '完成并提交'}
                  </button>
                  <button type="button" className="btn" onClick={saveDraft} disabled={!canComplete || busy !== ''}>
                    {busy === 'draft' ? '正在保存…' : '保存草稿'}
                  </button>
                </div>
              </TaskForm>
            ) : (
              <>
                <p className="muted">此任务无需填写表单。</p>
                {notice && <div className="alert alert-error">{notice.text}</div>}
                <button type="button" className="btn btn-primary" disabled={!canComplete || busy !== ''} onClick={() => complete({})} data-testid="complete">
                  完成
                </button>
              </>
            )}
          </section>
        </div>
        <aside className="col-side">
          {task.resident_summary ? (
            <ResidentSummary summary={task.resident_summary} residentId={task.resident?.id} />
          ) : task.resident ? (
            <ResidentSummary summary={task.resident as unknown as Record<string, unknown>} residentId={task.resident.id} />
          ) : null}
          <Comments taskId={String(task.id)} />
          {!closed && <HandOver task={task} onDone={() => navigate('/inbox')} />}
        </aside>
      </div>
    </div>
  );
}

import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { training, type MyEntry } from '../../api/training';
import { Badge, Empty, ErrorBox, Loading } from '../../components/common';
import { formatDateTime } from '../../lib/time';
import { KIND_LABELS, METHOD_LABELS, nextStep, RESPONSE_LABELS } from '../../lib/training';
import { useAsync } from '../../lib/useAsync';

/** 我的培训: the trainee's sessions on a phone, each with its next step. */
export default function MyTrainingPage() {
  const { id } = useParams();
  if (id) return <MySession id={Number(id)} />;
  return <MyList />;
}

function MyList() {
  const { data, error, loading, reload } = useAsync(() => training.my(), []);
  return (
    <div className="page page-narrow">
      <div className="page-head">
        <h1>我的培训</h1>
        <Link to="/training/transcript" className="btn btn-small">我的学分</Link>
      </div>
      <ErrorBox error={error} onRetry={reload} />
      {loading && !data && <Loading />}
      {data && data.items.length === 0 && <Empty title="暂无培训">收到培训通知后会显示在这里</Empty>}
      <ul className="training-list">
        {data?.items.map((e) => {
          const step = nextStep(e);
          return (
            <li key={e.session.id} className="card training-card" data-testid="my-session">
              <Link to={`/training/my/${e.session.id}`} className="training-card-link">
                <div className="training-card-title">{e.session.topic}</div>
                <div className="muted">
                  {formatDateTime(e.session.starts_at)} · {e.session.mode === 'offline' ? e.session.venue : e.session.mode_label}
                </div>
                <div className="btn-group">
                  <Badge>{e.session.phase_label}</Badge>
                  {e.capacity === 'lecturer' && <Badge kind="badge-info">授课</Badge>}
                  {step && <Badge kind="badge-warn">{step}</Badge>}
                </div>
              </Link>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function MySession({ id }: { id: number }) {
  const { data, error, loading, reload } = useAsync(() => training.mine(id), [id]);
  const materials = useAsync(() => training.materials(id), [id]);
  if (loading && !data) return <Loading />;
  if (!data) return <div className="page page-narrow"><ErrorBox error={error} onRetry={reload} /></div>;
  const s = data.session;
  return (
    <div className="page page-narrow">
      <p><Link to="/training/my">← 我的培训</Link></p>
      <h1 className="training-title">{s.topic}</h1>
      <div className="card">
        <dl className="kv">
          <dt>时间</dt><dd>{formatDateTime(s.starts_at)} – {formatDateTime(s.ends_at).slice(-5)}</dd>
          <dt>地点</dt><dd>{s.mode === 'offline' ? s.venue : <>{s.mode_label}{s.online_url && <> · <a href={s.online_url} target="_blank" rel="noreferrer">进入直播</a></>}</>}</dd>
          <dt>讲师</dt><dd>{s.lecturer_name} {s.lecturer_title}</dd>
          <dt>学时</dt><dd>{s.hours}（{s.level_label}）</dd>
          <dt>状态</dt><dd><Badge>{s.phase_label}</Badge></dd>
        </dl>
      </div>
      <ErrorBox error={error} />
      {data.capacity === 'trainee' && <Answer entry={data} onDone={reload} />}
      {data.capacity === 'trainee' && <SignInCard entry={data} />}
      {data.capacity === 'trainee' && s.mode !== 'offline' && data.can_sign_in && <OnlineCard id={id} url={s.online_url} />}
      {data.capacity === 'trainee' && <ExamCard entry={data} />}
      {data.can_evaluate && data.capacity === 'trainee' && <Evaluate id={id} done={data.satisfaction_done} onDone={reload} />}
      {materials.data && materials.data.length > 0 && (
        <div className="card">
          <h2>培训资料</h2>
          <ul className="plain-list">
            {materials.data.filter((m) => m.kind !== 'photo').map((m) => (
              <li key={m.id}><a href={training.links.material(m.id)} target="_blank" rel="noreferrer">{KIND_LABELS[m.kind] ?? m.kind}：{m.file_name}</a></li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

function Answer({ entry, onDone }: { entry: MyEntry; onDone: () => void }) {
  const [declining, setDeclining] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const open = ['notified', 'approved', 'sign_in_open'].includes(entry.session.phase);
  const send = async (attend: boolean) => {
    setBusy(true);
    setError(null);
    try {
      await training.respond(entry.session.id, attend, reason);
      setDeclining(false);
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  if (!entry.response) return null;
  return (
    <div className="card">
      <h2>参加确认</h2>
      <p>当前：<Badge kind={entry.response === 'confirmed' ? 'badge-ok' : entry.response === 'declined' ? 'badge-warn' : ''}>{RESPONSE_LABELS[entry.response]}</Badge>
        {entry.decline_reason && <span className="muted">（{entry.decline_reason}）</span>}</p>
      <ErrorBox error={error} />
      {open && !declining && (
        <div className="btn-group">
          <button type="button" className="btn btn-primary" disabled={busy} onClick={() => send(true)}>确认参加</button>
          <button type="button" className="btn" disabled={busy} onClick={() => setDeclining(true)}>请假</button>
        </div>
      )}
      {open && declining && (
        <div className="stack">
          <label className="field"><span className="field-label">请假原因</span>
            <textarea value={reason} onChange={(e) => setReason(e.target.value)} rows={2} placeholder="例如：值班、外出进修" /></label>
          <div className="btn-group">
            <button type="button" className="btn btn-primary" disabled={busy || reason.trim().length < 2} onClick={() => send(false)}>提交请假</button>
            <button type="button" className="btn" onClick={() => setDeclining(false)}>取消</button>
          </div>
        </div>
      )}
    </div>
  );
}

function SignInCard({ entry }: { entry: MyEntry }) {
  const a = entry.attendance;
  return (
    <div className="card">
      <h2>签到</h2>
      {a ? (
        <dl className="kv">
          <dt>签到</dt><dd>{formatDateTime(a.signed_in_at)} · {METHOD_LABELS[a.sign_in_method] ?? a.sign_in_method}
            {a.late && <Badge kind="badge-warn">迟到 {a.late_minutes} 分钟</Badge>}</dd>
          <dt>签退</dt><dd>{a.signed_out_at ? formatDateTime(a.signed_out_at) : '—'}</dd>
          {a.attended_hours !== null && <><dt>学时</dt><dd>{a.attended_hours}</dd></>}
        </dl>
      ) : (
        <p className="muted">签到时间：{formatDateTime(entry.sign_in_opens_at)} 起（开课前30分钟），请在现场扫描大屏二维码。</p>
      )}
      {entry.can_sign_in && entry.session.mode === 'offline' && (
        <Link className="btn btn-primary btn-block" to={`/training/sign-in/${entry.session.id}`} data-testid="go-sign-in">
          {a ? '扫码签退' : '扫码签到'}
        </Link>
      )}
    </div>
  );
}

function OnlineCard({ id, url }: { id: number; url: string | null }) {
  const [share, setShare] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const join = async () => {
    try {
      const r = await training.presence(id);
      setShare(r.share_so_far);
      if (url) window.open(url, '_blank', 'noopener');
      const timer = window.setInterval(() => {
        if (document.visibilityState !== 'visible') return;
        training.presence(id).then((x) => setShare(x.share_so_far), () => window.clearInterval(timer));
      }, 60000);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="card">
      <h2>线上学习</h2>
      <p className="muted">保持本页打开即记录在线时长，在线时长不少于80%才计学时。</p>
      <ErrorBox error={error} />
      <button type="button" className="btn btn-primary btn-block" onClick={join}>进入直播并记录出勤</button>
      {share !== null && <p>已记录在线 {(share * 100).toFixed(0)}%</p>}
    </div>
  );
}

function ExamCard({ entry }: { entry: MyEntry }) {
  const { exam } = entry;
  if (!exam.open && exam.attempts.length === 0) return null;
  return (
    <div className="card">
      <h2>考试</h2>
      {exam.attempts.map((a) => (
        <p key={a.attempt_no}>
          {a.attempt_no === 1 ? '首考' : '补考'}：{a.status === 'submitted' ? `${a.score} 分` : a.status === 'absent' ? '缺考' : '进行中'}
          {a.passed !== null && a.status === 'submitted' && <Badge kind={a.passed ? 'badge-ok' : 'badge-danger'}>{a.passed ? '合格' : '不合格'}</Badge>}
          {a.late && <Badge kind="badge-warn">超时</Badge>}
          {a.status === 'submitted' && <Link to={`/training/exam/${entry.session.id}?result=${a.attempt_no}`}> 查看答卷</Link>}
        </p>
      ))}
      {exam.open && (
        <Link className="btn btn-primary btn-block" to={`/training/exam/${entry.session.id}`} data-testid="go-exam">进入考试</Link>
      )}
      {exam.open && exam.closes_at && <p className="muted">截止：{formatDateTime(exam.closes_at)}</p>}
    </div>
  );
}

const SCALE = [1, 2, 3, 4, 5];
const ASPECTS: [string, string][] = [['overall', '总体评价'], ['content', '内容实用'], ['lecturer', '讲师水平'], ['organisation', '组织安排']];

function Evaluate({ id, done, onDone }: { id: number; done: boolean; onDone: () => void }) {
  const [scores, setScores] = useState<Record<string, number>>({ overall: 5, content: 5, lecturer: 5, organisation: 5 });
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(done);
  const send = async () => {
    try {
      await training.satisfaction(id, { overall: scores.overall, content: scores.content, lecturer: scores.lecturer, organisation: scores.organisation, comment });
      setSaved(true);
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="card">
      <h2>培训评价</h2>
      {saved && <div className="alert alert-ok">已提交评价，可修改后再次提交</div>}
      {ASPECTS.map(([key, label]) => (
        <div key={key} className="rating" role="radiogroup" aria-label={label}>
          <span className="rating-label">{label}</span>
          {SCALE.map((n) => (
            <button key={n} type="button" role="radio" aria-checked={scores[key] === n} className={scores[key] >= n ? 'star on' : 'star'}
              onClick={() => setScores({ ...scores, [key]: n })} aria-label={`${n} 分`}>★</button>
          ))}
        </div>
      ))}
      <label className="field"><span className="field-label">意见建议</span>
        <textarea rows={2} value={comment} onChange={(e) => setComment(e.target.value)} /></label>
      <ErrorBox error={error} />
      <button type="button" className="btn btn-primary btn-block" onClick={send}>提交评价</button>
    </div>
  );
}

import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { training, type Overview } from '../../api/training';
import { Badge, ErrorBox, Loading, ProgressBar } from '../../components/common';
import { formatDateTime } from '../../lib/time';
import { ITEM_KIND_LABELS, KIND_LABELS, METHOD_LABELS, pct, RESPONSE_LABELS } from '../../lib/training';
import { useAsync } from '../../lib/useAsync';

/** The trainer's view of one session: roster and sign-in, help requests, materials, paper, results, documents. */
export default function SessionPage() {
  const id = Number(useParams().id);
  const ov = useAsync(() => training.overview(id), [id]);
  const [error, setError] = useState<unknown>(null);
  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      ov.reload();
    } catch (e) {
      setError(e);
    }
  };
  if (!ov.data) return <div className="page">{ov.error ? <ErrorBox error={ov.error} /> : <Loading />}</div>;
  const { session: s, stats } = ov.data;
  const manage = s.can_manage;
  return (
    <div className="page page-wide">
      <p><Link to="/training">← 培训管理</Link> · <Link to={`/training/plans/${s.plan_id}`}>所属计划</Link></p>
      <div className="page-head">
        <div>
          <h1>{s.topic}</h1>
          <div className="muted">{s.org_name} · {formatDateTime(s.starts_at)}–{formatDateTime(s.ends_at).slice(-5)} · {s.mode === 'offline' ? s.venue : s.mode_label} · {s.level_label} · 学时 {s.hours} · 讲师 {s.lecturer_name}</div>
        </div>
        <Badge kind="badge-info">{s.phase_label}</Badge>
      </div>
      <ErrorBox error={error} />
      {manage && (
        <div className="btn-group toolbar">
          {s.phase === 'sign_in_open' && <Link className="btn btn-primary" to={`/training/sessions/${id}/screen`} target="_blank" data-testid="open-screen">打开签到大屏</Link>}
          {s.phase === 'sign_in_open' && <button type="button" className="btn" onClick={() => act(() => training.endAttendance(id))} data-testid="end-attendance">结束签到/签退</button>}
          <a className="btn" href={training.links.sheet(id, 'xlsx')}>签到表 (Excel)</a>
          <a className="btn" href={training.links.sheet(id, 'pdf')} target="_blank" rel="noreferrer">签到表 (PDF)</a>
          <a className="btn" href={training.links.summaryPdf(id)} target="_blank" rel="noreferrer" data-testid="summary-pdf">培训小结 (PDF)</a>
          {['planned', 'pending_approval', 'revising', 'approved', 'notified'].includes(s.phase) && (
            <button type="button" className="btn btn-danger" onClick={() => {
              const reason = window.prompt('取消原因');
              if (reason) void act(() => training.cancel(id, reason));
            }}>取消培训</button>
          )}
        </div>
      )}
      <div className="stat-row">
        <Stat label="应到 / 实到" value={`${stats.expected} / ${stats.signed_in}`} />
        <Stat label="签到率" value={pct(stats.sign_in_rate)} />
        <Stat label="迟到 / 补签" value={`${stats.late} / ${stats.manual}`} />
        <Stat label="考试合格率" value={pct(stats.pass_rate)} />
        <Stat label="满意度" value={pct(stats.satisfaction_rate)} />
      </div>
      {ov.data.help_requests.length > 0 && manage && (
        <div className="card" data-testid="help-requests">
          <h2>人工签到申请</h2>
          {ov.data.help_requests.map((h) => {
            const who = ov.data!.roster.find((r) => r.user_id === h.user_id);
            return (
              <div key={h.attempt_id} className="alert alert-warn">
                <span>{who?.name ?? h.user_id}：{h.reason}{h.distance_m !== null ? `（距场地 ${Math.round(h.distance_m)} 米）` : ''}{h.note ? `；${h.note}` : ''}</span>
                <button type="button" className="btn btn-small btn-primary" onClick={() => act(() => training.manual(id, { user_id: h.user_id, action: 'in', reason: '学员申请，管理员确认在场', attempt_id: h.attempt_id }))}>确认在场，人工签到</button>
              </div>
            );
          })}
        </div>
      )}
      <Roster ov={ov.data} manage={manage} onManual={(userId, action) => act(() => training.manual(id, { user_id: userId, action, reason: action === 'in' ? '管理员现场确认' : '管理员代为签退' }))} />
      <Materials ov={ov.data} manage={manage} onChange={ov.reload} />
      {s.assessment === 'exam' && <Paper ov={ov.data} manage={manage} onChange={ov.reload} />}
      {s.assessment === 'exam' && ['exam_open', 'exam_closed', 'makeup_open', 'makeup_closed', 'summary', 'completed'].includes(s.phase) && <Results id={id} />}
      {s.summary && (
        <div className="card"><h2>培训小结</h2><p><b>存在问题：</b>{s.summary.issues}</p><p><b>改进措施：</b>{s.summary.improvements}</p></div>
      )}
    </div>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return <div className="stat card"><div className="stat-value">{value}</div><div className="stat-label">{label}</div></div>;
}

function Roster({ ov, manage, onManual }: { ov: Overview; manage: boolean; onManual: (userId: number, action: 'in' | 'out') => void }) {
  const open = ov.session.phase === 'sign_in_open';
  return (
    <div className="card">
      <h2>学员名单（{ov.roster.length} 人）</h2>
      <div className="table-wrap">
        <table className="table table-compact" data-testid="roster">
          <thead><tr><th>姓名</th><th>应答</th><th>签到</th><th>方式</th><th>距场地</th><th>签退</th><th>学时</th>{manage && open && <th />}</tr></thead>
          <tbody>
            {ov.roster.map((r) => (
              <tr key={r.user_id}>
                <td>{r.name}</td>
                <td>{RESPONSE_LABELS[r.response] ?? r.response}{r.decline_reason ? `（${r.decline_reason}）` : ''}</td>
                <td>{r.signed_in_at ? formatDateTime(r.signed_in_at) : '—'} {r.late_minutes > 0 && <Badge kind="badge-warn">迟到{r.late_minutes}分</Badge>}</td>
                <td>{r.sign_in_method ? METHOD_LABELS[r.sign_in_method] : ''}{r.manual_by ? `（${r.manual_by}）` : ''}</td>
                <td>{r.distance_m !== null ? `${Math.round(r.distance_m)} 米` : ''}</td>
                <td>{r.signed_out_at ? formatDateTime(r.signed_out_at).slice(-5) : '—'}</td>
                <td>{r.attended_hours ?? ''}</td>
                {manage && open && (
                  <td>
                    {!r.signed_in_at && <button type="button" className="btn btn-small" onClick={() => onManual(r.user_id, 'in')}>补签到</button>}
                    {r.signed_in_at && !r.signed_out_at && <button type="button" className="btn btn-small" onClick={() => onManual(r.user_id, 'out')}>代签退</button>}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Materials({ ov, manage, onChange }: { ov: Overview; manage: boolean; onChange: () => void }) {
  const [kind, setKind] = useState('photo');
  const [progress, setProgress] = useState<number | null>(null);
  const [error, setError] = useState<unknown>(null);
  const id = ov.session.id;
  const send = async (files: FileList | null) => {
    if (!files) return;
    setError(null);
    for (const file of Array.from(files)) {
      setProgress(0);
      try {
        await training.uploadMaterial(id, kind, file, setProgress);
      } catch (e) {
        setError(e);
      }
    }
    setProgress(null);
    onChange();
  };
  const check = ov.materials_check;
  return (
    <div className="card">
      <h2>课件与现场照片</h2>
      {!check.ok && <div className="alert alert-warn">尚缺：{check.problems.join('；')}</div>}
      <ul className="material-list">
        {ov.materials.map((m) => (
          <li key={m.id}>
            {m.kind === 'photo' ? <img src={training.links.material(m.id)} alt={m.file_name} className="thumb" /> : null}
            <a href={training.links.material(m.id)} target="_blank" rel="noreferrer">{KIND_LABELS[m.kind]}：{m.file_name}</a>
            <span className="muted"> {(m.size_bytes / 1024).toFixed(0)} KB{m.taken_at ? ` · 拍摄于 ${formatDateTime(m.taken_at)}` : ''}</span>
            {manage && <button type="button" className="btn btn-small btn-ghost" onClick={() => training.removeMaterial(m.id).then(onChange, setError)}>删除</button>}
          </li>
        ))}
      </ul>
      {manage && (
        <div className="inline-form">
          <select aria-label="资料类别" value={kind} onChange={(e) => setKind(e.target.value)}>
            {Object.entries(KIND_LABELS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
          </select>
          <input type="file" multiple aria-label="选择文件" data-testid="material-file" onChange={(e) => { void send(e.target.files); e.target.value = ''; }}
            accept={kind === 'photo' ? 'image/jpeg' : kind === 'video' ? 'video/*' : '.pdf,.ppt,.pptx,.docx'} />
        </div>
      )}
      {progress !== null && <ProgressBar value={progress} label="上传中" />}
      <ErrorBox error={error} />
      <p className="muted">照片须为手机相机拍摄的原图（带拍摄时间），不少于 2 张；文件类型按内容检查，不看扩展名。</p>
    </div>
  );
}

function Paper({ ov, manage, onChange }: { ov: Overview; manage: boolean; onChange: () => void }) {
  const bank = useAsync(() => training.items(), []);
  const [picked, setPicked] = useState<number[] | null>(null);
  const [limit, setLimit] = useState(ov.paper?.time_limit_min ?? 30);
  const [passMark, setPassMark] = useState(ov.paper?.pass_mark ?? ov.session.pass_mark);
  const [error, setError] = useState<unknown>(null);
  const chosen = picked ?? ov.paper?.item_ids ?? [];
  const editable = manage && !['exam_open', 'exam_closed', 'makeup_open', 'makeup_closed', 'summary', 'completed', 'cancelled'].includes(ov.session.phase);
  const save = async () => {
    try {
      await training.setPaper(ov.session.id, { item_ids: chosen, time_limit_min: limit, pass_mark: passMark, shuffle: true });
      setPicked(null);
      onChange();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="card">
      <h2>试卷 {ov.paper ? `（${ov.paper.item_ids.length} 题，限时 ${ov.paper.time_limit_min} 分钟，${ov.paper.pass_mark} 分合格）` : '（未组卷）'}</h2>
      {editable && (
        <>
          <p className="muted">从题库勾选试题；学员的题目和选项顺序各自随机。<Link to="/training/items">管理题库</Link></p>
          <ul className="plain-list item-pick">
            {bank.data?.map((i) => (
              <li key={i.id}><label className="check"><input type="checkbox" checked={chosen.includes(i.id)}
                onChange={(e) => setPicked(e.target.checked ? [...chosen, i.id] : chosen.filter((x) => x !== i.id))} />
                <Badge>{ITEM_KIND_LABELS[i.kind]}</Badge> {i.stem}</label></li>
            ))}
          </ul>
          <div className="inline-form">
            <label>限时（分钟）<input type="number" min={1} value={limit} onChange={(e) => setLimit(Number(e.target.value))} /></label>
            <label>合格分<input type="number" min={1} max={100} value={passMark} onChange={(e) => setPassMark(Number(e.target.value))} /></label>
            <button type="button" className="btn btn-primary btn-small" disabled={chosen.length === 0} onClick={save} data-testid="save-paper">保存试卷（{chosen.length} 题）</button>
          </div>
        </>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

function Results({ id }: { id: number }) {
  const results = useAsync(() => training.results(id), [id]);
  const analysis = useAsync(() => training.itemAnalysis(id), [id]);
  return (
    <div className="card">
      <h2>考试成绩</h2>
      <table className="table table-compact">
        <thead><tr><th>姓名</th><th>首考</th><th>补考</th><th>结果</th></tr></thead>
        <tbody>
          {results.data?.items.map((r) => {
            const [first, second] = [1, 2].map((n) => r.attempts.find((a) => a.attempt_no === n));
            const cell = (a?: typeof first) => a ? (a.status === 'absent' ? '缺考' : `${a.score ?? '—'}${a.late ? '（超时）' : ''}`) : '';
            return <tr key={r.user_id}><td>{r.name}</td><td>{cell(first)}</td><td>{cell(second)}</td><td>{r.passed ? <Badge kind="badge-ok">合格</Badge> : <Badge kind="badge-danger">不合格</Badge>}</td></tr>;
          })}
        </tbody>
      </table>
      {analysis.data && analysis.data.items.length > 0 && (
        <>
          <h2>试题分析（首考 {analysis.data.sitters} 人）</h2>
          <p className="muted">难度 = 答对比例；区分度 = 高分组(27%)答对率 − 低分组答对率，低于 0.2 建议修改。</p>
          <table className="table table-compact" data-testid="item-analysis">
            <thead><tr><th>试题</th><th>难度</th><th>区分度</th><th>点二列相关</th><th>选项分布</th><th /></tr></thead>
            <tbody>
              {analysis.data.items.map((i) => (
                <tr key={i.item_id}>
                  <td>{i.stem}</td>
                  <td>{i.difficulty ?? '—'}</td>
                  <td>{i.discrimination ?? '—'}</td>
                  <td>{i.point_biserial ?? '—'}</td>
                  <td>{Object.entries(i.option_counts).map(([k, v]) => `${k}${i.answer.includes(k) ? '✓' : ''}:${v}`).join(' ')}</td>
                  <td>{i.flag && <Badge kind="badge-warn">{i.flag}</Badge>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

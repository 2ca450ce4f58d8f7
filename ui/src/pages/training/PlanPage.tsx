import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { training, type SessionWrite, type StartReport } from '../../api/training';
import { Badge, ErrorBox, Field, Loading } from '../../components/common';
import { formatDateTime } from '../../lib/time';
import { roleName } from '../../lib/roles';
import { CATEGORY_LABELS, LEVEL_LABELS, MODE_LABELS, TRAINEE_ROLES } from '../../lib/training';
import { useAsync } from '../../lib/useAsync';

const REASONS: Record<string, string> = {
  already_started: '已启动', in_the_past: '时间已过', empty_roster: '培训对象为空', cancelled: '已取消',
};

/** One plan: its rows (sessions), adding a row, and the cohort start with a dry run first. */
export default function PlanPage() {
  const id = Number(useParams().id);
  const plan = useAsync(() => training.plan(id), [id]);
  const rows = useAsync(() => training.planSessions(id), [id]);
  const [report, setReport] = useState<StartReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [adding, setAdding] = useState(false);

  const start = async (dryRun: boolean) => {
    setError(null);
    try {
      setReport(await training.startPlan(id, dryRun));
      if (!dryRun) rows.reload();
    } catch (e) {
      setError(e);
    }
  };

  if (!plan.data) return <div className="page">{plan.error ? <ErrorBox error={plan.error} /> : <Loading />}</div>;
  const p = plan.data;
  return (
    <div className="page">
      <p><Link to="/training">← 培训管理</Link></p>
      <div className="page-head">
        <h1>{p.title}</h1>
        <span className="muted">{p.org_name} · {p.year} 年</span>
      </div>
      <div className="card">
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th>#</th><th>主题</th><th>时间</th><th>级别 / 形式</th><th>学时</th><th>状态</th></tr></thead>
            <tbody>
              {rows.data?.map((s) => (
                <tr key={s.id}>
                  <td>{s.seq}</td>
                  <td><Link to={`/training/sessions/${s.id}`}>{s.topic}</Link><div className="muted">{s.lecturer_name}</div></td>
                  <td>{formatDateTime(s.starts_at)}</td>
                  <td>{s.level_label} / {s.mode_label}</td>
                  <td>{s.hours}</td>
                  <td><Badge>{s.phase_label}</Badge></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {p.can_manage && (
          <div className="btn-group">
            <button type="button" className="btn" onClick={() => setAdding(!adding)}>{adding ? '收起' : '添加培训'}</button>
            <button type="button" className="btn" onClick={() => start(true)} data-testid="dry-run">试运行启动</button>
            <button type="button" className="btn btn-primary" disabled={!report?.dry_run || report.would_start === 0}
              onClick={() => start(false)} data-testid="start-plan">启动 {report?.dry_run ? report.would_start : ''} 场培训</button>
          </div>
        )}
        <ErrorBox error={error} />
        {report && (
          <div className={report.dry_run ? 'alert alert-info' : 'alert alert-ok'} data-testid="start-report">
            <div>
              {report.dry_run ? `试运行：将启动 ${report.would_start} 场，跳过 ${report.skipped} 场` : `已启动 ${report.started} 场，跳过 ${report.skipped} 场，已提交科教科审批`}
              <ul>
                {report.sessions.map((r) => (
                  <li key={r.session_id}>{r.topic}：{r.result === 'skipped' ? `跳过（${REASONS[r.reason ?? ''] ?? r.reason}）` : `${r.result === 'started' ? '已启动' : '将启动'}，名单 ${r.roster_size} 人`}</li>
                ))}
              </ul>
            </div>
          </div>
        )}
      </div>
      {adding && <SessionForm planId={id} onSaved={() => { setAdding(false); rows.reload(); setReport(null); }} />}
    </div>
  );
}

function local(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function SessionForm({ planId, onSaved }: { planId: number; onSaved: () => void }) {
  const soon = new Date(Date.now() + 7 * 86400000);
  soon.setHours(14, 0, 0, 0);
  const [f, setF] = useState({
    topic: '', category: 'cme_project', level: 'national_1', project_no: '', lecturer_name: '', lecturer_title: '', lecturer_org: '',
    mode: 'offline', starts: local(soon), hours: '3', venue: '', venue_lat: '', venue_lon: '', coordinate_system: 'wgs84',
    geofence_m: '200', online_url: '', assessment: 'exam', target_roles: ['township_doctor', 'village_doctor'] as string[], target_orgs: '',
  });
  const [error, setError] = useState<unknown>(null);
  const set = (k: string, v: unknown) => setF({ ...f, [k]: v });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const start = new Date(f.starts);
    const end = new Date(start.getTime() + Number(f.hours) * 3600000);
    const body: SessionWrite = {
      topic: f.topic, category: f.category, level: f.level, project_no: f.project_no || null, lecturer_name: f.lecturer_name,
      lecturer_title: f.lecturer_title, lecturer_org: f.lecturer_org, mode: f.mode, starts_at: start.toISOString(),
      ends_at: end.toISOString(), hours: Number(f.hours), assessment: f.assessment, target_roles: f.target_roles,
      target_org_codes: f.target_orgs.split(/[\s,，]+/).filter(Boolean),
      ...(f.mode === 'offline'
        ? { venue: f.venue, venue_lat: Number(f.venue_lat), venue_lon: Number(f.venue_lon), coordinate_system: f.coordinate_system as 'wgs84', geofence_m: Number(f.geofence_m) }
        : { online_url: f.online_url }),
    };
    try {
      await training.addSession(planId, body);
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="card form-grid" onSubmit={submit} aria-label="添加培训">
      <h2>添加培训</h2>
      <Field label="主题"><input name="topic" value={f.topic} onChange={(e) => set('topic', e.target.value)} required /></Field>
      <Field label="类别"><select value={f.category} onChange={(e) => set('category', e.target.value)}>{Object.entries(CATEGORY_LABELS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}</select></Field>
      <Field label="项目级别"><select value={f.level} onChange={(e) => set('level', e.target.value)}>{Object.entries(LEVEL_LABELS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}</select></Field>
      <Field label="项目编号"><input value={f.project_no} onChange={(e) => set('project_no', e.target.value)} /></Field>
      <Field label="讲师"><input name="lecturer_name" value={f.lecturer_name} onChange={(e) => set('lecturer_name', e.target.value)} required /></Field>
      <Field label="职称"><input value={f.lecturer_title} onChange={(e) => set('lecturer_title', e.target.value)} /></Field>
      <Field label="讲师单位"><input value={f.lecturer_org} onChange={(e) => set('lecturer_org', e.target.value)} /></Field>
      <Field label="形式"><select value={f.mode} onChange={(e) => set('mode', e.target.value)}>{Object.entries(MODE_LABELS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}</select></Field>
      <Field label="开始时间"><input type="datetime-local" name="starts" value={f.starts} onChange={(e) => set('starts', e.target.value)} required /></Field>
      <Field label="学时"><input type="number" name="hours" min="0.5" step="0.5" value={f.hours} onChange={(e) => set('hours', e.target.value)} required /></Field>
      {f.mode === 'offline' ? (
        <>
          <Field label="地点"><input name="venue" value={f.venue} onChange={(e) => set('venue', e.target.value)} required /></Field>
          <Field label="纬度"><input name="venue_lat" value={f.venue_lat} onChange={(e) => set('venue_lat', e.target.value)} required inputMode="decimal" /></Field>
          <Field label="经度"><input name="venue_lon" value={f.venue_lon} onChange={(e) => set('venue_lon', e.target.value)} required inputMode="decimal" /></Field>
          <Field label="坐标来源"><select value={f.coordinate_system} onChange={(e) => set('coordinate_system', e.target.value)}>
            <option value="wgs84">GPS / 手机定位 (WGS-84)</option><option value="gcj02">高德 / 腾讯地图 (GCJ-02)</option><option value="bd09">百度地图 (BD-09)</option></select></Field>
          <Field label="签到范围（米）"><input type="number" min="30" max="5000" value={f.geofence_m} onChange={(e) => set('geofence_m', e.target.value)} /></Field>
        </>
      ) : (
        <Field label="直播/课程链接"><input type="url" value={f.online_url} onChange={(e) => set('online_url', e.target.value)} required /></Field>
      )}
      <Field label="考核方式"><select value={f.assessment} onChange={(e) => set('assessment', e.target.value)}><option value="exam">考试</option><option value="attendance">出勤</option></select></Field>
      <fieldset className="field"><legend className="field-label">培训对象</legend>
        {TRAINEE_ROLES.map((k) => [k, roleName(k)] as const).map(([k, v]) => (
          <label key={k} className="check"><input type="checkbox" checked={f.target_roles.includes(k)}
            onChange={(e) => set('target_roles', e.target.checked ? [...f.target_roles, k] : f.target_roles.filter((r) => r !== k))} /> {v}</label>
        ))}
      </fieldset>
      <Field label="对象机构编码（空 = 本计划机构全部）"><input value={f.target_orgs} onChange={(e) => set('target_orgs', e.target.value)} placeholder="如 C01T01" /></Field>
      <ErrorBox error={error} />
      <div className="btn-group"><button type="submit" className="btn btn-primary">保存</button></div>
    </form>
  );
}

import { useState } from 'react';
import { ErrorBox, Field } from '../../components/common';
import { researchApi, previewText, type Criteria, type ObservationCriterion, type Options, type Preview, type Project, type ProjectBody } from './api';

const toggle = (list: string[], v: string) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);
const num = (s: string): number | null => (s.trim() === '' ? null : Number(s));
const str = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));

function Checks({ options, value, onChange, testid }: { options: { value: string; label: string }[]; value: string[]; onChange: (v: string[]) => void; testid: string }) {
  return (
    <div className="row" style={{ gap: 12, flexWrap: 'wrap' }} data-testid={testid}>
      {options.map((o) => (
        <label key={o.value} className="check">
          <input type="checkbox" checked={value.includes(o.value)} onChange={() => onChange(toggle(value, o.value))} data-value={o.value} /> {o.label}
        </label>
      ))}
    </div>
  );
}

/** The criteria builder (cohort) and the variable list of a research project; preview shows the cohort size only. */
export default function ProjectForm({ options, initial, onSaved }: { options: Options; initial?: Project; onSaved: (p: Project) => void }) {
  const c0: Criteria = initial?.criteria ?? {};
  const [title, setTitle] = useState(initial?.title ?? '');
  const [purpose, setPurpose] = useState(initial?.purpose ?? '');
  const [diseases, setDiseases] = useState<string[]>(c0.diseases ?? []);
  const [diagnoses, setDiagnoses] = useState((c0.diagnoses ?? []).join('，'));
  const [risks, setRisks] = useState<string[]>(c0.risk_levels ?? []);
  const [sex, setSex] = useState<string[]>(c0.sex ?? []);
  const [ages, setAges] = useState({ min: str(c0.age_min), max: str(c0.age_max) });
  const [enrolled, setEnrolled] = useState({ from: c0.enrolled_from ?? '', to: c0.enrolled_to ?? '' });
  const [obs, setObs] = useState<{ code: string; min: string; max: string; from: string; to: string }[]>(
    (c0.observations ?? []).map((o) => ({ code: o.code, min: str(o.min), max: str(o.max), from: o.from ?? '', to: o.to ?? '' })));
  const [variables, setVariables] = useState<string[]>(initial?.variables ?? ['sex', 'age_band', 'township', 'diseases', 'risk_level']);
  const [obsVar, setObsVar] = useState({ stat: 'obs_last', code: options.observations[0]?.value ?? '' });
  const [dateMode, setDateMode] = useState(initial?.date_mode ?? 'shift');
  const [k, setK] = useState(String(initial?.k ?? options.default_k));
  const [l, setL] = useState(String(initial?.l ?? options.default_l));
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const criteria = (): Criteria => ({
    diseases, risk_levels: risks, sex,
    diagnoses: diagnoses.split(/[\s,，、;；]+/).map((x) => x.trim().toUpperCase()).filter(Boolean),
    age_min: num(ages.min), age_max: num(ages.max),
    enrolled_from: enrolled.from || null, enrolled_to: enrolled.to || null,
    observations: obs.map((o): ObservationCriterion => ({ code: o.code, min: num(o.min), max: num(o.max), from: o.from || null, to: o.to || null })),
  });
  const body = (): ProjectBody => ({ title, purpose, criteria: criteria(), variables, date_mode: dateMode, k: Number(k), l: Number(l) });
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const obsLabel = (code: string) => options.observations.find((o) => o.value === code)?.label ?? code;
  const varLabel = (id: string) => {
    const known = options.variables.find((v) => v.id === id);
    if (known) return known.label;
    const [stat, code] = id.split(':');
    return `${obsLabel(code)} ${options.observation_stats.find((s) => s.value === stat)?.label ?? ''}`;
  };
  const setOb = (i: number, patch: Partial<(typeof obs)[number]>) => setObs((xs) => xs.map((x, j) => (j === i ? { ...x, ...patch } : x)));

  return (
    <form className="card form" data-testid="research-form" onSubmit={(e) => { e.preventDefault(); run(async () => onSaved(initial ? await researchApi.update(initial.id, body()) : await researchApi.create(body()))); }}>
      <h2>{initial ? '修改科研项目' : '新建科研项目'}</h2>
      <Field label="项目名称"><input value={title} onChange={(e) => setTitle(e.target.value)} required minLength={2} maxLength={200} data-testid="research-title" /></Field>
      <Field label="研究目的"><textarea rows={2} value={purpose} onChange={(e) => setPurpose(e.target.value)} maxLength={4000} data-testid="research-purpose" /></Field>

      <h3>队列筛选条件</h3>
      <p className="muted">各组条件同时满足；同一组内任选其一。</p>
      <Field label="管理病种（已建档）"><Checks options={options.diseases} value={diseases} onChange={setDiseases} testid="crit-diseases" /></Field>
      <Field label="诊断 ICD-10 编码前缀（如 I10、E11，逗号分隔）"><input value={diagnoses} onChange={(e) => setDiagnoses(e.target.value)} data-testid="crit-icd10" /></Field>
      <Field label="风险分层"><Checks options={options.risk_levels} value={risks} onChange={setRisks} testid="crit-risk" /></Field>
      <Field label="性别"><Checks options={options.sexes} value={sex} onChange={setSex} testid="crit-sex" /></Field>
      <div className="row" style={{ gap: 8 }}>
        <Field label="年龄 从"><input type="number" inputMode="numeric" min={0} max={120} value={ages.min} onChange={(e) => setAges({ ...ages, min: e.target.value })} data-testid="crit-age-min" /></Field>
        <Field label="到（岁）"><input type="number" inputMode="numeric" min={0} max={120} value={ages.max} onChange={(e) => setAges({ ...ages, max: e.target.value })} data-testid="crit-age-max" /></Field>
      </div>
      <div className="row" style={{ gap: 8 }}>
        <Field label="建档日期 从"><input type="date" value={enrolled.from} onChange={(e) => setEnrolled({ ...enrolled, from: e.target.value })} /></Field>
        <Field label="到"><input type="date" value={enrolled.to} onChange={(e) => setEnrolled({ ...enrolled, to: e.target.value })} /></Field>
      </div>
      {obs.map((o, i) => (
        <fieldset key={i} className="card" data-testid="crit-observation">
          <legend>检查/测量条件 {i + 1}</legend>
          <Field label="项目">
            <select value={o.code} onChange={(e) => setOb(i, { code: e.target.value })}>
              {options.observations.map((x) => <option key={x.value} value={x.value}>{x.label}（{x.unit}）</option>)}
            </select>
          </Field>
          <div className="row" style={{ gap: 8 }}>
            <Field label="数值 ≥"><input type="number" inputMode="decimal" value={o.min} onChange={(e) => setOb(i, { min: e.target.value })} data-testid="obs-min" /></Field>
            <Field label="数值 ≤"><input type="number" inputMode="decimal" value={o.max} onChange={(e) => setOb(i, { max: e.target.value })} data-testid="obs-max" /></Field>
          </div>
          <div className="row" style={{ gap: 8 }}>
            <Field label="测量日期 从"><input type="date" value={o.from} onChange={(e) => setOb(i, { from: e.target.value })} /></Field>
            <Field label="到"><input type="date" value={o.to} onChange={(e) => setOb(i, { to: e.target.value })} /></Field>
          </div>
          <button className="btn btn-small" type="button" onClick={() => setObs((xs) => xs.filter((_, j) => j !== i))}>删除此条件</button>
        </fieldset>
      ))}
      <button className="btn btn-small" type="button" data-testid="add-observation"
        onClick={() => setObs((xs) => [...xs, { code: options.observations[0]?.value ?? '', min: '', max: '', from: '', to: '' }])}>添加检查/测量条件</button>
      <div className="row" style={{ gap: 8, alignItems: 'center', marginTop: 8 }}>
        <button className="btn btn-small" type="button" disabled={busy} data-testid="research-preview"
          onClick={() => run(async () => setPreview(await researchApi.preview(criteria())))}>预览队列人数</button>
        {preview && <strong data-testid="preview-size">{previewText(preview)}</strong>}
      </div>

      <h3>导出变量</h3>
      <p className="muted">姓名、身份证号、电话、住址等直接标识符不能导出；年龄按年龄段、村按乡镇泛化。自由文本须经委员会明确批准。</p>
      <div className="row" style={{ gap: 12, flexWrap: 'wrap' }} data-testid="variables">
        {options.variables.map((v) => (
          <label key={v.id} className="check">
            <input type="checkbox" checked={variables.includes(v.id)} onChange={() => setVariables(toggle(variables, v.id))} data-value={v.id} />
            {' '}{v.label}{v.free_text && <span className="badge badge-warn">需批准</span>}
          </label>
        ))}
      </div>
      <div className="row" style={{ gap: 8, flexWrap: 'wrap', alignItems: 'end' }}>
        <Field label="检查/测量变量">
          <select value={obsVar.code} onChange={(e) => setObsVar({ ...obsVar, code: e.target.value })} data-testid="obs-var-code">
            {options.observations.map((x) => <option key={x.value} value={x.value}>{x.label}</option>)}
          </select>
        </Field>
        <Field label="统计">
          <select value={obsVar.stat} onChange={(e) => setObsVar({ ...obsVar, stat: e.target.value })}>
            {options.observation_stats.map((x) => <option key={x.value} value={x.value}>{x.label}</option>)}
          </select>
        </Field>
        <button className="btn btn-small" type="button" data-testid="add-obs-var"
          onClick={() => setVariables((vs) => (vs.includes(`${obsVar.stat}:${obsVar.code}`) ? vs : [...vs, `${obsVar.stat}:${obsVar.code}`]))}>添加</button>
      </div>
      <ul className="plain" data-testid="chosen-variables">
        {variables.filter((v) => v.includes(':')).map((v) => (
          <li key={v}>{varLabel(v)} <button className="btn btn-small" type="button" onClick={() => setVariables((vs) => vs.filter((x) => x !== v))}>移除</button></li>
        ))}
      </ul>

      <h3>去标识化</h3>
      <Field label="日期处理">
        <div className="row" style={{ gap: 12 }}>
          {options.date_modes.map((m) => (
            <label key={m.value} className="check"><input type="radio" name="date_mode" checked={dateMode === m.value} onChange={() => setDateMode(m.value)} data-value={m.value} /> {m.label}</label>
          ))}
        </div>
      </Field>
      <Field label={`k 值（同一年龄段、性别、乡镇组合少于 k 人的单元格将被抑制；${options.min_k}–${options.max_k}）`}>
        <input type="number" inputMode="numeric" min={options.min_k} max={options.max_k} value={k} onChange={(e) => setK(e.target.value)} data-testid="research-k" />
      </Field>
      <Field label={`l 值（每个组合内${options.sensitive.map((o) => o.label).join('、')}至少有 l 种不同取值，否则继续泛化或删除；1 表示只计算不强制；1–${options.max_l}）`}>
        <input type="number" inputMode="numeric" min={1} max={options.max_l} value={l} onChange={(e) => setL(e.target.value)} data-testid="research-l" />
      </Field>
      <ErrorBox error={error} />
      <button className="btn btn-primary" type="submit" disabled={busy} data-testid="research-save">{busy ? '保存中…' : '保存'}</button>
    </form>
  );
}

import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { ApiError } from '../../api/client';
import { training, type Item } from '../../api/training';
import { Badge, ErrorBox, Field, Loading } from '../../components/common';
import { ITEM_KIND_LABELS } from '../../lib/training';
import { useAsync } from '../../lib/useAsync';

/** The item bank: questions of the caller's organization (and the head hospital's), add one, import from Excel. */
export default function ItemBankPage() {
  const items = useAsync(() => training.items(), []);
  const [error, setError] = useState<unknown>(null);
  const [imported, setImported] = useState<string>('');
  const doImport = async (file: File | undefined) => {
    if (!file) return;
    setError(null);
    try {
      const r = await training.importItems(file);
      setImported(`已导入 ${r.imported} 题`);
      items.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="page">
      <p><Link to="/training">← 培训管理</Link></p>
      <div className="page-head"><h1>题库</h1>
        <div className="btn-group">
          <a className="btn btn-small" href={training.links.itemTemplate}>下载导入模板</a>
          <label className="btn btn-small">从 Excel 导入<input type="file" accept=".xlsx" hidden onChange={(e) => { void doImport(e.target.files?.[0]); e.target.value = ''; }} /></label>
        </div>
      </div>
      {imported && <div className="alert alert-ok">{imported}</div>}
      <ErrorBox error={error} />
      {rowErrors(error).length > 0 && (
        <ul className="alert alert-error">
          {rowErrors(error).map((e) => <li key={e.row}>第 {e.row} 行：{e.message}</li>)}
        </ul>
      )}
      <NewItem onSaved={items.reload} />
      {items.loading && !items.data && <Loading />}
      <div className="card">
        <table className="table table-compact">
          <thead><tr><th>题型</th><th>题干</th><th>选项</th><th>答案</th><th>分类</th></tr></thead>
          <tbody>
            {items.data?.map((i) => (
              <tr key={i.id}><td><Badge>{ITEM_KIND_LABELS[i.kind]}</Badge></td><td>{i.stem}</td>
                <td>{i.options.map((o) => `${o.key}. ${o.text}`).join('　')}</td>
                <td>{i.kind === 'true_false' ? (i.answer[0] === 'T' ? '正确' : '错误') : i.answer.join('')}</td><td>{i.category}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function rowErrors(error: unknown): { row: number; message: string }[] {
  if (!(error instanceof ApiError)) return [];
  const rows = error.details.errors;
  return Array.isArray(rows) ? (rows as { row: number; message: string }[]) : [];
}

function NewItem({ onSaved }: { onSaved: () => void }) {
  const [kind, setKind] = useState<Item['kind']>('single');
  const [stem, setStem] = useState('');
  const [options, setOptions] = useState(['', '', '', '']);
  const [answer, setAnswer] = useState<string[]>([]);
  const [category, setCategory] = useState('');
  const [error, setError] = useState<unknown>(null);
  const keys = 'ABCD'.split('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await training.createItem({ kind, stem, category, explanation: '', answer,
        options: kind === 'true_false' ? [] : options.map((text, i) => ({ key: keys[i], text })).filter((o) => o.text.trim()) });
      setStem(''); setOptions(['', '', '', '']); setAnswer([]);
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  const answerKeys = kind === 'true_false' ? ['T', 'F'] : keys;
  return (
    <form className="card form-grid" onSubmit={submit}>
      <h2>新增试题</h2>
      <Field label="题型"><select value={kind} onChange={(e) => { setKind(e.target.value as Item['kind']); setAnswer([]); }}>
        {Object.entries(ITEM_KIND_LABELS).map(([k, v]) => <option key={k} value={k}>{v}</option>)}</select></Field>
      <Field label="分类"><input value={category} onChange={(e) => setCategory(e.target.value)} /></Field>
      <Field label="题干"><textarea rows={2} value={stem} onChange={(e) => setStem(e.target.value)} required /></Field>
      {kind !== 'true_false' && options.map((o, i) => (
        <Field key={keys[i]} label={`选项 ${keys[i]}`}><input value={o} onChange={(e) => setOptions(options.map((x, j) => (j === i ? e.target.value : x)))} /></Field>
      ))}
      <fieldset className="field"><legend className="field-label">正确答案</legend>
        {answerKeys.map((k) => (
          <label key={k} className="check"><input type={kind === 'multiple' ? 'checkbox' : 'radio'} name="answer" checked={answer.includes(k)}
            onChange={(e) => setAnswer(kind === 'multiple' ? (e.target.checked ? [...answer, k] : answer.filter((x) => x !== k)) : [k])} />
            {k === 'T' ? '正确' : k === 'F' ? '错误' : k}</label>
        ))}
      </fieldset>
      <ErrorBox error={error} />
      <div className="btn-group"><button type="submit" className="btn btn-primary">保存试题</button></div>
    </form>
  );
}

import { useState } from 'react';
import { Link } from 'react-router-dom';
import { useAuth } from '../../auth';
import { Badge, ErrorBox, Loading } from '../../components/common';
import { useAsync } from '../../lib/useAsync';
import { contractApi, yuan, type Package } from './api';

const KINDS: [string, string][] = [['follow_up', '随访'], ['exam', '检查'], ['home_visit', '上门服务'], ['consult', '会诊'], ['guidance', '指导']];
const PERIODS: [string, string][] = [['year', '每年'], ['half_year', '每半年'], ['quarter', '每季度'], ['month', '每月']];
const LEVELS: [string, string][] = [['village', '村卫生室'], ['township', '乡镇卫生院'], ['county', '县级医院']];

type Item = { service_code: string; name: string; kind: string; disease?: string | null; quantity: number; period: string; provider_level: string };

function fen(text: string): number {
  const v = Number(text);
  return Number.isFinite(v) ? Math.round(v * 100) : 0;
}

/** The county admin saves a new version of a package (the previous one stops being offered). */
function Editor({ pkg, onSaved }: { pkg: Package; onSaved: () => void }) {
  const [name, setName] = useState(pkg.name ?? '');
  const [insurance, setInsurance] = useState(String((pkg.payer_split?.insurance ?? 0) / 100));
  const [publicHealth, setPublicHealth] = useState(String((pkg.payer_split?.public_health ?? 0) / 100));
  const [own, setOwn] = useState(String((pkg.payer_split?.self ?? 0) / 100));
  const [items, setItems] = useState<Item[]>((pkg.items ?? []).map((i) => ({
    service_code: i.service_code ?? '', name: i.name ?? '', kind: i.kind ?? 'exam', disease: i.disease ?? null,
    quantity: i.quantity ?? 1, period: i.period ?? 'year', provider_level: i.provider_level ?? 'village' })));
  const [error, setError] = useState<unknown>(null);
  const price = fen(insurance) + fen(publicHealth) + fen(own);
  const setItem = (n: number, patch: Partial<Item>) => setItems(items.map((it, k) => (k === n ? { ...it, ...patch } : it)));
  const save = async () => {
    setError(null);
    try {
      await contractApi.savePackage({
        code: pkg.code, name, description: pkg.description ?? null, target_groups: pkg.target_groups ?? [], price_fen: price,
        payer_split: { insurance: fen(insurance), public_health: fen(publicHealth), self: fen(own) },
        items: items.map((i) => ({ ...i, disease: i.disease || null })),
      });
      onSaved();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div className="card" data-testid="package-editor">
      <label className="field"><span>名称</span><input value={name} onChange={(e) => setName(e.target.value)} /></label>
      <div className="grid-3">
        <label className="field"><span>医保（元）</span><input inputMode="decimal" value={insurance} onChange={(e) => setInsurance(e.target.value)} data-testid="split-insurance" /></label>
        <label className="field"><span>公卫经费（元）</span><input inputMode="decimal" value={publicHealth} onChange={(e) => setPublicHealth(e.target.value)} /></label>
        <label className="field"><span>个人自付（元）</span><input inputMode="decimal" value={own} onChange={(e) => setOwn(e.target.value)} data-testid="split-self" /></label>
      </div>
      <p>价格 {yuan(price)}</p>
      {items.map((it, n) => (
        <div key={n} className="item-row" data-testid="package-item">
          <input value={it.name} aria-label="项目名称" onChange={(e) => setItem(n, { name: e.target.value })} />
          <input value={it.service_code} aria-label="项目编码" onChange={(e) => setItem(n, { service_code: e.target.value })} />
          <select value={it.kind} aria-label="类型" onChange={(e) => setItem(n, { kind: e.target.value })}>{KINDS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}</select>
          <input type="number" min={1} max={52} value={it.quantity} aria-label="数量" onChange={(e) => setItem(n, { quantity: Number(e.target.value) })} />
          <select value={it.period} aria-label="周期" onChange={(e) => setItem(n, { period: e.target.value })}>{PERIODS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}</select>
          <select value={it.provider_level} aria-label="提供机构" onChange={(e) => setItem(n, { provider_level: e.target.value })}>{LEVELS.map(([v, l]) => <option key={v} value={v}>{l}</option>)}</select>
          <button type="button" className="btn btn-small" onClick={() => setItems(items.filter((_x, k) => k !== n))}>删除</button>
        </div>
      ))}
      <button type="button" className="btn" onClick={() => setItems([...items, { service_code: '', name: '', kind: 'exam', quantity: 1, period: 'year', provider_level: 'township' }])}>添加项目</button>
      {error ? <ErrorBox error={error} /> : null}
      <button type="button" className="btn btn-primary" onClick={save} data-testid="package-save">保存为新版本</button>
    </div>
  );
}

/** 服务包目录: packages offered today with items × quantity × period × provider level; the county admin edits. */
export default function PackagesPage() {
  const { me } = useAuth();
  const admin = (me?.roles ?? []).includes('county_admin');
  const { data, error, loading, reload } = useAsync(() => contractApi.packages(), []);
  const [editing, setEditing] = useState<string | null>(null);
  if (loading && !data) return <Loading />;
  if (error) return <ErrorBox error={error} onRetry={reload} />;
  return (
    <div className="page" data-testid="packages-page">
      <p><Link to="/contracts">← 家庭医生签约</Link></p>
      <h1>服务包目录</h1>
      <p className="muted">基本公共卫生服务项目（{Object.values(data?.free_phs_services ?? {}).join('、')}）免费，不能放入收费服务包。</p>
      {(data?.items ?? []).map((p) => (
        <section key={p.code} className="card" data-testid="package">
          <h2>
            {p.name} <Badge kind="badge-info">第{p.version}版</Badge> {p.paid ? <Badge kind="badge-warn">个人自付 {yuan(p.payer_split?.self)}</Badge> : <Badge kind="badge-ok">免费</Badge>}
          </h2>
          <p className="muted">{p.description} 适用：{(p.target_groups ?? []).join('、')}。价格 {yuan(p.price_fen)}（医保 {yuan(p.payer_split?.insurance)}，公卫经费 {yuan(p.payer_split?.public_health)}）</p>
          <ul className="plain-list">
            {(p.items ?? []).map((i) => (
              <li key={i.service_code}>{i.name}：{i.period_label}{i.quantity}次（{i.provider_level_label}，每周期共 {i.units_per_cycle} 次）{i.free_phs && <Badge kind="badge-ok">基本公卫</Badge>}</li>
            ))}
          </ul>
          {admin && editing !== p.code && (
            <button type="button" className="btn" onClick={() => setEditing(p.code ?? null)} data-testid="package-edit">修改</button>
          )}
          {admin && editing === p.code && <Editor pkg={p} onSaved={() => { setEditing(null); reload(); }} />}
        </section>
      ))}
    </div>
  );
}

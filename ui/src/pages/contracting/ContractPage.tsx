import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useAuth } from '../../auth';
import { ApiError, api } from '../../api/client';
import { Badge, ErrorBox, Loading } from '../../components/common';
import { formatDate, formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import SignaturePad from '../../components/SignaturePad';
import { contractApi, statusKind, yuan, type ContractDetail, type Doctor, type Signature, type Termination } from './api';

const DELIVERERS = ['village_doctor', 'township_doctor', 'township_public_health'];
const SIGNERS = ['village_doctor', 'township_doctor'];

function readFile(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** Capture the resident's signature (phone canvas or the signed paper's scan), then finish the 签署协议 task. */
function Signing({ c, onDone }: { c: ContractDetail; onDone: () => void }) {
  const [method, setMethod] = useState<'e_sign' | 'paper'>('e_sign');
  const [image, setImage] = useState<string | null>(null);
  const [signer, setSigner] = useState(c.resident_name ?? '');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (!image) return;
    setBusy(true);
    setError(null);
    try {
      await contractApi.sign(c.id ?? 0, { method, image, signer });
      const tasks = await api.get<{ items: { id: number; element_id: string; instance_id: number }[] }>(
        '/api/v1/tasks', { view: 'org', per_page: 200 });
      const task = tasks.items.find((t) => t.element_id === 'sign' && t.instance_id === c.instance_id);
      if (task) await api.post(`/api/v1/tasks/${task.id}/complete`, { data: { signed: true } });
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" data-testid="signing">
      <h2>签署协议</h2>
      <div className="chips" role="group" aria-label="签署方式">
        <button type="button" className={`chip${method === 'e_sign' ? ' active' : ''}`} onClick={() => { setMethod('e_sign'); setImage(null); }}>手机手写签名</button>
        <button type="button" className={`chip${method === 'paper' ? ' active' : ''}`} onClick={() => { setMethod('paper'); setImage(null); }}>上传纸质协议扫描件</button>
      </div>
      <label className="field">
        <span>签署人</span>
        <input value={signer} onChange={(e) => setSigner(e.target.value)} data-testid="signer" />
      </label>
      {method === 'e_sign' ? (
        <SignaturePad hint="请居民在框内手写签名" onChange={setImage} />
      ) : (
        <input type="file" accept="image/png,image/jpeg,application/pdf" data-testid="scan"
          onChange={async (e) => { const f = e.target.files?.[0]; setImage(f ? await readFile(f) : null); }} />
      )}
      {error ? <ErrorBox error={error} /> : null}
      <button type="button" className="btn btn-primary" disabled={!image || !signer.trim() || busy} onClick={submit} data-testid="sign-submit">
        确认签署
      </button>
    </section>
  );
}

function Ledger({ c, canDeliver, onChange }: { c: ContractDetail; canDeliver: boolean; onChange: (d: ContractDetail) => void }) {
  const [error, setError] = useState<unknown>(null);
  const deliver = async (itemId: number) => {
    setError(null);
    try {
      onChange(await contractApi.deliver(c.id ?? 0, itemId));
    } catch (e) {
      setError(e instanceof ApiError && e.code === 'item_quantity_exhausted' ? new Error(e.message) : e);
    }
  };
  return (
    <section className="card" data-testid="ledger">
      <h2>服务台账</h2>
      {error ? <ErrorBox error={error} /> : null}
      <ul className="plain-list">
        {(c.ledger ?? []).map((i) => (
          <li key={i.item_id} data-testid="ledger-item" className="ledger-row">
            <div>
              <strong>{i.name}</strong> <span className="muted">{i.kind_label} · {i.provider_level_label}</span>
            </div>
            <div>
              <span data-testid="ledger-count">已完成 {i.delivered}/{i.quantity}</span>
              {i.next_due_on && <span className="muted"> 下次应于 {formatDate(i.next_due_on)} 前</span>}
              {canDeliver && i.kind !== 'follow_up' && (i.remaining ?? 0) > 0 && c.status === 'active' && (
                <button type="button" className="btn btn-small" onClick={() => deliver(i.item_id ?? 0)} data-testid="deliver">登记完成</button>
              )}
              {i.kind === 'follow_up' && <span className="muted"> （随访完成后自动计入）</span>}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** 签约详情: state, team, packages with the payer split, the ledger, signing and payments. */
export default function ContractPage() {
  const { id } = useParams();
  const { me } = useAuth();
  const roles = me?.roles ?? [];
  const { data: c, error, loading, reload, setData } = useAsync(() => contractApi.get(Number(id)), [id]);
  if (loading && !c) return <Loading />;
  if (error) return <ErrorBox error={error} onRetry={reload} />;
  if (!c) return null;
  const doctor = c.doctor as Doctor | null | undefined;
  const signature = c.signature as Signature | null | undefined;
  const termination = c.termination as Termination | null | undefined;
  return (
    <div className="page" data-testid="contract-page">
      <p><Link to="/contracts">← 家庭医生签约</Link></p>
      <h1>
        {c.resident_name} <Badge kind={statusKind(c.status)}><span data-testid="contract-status">{c.status_label}</span></Badge>
      </h1>
      <section className="card">
        <dl className="facts">
          <dt>协议号</dt><dd className="mono">{c.contract_no}</dd>
          <dt>签约团队</dt><dd>{c.org_name}{doctor ? ` · ${doctor.name}` : ''}</dd>
          <dt>来源</dt><dd>{c.channel_label}</dd>
          {c.starts_on && <><dt>有效期</dt><dd>{formatDate(c.starts_on)} 至 {formatDate(c.ends_on)}</dd></>}
          {(c.amount_due_fen ?? 0) > 0 && <><dt>个人自付</dt><dd>{yuan(c.amount_due_fen)}{c.paid_at ? `（${formatDateTime(c.paid_at)} 已缴）` : '（待缴费）'}</dd></>}
          {c.status === 'awaiting_payment' && c.offer_expires_at && <><dt>缴费截止</dt><dd>{formatDateTime(c.offer_expires_at)}</dd></>}
          {c.previous_contract_no && <><dt>接续协议</dt><dd className="mono">{c.previous_contract_no}</dd></>}
          {c.end_reason && <><dt>说明</dt><dd>{c.end_reason}</dd></>}
          {signature && <><dt>签署</dt><dd>{signature.method_label} · {signature.signer}</dd></>}
        </dl>
      </section>
      {termination && (
        <section className="card" data-testid="contract-termination">
          <h2>解约</h2>
          <dl className="facts">
            <dt>原因</dt><dd>{termination.reason}</dd>
            {termination.effective_on && <><dt>终止日期</dt><dd>{formatDate(termination.effective_on)}</dd></>}
            {termination.new_contract_no && <><dt>新协议</dt><dd className="mono">{termination.new_contract_no}</dd></>}
            <dt>告知居民</dt>
            <dd>{termination.confirmed_at
              ? `${termination.informed_how_label ?? ''}（${formatDateTime(termination.confirmed_at)}）`
              : '待原团队确认'}</dd>
            {termination.ledger_promised != null && (
              <><dt>解约时台账</dt><dd>已完成 {termination.ledger_delivered} / {termination.ledger_promised} 项次</dd></>
            )}
            {termination.note && <><dt>说明</dt><dd>{termination.note}</dd></>}
          </dl>
        </section>
      )}
      {(c.packages ?? []).length > 0 && (
        <section className="card" data-testid="packages">
          <h2>服务包</h2>
          <ul className="plain-list">
            {(c.packages ?? []).map((p) => (
              <li key={p.code}>
                <strong>{p.name}</strong> 价格 {yuan(p.price_fen)}：医保 {yuan(p.payer_split?.insurance)}，公卫经费 {yuan(p.payer_split?.public_health)}，个人 {yuan(p.payer_split?.self)}
              </li>
            ))}
          </ul>
        </section>
      )}
      {c.status === 'awaiting_signature' && !c.signature && roles.some((r) => SIGNERS.includes(r)) && (
        <Signing c={c} onDone={reload} />
      )}
      {(c.ledger ?? []).length > 0 && <Ledger c={c} canDeliver={roles.some((r) => DELIVERERS.includes(r))} onChange={setData} />}
      {(c.payments ?? []).length > 0 && (
        <section className="card" data-testid="payments">
          <h2>缴费记录</h2>
          <ul className="plain-list">
            {(c.payments ?? []).map((p) => (
              <li key={p.id}>
                {formatDateTime(p.received_at)} {yuan(p.amount_fen)}{' '}
                {p.status === 'applied' ? <Badge kind="badge-ok">已生效</Badge> : <Badge kind="badge-warn">{p.flag_label ?? '未生效'}</Badge>}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

import { useMemo, useState } from 'react';
import { ApiError } from '../../api/client';
import { Badge, Empty, ErrorBox, Field, Loading } from '../common';
import { useAsync } from '../../lib/useAsync';
import { formatDate, formatDateTime } from '../../lib/time';
import { recognition, type MatchedResult, type NetworkItem, type ReasonOption, type RecognitionOrder } from './api';

const KINDS: { code: NetworkItem['kind'] | ''; label: string }[] = [
  { code: '', label: '全部' },
  { code: 'lab', label: '检验' },
  { code: 'imaging', label: '影像' },
  { code: 'ecg', label: '心电图' },
  { code: 'document', label: '病历文书' },
];
const STATUS_BADGE: Record<RecognitionOrder['status'], string> = {
  clear: 'badge-info',
  awaiting_reason: 'badge-warn',
  kept: '',
  withdrawn: 'badge-ok',
};

function Mark({ item }: { item: NetworkItem }) {
  const r = item.recognition;
  if (!r) return null;
  if (r.recognised) {
    return (
      <span className="row" style={{ gap: '0.4rem' }}>
        <Badge kind="badge-ok" title={r.basis}>互认</Badge>
        {r.valid_until && <span className="muted">有效至 {formatDate(r.valid_until)}</span>}
      </span>
    );
  }
  return <span className="muted" title={r.basis}>{r.label}</span>;
}

function Matched({ items }: { items: MatchedResult[] }) {
  return (
    <ul className="plain-list">
      {items.map((m) => (
        <li key={m.key}>
          <Badge kind="badge-ok">互认</Badge> {m.title}
          {m.value ? `：${m.value}` : ''} · <Badge kind="badge-info">{m.org_name}</Badge> {formatDate(m.at)}
          {m.valid_until && <span className="muted">（有效至 {formatDate(m.valid_until)}）</span>}
          {m.viewer_url && (
            <>
              {' '}
              <a href={m.viewer_url} target="_blank" rel="noopener noreferrer">查看影像</a>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

/** The orderer's answer to a recognised result still valid: repeat with a reason, or use the result. */
function ReasonForm({ order, reasons, onDone }: { order: RecognitionOrder; reasons: ReasonOption[]; onDone: () => void }) {
  const [code, setCode] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const chosen = reasons.find((r) => r.code === code);

  async function send(action: 'keep' | 'withdraw') {
    setSaving(true);
    setError(null);
    try {
      await recognition.answer(order.id, action === 'keep' ? { action, reason_code: code, reason_note: note || undefined } : { action });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  }

  return (
    <div className="stack" data-testid="repeat-reason">
      <p>
        <strong>{order.item_name}</strong> 在医共体内已有互认结果，仍在有效期内：
      </p>
      <Matched items={order.matched} />
      <Field label="重复检查理由">
        <select name="reason_code" value={code} onChange={(e) => setCode(e.target.value)}>
          <option value="">请选择</option>
          {reasons.map((r) => (
            <option key={r.code} value={r.code}>{r.label}</option>
          ))}
        </select>
      </Field>
      <Field label={chosen?.note_required ? '说明（必填）' : '说明（选填）'}>
        <textarea name="reason_note" rows={2} value={note} onChange={(e) => setNote(e.target.value)} maxLength={500} />
      </Field>
      {error instanceof ApiError && error.code === 'reason_note_required' ? <p className="text-danger">此理由须填写说明</p> : <ErrorBox error={error} />}
      <div className="row" style={{ flexWrap: 'wrap', gap: '0.5rem' }}>
        <button type="button" className="btn btn-primary" disabled={saving || !code || (chosen?.note_required && !note.trim())} onClick={() => send('keep')}>
          提交理由，继续检查
        </button>
        <button type="button" className="btn" disabled={saving} onClick={() => send('withdraw')}>
          采用互认结果，不再检查
        </button>
      </div>
    </div>
  );
}

/** 开单前核对: does a recognised result of this item exist inside its window? */
function OrderCheck({ residentId, reasons, onChanged }: { residentId: string; reasons: ReasonOption[]; onChanged: () => void }) {
  const items = useAsync(() => recognition.items(), []);
  const [choice, setChoice] = useState('');
  const [result, setResult] = useState<RecognitionOrder | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function check(e: React.FormEvent) {
    e.preventDefault();
    const [item_class, item_code] = choice.split('|');
    setBusy(true);
    setError(null);
    try {
      const got = await recognition.check(residentId, { request_id: crypto.randomUUID(), item_class, item_code });
      setResult(got);
      onChanged();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <details className="stack" data-testid="order-check">
      <summary>开单前核对（是否已有互认结果）</summary>
      <form className="row" style={{ flexWrap: 'wrap', gap: '0.5rem', alignItems: 'flex-end' }} onSubmit={check}>
        <Field label="拟开检查/检验">
          <select name="item" value={choice} onChange={(e) => { setChoice(e.target.value); setResult(null); }} required>
            <option value="">请选择项目</option>
            {(items.data ?? []).map((i) => (
              <option key={`${i.item_class}|${i.item_code}`} value={`${i.item_class}|${i.item_code}`}>
                {i.item_class === 'lab' ? '检验' : '检查'}：{i.name}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit" className="btn" disabled={busy || !choice}>核对</button>
      </form>
      <ErrorBox error={error} />
      {result?.status === 'clear' && <p className="muted" data-testid="order-check-clear">医共体内暂无该项目的有效互认结果，可正常开单。</p>}
      {result?.status === 'awaiting_reason' && (
        <ReasonForm order={result} reasons={reasons} onDone={() => { setResult(null); setChoice(''); onChanged(); }} />
      )}
    </details>
  );
}

function Orders({ orders, reasons, onChanged }: { orders: RecognitionOrder[]; reasons: ReasonOption[]; onChanged: () => void }) {
  const [open, setOpen] = useState<number | null>(null);
  if (!orders.length) return null;
  return (
    <div className="stack">
      <h3>开单核对记录</h3>
      <ul className="comments" data-testid="recognition-orders">
        {orders.map((o) => (
          <li key={o.id}>
            <div className="row" style={{ flexWrap: 'wrap', gap: '0.4rem' }}>
              <strong>{o.item_name}</strong>
              <Badge kind={STATUS_BADGE[o.status]}>{o.status_label}</Badge>
              <span className="muted">
                {o.orderer} · {formatDateTime(o.ordered_at)} · {o.channel === 'his' ? '医院信息系统' : '平台'}
              </span>
            </div>
            {o.reason_label && (
              <p>
                理由：{o.reason_label}
                {o.reason_note ? `（${o.reason_note}）` : ''}
              </p>
            )}
            {o.status === 'awaiting_reason' &&
              (open === o.id ? (
                <ReasonForm order={o} reasons={reasons} onDone={() => { setOpen(null); onChanged(); }} />
              ) : (
                <button type="button" className="btn btn-small" onClick={() => setOpen(o.id)}>说明理由</button>
              ))}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** 全网记录: the resident's results from every member institution, with source badges and the 互认 mark. */
export default function NetworkRecord({ residentId }: { residentId: string }) {
  const state = useAsync(() => recognition.record(residentId), [residentId]);
  const [kind, setKind] = useState<NetworkItem['kind'] | ''>('');
  const data = state.data;
  const shown = useMemo(() => (data?.items ?? []).filter((i) => !kind || i.kind === kind), [data, kind]);

  let body;
  if (state.loading && !data) body = <Loading text="正在加载全网记录…" />;
  else if (state.error) {
    body =
      state.error instanceof ApiError && state.error.status === 403 ? (
        <p className="muted">您的角色不能查看全网记录。</p>
      ) : state.error instanceof ApiError && state.error.status === 404 ? (
        <p className="muted" data-testid="network-record-closed">该患者不在您的管辖范围，且没有进行中的转诊或会诊，不能查看全网记录。</p>
      ) : (
        <ErrorBox error={state.error} onRetry={state.reload} />
      );
  } else if (data) {
    body = (
      <>
        <p className="muted">
          医共体各机构的检验、影像、心电图和出院小结。标“互认”的结果来自质控合格的成员机构且在有效期内，可直接采用，无需重复检查。
          {!data.rules_available && ' 互认规则尚未部署，暂不判定互认。'}
        </p>
        <div className="tabs" role="tablist">
          {KINDS.map((k) => (
            <button type="button" key={k.code || 'all'} className={`tab${k.code === kind ? ' active' : ''}`} onClick={() => setKind(k.code)}>
              {k.label}
            </button>
          ))}
        </div>
        {shown.length ? (
          <ul className="comments" data-testid="network-items">
            {shown.map((i) => (
              <li key={i.key} data-recognised={i.recognition?.recognised ? 'yes' : 'no'}>
                <div className="row" style={{ flexWrap: 'wrap', gap: '0.4rem' }}>
                  <Badge>{i.kind_label}</Badge>
                  <strong>{i.title}</strong>
                  {i.value && <span className={i.abnormal_flag && i.abnormal_flag !== 'N' ? 'text-danger' : ''}>{i.value}</span>}
                  <Mark item={i} />
                </div>
                <div className="row" style={{ flexWrap: 'wrap', gap: '0.4rem' }}>
                  <Badge kind="badge-info">{i.org_name}</Badge>
                  <span className="muted">{formatDateTime(i.at)}</span>
                  {i.viewer_url && (
                    <a className="btn btn-small" href={i.viewer_url} target="_blank" rel="noopener noreferrer">查看影像</a>
                  )}
                </div>
                {i.report_text && (
                  <details>
                    <summary>{i.kind === 'document' ? '内容' : '报告'}</summary>
                    <p>{i.report_text}</p>
                  </details>
                )}
              </li>
            ))}
          </ul>
        ) : (
          <Empty title="暂无全网记录" />
        )}
        <OrderCheck residentId={residentId} reasons={data.reasons} onChanged={state.reload} />
        <Orders orders={data.orders} reasons={data.reasons} onChanged={state.reload} />
      </>
    );
  }
  return (
    <section className="card" data-testid="network-record">
      <h2>
        全网记录
        {data && data.access.kind !== 'scope' ? (
          <span className="muted">：{data.resident_name ?? '患者'}（{data.access.label}）</span>
        ) : null}
      </h2>
      {body}
    </section>
  );
}

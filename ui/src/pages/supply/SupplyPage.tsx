import { useCallback, useEffect, useRef, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { IScannerControls } from '@zxing/browser';
import type { DecodeHintType as HintType } from '@zxing/library';
import { ApiError } from '../../api/client';
import { residents } from '../../api/endpoints';
import type { Resident } from '../../api/types';
import { Badge, Empty, ErrorBox, Loading } from '../../components/common';
import { formatDate, formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { rawUdi, readableUdi, supply, yuan, type Alert, type RecallSearch, type StockLine, type UdiCheck, type UdiUse } from './api';

type Tab = 'stock' | 'scan' | 'recall';

const STATUS: Record<string, [string, string]> = {
  ok: ['充足', 'badge-ok'],
  low: ['低于请领点', 'badge-warn'],
  critical: ['低于安全库存', 'badge-danger'],
};

/**
 * 库存与耗材: stock by store with the reorder policy, open alerts, scanning a UDI onto a patient case with the phone
 * camera (or typed), and the recall search (which patients received a lot). Phone-first: one column, large targets.
 */
export default function SupplyPage() {
  const [params, setParams] = useSearchParams();
  const stores = useAsync(() => supply.stores(), []);
  const storeCode = params.get('store') ?? stores.data?.[0]?.code ?? '';
  const tab = (params.get('tab') as Tab | null) ?? 'stock';
  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    next.set(key, value);
    setParams(next, { replace: true });
  };

  if (stores.loading) return <div className="page"><Loading /></div>;
  if (stores.error) return <div className="page"><ErrorBox error={stores.error} onRetry={stores.reload} /></div>;
  if (!stores.data?.length) return <div className="page"><h1>库存与耗材</h1><Empty title="没有可查看的库房" /></div>;

  return (
    <div className="page page-narrow supply-page">
      <h1>库存与耗材</h1>
      <label className="field">
        <span className="field-label">库房</span>
        <select value={storeCode} onChange={(e) => setParam('store', e.target.value)} data-testid="store-select">
          {stores.data.map((s) => (
            <option key={s.code} value={s.code}>{s.name}（{s.level_label}）</option>
          ))}
        </select>
      </label>
      <nav className="tabs" role="tablist" aria-label="功能">
        {([['stock', '库存与预警'], ['scan', '扫码使用'], ['recall', '召回查询']] as [Tab, string][]).map(([key, label]) => (
          <button key={key} type="button" role="tab" aria-selected={tab === key} className={tab === key ? 'tab active' : 'tab'}
            onClick={() => setParam('tab', key)} data-testid={`tab-${key}`}>{label}</button>
        ))}
      </nav>
      {tab === 'stock' && <StockTab storeCode={storeCode} />}
      {tab === 'scan' && <ScanTab storeCode={storeCode} />}
      {tab === 'recall' && <RecallTab />}
    </div>
  );
}

function StockTab({ storeCode }: { storeCode: string }) {
  const stock = useAsync(() => supply.stock(storeCode), [storeCode]);
  const alerts = useAsync(() => supply.alerts(), []);
  const indicators = useAsync(() => supply.indicators(), []);
  const shortages = useAsync(() => supply.shortages(), []);
  const requests = useAsync(() => supply.replenishments(), []);
  return (
    <>
      {indicators.data && (
        <div className="stat-row">
          <div className="stat"><div className="stat-value">{indicators.data.stockout_rate === null || indicators.data.stockout_rate === undefined ? '—' : `${(indicators.data.stockout_rate * 100).toFixed(1)}%`}</div><div className="stat-label">缺货率（近90天）</div></div>
          <div className="stat"><div className="stat-value">¥{yuan(indicators.data.near_expiry_value_fen)}</div><div className="stat-label">近效期金额</div></div>
          <div className="stat"><div className="stat-value">{alerts.data?.length ?? 0}</div><div className="stat-label">未处理预警</div></div>
        </div>
      )}
      <section aria-label="预警">
        <h2>预警</h2>
        <ErrorBox error={alerts.error} onRetry={alerts.reload} />
        {alerts.data && alerts.data.length === 0 && <Empty title="暂无预警" />}
        <ul className="card-list" data-testid="alerts">
          {alerts.data?.map((a) => <AlertCard key={a.id} alert={a} />)}
        </ul>
      </section>
      <section aria-label="库存">
        <h2>库存</h2>
        {stock.loading && <Loading />}
        <ErrorBox error={stock.error} onRetry={stock.reload} />
        {stock.data && stock.data.items.length === 0 && <Empty title="该库房暂无库存记录" />}
        <ul className="card-list" data-testid="stock">
          {/* while another store loads, its predecessor's lines are not shown under the new store's name */}
          {!stock.loading && stock.data?.items.map((line) => <StockCard key={line.item.code} line={line} />)}
        </ul>
      </section>
      <section aria-label="补货请求">
        <h2>补货请求（统一供应链）</h2>
        {requests.data && requests.data.length === 0 && <p className="muted">没有在途的补货请求。</p>}
        <ul className="card-list">
          {requests.data?.map((r) => (
            <li key={r.request_no} className="card">
              <strong>{r.item_name}</strong> × {r.quantity} {r.unit}
              <div className="muted">{r.store_name} · {r.reason === 'below_safety' ? '低于安全库存' : '低于请领点'} · {formatDateTime(r.requested_at)} · 单号 {r.request_no}</div>
            </li>
          ))}
        </ul>
      </section>
      <section aria-label="短缺药品登记">
        <h2>短缺药品登记</h2>
        {shortages.data && shortages.data.length === 0 && <p className="muted">当前没有登记短缺的药品。</p>}
        <ul className="card-list" data-testid="shortages">
          {shortages.data?.map((s) => (
            <li key={s.id} className="card">
              <strong>{s.item.name}</strong> <Badge kind="badge-warn">短缺</Badge>
              <div>{s.reason}</div>
              {s.alternative && <div className="muted">替代方案：{s.alternative}</div>}
              <div className="muted">登记于 {formatDate(s.reported_on)}{s.expected_on ? `，预计 ${formatDate(s.expected_on)} 恢复` : ''}</div>
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function AlertCard({ alert }: { alert: Alert }) {
  const d = alert.details as Record<string, unknown>;
  const danger = alert.kind === 'below_safety' || alert.kind === 'recalled_stock' || d.expired === true;
  return (
    <li className="card" data-testid={`alert-${alert.kind}`}>
      <Badge kind={danger ? 'badge-danger' : 'badge-warn'}>{alert.kind_label}</Badge> <strong>{alert.item_name}</strong>
      <div className="muted">{alert.store_name}</div>
      {(alert.kind === 'below_rop' || alert.kind === 'below_safety') && (
        <div>可用 {Number(d.usable) - Number(d.reserved)} {String(d.unit)}，请领点 {String(d.reorder_point)}，安全库存 {String(d.safety_stock)}，日均用量 {String(d.mean_daily)}</div>
      )}
      {alert.kind === 'near_expiry' && (
        <div>批号 {String(d.lot_no)}：{String(d.on_hand)} {String(d.unit)}，{d.expired ? '已过期' : '有效期至'} {formatDate(String(d.expiry_on))}，金额 ¥{yuan(Number(d.value_fen))}</div>
      )}
      {alert.kind === 'recalled_stock' && <div>批号 {String(d.lot_no)} 在库 {String(d.on_hand)} {String(d.unit)}：{String(d.reason)}，请立即封存</div>}
    </li>
  );
}

function StockCard({ line }: { line: StockLine }) {
  const [label, kind] = STATUS[line.status] ?? STATUS.ok;
  const p = line.policy;
  return (
    <li className="card" data-testid="stock-line">
      <div><strong>{line.item.name}</strong> <Badge kind={kind}>{label}</Badge>{line.item.high_value && <> <Badge>高值耗材</Badge></>}{line.item.supervised && <> <Badge>监管药品</Badge></>}</div>
      <div>在库 <strong>{p.on_hand}</strong> {line.item.unit}{p.reserved ? <>，已预留 <strong data-testid="stock-reserved">{p.reserved}</strong>，可用 <strong data-testid="stock-available">{p.usable - p.reserved}</strong> {line.item.unit}</> : null}{p.on_order ? `，在途 ${p.on_order}` : ''}{p.days_of_supply !== null && p.days_of_supply !== undefined ? `，约可用 ${p.days_of_supply} 天` : ''}</div>
      <div className="muted">请领点 {p.reorder_point} · 安全库存 {p.safety_stock} · 上限 {p.max_stock} · 日均 {p.mean_daily} · 提前期 {p.lead_days} 天</div>
      {line.lots.length > 0 && (
        <details>
          <summary>批次（{line.lots.length}）</summary>
          <ul>
            {line.lots.map((lot) => (
              <li key={`${lot.lot_no}-${lot.consignment}`}>批号 {lot.lot_no || '—'} · 在库 {lot.on_hand} {line.item.unit}{lot.reserved ? ` · 已预留 ${lot.reserved} · 可用 ${lot.available}` : ''} · 有效期 {lot.expiry_on ? formatDate(lot.expiry_on) : '—'}{lot.consignment ? ' · 寄售' : ''}</li>
            ))}
          </ul>
        </details>
      )}
      {line.reservations.length > 0 && (
        <details data-testid="stock-reservations">
          <summary>手术预留（{line.reservations.length}）</summary>
          <ul>
            {line.reservations.map((r) => (
              <li key={`${r.case_ref}-${r.lot_no}`}>介入病例 {r.case_ref} · 批号 {r.lot_no || '—'} · {r.quantity} {line.item.unit} · 预留于 {formatDate(r.reserved_at)}</li>
            ))}
          </ul>
        </details>
      )}
    </li>
  );
}

/** Scan (camera or typed) → check → pick the patient and case → use. Every refusal shows its reason. */
function ScanTab({ storeCode }: { storeCode: string }) {
  const [code, setCode] = useState('');
  const [camera, setCamera] = useState(false);
  const [checked, setChecked] = useState<UdiCheck | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [patient, setPatient] = useState<Resident | null>(null);
  const [caseRef, setCaseRef] = useState('');
  const [used, setUsed] = useState<UdiUse | null>(null);
  const [busy, setBusy] = useState(false);

  const check = useCallback(async (text: string) => {
    setError(null); setChecked(null); setUsed(null);
    if (!text.trim()) return;
    try {
      setChecked(await supply.check(rawUdi(text), storeCode));
    } catch (e) {
      setError(e);
    }
  }, [storeCode]);

  const onScanned = useCallback((text: string) => {
    setCamera(false);
    setCode(readableUdi(text));
    void check(text);
  }, [check]);

  const use = async () => {
    if (!patient) return;
    setBusy(true); setError(null);
    try {
      setUsed(await supply.use({ code: rawUdi(code), store_code: storeCode, resident_id: Number(patient.id), case_ref: caseRef.trim() }));
      setChecked(null);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-label="扫码使用">
      <h2>扫码使用高值耗材</h2>
      {camera ? <Camera onText={onScanned} onClose={() => setCamera(false)} /> : (
        <button type="button" className="btn btn-primary btn-block" onClick={() => setCamera(true)} data-testid="open-camera">打开相机扫码</button>
      )}
      <label className="field">
        <span className="field-label">UDI 条码内容（可手工输入，如 (01)…(17)…(10)…(21)…）</span>
        <textarea rows={2} value={code} onChange={(e) => setCode(e.target.value)} data-testid="udi-input" />
      </label>
      <button type="button" className="btn btn-block" onClick={() => void check(code)} data-testid="udi-check">核对条码</button>
      <ErrorBox error={error} />
      {checked && <CheckResult checked={checked} />}
      {checked && !checked.refusal && (
        <div className="card">
          <PatientPicker value={patient} onChange={setPatient} />
          <label className="field"><span className="field-label">手术/病例号</span>
            <input value={caseRef} onChange={(e) => setCaseRef(e.target.value)} data-testid="case-ref" /></label>
          <button type="button" className="btn btn-primary btn-block" disabled={!patient || !caseRef.trim() || busy}
            onClick={() => void use()} data-testid="udi-use">确认使用并绑定患者</button>
        </div>
      )}
      {used && (
        <div className="alert alert-ok" role="status" data-testid="udi-used">
          已登记：{used.item.name}（序列号 {used.serial ?? '—'}，批号 {used.lot ?? '—'}）用于 {patient?.name}，病例 {used.case_ref}
        </div>
      )}
    </section>
  );
}

function CheckResult({ checked }: { checked: UdiCheck }) {
  const item = checked.item as UdiCheck['item'] & { name?: string; unit_price_fen?: number } | null;
  return (
    <div className={checked.refusal ? 'alert alert-error' : 'card'} data-testid="udi-result">
      {checked.refusal && <div role="alert"><strong>不能使用：</strong>{(checked.refusal as { message: string }).message}</div>}
      {item?.name && <div><strong>{item.name}</strong>{item.unit_price_fen ? ` · ¥${yuan(item.unit_price_fen)}` : ''}</div>}
      <div className="muted">产品标识 {checked.gtin} · 批号 {checked.lot ?? '—'} · 序列号 {checked.serial ?? '—'} · 有效期 {checked.expiry_on ? formatDate(checked.expiry_on) : '—'}</div>
    </div>
  );
}

function PatientPicker({ value, onChange }: { value: Resident | null; onChange: (r: Resident | null) => void }) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Resident[]>([]);
  const [error, setError] = useState<unknown>(null);
  const search = async () => {
    setError(null);
    try {
      setFound((await residents.search(q.trim())).items);
    } catch (e) {
      setError(e);
    }
  };
  if (value) {
    return (
      <div className="field"><span className="field-label">患者</span>
        <div>{value.name} {value.id_number_masked ?? ''} <button type="button" className="btn btn-small" onClick={() => onChange(null)}>更换</button></div>
      </div>
    );
  }
  return (
    <div className="field">
      <span className="field-label">患者（姓名或身份证号）</span>
      <div className="row">
        <input value={q} onChange={(e) => setQ(e.target.value)} data-testid="patient-q" />
        <button type="button" className="btn" onClick={() => void search()} disabled={!q.trim()} data-testid="patient-search">查找</button>
      </div>
      <ErrorBox error={error} />
      <ul className="card-list">
        {found.map((r) => (
          <li key={r.id}><button type="button" className="btn btn-block" onClick={() => onChange(r)} data-testid="patient-pick">
            {r.name} {r.sex === 'F' ? '女' : r.sex === 'M' ? '男' : ''} {r.age ? `${r.age}岁` : ''} {r.id_number_masked ?? ''}</button></li>
        ))}
      </ul>
    </div>
  );
}

/** The phone camera: GS1 DataMatrix and GS1-128 (ZXing); FNC1 comes through as the ASCII group separator. */
function Camera({ onText, onClose }: { onText: (text: string) => void; onClose: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState('');
  useEffect(() => {
    let controls: IScannerControls | null = null;
    let stopped = false;
    (async () => {
      try {
        const [{ BrowserMultiFormatReader }, { BarcodeFormat, DecodeHintType }] = await Promise.all([
          import('@zxing/browser'), import('@zxing/library')]);
        const hints = new Map<HintType, unknown>([
          [DecodeHintType.POSSIBLE_FORMATS, [BarcodeFormat.DATA_MATRIX, BarcodeFormat.CODE_128]],
          [DecodeHintType.ASSUME_GS1, true],
        ]);
        const reader = new BrowserMultiFormatReader(hints, { delayBetweenScanAttempts: 200 });
        controls = await reader.decodeFromConstraints({ video: { facingMode: 'environment' } }, video.current!, (result) => {
          if (!result || stopped) return;
          stopped = true;
          controls?.stop();
          onText(result.getText());
        });
        if (stopped) controls.stop();
      } catch {
        setProblem('无法打开摄像头：请允许浏览器使用相机，或手工输入条码下方的文字');
      }
    })();
    return () => {
      stopped = true;
      controls?.stop();
    };
  }, [onText]);
  return (
    <div className="card">
      <p className="muted">将手机对准耗材包装上的 UDI 二维码（DataMatrix）或条形码。</p>
      <div className="scanner"><video ref={video} muted playsInline data-testid="scanner-video" /></div>
      {problem && <div className="alert alert-warn">{problem}</div>}
      <button type="button" className="btn btn-block" onClick={onClose}>关闭相机</button>
    </div>
  );
}

function RecallTab() {
  const [code, setCode] = useState('');
  const [camera, setCamera] = useState(false);
  const [result, setResult] = useState<RecallSearch | null>(null);
  const [error, setError] = useState<unknown>(null);
  const search = useCallback(async (text: string) => {
    setError(null); setResult(null);
    const raw = rawUdi(text);
    try {
      setResult(await supply.recallSearch(/^\d{8,14}$/.test(raw) ? { gtin: raw } : { code: raw }));
    } catch (e) {
      setError(e instanceof ApiError ? e : e);
    }
  }, []);
  const onScanned = useCallback((text: string) => {
    setCamera(false);
    setCode(readableUdi(text));
    void search(text);
  }, [search]);
  const item = result?.item as { name?: string } | null | undefined;
  const recall = result?.recall as { reason?: string; source?: string; issued_on?: string } | null | undefined;
  return (
    <section aria-label="召回查询">
      <h2>召回查询</h2>
      <p className="muted">扫描召回产品的 UDI（产品标识 + 批号），查出使用过该批次的患者和仍有库存的库房。</p>
      {camera ? <Camera onText={onScanned} onClose={() => setCamera(false)} /> : (
        <button type="button" className="btn btn-block" onClick={() => setCamera(true)}>打开相机扫码</button>
      )}
      <label className="field"><span className="field-label">UDI 或产品标识 GTIN</span>
        <textarea rows={2} value={code} onChange={(e) => setCode(e.target.value)} data-testid="recall-input" /></label>
      <button type="button" className="btn btn-primary btn-block" onClick={() => void search(code)} disabled={!code.trim()} data-testid="recall-search">查询</button>
      <ErrorBox error={error} />
      {result && (
        <div data-testid="recall-result">
          <div className="card">
            <strong>{item?.name ?? '院内目录无此产品'}</strong>
            <div className="muted">产品标识 {result.gtin}{result.lot ? ` · 批号 ${result.lot}` : ' · 全部批号'}</div>
            {recall ? <div className="alert alert-error">已召回：{recall.reason}（{recall.source}，{formatDate(recall.issued_on ?? '')}）</div> : <div className="muted">该批次没有登记召回。</div>}
          </div>
          <h3>使用过的患者（{result.uses.length}{result.hidden_uses ? `，另有 ${result.hidden_uses} 人不在您的管理范围` : ''}）</h3>
          {result.uses.length === 0 && <p className="muted">没有使用记录。</p>}
          <ul className="card-list">
            {result.uses.map((u) => (
              <li key={`${u.case_ref}-${u.serial}`} className="card" data-testid="recall-patient">
                <a href={`/residents/${u.resident_id}`}><strong>{u.resident_name}</strong></a>
                <div className="muted">病例 {u.case_ref} · 序列号 {u.serial ?? '—'} · {formatDateTime(u.used_at)}</div>
              </li>
            ))}
          </ul>
          <h3>仍有库存的库房</h3>
          {result.in_stock.length === 0 && <p className="muted">没有库房持有该批次。</p>}
          <ul className="card-list">
            {result.in_stock.map((s) => <li key={`${s.store_code}-${s.lot}`} className="card">{s.store_name}：批号 {s.lot} 在库 {s.on_hand}</li>)}
          </ul>
        </div>
      )}
    </section>
  );
}

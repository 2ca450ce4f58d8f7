import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams } from 'react-router-dom';
import { Badge, Empty, ErrorBox, Loading } from '../../components/common';
import { formatDate, formatDateTime } from '../../lib/time';
import { useAsync } from '../../lib/useAsync';
import { centreApi, type CaseDetail } from './api';

const CHECKPOINTS: [string, string, number][] = [['48h', '术后48小时', 48 * 3600e3], ['31d', '术后31天', 31 * 86400e3]];

function yuan(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${Math.round(v).toLocaleString('zh-CN')} 元`;
}

function Section({ title, children, testId }: { title: string; children: ReactNode; testId?: string }) {
  return (
    <section className="card" data-testid={testId}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

function Checkpoints({ c }: { c: CaseDetail }) {
  return (
    <ul className="task-list" data-testid="case-checkpoints">
      {CHECKPOINTS.map(([key, label, after]) => {
        const done = c.checkpoints[key];
        const due = c.operated_at ? new Date(new Date(c.operated_at).getTime() + after) : null;
        return (
          <li key={key} className="task-card">
            <div className="task-title">
              {label}检查点
              {done ? <Badge kind={done.complications ? 'badge-warn' : 'badge-ok'}>{done.complications ? `登记并发症 ${done.complications} 项` : '无并发症'}</Badge>
                : <Badge kind="badge-info">未到期</Badge>}
            </div>
            <div className="task-meta">
              {done?.at ? <span>确认于 {formatDateTime(done.at)}</span> : due && <span>到期 {formatDateTime(due.toISOString())}</span>}
              {done?.returned_to_theatre && <span>重返手术室</span>}
            </div>
          </li>
        );
      })}
    </ul>
  );
}

/** 术中扫码 while the operation record is open: a scanner types the UDI (or it is pasted); refusals show their reason. */
function ScanForm({ id, onScanned }: { id: number; onScanned: () => void }) {
  const [udi, setUdi] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!udi.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await centreApi.scan(id, udi.trim());
      setUdi('');
      onScanned();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form" onSubmit={submit} data-testid="case-scan">
      <label htmlFor="case-udi">扫描耗材 UDI（扫码枪或粘贴）</label>
      <div className="row" style={{ gap: 8 }}>
        <input id="case-udi" value={udi} onChange={(e) => setUdi(e.target.value)} style={{ minHeight: 44, flex: 1 }}
          autoComplete="off" data-testid="case-udi" />
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="case-udi-submit">登记</button>
      </div>
      <ErrorBox error={error} />
    </form>
  );
}

const CANCELLABLE = ['assessing', 'mdt', 'consenting', 'reserving', 'operating'];

/** 取消手术 before the operation: the reason is required; the consumables reserved for the case are released. */
function CancelForm({ id, onDone }: { id: number; onDone: () => void }) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!reason.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await centreApi.cancel(id, reason.trim());
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="form" onSubmit={submit} data-testid="case-cancel">
      <label>取消原因<input value={reason} onChange={(e) => setReason(e.target.value)} placeholder="如：患者要求推迟手术" /></label>
      <button type="submit" className="btn btn-small" disabled={busy || !reason.trim()}>取消手术并释放预留耗材</button>
      <ErrorBox error={error} />
    </form>
  );
}

/** One interventional case: procedure, devices scanned with their UDI parts, complications with the 48-hour and
 * 31-day checkpoints, returns to theatre, the DRG result with cost and margin, follow-up and the case's timeline. */
export default function InterventionCasePage() {
  const id = Number(useParams().id);
  const q = useAsync(() => centreApi.detail(id), [id]);
  if (!q.data) return <div className="page">{q.error ? <ErrorBox error={q.error} onRetry={q.reload} /> : <Loading />}</div>;
  const c = q.data;
  const anticoag = c.assessment.anticoagulation;
  return (
    <div className="page">
      <p><Link to="/intervention">← 介入中心</Link></p>
      <div className="page-head">
        <div>
          <h1 data-testid="case-title">{c.resident_name ?? '患者'} · {c.procedure_name}</h1>
          <div className="muted">{c.case_no} · {c.service_line_label} · {c.grade_label} · 主诊 {c.doctor_name ?? '—'}</div>
        </div>
        <Badge kind="badge-info">{c.status_label}</Badge>
      </div>
      <Section title="诊疗概况">
        <dl className="kv">
          <dt>诊断</dt><dd>{c.diagnosis}</dd>
          <dt>入院</dt><dd>{formatDate(c.admitted_on)}</dd>
          {c.operated_at && <><dt>手术</dt><dd>{formatDateTime(c.operated_at)}{c.operation.minutes ? `，${c.operation.minutes} 分钟` : ''}{c.approach_label && `，${c.approach_label}入路`}{c.outcome_label && `，${c.outcome_label}`}</dd></>}
          {c.discharged_on && <><dt>出院</dt><dd>{formatDate(c.discharged_on)}（住院 {c.los_days} 天{c.destination_label && `，${c.destination_label}`}）</dd></>}
          {c.contrast_risk_label && <><dt>造影剂肾损伤风险</dt><dd>{c.contrast_risk_label}{c.assessment.egfr_ckd_epi_2009 ? `（eGFR ${c.assessment.egfr_ckd_epi_2009}）` : ''}</dd></>}
          {anticoag && <><dt>抗凝/抗血小板</dt><dd>{anticoag.drugs?.length ? anticoag.drugs.map((d) => d.name).join('、') : '无'}{c.assessment.anticoag_plan && `；${c.assessment.anticoag_plan}`}</dd></>}
        </dl>
      </Section>
      {c.reservation.length > 0 && (
        <Section title="耗材预留（二级库）" testId="case-reservation">
          <ul className="task-list">
            {c.reservation.map((r, k) => (
              <li key={k} className="task-card">
                <div className="task-title">{r.name} × {r.quantity}{r.implant && <Badge kind="badge-info">植入物</Badge>}</div>
                <div className="task-meta">
                  {r.lots && r.lots.length > 0
                    ? r.lots.map((l) => <span key={l.lot_no}>批号 {l.lot_no || '—'} 预留 {l.quantity} 件{l.expiry_on ? `（有效期至 ${formatDate(l.expiry_on)}）` : ''}</span>)
                    : <span>{r.di ? '未预留' : '未按产品标识预留（仅登记）'}</span>}
                </div>
              </li>
            ))}
          </ul>
          <p className="muted">预留的耗材在术中扫码时使用；手术记录提交后未使用的预留自动释放，取消手术时全部释放。</p>
        </Section>
      )}
      {CANCELLABLE.includes(c.status) && c.devices.length === 0 && (
        <Section title="取消手术" testId="case-cancel-section">
          <CancelForm id={c.id} onDone={q.reload} />
        </Section>
      )}
      <Section title={`术中扫码耗材（${c.devices.length}）`} testId="case-devices">
        {c.scanning_open && <ScanForm id={c.id} onScanned={q.reload} />}
        {c.devices.length === 0 ? <Empty title="尚未扫码" /> : (
          <ul className="task-list">
            {c.devices.map((d) => (
              <li key={d.id} className="task-card" data-testid="case-device">
                <div className="task-title">
                  {d.name}
                  {d.implant && <Badge kind="badge-info">植入物</Badge>}
                  {d.self_pay && <Badge kind="badge-warn">自费</Badge>}
                </div>
                <div className="task-meta">
                  <span>产品标识 <span className="mono">{d.gtin}</span></span>
                  <span>批号 {d.lot ?? '—'}</span><span>序列号 {d.serial ?? '—'}</span>
                  <span>有效期至 {d.expiry ? formatDate(d.expiry) : '—'}</span><span>{yuan(d.unit_price)}</span>
                </div>
              </li>
            ))}
          </ul>
        )}
      </Section>
      <Section title="并发症与检查点" testId="case-complications">
        <Checkpoints c={c} />
        {c.complications.map((x) => (
          <div key={x.id} className="task-card" data-testid="case-complication">
            <div className="task-title">{x.kind_label} {x.severe ? <Badge kind="badge-danger">严重 {x.grade_label}</Badge> : <Badge kind="badge-warn">{x.grade_label}</Badge>}</div>
            <div className="task-meta">
              <span>{x.checkpoint_label}登记</span>{x.occurred_at && <span>发生 {formatDateTime(x.occurred_at)}</span>}
              <span>{x.during_stay ? '住院期间' : '出院后'}</span>{x.treatment && <span>处理：{x.treatment}</span>}
            </div>
          </div>
        ))}
        {c.reoperations.map((r) => (
          <div key={r.id} className="task-card is-urgent" data-testid="case-reoperation">
            <div className="task-title">{r.unplanned ? '非计划重返手术室' : '计划内再次手术'}（间隔 {r.interval_hours} 小时）</div>
            <div className="task-meta">
              <span>原因：{r.reason_label}</span>{r.description && <span>{r.description}</span>}
              {r.unplanned && <span>{r.rca_done_at ? `原因分析：${r.rca.root_cause ?? '已完成'}` : '原因分析待完成'}</span>}
            </div>
          </div>
        ))}
      </Section>
      <Section title="DRG 分组与成本效益" testId="case-drg">
        {!c.drg_code ? <Empty title={c.discharged_on ? '等待医保结算清单分组结果' : '出院后导入分组结果'} /> : (
          <dl className="kv">
            <dt>病组</dt><dd>{c.drg.drg_name ?? ''}（{c.drg_code}，权重 {c.drg_weight}）</dd>
            <dt>总费用</dt><dd>{yuan(c.total_charge)}</dd>
            <dt>支付</dt><dd>{c.cost.method_label ?? ''} {yuan(c.cost.paid)}{c.cost.excluded ? '（按项目付费）' : ''}</dd>
            <dt>预期收入</dt><dd>{yuan(c.cost.expected_revenue)}</dd>
            <dt>病例成本</dt><dd>{yuan(c.case_cost)}（高值耗材 {yuan(c.cost.high_value_cost)}）</dd>
            <dt>结余</dt><dd data-testid="case-margin"><strong>{yuan(c.margin)}</strong>{c.margin !== null && c.margin < 0 && <> <Badge kind="badge-danger">亏损</Badge></>}</dd>
            {c.cost.consumable_share !== null && c.cost.consumable_share !== undefined && <><dt>耗占比</dt><dd>{(c.cost.consumable_share * 100).toFixed(1)}%</dd></>}
          </dl>
        )}
      </Section>
      {c.satisfaction !== null && (
        <Section title="术后30天随访">
          <dl className="kv"><dt>满意度</dt><dd>{c.satisfaction} 分</dd><dt>30天再入院</dt><dd>{c.readmitted_30d ? '是' : '否'}</dd></dl>
        </Section>
      )}
      <Section title="病例时间线" testId="case-timeline">
        <ol className="task-list">
          {c.timeline.map((e, k) => (
            <li key={k} className="task-card"><div className="task-meta"><span>{formatDateTime(e.at)}</span><span>{e.text}</span></div></li>
          ))}
        </ol>
      </Section>
    </div>
  );
}

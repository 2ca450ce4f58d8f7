import { useCallback, useEffect, useRef, useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import type { IScannerControls } from '@zxing/browser';
import { ApiError } from '../../api/client';
import { training, type Attendance } from '../../api/training';
import { Badge, ErrorBox } from '../../components/common';
import { formatDateTime } from '../../lib/time';
import { deviceId, locate, tokenFrom } from '../../lib/training';

type Step = 'scan' | 'locating' | 'sending' | 'done' | 'refused';

/**
 * Sign in (or out) on the phone: read the venue QR with the camera (or arrive from the phone's own scanner with the
 * token in the link), take a fresh GPS fix and send both; a refusal shows the reason and offers a manual sign-in.
 */
export default function SignInPage() {
  const id = Number(useParams().id);
  const [params] = useSearchParams();
  const [step, setStep] = useState<Step>(params.get('t') ? 'locating' : 'scan');
  const [record, setRecord] = useState<Attendance | null>(null);
  const [refusal, setRefusal] = useState<ApiError | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [fixNote, setFixNote] = useState('');
  const started = useRef(false);

  const submit = useCallback(async (token: string) => {
    setStep('locating');
    const fix = await locate();
    setFixNote(fix.error ?? (fix.accuracy_m !== null ? `定位精度约 ${fix.accuracy_m} 米` : ''));
    setStep('sending');
    try {
      const r = await training.signIn(id, { token, lat: fix.lat, lon: fix.lon, accuracy_m: fix.accuracy_m, device_id: deviceId() });
      setRecord(r);
      setStep('done');
    } catch (e) {
      if (e instanceof ApiError && e.status === 422 && e.details.attempt_id) {
        setRefusal(e);
        setStep('refused');
      } else {
        setError(e);
        setStep('refused');
      }
    }
  }, [id]);

  const onToken = useCallback((t: string) => void submit(t), [submit]);

  useEffect(() => {
    const t = params.get('t');
    if (t && !started.current) {
      started.current = true;
      void submit(t);
    }
  }, [params, submit]);

  return (
    <div className="page page-narrow">
      <p><Link to={`/training/my/${id}`}>← 返回培训</Link></p>
      <h1>扫码签到</h1>
      {step === 'scan' && <Scanner sessionId={id} onToken={onToken} />}
      {(step === 'locating' || step === 'sending') && (
        <div className="state state-loading" role="status"><span className="spinner" aria-hidden="true" />
          {step === 'locating' ? '正在获取您的位置…' : '正在签到…'}</div>
      )}
      {step === 'done' && record && <Done record={record} note={fixNote} />}
      {step === 'refused' && (
        <>
          {refusal ? <Refused id={id} refusal={refusal} onRetry={() => { setRefusal(null); setStep('scan'); }} /> : <ErrorBox error={error} />}
          {fixNote && <p className="muted">{fixNote}</p>}
        </>
      )}
    </div>
  );
}

function Done({ record, note }: { record: Attendance; note: string }) {
  const out = !!record.signed_out_at;
  return (
    <div className="card sign-in-result" data-testid="sign-in-ok">
      <div className="alert alert-ok">{out ? '签退成功' : '签到成功'}</div>
      <dl className="kv">
        <dt>签到时间</dt><dd>{formatDateTime(record.signed_in_at)} {record.late && <Badge kind="badge-warn">迟到 {record.late_minutes} 分钟</Badge>}</dd>
        {record.distance_m !== null && <><dt>距场地</dt><dd>{Math.round(record.distance_m)} 米</dd></>}
        {out && <><dt>签退时间</dt><dd>{formatDateTime(record.signed_out_at)}</dd></>}
      </dl>
      {note && <p className="muted">{note}</p>}
      {!out && <p className="muted">培训结束前30分钟起请再次扫码签退，签退后才计学时。</p>}
    </div>
  );
}

function Refused({ id, refusal, onRetry }: { id: number; refusal: ApiError; onRetry: () => void }) {
  const [note, setNote] = useState('');
  const [asked, setAsked] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ask = async () => {
    try {
      await training.help(id, Number(refusal.details.attempt_id), note);
      setAsked(true);
    } catch (e) {
      setError(e);
    }
  };
  const d = refusal.details;
  return (
    <div className="card" data-testid="sign-in-refused">
      <div className="alert alert-error" role="alert">签到未成功：{refusal.message}</div>
      {refusal.code === 'outside_geofence' && <p className="muted">您距培训场地约 {Math.round(Number(d.distance_m))} 米（允许范围 {String(d.radius_m)} 米）。</p>}
      {refusal.code === 'location_inaccurate' && <p className="muted">当前定位精度约 {String(d.accuracy_m)} 米，要求不超过 {String(d.max_accuracy_m)} 米。</p>}
      <div className="btn-group">
        <button type="button" className="btn btn-primary" onClick={onRetry}>重新扫码</button>
      </div>
      <h2>申请人工签到</h2>
      {asked ? (
        <div className="alert alert-info">已通知培训管理员，请到签到台确认。</div>
      ) : (
        <>
          <label className="field"><span className="field-label">说明（可选）</span>
            <input value={note} onChange={(e) => setNote(e.target.value)} placeholder="例如：人在报告厅，手机定位漂移" /></label>
          <ErrorBox error={error} />
          <button type="button" className="btn" onClick={ask} data-testid="ask-manual">申请人工签到</button>
        </>
      )}
    </div>
  );
}

/** The camera: continuous QR decoding (ZXing) until a token of this session is read. */
function Scanner({ sessionId, onToken }: { sessionId: number; onToken: (token: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState('');
  const [manual, setManual] = useState('');
  useEffect(() => {
    let controls: IScannerControls | null = null;
    let stopped = false;
    (async () => {
      try {
        const { BrowserQRCodeReader } = await import('@zxing/browser');
        const reader = new BrowserQRCodeReader(undefined, { delayBetweenScanAttempts: 200 });
        controls = await reader.decodeFromConstraints({ video: { facingMode: 'environment' } }, video.current!, (result) => {
          if (!result || stopped) return;
          const token = tokenFrom(result.getText(), sessionId);
          if (token) {
            stopped = true;
            controls?.stop();
            onToken(token);
          } else {
            setProblem('这不是本次培训的签到二维码');
          }
        });
        if (stopped) controls.stop();
      } catch {
        setProblem('无法打开摄像头：请允许浏览器使用相机，或用手机相机/微信扫一扫扫描大屏二维码');
      }
    })();
    return () => {
      stopped = true;
      controls?.stop();
    };
  }, [sessionId, onToken]);
  return (
    <div className="card">
      <p className="muted">将手机对准现场大屏上的二维码（二维码每30秒更新）。</p>
      <div className="scanner"><video ref={video} muted playsInline data-testid="scanner-video" /></div>
      {problem && <div className="alert alert-warn">{problem}</div>}
      <details>
        <summary>无法扫码？</summary>
        <label className="field"><span className="field-label">粘贴二维码链接</span>
          <input value={manual} onChange={(e) => setManual(e.target.value)} /></label>
        <button type="button" className="btn btn-small" disabled={!tokenFrom(manual, sessionId)}
          onClick={() => { const t = tokenFrom(manual, sessionId); if (t) onToken(t); }}>提交</button>
      </details>
    </div>
  );
}

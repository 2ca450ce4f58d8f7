import { useEffect, useState } from 'react';
import { useParams } from 'react-router-dom';
import { training, type SignInCode } from '../../api/training';
import { ErrorBox } from '../../components/common';

/** The venue screen: the sign-in QR, refreshed before it rotates (every 30 s), with live counts. */
export default function VenueScreenPage() {
  const id = Number(useParams().id);
  const [code, setCode] = useState<SignInCode | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [topic, setTopic] = useState('');
  useEffect(() => {
    training.session(id).then((s) => setTopic(s.topic), () => undefined);
  }, [id]);
  useEffect(() => {
    let timer = 0;
    const load = () => {
      training.code(id).then(
        (c) => {
          setCode(c);
          setError(null);
          const wait = Math.max(1000, Math.min(5000, new Date(c.rotates_at).getTime() - Date.now() + 300));
          timer = window.setTimeout(load, wait);
        },
        (e) => {
          setError(e);
          timer = window.setTimeout(load, 10000);
        },
      );
    };
    load();
    return () => window.clearTimeout(timer);
  }, [id]);
  return (
    <div className="venue-screen">
      <h1>{topic}</h1>
      <p className="venue-hint">请用手机扫码签到（打开「我的培训」→ 扫码签到，或用手机相机/微信扫一扫）</p>
      {code && <div className="venue-qr" data-testid="venue-qr" data-token={code.token} dangerouslySetInnerHTML={{ __html: code.svg }} />}
      {code && <p className="venue-counts">已签到 {code.signed_in} / 应到 {code.expected} · 已签退 {code.signed_out}</p>}
      <ErrorBox error={error} />
      <p className="venue-hint">二维码每 30 秒更新，截图转发无效；签到时需开启定位并在会场内。</p>
    </div>
  );
}

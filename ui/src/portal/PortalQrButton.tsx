/** Staff side, on the resident record: show a one-time 居民端绑定二维码 (10 minutes) for the resident to scan. */
import { useState } from 'react';
import { request } from '../api/client';
import { useAuth } from '../auth';
import './portal.css';

interface Qr { code: string; url: string; svg: string; expires_at: string }

const STAFF = ['village_doctor', 'township_doctor', 'township_public_health', 'county_specialist', 'county_admin'];

export default function PortalQrButton({ residentId }: { residentId: number | string }) {
  const { me } = useAuth();
  const [qr, setQr] = useState<Qr | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (!(me?.roles ?? []).some((r) => STAFF.includes(r))) return null;
  async function show() {
    setError(null);
    try {
      setQr(await request<Qr>(`/api/portal/v1/staff/residents/${residentId}/qr`, { method: 'POST' }));
    } catch (e) {
      setError(e instanceof Error ? e.message : '生成失败');
    }
  }
  return (
    <span className="portal-qr-button">
      <button type="button" className="btn btn-small" onClick={() => void show()} data-testid="portal-qr-button">居民端绑定二维码</button>
      {error && <span className="alert alert-error" role="alert">{error}</span>}
      {qr && (
        <div className="portal-qr-dialog" role="dialog" aria-label="居民端绑定二维码" data-testid="portal-qr" data-url={qr.url}>
          <div className="portal-qr" dangerouslySetInnerHTML={{ __html: qr.svg }} />
          <p>请居民用手机扫码绑定，{new Date(qr.expires_at).toLocaleTimeString('zh-CN', { hour12: false, hour: '2-digit', minute: '2-digit' })} 前有效，仅可使用一次。</p>
          <button type="button" className="btn btn-small" onClick={() => setQr(null)}>关闭</button>
        </div>
      )}
    </span>
  );
}

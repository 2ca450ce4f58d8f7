/** 开发短信收件箱：嵌入式默认配置下，短信不外发，在此查看（仅开发/演示环境）。 */
import { useEffect, useState } from 'react';
import { portal, PortalError } from './api';
import { PortalShell } from './PortalApp';

interface Msg { id: number; phone_hint: string; purpose: string; text: string; sent_at: string }

export default function DevSmsPage() {
  const [items, setItems] = useState<Msg[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    portal<{ items: Msg[] }>('GET', '/dev/sms')
      .then((r) => setItems(r.items))
      .catch((e: PortalError) => setError(e.status === 404 ? '已接入真实短信网关，开发收件箱已关闭' : e.message));
  useEffect(() => {
    void load();
  }, []);
  return (
    <PortalShell title="开发短信收件箱">
      <p className="p-hint">演示环境不发送真实短信，短信内容显示在这里。</p>
      <button type="button" className="p-btn" onClick={() => void load()}>刷新</button>
      {error && <div className="p-alert" role="alert">{error}</div>}
      <ul className="p-list" data-testid="dev-sms">
        {(items ?? []).map((m) => (
          <li key={m.id} className="p-card">
            <div className="p-meta">{m.phone_hint} · {new Date(m.sent_at).toLocaleString('zh-CN', { hour12: false })}</div>
            <div className="dev-sms-text">{m.text}</div>
          </li>
        ))}
      </ul>
      {items && items.length === 0 && <p>暂无短信</p>}
    </PortalShell>
  );
}

/**
 * 居民端 (resident portal, H5, phone first): binding, then the resident's own plan, readings, medicines, education,
 * referral status, consents and family proxies. Its own token and API (/api/portal/v1); no staff layout.
 */
import { useCallback, useEffect, useState } from 'react';
import { BrowserRouter, Route, Routes, useNavigate, useParams } from 'react-router-dom';
import { getToken, portal, PortalError, setToken, tokenFromPatientLogin, type Me } from './api';
import BindPage from './BindPage';
import ConsentGate from './ConsentGate';
import DevSmsPage from './DevSmsPage';
import FamilyPage from './FamilyPage';
import HomePage from './HomePage';
import './portal.css';

export function PortalShell({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <div className="portal">
      <header className="portal-top">
        <span className="portal-brand">医共体 · 居民端</span>
        <h1>{title}</h1>
      </header>
      <main className="portal-main">{children}</main>
    </div>
  );
}

function QrBind() {
  const { code = '' } = useParams();
  const navigate = useNavigate();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    portal<{ token: string }>('POST', '/bind/qr', { code })
      .then((r) => {
        setToken(r.token);
        navigate('/portal', { replace: true });
      })
      .catch((e: PortalError) => setError(e.message));
  }, [code, navigate]);
  return (
    <PortalShell title="扫码绑定">
      {error ? (
        <div className="p-alert" role="alert">
          {error} <a href="/portal/bind">改用短信验证码绑定</a>
        </div>
      ) : (
        <p>正在绑定…</p>
      )}
    </PortalShell>
  );
}

function Home() {
  const [me, setMe] = useState<Me | null>(null);
  const [state, setState] = useState<'loading' | 'unbound' | 'pending' | 'ready'>('loading');
  const [notice, setNotice] = useState<string | null>(null);
  const navigate = useNavigate();

  const load = useCallback(async () => {
    if (!getToken()) {
      const token = await tokenFromPatientLogin().catch(() => null);
      if (token) setToken(token);
    }
    if (!getToken()) {
      setState('unbound');
      return;
    }
    try {
      setMe(await portal<Me>('GET', '/session'));
      setState('ready');
    } catch (e) {
      const err = e as PortalError;
      if (err.code === 'proxy_pending') {
        setState('pending');
        return;
      }
      if (err.status === 401) {
        setToken(null);
        setNotice(err.message);
        setState('unbound');
        return;
      }
      setNotice(err.message);
      setState('unbound');
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  if (state === 'loading') return <PortalShell title="居民端"><p role="status">加载中…</p></PortalShell>;
  if (state === 'pending') {
    return (
      <PortalShell title="家属代办">
        <div className="p-card" data-testid="proxy-pending">
          <h2>等待居民本人同意</h2>
          <p>您的代办申请已提交。请居民本人在居民端「我的 → 家属代办」中同意后，再刷新本页。</p>
          <button type="button" className="p-btn" onClick={() => void load()}>刷新</button>
        </div>
      </PortalShell>
    );
  }
  if (state === 'unbound') {
    return (
      <PortalShell title="居民端">
        {notice && <div className="p-alert" role="alert" data-testid="portal-notice">{notice}</div>}
        <div className="p-card">
          <h2>查看本人的慢病管理信息</h2>
          <p>首次使用请用身份证号、姓名和档案中登记的手机号验证码绑定；也可以请村医出示绑定二维码扫码。</p>
          <button type="button" className="p-btn p-primary" onClick={() => navigate('/portal/bind')}>短信验证码绑定</button>
          <button type="button" className="p-btn" onClick={() => navigate('/portal/family')}>我是家属，申请代办</button>
        </div>
      </PortalShell>
    );
  }
  if (me && me.consent_needed) return <ConsentGate me={me} onDone={() => void load()} />;
  return <HomePage me={me!} onSignedOut={() => { setMe(null); setState('unbound'); }} />;
}

export function PortalRoutes() {
  return (
    <Routes>
      <Route path="/portal" element={<Home />} />
      <Route path="/portal/bind" element={<BindPage />} />
      <Route path="/portal/qr/:code" element={<QrBind />} />
      <Route path="/portal/family" element={<FamilyPage />} />
      <Route path="/portal/dev-sms" element={<DevSmsPage />} />
      <Route path="/portal/*" element={<Home />} />
    </Routes>
  );
}

export default function PortalApp() {
  return (
    <BrowserRouter>
      <PortalRoutes />
    </BrowserRouter>
  );
}

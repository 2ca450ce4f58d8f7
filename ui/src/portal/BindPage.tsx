/** 绑定：身份证号 + 姓名 → 短信验证码（发到档案中的手机号）→ 居民端令牌。 */
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { portal, PortalError, setToken } from './api';
import { PortalShell } from './PortalApp';

export default function BindPage() {
  const navigate = useNavigate();
  const [idNumber, setIdNumber] = useState('');
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  const [sent, setSent] = useState<{ phone_hint: string | null; dev_inbox: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function send(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      setSent(await portal('POST', '/bind/sms', { id_number: idNumber.trim(), name: name.trim() }));
    } catch (err) {
      setError((err as PortalError).message);
    } finally {
      setBusy(false);
    }
  }

  async function verify(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const r = await portal<{ token: string }>('POST', '/bind/sms/verify', { id_number: idNumber.trim(), name: name.trim(), code: code.trim() });
      setToken(r.token);
      navigate('/portal', { replace: true });
    } catch (err) {
      const pe = err as PortalError;
      const remaining = pe.details?.remaining;
      setError(typeof remaining === 'number' ? `${pe.message}，还可尝试 ${remaining} 次` : pe.message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <PortalShell title="绑定居民身份">
      <form className="p-card" onSubmit={send}>
        <label className="p-field">
          <span>身份证号</span>
          <input name="id_number" inputMode="text" autoComplete="off" maxLength={18} value={idNumber} onChange={(e) => setIdNumber(e.target.value)} required />
        </label>
        <label className="p-field">
          <span>姓名</span>
          <input name="name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} required />
        </label>
        <button type="submit" className="p-btn" disabled={busy}>获取验证码</button>
      </form>
      {sent && (
        <form className="p-card" onSubmit={verify}>
          <p data-testid="sms-sent">验证码已发送至档案登记的手机 {sent.phone_hint}，5 分钟内有效。</p>
          {sent.dev_inbox && (
            <p className="p-hint">
              演示环境未接短信网关：<a href="/portal/dev-sms" target="_blank" rel="noreferrer">打开开发短信收件箱</a>查看验证码。
            </p>
          )}
          <label className="p-field">
            <span>验证码</span>
            <input name="code" inputMode="numeric" autoComplete="one-time-code" maxLength={6} value={code} onChange={(e) => setCode(e.target.value)} required />
          </label>
          <button type="submit" className="p-btn p-primary" disabled={busy}>绑定</button>
        </form>
      )}
      {error && <div className="p-alert" role="alert" data-testid="bind-error">{error}</div>}
      <p className="p-hint">档案中没有手机号？请村医在您的档案页出示「居民端绑定二维码」，用手机扫码即可。</p>
    </PortalShell>
  );
}

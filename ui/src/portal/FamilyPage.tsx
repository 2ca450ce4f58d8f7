/** 家属代办申请：家属填写居民身份信息和自己的手机号，验证后等待居民本人同意。 */
import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { portal, PortalError, setToken } from './api';
import { PortalShell } from './PortalApp';

const RELATIONS = ['配偶', '子女', '父母', '兄弟姐妹', '孙子女', '其他亲属'];

export default function FamilyPage() {
  const navigate = useNavigate();
  const [form, setForm] = useState({ id_number: '', name: '', proxy_name: '', relation: '', proxy_phone: '' });
  const [asked, setAsked] = useState<{ proxy_id: number; phone_hint: string; dev_inbox: boolean } | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  async function request(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      setAsked(await portal('POST', '/proxy/request', { ...form, id_number: form.id_number.trim(), name: form.name.trim() }));
    } catch (err) {
      setError((err as PortalError).message);
    }
  }

  async function verify(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const r = await portal<{ token: string }>('POST', '/proxy/verify', { proxy_id: asked!.proxy_id, code: code.trim() });
      setToken(r.token);
      navigate('/portal', { replace: true });
    } catch (err) {
      setError((err as PortalError).message);
    }
  }

  return (
    <PortalShell title="家属代办申请">
      <form className="p-card" onSubmit={request}>
        <p className="p-hint">代办需居民本人在居民端同意，居民可随时撤销；您的每次查看都会被记录。</p>
        <label className="p-field"><span>居民身份证号</span><input name="resident_id_number" value={form.id_number} onChange={set('id_number')} maxLength={18} required /></label>
        <label className="p-field"><span>居民姓名</span><input name="resident_name" value={form.name} onChange={set('name')} required /></label>
        <label className="p-field"><span>您的姓名</span><input name="proxy_name" value={form.proxy_name} onChange={set('proxy_name')} required /></label>
        <label className="p-field">
          <span>与居民关系</span>
          <select name="relation" value={form.relation} onChange={set('relation')} required>
            <option value="">请选择</option>
            {RELATIONS.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <label className="p-field"><span>您的手机号</span><input name="proxy_phone" inputMode="tel" maxLength={11} value={form.proxy_phone} onChange={set('proxy_phone')} required /></label>
        <button type="submit" className="p-btn">获取验证码</button>
      </form>
      {asked && (
        <form className="p-card" onSubmit={verify}>
          <p>验证码已发送至 {asked.phone_hint}。</p>
          {asked.dev_inbox && <p className="p-hint">演示环境：<a href="/portal/dev-sms" target="_blank" rel="noreferrer">开发短信收件箱</a></p>}
          <label className="p-field"><span>验证码</span><input name="proxy_code" inputMode="numeric" maxLength={6} value={code} onChange={(e) => setCode(e.target.value)} required /></label>
          <button type="submit" className="p-btn p-primary">提交申请</button>
        </form>
      )}
      {error && <div className="p-alert" role="alert">{error}</div>}
    </PortalShell>
  );
}

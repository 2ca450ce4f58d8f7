/** 首次使用：单独同意处理敏感个人信息（健康信息），未满14周岁由监护人同意；可同时选择提醒渠道。 */
import { useEffect, useState } from 'react';
import { portal, PortalError, type Consents, type Me } from './api';
import { PortalShell } from './PortalApp';

const RELATIONS = ['父亲', '母亲', '祖父母', '外祖父母', '其他监护人'];

export default function ConsentGate({ me, onDone }: { me: Me; onDone: () => void }) {
  const [consents, setConsents] = useState<Consents | null>(null);
  const [agree, setAgree] = useState(false);
  const [remindApp, setRemindApp] = useState(true);
  const [remindSms, setRemindSms] = useState(false);
  const [guardian, setGuardian] = useState('');
  const [relation, setRelation] = useState('');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    portal<Consents>('GET', '/consents').then(setConsents).catch((e: PortalError) => setError(e.message));
  }, []);

  const healthText = consents?.items.find((c) => c.purpose === 'health_data')?.text;
  const version = consents?.items[0]?.current_version;

  async function submit() {
    setError(null);
    const who = consents?.guardian_needed
      ? { decided_by: 'guardian', guardian_name: guardian.trim(), guardian_relation: relation }
      : {};
    try {
      await portal('POST', '/consents', { purpose: 'health_data', channel: 'portal', granted: true, ...who });
      if (remindApp) await portal('POST', '/consents', { purpose: 'reminder', channel: 'app', granted: true, ...who });
      if (remindSms) await portal('POST', '/consents', { purpose: 'reminder', channel: 'sms', granted: true, ...who });
      onDone();
    } catch (e) {
      setError((e as PortalError).message);
    }
  }

  if (me.proxy) {
    return (
      <PortalShell title="需要居民本人授权">
        <p className="p-card">居民本人尚未同意在居民端展示健康信息，请居民本人登录后先完成授权。</p>
      </PortalShell>
    );
  }
  return (
    <PortalShell title="个人健康信息授权">
      <div className="p-card" data-testid="consent-gate">
        <h2>{me.resident_name}，您好</h2>
        <p>{healthText ?? '加载中…'}</p>
        <p className="p-meta">授权书版本 {version}</p>
        {consents?.guardian_needed && (
          <div className="p-guardian">
            <p>您未满 14 周岁，须由监护人同意。</p>
            <label className="p-field"><span>监护人姓名</span><input value={guardian} onChange={(e) => setGuardian(e.target.value)} /></label>
            <label className="p-field">
              <span>与本人关系</span>
              <select value={relation} onChange={(e) => setRelation(e.target.value)}>
                <option value="">请选择</option>
                {RELATIONS.map((r) => <option key={r} value={r}>{r}</option>)}
              </select>
            </label>
          </div>
        )}
        <label className="p-check"><input type="checkbox" checked={agree} onChange={(e) => setAgree(e.target.checked)} /> 我已阅读并单独同意上述健康信息授权</label>
        <h3>提醒方式（可不选，之后可在「我的 → 授权管理」修改）</h3>
        <label className="p-check"><input type="checkbox" checked={remindApp} onChange={(e) => setRemindApp(e.target.checked)} /> 平台消息提醒随访、用药</label>
        <label className="p-check"><input type="checkbox" checked={remindSms} onChange={(e) => setRemindSms(e.target.checked)} /> 短信提醒随访、用药</label>
        <button type="button" className="p-btn p-primary" disabled={!agree} onClick={() => void submit()}>同意并进入</button>
        {error && <div className="p-alert" role="alert">{error}</div>}
      </div>
    </PortalShell>
  );
}

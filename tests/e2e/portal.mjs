/**
 * 居民端 (resident portal, issue 21) on a phone: a village doctor registers a resident with a phone on file; the
 * resident binds with ID number + name + the SMS code (read from the development SMS inbox), gives the health-data
 * consent, sees the plan and the trend, uploads a home blood pressure, and the village doctor sees it on the record
 * labelled 患者自测. A family member asks to act for the resident (家属代办), waits, is approved, reads, and is
 * revoked; the next read answers that the authorisation was withdrawn. The doctor's one-time QR binds a second phone.
 */
import assert from 'node:assert/strict';
import { closePage, loginAs, newPage, shot } from './flows.mjs';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** A valid GB 11643 number (area 330127, born in June 1958, male), random enough to run the story again. */
function idNumber() {
  const rand = (n) => Math.floor(Math.random() * n);
  const dd = String(1 + rand(28)).padStart(2, '0');
  const body = `3301271958 06${dd}`.replace(' ', '') + String(rand(100)).padStart(2, '0') + '13579'[rand(5)];
  const sum = [...body].reduce((acc, d, i) => acc + Number(d) * WEIGHTS[i], 0);
  return body + '10X98765432'[sum % 11];
}

async function csrf(page) {
  return (await page.context().cookies()).find((c) => c.name === 'ygt_csrf')?.value ?? '';
}

async function lastCode(page, contains) {
  const inbox = await page.context().newPage();
  await inbox.goto('/portal/dev-sms');
  const item = inbox.getByTestId('dev-sms').locator('li', { hasText: contains }).first();
  await item.waitFor();
  const code = (await item.innerText()).match(/(\d{6})/)[1];
  await inbox.close();
  return code;
}

export async function portalStory(ctx) {
  // the village doctor registers a resident (phone on file) and is their family doctor
  const doctor = await loginAs(ctx, process.env.E2E_VILLAGE_USER ?? 'village_doctor1', { phone: true });
  const me = await (await doctor.request.get('/api/v1/auth/me')).json();
  const name = `许${'建国秀英志强'[Math.floor(Math.random() * 6)]}${'平安明华'[Math.floor(Math.random() * 4)]}`;
  const number = idNumber();
  const made = await doctor.request.post('/api/v1/residents', {
    data: { id_number: number, name, phone: '13812345678', address: '青溪县上塘村3组', family_doctor_user_id: me.id },
    headers: { 'X-CSRF-Token': await csrf(doctor) },
  });
  assert.equal(made.status(), 201, await made.text());
  const resident = await made.json();

  // the resident binds on their phone
  const phone = await newPage(ctx, { phone: true });
  await phone.goto('/portal');
  await phone.getByRole('button', { name: '短信验证码绑定' }).click();
  await phone.locator('input[name=id_number]').fill(number);
  await phone.locator('input[name=name]').fill(name);
  await phone.getByRole('button', { name: '获取验证码' }).click();
  await phone.getByTestId('sms-sent').getByText('138****5678').waitFor();
  await phone.locator('input[name=code]').fill('000000' === (await lastCode(phone, '居民端绑定')) ? '111111' : '000000');
  await phone.getByRole('button', { name: '绑定' }).click();
  await phone.getByTestId('bind-error').getByText(/验证码不正确，还可尝试 4 次/).waitFor();
  await phone.locator('input[name=code]').fill(await lastCode(phone, '居民端绑定'));
  await phone.getByRole('button', { name: '绑定' }).click();

  // separate consent for health data, reminders by platform message
  const gate = phone.getByTestId('consent-gate');
  await gate.waitFor();
  await gate.getByText(/敏感个人信息/).waitFor();
  assert.match(await gate.innerText(), /授权书版本 \d{4}\.\d{2}-v\d/);
  await gate.getByText('我已阅读并单独同意').click();
  await gate.getByRole('button', { name: '同意并进入' }).click();

  // plan: the family doctor and their phone
  const doctorCard = phone.getByTestId('doctor');
  await doctorCard.waitFor();
  assert.match(await doctorCard.innerText(), new RegExp(me.display_name));

  // plan: book the next follow-up in one of the village clinic's half-days (places left shown)
  const booking = phone.getByTestId('booking');
  const slotSelect = booking.getByTestId('booking-slot');
  await slotSelect.locator('option', { hasText: /余 \d+ 个/ }).first().waitFor({ state: 'attached' });
  const firstOpen = await slotSelect.locator('option', { hasText: /余 \d+ 个/ }).first().getAttribute('value');
  await slotSelect.selectOption(firstOpen);
  await booking.getByRole('button', { name: '提交预约' }).click();
  await booking.getByTestId('booked').waitFor();
  await booking.locator('option', { hasText: '您已预约' }).waitFor({ state: 'attached' });

  // data: upload a home reading, see it in the trend labelled 自测
  await phone.getByRole('button', { name: '数据' }).click();
  const upload = phone.getByTestId('upload');
  await upload.locator('input[name=sbp]').fill('152');
  await upload.locator('input[name=dbp]').fill('94');
  await upload.locator('input[name=pulse]').fill('77');
  await upload.getByRole('button', { name: '上传' }).click();
  await phone.getByTestId('upload-msg').getByText('患者自测').waitFor();
  await phone.getByTestId('bp-chart').waitFor();
  const list = phone.getByTestId('reading-list');
  await list.getByText('收缩压 152').waitFor();
  assert.match(await list.innerText(), /自测 收缩压 152/);
  const tab = await phone.getByRole('button', { name: '数据' }).boundingBox();
  assert.ok(tab && tab.height >= 44, '底部导航应便于点按');
  await shot(phone, 'portal-trend-phone');

  // the village doctor sees it on the record, labelled 患者自测
  await doctor.goto(`/residents/${resident.id}`);
  const home = doctor.getByTestId('home-readings');
  await home.getByText('152/94').waitFor();
  assert.match(await home.locator('tbody tr').first().innerText(), /患者自测/);

  // family proxy: request, wait, approval, audited reading, revocation
  const family = await newPage(ctx, { phone: true });
  await family.goto('/portal/family');
  await family.locator('input[name=resident_id_number]').fill(number);
  await family.locator('input[name=resident_name]').fill(name);
  await family.locator('input[name=proxy_name]').fill('许丽');
  await family.locator('select[name=relation]').selectOption('子女');
  await family.locator('input[name=proxy_phone]').fill('13700005555');
  await family.getByRole('button', { name: '获取验证码' }).click();
  await family.locator('input[name=proxy_code]').fill(await lastCode(family, '家属代办'));
  await family.getByRole('button', { name: '提交申请' }).click();
  await family.getByTestId('proxy-pending').waitFor();

  await phone.getByRole('button', { name: '我的' }).click();
  const proxies = phone.getByTestId('proxies');
  const row = proxies.locator('li', { hasText: '许丽' });
  await row.getByText('待同意').waitFor();
  await row.getByRole('button', { name: '同意' }).click();
  await row.getByText('已同意').waitFor();

  await family.getByRole('button', { name: '刷新' }).click();
  await family.getByText('许丽（家属代办）').waitFor();
  await family.getByTestId('doctor').waitFor();

  await row.getByRole('button', { name: '撤销' }).click();
  await row.getByText('已撤销').waitFor();
  await family.reload();
  await family.getByTestId('portal-notice').getByText('代办授权已被居民撤销').waitFor();

  // consent records: withdraw the reminder, the history shows both decisions
  const consents = phone.getByTestId('consents');
  const reminder = consents.getByTestId('consent-reminder-app');
  await reminder.getByRole('button', { name: '撤回' }).click();
  await reminder.getByText('已撤回').waitFor();

  // the doctor's one-time QR binds another phone (once)
  await doctor.getByTestId('portal-qr-button').click();
  const url = await doctor.getByTestId('portal-qr').getAttribute('data-url');
  assert.ok(url && url.includes('/portal/qr/'));
  const second = await newPage(ctx, { phone: true });
  await second.goto(new URL(url).pathname);
  await second.getByTestId('doctor').waitFor();
  await closePage(second);
  await closePage(family);
  await closePage(phone);
  await closePage(doctor);
}

/**
 * Expert liaison (issue 21.6) in the browser, against the live demo server, on a 390x844 phone:
 *  1. the county administrator (医务科) opens 下沉专家排班, puts the cardiologist on 城关街道's rota next Wednesday
 *     afternoon; scheduling the same half-day again is refused with the reason (already at that township);
 *  2. the township doctor opens 本周专家: today's on-call expert and this week's experts are shown; next week the new
 *     visit offers slots; he books a joint clinic (联合门诊) for a resident found by name, and the slots left drop;
 *  3. 专科共建 shows the seeded plan with its reviewed milestone (the library indicator measured, 已达标);
 *  4. no page shows a raw code (organisation codes, specialty codes) and every button is a ≥ 44 px tap target.
 */
import assert from 'node:assert/strict';
import { closePage, loginAs, shot } from './flows.mjs';

async function api(page, method, url, data) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'ygt_csrf')?.value ?? '';
  const r = await page.request.fetch(url, { method, data, headers: { 'X-CSRF-Token': csrf } });
  return { status: r.status(), body: await r.json() };
}

function nextWeekday(weekday) {
  // the platform's "today" in Asia/Shanghai, then the given weekday (1 = Monday) of next week
  const today = new Date(Date.now() + 8 * 3600 * 1000);
  const monday = new Date(today);
  monday.setUTCDate(today.getUTCDate() - ((today.getUTCDay() + 6) % 7) + 7);
  const day = new Date(monday);
  day.setUTCDate(monday.getUTCDate() + weekday - 1);
  return day.toISOString().slice(0, 10);
}

async function noRawCodes(page, where) {
  const text = await page.locator('main, .page').first().innerText();
  for (const raw of ['C01T01', 'C01D01', 'cardiology', 'joint_clinic', 'on_call', 'pending_approval', 'liaison_days_delivered']) {
    assert.ok(!text.includes(raw), `${where} 不应显示代码 ${raw}`);
  }
}

async function tapTargets(page, where) {
  const small = await page.locator('.page button:visible').evaluateAll((els) => els
    .map((e) => ({ t: e.textContent.trim(), h: e.getBoundingClientRect().height }))
    .filter((b) => b.h > 0 && b.h < 44));
  assert.deepEqual(small, [], `${where} 的按钮应不小于 44px`);
}

export async function liaisonStory(ctx) {
  const wednesday = nextWeekday(3);
  const admin = await loginAs(ctx, 'county_admin', { phone: true });
  await admin.goto('/liaison/rota');
  await admin.getByTestId('duty-form').waitFor({ timeout: 20000 });
  await admin.getByTestId('rota-day').first().waitFor();
  const expert = admin.getByTestId('duty-expert');
  const cardio = await expert.locator('option', { hasText: '心血管内科' }).first().getAttribute('value');
  await expert.selectOption(cardio);
  await admin.getByTestId('duty-township').selectOption({ label: '城关街道社区卫生服务中心' });
  await admin.getByTestId('duty-date').fill(wednesday);
  await admin.getByTestId('duty-half').selectOption('pm');
  await admin.getByTestId('duty-capacity').fill('3');
  await admin.getByTestId('duty-submit').click();
  await admin.getByTestId('week-next').click();
  await admin.getByTestId('duty-item').filter({ hasText: '下午' }).first().waitFor();
  await admin.getByTestId('duty-submit').click();              // the same half-day again
  await admin.getByText('已排在').first().waitFor();
  await noRawCodes(admin, '下沉专家排班');
  await tapTargets(admin, '下沉专家排班');
  await shot(admin, 'liaison-rota-phone');
  await closePage(admin);

  const township = await loginAs(ctx, 'township_doctor1', { phone: true });
  await township.goto('/liaison/week');
  await township.getByTestId('on-call-now').waitFor({ timeout: 20000 });
  assert.match(await township.getByTestId('on-call-now').innerText(), /心血管内科/, '今日值班专家应显示');
  assert.ok(!(await township.getByTestId('week-experts').innerText()).includes('本周暂无专家下沉'), '本周下沉专家应显示');
  await shot(township, 'liaison-week-phone');
  await township.getByTestId('week-next').click();
  const duty = township.getByTestId('week-duty').filter({ hasText: '下午' }).filter({ hasText: '剩余号源 3/3' }).first();
  await duty.waitFor();
  await duty.getByTestId('book-open').click();
  const found = await api(township, 'GET', '/api/v1/residents?org_code=C01T01V01&per_page=5');
  const name = found.body.items[4].name;
  await township.getByTestId('resident-q').fill(name);
  await township.getByTestId('resident-search').click();
  await township.getByTestId('resident-option').first().click();
  await township.getByTestId('kind-joint_clinic').check();
  await township.getByTestId('book-reason').fill('血压控制不佳伴胸闷，请心内科专家联合门诊调整方案');
  await tapTargets(township, '预约');
  await township.getByTestId('book-submit').click();
  await township.getByTestId('book-done').waitFor();
  assert.match(await township.getByTestId('book-done').innerText(), /联合门诊/);
  await township.getByTestId('week-duty').filter({ hasText: '剩余号源 2/3' }).first().waitFor();
  await township.getByTestId('booking-item').filter({ hasText: name }).first().waitFor();
  await noRawCodes(township, '本周专家');
  await shot(township, 'liaison-booked-phone');

  await township.goto('/liaison/plans');
  const plan = township.getByTestId('plan-item').filter({ hasText: '城关街道胸痛救治单元专科共建' });
  await plan.waitFor({ timeout: 20000 });
  await plan.getByTestId('milestone').filter({ hasText: '已达标' }).first().waitFor();
  assert.match(await plan.innerText(), /下沉专家到岗率/);
  await noRawCodes(township, '专科共建');
  await tapTargets(township, '专科共建');
  await shot(township, 'liaison-plans-phone');
  await closePage(township);
}

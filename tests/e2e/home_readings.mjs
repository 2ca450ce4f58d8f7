/**
 * A resident records a home blood pressure on their phone (patient1 in the demo county): the reading appears under
 * 居家自测 labelled 患者自测, an impossible one is refused in Chinese, and the clinic's key value is unchanged
 * (home readings never grade, screen or classify).
 */
import assert from 'node:assert/strict';
import { closePage, newPage, shot } from './flows.mjs';

export async function homeReadingStory(ctx) {
  // a patient lands on the resident portal (issue 22.5); their record in the staff app still takes home readings
  const page = await newPage(ctx, { phone: true });
  await page.goto('/login');
  await page.locator('input[name=username]').fill(process.env.E2E_PATIENT_USER ?? 'patient1');
  await page.locator('input[name=password]').fill(process.env.E2E_PASSWORD ?? 'demo12345');
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL((u) => u.pathname.startsWith('/portal'));
  const me = await (await page.request.get('/api/v1/auth/me')).json();
  await page.goto(`/residents/${me.resident_id}`);
  const section = page.getByTestId('home-readings');
  await section.waitFor();
  const keyValues = page.getByTestId('chronic-summary');
  const before = await keyValues.innerText();

  await section.getByRole('button', { name: '记录一次自测' }).click();
  const form = page.getByTestId('home-reading-form');
  await form.locator('input[name=sbp]').fill('80');
  await form.locator('input[name=dbp]').fill('95');
  await form.getByRole('button', { name: '保存' }).click();
  await form.getByText('舒张压应低于收缩压').waitFor();               // refused, nothing stored

  await form.locator('input[name=sbp]').fill('186');
  await form.locator('input[name=dbp]').fill('84');
  await form.locator('input[name=pulse]').fill('71');
  await form.getByRole('button', { name: '保存' }).click();
  await form.waitFor({ state: 'detached' });
  const row = section.locator('tbody tr').first();
  await row.getByText('186/84').waitFor();
  assert.match(await row.innerText(), /患者自测/);
  await page.reload();
  await page.getByTestId('home-readings').locator('tbody tr').first().getByText('186/84').waitFor();
  assert.equal(await page.getByTestId('chronic-summary').innerText(), before, '自测值不应改变慢病概要的关键指标');
  const box = await page.getByTestId('home-readings').getByRole('button', { name: '记录一次自测' }).boundingBox();
  assert.ok(box && box.height >= 32, '手机上的按钮应便于点按');
  assert.doesNotMatch(await page.locator('main, .page').first().innerText(), /C01T\d/, '页面不应显示机构编码');
  await page.getByTestId('home-readings').scrollIntoViewIfNeeded();
  await shot(page, 'home-readings-phone');
  await closePage(page);
}

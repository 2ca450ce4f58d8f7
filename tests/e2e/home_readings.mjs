/**
 * A resident records a home blood pressure on their phone (patient1 in the demo county): the reading appears under
 * 居家自测 labelled 患者自测, an impossible one is refused in Chinese, and the clinic's key value is unchanged
 * (home readings never grade, screen or classify).
 */
import assert from 'node:assert/strict';
import { closePage, loginAs, shot } from './flows.mjs';

export async function homeReadingStory(ctx) {
  const page = await loginAs(ctx, process.env.E2E_PATIENT_USER ?? 'patient1', { phone: true });
  await page.waitForURL(/\/residents\/\d+/);
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

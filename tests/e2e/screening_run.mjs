/**
 * Issue 23.4: the county administrator starts a population screening run on a 390 px phone (筛查批次 tab of
 * 慢病筛查), sees it run chunk by chunk (筛查进度 bar while it runs, 分块 n / n 已完成 at the end) without the page
 * widening. The demo county was screened by its seed, so the run opens no case twice (新增 0 例 unless new data came).
 */
import assert from 'node:assert/strict';
import { closePage, loginAs } from './flows.mjs';

export async function screeningRunStory(ctx) {
  const admin = await loginAs(ctx, 'county_admin', { phone: true });
  await admin.goto('/screening?tab=runs');
  const start = admin.getByTestId('start-run');
  await start.waitFor();
  await admin.waitForFunction(() => !document.querySelector('[data-testid=start-run]')?.disabled, null,
    { timeout: 120_000 });                       // a run of another story still going: wait for it
  // the run this click starts, by its id: until the list is read again its first row is the previous run
  const [answer] = await Promise.all([
    admin.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/api/v1/screening/runs')),
    start.click(),
  ]);
  assert.ok(answer.ok(), `开始筛查返回 ${answer.status()}`);
  const { id } = await answer.json();
  const newest = admin.locator(`[data-testid=run-list] > li[data-run-id="${id}"]`);
  await newest.getByTestId('run-chunks').waitFor();
  await newest.getByText('已完成', { exact: true }).waitFor({ timeout: 120_000 });
  const chunks = await newest.getByTestId('run-chunks').innerText();
  const m = chunks.match(/^分块 (\d+) \/ (\d+) 已完成$/);
  assert.ok(m && m[1] === m[2] && Number(m[2]) > 0, chunks);
  assert.match(await newest.innerText(), /已处理 [\d,]+ \/ [\d,]+ 人，新增 \d+ 例/);
  const width = await admin.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `页面宽度 ${width}px，手机上不应出现横向滚动`);
  await closePage(admin);
}

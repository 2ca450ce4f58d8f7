/** Issue 20.4 in the browser: the county administrator opens 绩效考核, moves five points of weight between two
 * indicators of the township scheme and scores the second with the §6.5 最大值型 rule (full marks at the best value),
 * saved as a new version, runs the current quarter, reads the ranking (chart and table) computed with that version,
 * opens a township's indicator breakdown, downloads the PDF report, and builds the report of every institution type
 * as a background job whose PDF is downloaded. */
import assert from 'node:assert/strict';
import { closePage, loginAs, shot } from './flows.mjs';

const ADMIN = process.env.E2E_COUNTY_ADMIN_USER ?? 'county_admin';

export async function appraisalStory(ctx) {
  const page = await loginAs(ctx, ADMIN);
  await page.goto('/');
  await page.getByRole('link', { name: '绩效考核' }).click();
  await page.waitForURL(/\/appraisal/);

  // the scheme: shift 5 points from the second indicator to the first → a new version
  await page.getByRole('button', { name: '考核方案' }).click();
  const scheme = page.locator('[data-testid=appraisal-scheme]');
  const badge = scheme.getByText(/第 \d+ 版/).first();
  await badge.waitFor();
  const before = Number((await badge.innerText()).match(/\d+/)[0]);
  const weights = scheme.locator('input[type=number]');
  const [w0, w1] = [Number(await weights.nth(0).inputValue()), Number(await weights.nth(1).inputValue())];
  await weights.nth(0).fill(String(w0 + 5));
  await weights.nth(1).fill(String(w1 - 5));
  assert.match(await page.locator('[data-testid=appraisal-weight-total]').innerText(), /权重合计 100$/);
  await scheme.getByLabel('评分方法').nth(1).selectOption('max_type');
  await scheme.locator('[data-testid=appraisal-reference]').first().selectOption('best');
  await page.locator('[data-testid=appraisal-save]').click();
  await page.locator('[data-testid=appraisal-saved]').getByText(`已保存为第 ${before + 1} 版`).waitFor();
  const saved = await (await page.request.get('/api/v1/appraisal/schemes/township')).json();
  assert.deepEqual([saved.items[1].rule, saved.items[1].params], ['max_type', { reference: 'best' }]);
  assert.match(await scheme.innerText(), /达到最优值得满分/);
  await shot(page, 'appraisal-scheme');

  // run the quarter with that version and read the ranking
  await page.getByRole('button', { name: '考核结果' }).click();
  await page.locator('[data-testid=appraisal-run]').click();
  await page.locator('[data-testid=appraisal-meta]').getByText(`第 ${before + 1} 版`).waitFor();
  await page.locator('[data-testid=appraisal-chart] canvas').waitFor();
  const ranking = page.locator('[data-testid=appraisal-ranking]');
  const first = ranking.locator('tbody tr').first();
  assert.match(await first.innerText(), /^1\s/);
  const name = await first.getByRole('button').innerText();
  const api = await (await page.request.get('/api/v1/appraisal/results?kind=township')).json();
  assert.equal(api.scheme_version, before + 1);
  assert.equal(name, api.subjects[0].name);
  await first.getByRole('button').click();
  const detail = page.locator('[data-testid=appraisal-breakdown]');
  await detail.getByText(`${name} · 第 1 名`).waitFor();
  assert.match(await detail.innerText(), /指标值[\s\S]*得分[\s\S]*加权得分/);
  await shot(page, 'appraisal-ranking');

  // the PDF report
  const href = await page.locator('[data-testid=appraisal-pdf]').getAttribute('href');
  const r = await page.request.get(href);
  assert.equal(r.status(), 200, href);
  assert.equal(r.headers()['content-type'], 'application/pdf');
  assert.equal((await r.body()).subarray(0, 4).toString(), '%PDF');

  // every type in one PDF, built in the background
  await page.locator('[data-testid=appraisal-all-pdf]').click();
  const status = page.locator('[data-testid=appraisal-job-status]');
  await status.getByText(/全部类型/).waitFor();
  await page.locator('[data-testid=appraisal-job-download]').waitFor({ timeout: 120_000 });
  assert.match(await status.innerText(), /已完成/);
  const all = await page.request.get(await page.locator('[data-testid=appraisal-job-download]').getAttribute('href'));
  assert.equal(all.status(), 200);
  assert.equal((await all.body()).subarray(0, 4).toString(), '%PDF');
  await shot(page, 'appraisal-all-types-job');
  await closePage(page);
}

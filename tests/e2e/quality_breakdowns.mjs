/** Issue 20.6 in the browser, on a phone (390 px): the supervisor opens 质控指标 → 分析, reads the county's residents
 * by township (a bar chart and the table), taps a township's count and gets the residents behind it (the audited
 * members list, the same number as the figure); 结局比较 sets each township's blood-pressure control rate against the
 * county; 转诊对账 shows the referrals the HIS, public health and insurance reported beside the network's own, and
 * lists the reports no network referral matches. Both tabs export to Excel (导出 Excel: a workbook is downloaded).
 * Nothing is wider than the phone. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { closePage, loginAs, shot } from './flows.mjs';

const SUPERVISOR = process.env.E2E_SUPERVISOR_USER ?? 'supervisor';

async function exportsWorkbook(page, testId, sheet) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator(`[data-testid=${testId}]`).click()]);
  assert.match(download.suggestedFilename(), /\.xlsx$/);
  const bytes = await readFile(await download.path());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'an xlsx workbook is a zip');
  assert.ok(bytes.includes(Buffer.from('xl/workbook.xml')), `${sheet}: 应为 Excel 工作簿`);
}

async function noSideways(page, where) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 392, `${where}: 页面宽 ${width}px，超出手机屏宽`);
}

export async function qualityBreakdownsStory(ctx) {
  const page = await loginAs(ctx, SUPERVISOR, { phone: true });
  const api = await (await page.request.get('/api/v1/quality/breakdowns?section=population')).json();
  const byOrg = api.figures.find((f) => f.id === 'residents_by_org');
  const group = byOrg.groups.find((g) => g.count > 0);
  assert.ok(group, '演示县应有居民');

  await page.goto('/quality?view=analysis');
  const card = page.locator('[data-testid=figure-residents_by_org]');
  await card.locator('[data-testid=chart-residents_by_org] canvas').waitFor();
  const row = card.locator('tr', { hasText: group.label });
  await row.getByRole('button', { name: String(group.count) }).click();
  const members = card.locator('[data-testid=breakdown-members]');
  await members.getByText(`辖区居民 · ${group.label}（${group.count}）`).waitFor();
  assert.ok(await members.getByRole('link').count() > 0, '名单列出居民');
  await noSideways(page, '分析');
  await shot(page, 'quality-breakdowns-phone');
  await exportsWorkbook(page, 'analysis-xlsx', '分析');

  await page.getByRole('button', { name: '结局比较' }).click();
  const bp = page.locator('[data-testid=comparison-htn_bp_control_rate-org]');
  await bp.getByText(/^整体 /).waitFor();
  await page.locator('[data-testid=not-held]').waitFor();
  assert.match(await page.locator('[data-testid=not-held]').innerText(), /平台未持有/);

  const summary = await (await page.request.get('/api/v1/quality/referral-summary?months=6')).json();
  await page.getByRole('button', { name: '转诊对账' }).click();
  const board = page.locator('[data-testid=referral-summary]');
  await board.locator('[data-testid=referral-month-chart] canvas').waitFor();
  await board.locator('[data-testid=referral-org-table]').waitFor();
  assert.ok(summary.totals.reported > 0 && summary.totals.matched > 0, '演示数据应有外部上报且部分已匹配');
  await board.locator('[data-testid=open-unmatched-reported]').click();
  const unmatched = board.locator('[data-testid=unmatched-reported]');
  await unmatched.waitFor();
  assert.equal(await unmatched.locator('li').count(), summary.totals.unmatched_reported);
  assert.doesNotMatch(await board.innerText(), /public_health|insurance|network_up/, '不显示原始代码');
  await noSideways(page, '转诊对账');
  await shot(page, 'quality-referral-summary-phone');
  await exportsWorkbook(page, 'referral-summary-xlsx', '转诊对账');
  await closePage(page);
}

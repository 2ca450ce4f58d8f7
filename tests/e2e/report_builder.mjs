/** Issue 20.5 in the browser: the supervisor opens 自定义报表, builds 管理人群血压控制率 by township for the last three
 * months with 环比, sees the pivot and the chart, saves it, exports it as Excel and checks the file that arrives
 * (an xlsx workbook whose first row holds the Chinese headers). Then a figure opens the residents behind it (名单),
 * the rows become township × 病种 (two row dimensions), the 机构 picker narrows the report to one township, and a
 * year of months × townships — over the e2e server's page limit (YGT_REPORT_MAX_ROWS=40) — runs as a background job
 * whose Excel file is downloaded. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { closePage, loginAs, shot } from './flows.mjs';

const SUPERVISOR = process.env.E2E_SUPERVISOR_USER ?? 'supervisor';

export async function reportBuilderStory(ctx) {
  const page = await loginAs(ctx, SUPERVISOR);
  await page.goto('/');
  await page.getByRole('link', { name: '自定义报表' }).click();
  await page.waitForURL(/\/reports/);
  const builder = page.locator('[data-testid=report-builder]');
  await builder.waitFor();
  // 血压控制率 is the default pick; make sure of it, by township (机构), month columns, last three months, 环比
  const chosen = page.locator('[data-testid=chosen-measures]');
  if (!(await chosen.innerText()).includes('管理人群血压控制率')) {
    await page.getByLabel('添加指标').selectOption({ label: '管理人群血压控制率' });
  }
  await page.getByLabel('行维度').selectOption({ label: '机构' });
  assert.equal(await page.getByLabel('粒度').inputValue(), 'month');
  const to = await page.getByLabel('截止月').inputValue();
  const from = await page.getByLabel('起始月').inputValue();
  const months = (Number(to.slice(0, 4)) * 12 + Number(to.slice(5))) - (Number(from.slice(0, 4)) * 12 + Number(from.slice(5)));
  assert.equal(months, 2, `${from} … ${to} is three months`);
  await page.getByLabel('环比').check();
  await page.getByRole('button', { name: '生成报表' }).click();

  const pivot = page.locator('[data-testid=report-pivot]');
  await pivot.waitFor();
  await page.locator('[data-testid=report-chart] canvas').waitFor();
  // the townships of the county as rows, three month columns, each with its 环比
  const api = await (await page.request.get('/api/v1/quality/overview')).json();
  const townships = api.indicators.find((i) => i.id === 'htn_bp_control_rate').children.filter((c) => c.org_code);
  for (const t of townships) await pivot.getByRole('cell', { name: t.label, exact: true }).waitFor();
  assert.equal(await pivot.locator('thead th').count(), 4);
  assert.match(await pivot.innerText(), /环比/);
  assert.doesNotMatch(await pivot.innerText(), /htn_bp_control_rate|indicator:|undefined|null/);
  await shot(page, 'report-builder-pivot');

  // save it
  await page.getByLabel('报表名称').fill('各乡镇血压控制率（浏览器测试）');
  await page.getByRole('button', { name: '保存报表' }).click();
  await page.getByRole('status').filter({ hasText: '报表已保存' }).waitFor();
  await page.locator('[data-testid=saved-reports]').getByText('各乡镇血压控制率（浏览器测试）').waitFor();

  // export xlsx and check the download
  const [download] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('button', { name: '导出 Excel' }).click()]);
  assert.match(download.suggestedFilename(), /\.xlsx$/);
  const bytes = await readFile(await download.path());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'an xlsx workbook is a zip');
  assert.ok(bytes.includes(Buffer.from('xl/worksheets/sheet1.xml')), 'has a worksheet');

  // a figure opens the residents behind it: the first township's last month, 未达标 then 分母
  const cell = pivot.locator('tbody tr').first().locator('[data-testid=report-cell]').last();
  await cell.click();
  const drill = page.locator('[data-testid=report-drill]');
  await drill.getByText(/^名单 · /).waitFor();
  const total = async () => Number((await drill.locator('[data-testid=report-drill-total]').innerText()).match(/\d+/)[0]);
  await drill.locator('[data-testid=report-drill-total]').waitFor();
  const gap = await total();
  await drill.getByRole('button', { name: '分母' }).click();
  await drill.getByText(/共 \d+ 人/).waitFor();
  await page.waitForFunction((g) => {
    const t = document.querySelector('[data-testid=report-drill-total]');
    return t && Number(t.textContent.match(/\d+/)[0]) >= g;
  }, gap);
  assert.ok(await drill.locator('tbody tr').count() > 0);
  assert.doesNotMatch(await drill.innerText(), /htn|undefined|null|_self/);
  await shot(page, 'report-builder-drilldown');
  await drill.getByRole('button', { name: '关闭' }).click();

  // two row dimensions: township × 病种, no column dimension
  await page.getByLabel('再按维度细分').selectOption({ label: '病种' });
  await page.getByLabel('列维度').selectOption({ label: '无（只分指标）' });
  await page.getByRole('button', { name: '生成报表' }).click();
  await pivot.locator('thead th', { hasText: '病种' }).waitFor();
  assert.equal(await pivot.locator('thead th').count(), 3);
  await pivot.getByRole('cell', { name: '高血压', exact: true }).first().waitFor();

  // the organisation picker: one township's villages
  await page.getByLabel('再按维度细分').selectOption({ label: '无' });
  const township = townships[0].label;
  await page.getByLabel('机构', { exact: true }).selectOption({ label: `\u3000${township}` });
  await page.getByRole('button', { name: '生成报表' }).click();
  await page.locator('[data-testid=report-result] h2', { hasText: township }).waitFor();
  assert.match(await pivot.innerText(), /村卫生室|本级/);

  // too big for the page → 转为后台生成 → the Excel file once the job is done
  const root = await page.getByLabel('机构', { exact: true }).locator('option').first().innerText();
  await page.getByLabel('机构', { exact: true }).selectOption({ label: root });
  await page.getByLabel('行维度').selectOption({ label: '统计期' });
  await page.getByLabel('再按维度细分').selectOption({ label: '机构' });
  const y = Number(to.slice(0, 4)), m = Number(to.slice(5));
  const start = m === 12 ? `${y}-01` : `${y - 1}-${String(m + 1).padStart(2, '0')}`;
  await page.getByLabel('起始月').fill(start);
  await page.getByRole('button', { name: '生成报表' }).click();
  await page.locator('[data-testid=report-run-job]').click();
  const job = page.locator('[data-testid=report-job]');
  await job.waitFor();
  await job.locator('[data-testid=report-job-download]').waitFor({ timeout: 120_000 });
  assert.match(await job.innerText(), /已完成/);
  const href = await job.locator('[data-testid=report-job-download]').getAttribute('href');
  const file = await page.request.get(href);
  assert.equal(file.status(), 200, href);
  assert.equal((await file.body()).subarray(0, 2).toString(), 'PK');
  await shot(page, 'report-builder-job');
  await closePage(page);
}

/** Issue 20 in the browser: the supervisor opens 质控指标 for the county, reads the blood-pressure control rate's
 * trend, its townships and their appraisal scores, goes down to a village, lists its uncontrolled hypertensive patients (the drill-down
 * the figure counted) and exports the indicator table and the list as Excel; the same page works on a phone.
 * 发现 (issue 20.6): the supervisor opens a finding (a township's 随访及时率 below its own history: the demo's
 * 高桥乡 year of late follow-ups), reads its control chart and reaches the list of visits behind it. */
import assert from 'node:assert/strict';
import { closePage, loginAs, refreshQualityFigures, shot, unavailable } from './flows.mjs';

const SUPERVISOR = process.env.E2E_SUPERVISOR_USER ?? 'supervisor';
const BP = 'htn_bp_control_rate';
const LONG = { timeout: 120_000 };                           // findings read a year of every rate
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** The first child organisation (by the API) with hypertensive patients not at target, and one of its villages. */
async function villageWithUncontrolled(page) {
  const county = await (await page.request.get('/api/v1/quality/overview')).json();
  const bp = county.indicators.find((i) => i.id === BP);
  for (const township of bp.children.filter((c) => c.org_code && c.denominator > c.numerator)) {
    const below = await (await page.request.get(`/api/v1/quality/overview?org_code=${township.org_code}`)).json();
    const village = below.indicators.find((i) => i.id === BP).children
      .find((c) => c.org_code && c.denominator > c.numerator);
    if (village) return { county, township, village };
  }
  return null;
}

/** The month with findings (this month, else the last complete one: the demo history ends there). */
async function findingsMonth(page) {
  const now = await (await page.request.get('/api/v1/quality/findings', LONG)).json();
  if (now.findings.some((f) => f.kind === 'drift' && f.subject_kind === 'township')) return now;
  const [y, m] = now.period.split('-').map(Number);
  const last = m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
  return (await page.request.get(`/api/v1/quality/findings?period=${last}`, LONG)).json();
}

async function findingStory(ctx, t) {
  const page = await loginAs(ctx, SUPERVISOR);
  const data = await findingsMonth(page);
  const finding = data.findings.find((f) => f.kind === 'drift' && f.subject_kind === 'township');
  if (!finding) {
    await closePage(page);
    return unavailable(ctx, t, '演示数据中没有乡镇的控制图发现');
  }
  const l = finding.link;
  const behind = await (await page.request.get(`/api/v1/quality/indicators/${l.indicator_id}/drilldown?org_code=${l.org_code}&period=${l.period}&part=${l.part}&per_page=500`)).json();
  await page.goto(`/quality?period=${data.period}`);
  const list = page.locator('[data-testid=finding-list]');
  await list.waitFor({ timeout: 120_000 });                    // findings read a year of every rate: seconds, not ms
  const item = list.locator('[data-testid=finding]', { hasText: finding.sentence });
  await item.getByRole('button', { name: finding.sentence }).click();
  await item.locator('[data-testid=control-chart] canvas').waitFor();
  assert.match(await item.innerText(), /控制图/);
  await shot(page, 'quality-finding');
  await item.getByRole('button', { name: '查看名单' }).click();
  const drill = page.locator('[data-testid=drill-list]');
  await drill.getByText(`共 ${behind.total} 条`).waitFor();
  assert.ok(behind.total > 0);
  for (const it of behind.items.slice(0, 3)) await drill.getByRole('link', { name: it.resident_name }).first().waitFor();
  assert.doesNotMatch(await drill.innerText(), /follow_up|gap|numerator/, '名单不显示原始代码');
  await shot(page, 'quality-finding-list');
  await closePage(page);
  return null;
}

export async function qualityStory(ctx, t) {
  await findingStory(ctx, t);
  const page = await loginAs(ctx, SUPERVISOR);
  await refreshQualityFigures(page);       // figures as of now, so the village's count equals its live list below
  const found = await villageWithUncontrolled(page);
  if (!found) {
    await closePage(page);
    return unavailable(ctx, t, '演示数据中没有血压未控制的高血压管理对象');
  }
  await page.goto('/');
  await page.getByRole('link', { name: '质控指标' }).click();
  await page.waitForURL(/\/quality/);
  const tile = page.locator(`[data-testid=tile-${BP}]`);
  await tile.waitFor();
  assert.match(await tile.innerText(), /管理人群血压控制率/);
  await tile.click();
  await page.locator('[data-testid=trend-chart] canvas').waitFor();
  const children = page.locator('[data-testid=child-table]');
  await children.getByRole('button', { name: found.township.label }).waitFor();
  await shot(page, 'quality-county');
  // appraisal: the townships scored 50…100 by P10/P90 and ranked
  await page.getByRole('button', { name: '绩效评分' }).click();
  const scores = page.locator('[data-testid=score-table]');
  await scores.getByText(found.township.label).waitFor();
  assert.match(await scores.innerText(), /排名[\s\S]*得分/);
  await page.getByRole('button', { name: '按下级机构' }).click();
  // Simple.org's cohort view: quarterly registrations and their status a quarter later
  await page.locator('[data-testid=cohort-chart] canvas').waitFor();
  const box = page.locator('[data-testid=cohort-table] button').first();
  if (await box.count()) {
    const n = Number(await box.innerText());
    await box.click();
    await page.locator('[data-testid=cohort-members]').getByText(`（${n} 人）`).waitFor();
    assert.equal(await page.locator('[data-testid=cohort-members] li').count(), n);
  }

  // down to the township, then list the village's patients not at target
  await children.getByRole('button', { name: found.township.label }).click();
  await page.locator('h1', { hasText: found.township.label }).waitFor();
  const row = page.locator('[data-testid=child-table] tr', { hasText: found.village.label });
  await row.getByRole('button', { name: '名单' }).click();
  const list = page.locator('[data-testid=drill-list]');
  await list.getByText(`共 ${found.village.denominator - found.village.numerator} 条`).waitFor();
  const text = await list.innerText();
  assert.match(text, /高血压/);
  assert.match(text, new RegExp(found.village.label));
  assert.doesNotMatch(text, /htn|HIGH|gap|numerator/, '名单不显示原始代码');
  const api = await (await page.request.get(`/api/v1/quality/indicators/${BP}/drilldown?org_code=${found.village.org_code}&part=gap&per_page=500`)).json();
  for (const item of api.items.slice(0, 5)) await list.getByRole('link', { name: item.resident_name }).first().waitFor();
  await shot(page, 'quality-village-uncontrolled');

  // exports: the indicator table and the list
  for (const link of [page.locator('[data-testid=overview-xlsx]'), list.getByRole('link', { name: '导出 Excel' })]) {
    const href = await link.getAttribute('href');
    const r = await page.request.get(href);
    assert.equal(r.status(), 200, href);
    assert.equal(r.headers()['content-type'], XLSX);
  }
  await closePage(page);

  // a phone shows the same figures in one column
  const phone = await loginAs(ctx, SUPERVISOR, { phone: true });
  await phone.goto(`/quality?indicator=${BP}&org=${found.village.org_code}&part=gap`);
  await phone.locator('[data-testid=drill-list]').getByText(/共 \d+ 条/).waitFor();
  await shot(phone, 'quality-phone');
  await closePage(phone);
}

/**
 * Issue 22.3 / 22.5 in the browser: every role lands on its own home, its menu offers only its pages, and each page a
 * person uses has no serious or critical accessibility violation (axe-core, WCAG 2.1 A/AA rules: contrast, labels,
 * names, …) on a phone (390x844), plus tap targets of at least 44 px for the menu and the main buttons.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closePage, loginAs } from './flows.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../ui/package.json'));
const AXE = require.resolve('axe-core/axe.min.js');

/** The demo users, where each lands (issue 22.5) and the pages its menu offers (walked with axe). */
export const WALK = [
  { user: 'village_doctor1', lands: /^\/inbox\?process_id=follow_up/, pages: ['/inbox', '/follow-ups', '/residents', '/referrals', '/training/my'],
    absent: ['/quality', '/dashboards', '/modeler', '/integrations'] },
  { user: 'supervisor', lands: /^\/dashboards$/, pages: ['/dashboards', '/quality', '/instances', '/screening', '/integrations', '/residents', '/follow-ups'],
    absent: ['/modeler'] },
  { user: 'township_doctor1', lands: /^\/(inbox)?$/, pages: ['/inbox', '/referrals/dashboard'], absent: ['/integrations', '/modeler'] },
  { user: 'pharmacist', lands: /^\/(inbox)?$/, pages: ['/inbox'], absent: ['/follow-ups', '/dashboards'] },
  { user: 'trainer', lands: /^\/training$/, pages: ['/training'], absent: ['/residents', '/follow-ups'] },
];

/** Serious and critical axe violations on the page as it is now (WCAG 2 A/AA and best-practice rules). */
export async function axeViolations(page) {
  if (!(await page.evaluate(() => !!window.axe))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    resultTypes: ['violations'],
  }));
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

/** Menu links and primary buttons smaller than 44x44 px (WCAG 2.5.5 target size, issue 22.3). */
async function smallTargets(page) {
  return page.evaluate(() => [...document.querySelectorAll('nav.main-nav a, .btn:not(.btn-small), button[type=submit]')]
    .filter((el) => el.offsetParent !== null)
    .map((el) => ({ el, r: el.getBoundingClientRect() }))
    .filter(({ r }) => r.width > 0 && (r.height < 44 || r.width < 44))
    .map(({ el, r }) => `${el.tagName.toLowerCase()} “${el.textContent.trim().slice(0, 12)}” ${Math.round(r.width)}x${Math.round(r.height)}`));
}

async function settle(page) {
  await page.locator('.state-loading').first().waitFor({ state: 'detached', timeout: 20000 }).catch(() => undefined);
  await page.waitForTimeout(300);
}

export async function roleWalkStory(ctx) {
  const problems = [];
  for (const who of WALK) {
    const page = await loginAs(ctx, who.user, { phone: true });
    const landed = new URL(page.url());
    assert.match(landed.pathname + landed.search, who.lands, `${who.user} 登录后应落在自己的首页，实际 ${landed.pathname}${landed.search}`);
    const menu = await page.locator('nav.main-nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    for (const p of who.absent) assert.ok(!menu.includes(p), `${who.user} 的菜单不应有 ${p}`);
    // the offline follow-up app (a page load into /m/) for the doctors who visit villages
    assert.equal(menu.includes('/m/'), /^(village|township)_doctor/.test(who.user), `${who.user} 的菜单「离线随访」（/m/）：${menu.join(' ')}`);
    for (const p of who.pages) {
      if (!p.includes('/', 1)) assert.ok(menu.includes(p), `${who.user} 的菜单应有 ${p}（菜单：${menu.join(' ')}）`);
      await page.goto(p);
      await settle(page);
      for (const v of await axeViolations(page)) problems.push(`${who.user} ${p}: ${v}`);
      for (const s of await smallTargets(page)) problems.push(`${who.user} ${p}: 点击区域不足 44 px: ${s}`);
    }
    if (who.user === 'village_doctor1') {
      // the page a village doctor uses most: a follow-up visit task with its form
      const list = await (await page.request.get('/api/v1/tasks?process_id=follow_up&per_page=50')).json();
      const task = (list.items ?? list).find((x) => /^record_(htn|dm)_visit/.test(x.element_id ?? ''));
      if (task) {
        await page.goto(`/tasks/${task.id}`);
        await page.locator('[data-testid=complete], [data-testid=task-name]').first().waitFor();
        await settle(page);
        for (const v of await axeViolations(page)) problems.push(`${who.user} /tasks/${task.id}: ${v}`);
        for (const s of await smallTargets(page)) problems.push(`${who.user} /tasks/${task.id}: 点击区域不足 44 px: ${s}`);
      } else if (ctx.strict) throw new Error('演示数据中村医没有随访任务');
    }
    for (const p of who.absent) {
      const resp = await page.goto(p);
      assert.equal(resp.status(), 403, `${who.user} 直接打开 ${p} 应得到 403`);
    }
    await closePage(page);
  }
  if (process.env.AXE_REPORT_ONLY === '1') return problems;
  assert.deepEqual(problems, [], `无障碍问题：\n${problems.join('\n')}`);
  return problems;
}

/**
 * 平台时钟 (issue 14.12) in the browser: on the demo install (live.py starts it with YGT_CLOCK_CONTROL=1, as `make run`)
 * the process owner uploads a model that waits 90 days before its task, starts it, opens 平台时钟 from the menu, sees
 * the waiting timer, moves the clock +7 天 (nothing due yet), then to the day the timer is due, and finds the
 * timer-driven task in the inbox. Answers false when the server's clock cannot be moved (production topology).
 * Run last: it moves the platform clock three months ahead.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closePage, loginAs, shot } from './flows.mjs';
import { api } from './forms.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const MODEL = path.resolve(here, '..', 'fixtures', 'models', 'ninety_day_review.bpmn');
const OWNER = process.env.E2E_OWNER_USER ?? 'process_owner';

/** The local (Asia/Shanghai) calendar date of an instant, as the date input takes it. */
function shanghaiDate(ms) {
  return new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 10);
}

/** The open tasks of the instance offered to the owner (a laneless task is offered to who started the instance). */
async function openTasks(page, instanceId) {
  const r = await api(page, 'GET', '/api/v1/tasks?view=groups&process_id=ninety_day_review&per_page=100');
  assert.equal(r.status, 200, r.text);
  return (r.json?.items ?? []).filter((t) => t.instance_id === instanceId);
}

export async function clockStory(ctx) {
  const page = await loginAs(ctx, OWNER);
  const state = await api(page, 'GET', '/api/v1/clock');
  if (state.status !== 200 || !state.json?.enabled) {
    await closePage(page);
    return false;
  }
  const deployed = await api(page, 'POST', '/api/v1/process-definitions',
    { __files: { 'ninety_day_review.bpmn': fs.readFileSync(MODEL, 'utf8') } });
  assert.ok([200, 201].includes(deployed.status), `部署失败 ${deployed.status} ${deployed.text}`);
  const started = await api(page, 'POST', '/api/v1/process-instances', { process_id: 'ninety_day_review', data: {} });
  assert.equal(started.status, 201, started.text);
  assert.equal(started.json.open_tasks.length, 0, '定时器到期前不应有待办');
  const dueAt = Date.parse(started.json.started_at ?? state.json.now) + 90 * 24 * 3600 * 1000;

  await page.locator('nav a[href="/clock"]').click();
  await page.locator('[data-testid=clock-page]').waitFor();
  assert.match(await page.locator('[data-testid=pending-timers]').innerText(), /等待中的定时器 \d+ 个/);
  const before = await page.locator('[data-testid=platform-now]').innerText();

  await page.locator('[data-testid=advance-7]').click();
  const notice = page.locator('[data-testid=clock-notice]');
  await notice.waitFor();
  assert.match(await notice.innerText(), /平台时间已前移至/);
  await page.waitForFunction((old) => document.querySelector('[data-testid=platform-now]')?.textContent !== old, before);
  assert.equal((await openTasks(page, started.json.id)).length, 0, '前移 7 天后 90 天定时器仍应等待');

  await page.locator('[data-testid=advance-date]').fill(shanghaiDate(dueAt));
  await page.locator('[data-testid=advance-to-date]').click();
  await page.locator('[data-testid=clock-notice]').filter({ hasText: /定时器已触发/ }).waitFor();
  await shot(page, 'clock-advanced');

  // the due timers fire as jobs (on the demo install, in the server's own worker): every seeded instance's timers of
  // the three months fire too, so ours may take a moment
  const until = Date.now() + 120000;
  let open = [];
  while (Date.now() < until && open.length === 0) {
    open = await openTasks(page, started.json.id);
    if (open.length === 0) await page.waitForTimeout(1000);
  }
  assert.deepEqual(open.map((t) => t.element_id), ['after_timer'], '定时器到期后应出现 90 天复查待办');
  await page.goto('/inbox?view=groups&process_id=ninety_day_review');
  await page.locator('[data-testid=task-card]').filter({ hasText: '90 天复查' }).first().waitFor();
  await closePage(page);
  return true;
}

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
  const waiting = await api(page, 'GET', `/api/v1/process-instances/${started.json.id}`);
  assert.equal(waiting.json.open_tasks.length, 0, '前移 7 天后 90 天定时器仍应等待');

  await page.locator('[data-testid=advance-date]').fill(shanghaiDate(dueAt));
  await page.locator('[data-testid=advance-to-date]').click();
  await page.locator('[data-testid=clock-notice]').filter({ hasText: /定时器已触发/ }).waitFor();
  await shot(page, 'clock-advanced');

  await page.locator('nav a[href="/inbox"]').first().click();
  await page.waitForURL((u) => u.pathname.startsWith('/inbox'));
  await page.getByText('90 天复查').first().waitFor();
  const after = await api(page, 'GET', `/api/v1/process-instances/${started.json.id}`);
  assert.deepEqual(after.json.open_tasks.map((t) => t.element_id), ['after_timer']);
  await closePage(page);
  return true;
}

/**
 * The village doctor offline (issue 22.2, docs/mobile.md "Client"): on a phone profile the doctor logs in to the
 * PWA at /m/, sets a PIN, the packet comes down; the network goes off (the whole context offline and every /api/
 * call aborted, per shared/domain/offline.md §3); the app restarts from its service worker; three follow-ups are
 * completed with readings, and a fourth that a supervisor hands to the township doctor meanwhile. Back online the
 * outbox lands: the first answer is lost on the way back (the server did the work), so the retry must be answered
 * from the server's record; each completion and each reading lands exactly once (checked through the staff API)
 * and the reassigned one shows 任务已改派 in plain Chinese, its reading kept; the doctor then records it as an ad-hoc
 * visit from the conflict card (记为临时随访), which lands once on the resident record.
 */
import assert from 'node:assert/strict';
import { closePage, loginAs, newPage, shot, unavailable } from './flows.mjs';
import { api } from './forms.mjs';
import { axeViolations } from './axe.mjs';

const PASSWORD = process.env.E2E_PASSWORD ?? 'demo12345';
const DOCTOR = process.env.E2E_VILLAGE_USER ?? 'village_doctor1';
const TOWNSHIP = process.env.E2E_TOWNSHIP_USER ?? 'township_doctor1';
const PIN = '482915';
const OFFLINE = '**/api/**';

const abortAll = (route) => route.abort('internetdisconnected');

/** The 2周随访 tasks (referral_up two_week_follow_up) offered to the doctor: a small form, several in the seed. */
async function followUps(page) {
  const out = [];
  for (const view of ['mine', 'groups']) {
    const r = await api(page, 'GET', `/api/v1/tasks?view=${view}&process_id=referral_up&per_page=100`);
    for (const t of r.json?.items ?? []) {
      if (t.element_id === 'two_week_follow_up' && t.resident?.id && !out.some((o) => o.resident.id === t.resident.id)) out.push(t);
    }
  }
  return out;
}

/** Phone first: nothing wider than the 390 px screen, every tap target at least 44 px high, no serious or critical
 * axe-core violation (WCAG 2.1 A/AA: contrast, labels, names) (issue 22). */
export async function phoneFit(page, where) {
  const r = await page.evaluate(() => {
    const small = [];
    const targets = 'button, a[href], select, textarea, input:not([type=radio]):not([type=checkbox]):not([type=hidden]), '
      + '.radio label, .checkbox label, .radio-inline, .checkbox-inline';
    for (const el of document.querySelectorAll(targets)) {
      const b = el.getBoundingClientRect();
      if (!b.width || !b.height) continue;
      if (b.height < 43.5) small.push(`${el.tagName.toLowerCase()}「${(el.textContent || el.getAttribute('name') || '').trim().slice(0, 12)}」${Math.round(b.height)}px`);
    }
    return { width: document.documentElement.scrollWidth, viewport: window.innerWidth, small };
  });
  assert.ok(r.width <= r.viewport + 1, `${where}: 页面宽 ${r.width}px，超出屏幕 ${r.viewport}px`);
  assert.deepEqual(r.small, [], `${where}: 点击区域小于 44px`);
  assert.deepEqual(await axeViolations(page), [], `${where}: 无障碍检查 (axe-core) 有严重问题`);
}

async function completeOffline(phone, task, sbp, check = false) {
  await phone.locator(`[data-testid=m-task][data-task-id="${task.id}"]`).click();
  await phone.locator('[data-testid=task-title]').waitFor();
  await phone.locator('input[name=reading_sbp]').fill(String(sbp));
  await phone.locator('input[name=reading_dbp]').fill('88');
  await phone.locator('input[name=reading_pulse]').fill('72');
  await phone.locator('#root_outcome-0').check();                    // 到位
  if (check) await phoneFit(phone, '离线随访表单');
  await phone.locator('[data-testid=m-complete]').click();
  await phone.locator('[data-testid=toast]').waitFor();
  const card = phone.locator(`[data-testid=m-task][data-task-id="${task.id}"] [data-testid=m-task-state]`);
  assert.match(await card.innerText(), /待发送/, '离线完成的随访应标为“待发送”');
}

/** Observations of one resident with this systolic value recorded from the phone (source mobile…). */
async function mobileReadings(sup, residentId, sbp) {
  const r = await api(sup, 'GET', `/api/v1/residents/${residentId}/observations?code=8480-6&limit=200`);
  assert.equal(r.status, 200, r.text);
  return (r.json.items ?? []).filter((o) => Number(o.value) === sbp && String(o.source ?? '').startsWith('mobile'));
}

export async function offlineStory(ctx, t) {
  const sup = await loginAs(ctx, 'supervisor');
  const phone = await newPage(ctx, { phone: true });
  try {
    // 1. online: log in, set the PIN, the packet comes down
    await phone.goto('/m/');
    await phone.locator('input[name=username]').fill(DOCTOR);
    await phone.locator('input[name=password]').fill(PASSWORD);
    await phone.getByRole('button', { name: '登录' }).click();
    await phone.locator('input[name=pin]').fill(PIN);
    await phone.locator('input[name=pin2]').fill(PIN);
    await phone.getByRole('button', { name: '确定' }).click();
    await phone.locator('[data-testid=m-task]').first().waitFor();
    await phone.locator('[data-testid=last-sync]', { hasText: '最后同步' }).waitFor();
    await phone.evaluate(() => navigator.serviceWorker.ready);

    const tasks = await followUps(phone);
    if (tasks.length < 4) return unavailable(ctx, t, `演示数据中 ${DOCTOR} 的“2周内随访”任务不足 4 个（${tasks.length}）`);
    const [done, reassigned] = [tasks.slice(0, 3), tasks[3]];
    for (const task of tasks.slice(0, 4)) await phone.locator(`[data-testid=m-task][data-task-id="${task.id}"]`).waitFor();
    const values = new Map(tasks.slice(0, 4).map((task, i) => [task.id, 141 + i]));

    // 2. the network goes away; the app starts again from its service worker and the PIN
    await phone.context().setOffline(true);
    await phone.route(OFFLINE, abortAll);
    await phone.reload();
    await phone.locator('input[name=pin]').fill(PIN);
    await phone.getByRole('button', { name: '解锁' }).click();
    await phone.locator('[data-testid=net]', { hasText: '离线' }).waitFor();
    await phone.locator(`[data-testid=m-task][data-task-id="${done[0].id}"]`).waitFor();

    // meanwhile the supervisor hands the fourth follow-up to the township doctor
    const moved = await api(sup, 'POST', `/api/v1/tasks/${reassigned.id}/delegate`, { username: TOWNSHIP, note: '村医外出，改由乡镇医生随访' });
    assert.equal(moved.status, 200, `改派失败 ${moved.text}`);
    const holder = moved.json?.assignee?.display_name;

    // 3. offline: three follow-ups and the reassigned one, each with a blood pressure
    await phoneFit(phone, '随访任务列表');
    for (const [i, task] of [...done, reassigned].entries()) await completeOffline(phone, task, values.get(task.id), i === 0);
    await phone.locator('[data-testid=pending]', { hasText: '4 条待发送' }).waitFor();
    await shot(phone, 'mobile-offline-outbox');

    // 4. back online; the first completion's answer is lost after the server applied it
    let lost = 0;
    await phone.route('**/api/mobile/v1/completions', async (route) => {
      if (lost === 0) {
        lost += 1;
        await route.fetch();                                 // the server does the work …
        return route.abort('connectionreset');               // … and the phone never hears back
      }
      return route.continue();
    });
    await phone.unroute(OFFLINE, abortAll);
    await phone.context().setOffline(false);                 // the `online` event starts the sync
    // the lost one waits for its retry (a few seconds' backoff); 立即同步 sends it once that is over
    const deadline = Date.now() + 60_000;
    while (await phone.locator('[data-testid=pending]').count()) {
      assert.ok(Date.now() < deadline, '联网后一分钟内应发送完所有记录');
      await phone.waitForTimeout(2000);
      const button = phone.locator('[data-testid=sync-now]');
      if (await button.isEnabled()) await button.click();
    }
    assert.equal(lost, 1, '应模拟一次丢失的应答');
    await phone.locator('[data-testid=net]', { hasText: '在线' }).waitFor();

    // 5. the doctor's view: three 已送达, one 冲突 with the reason in plain Chinese
    await phone.locator('[data-testid=conflict-banner]').waitFor();
    await phone.locator('[data-testid=tab-sync]').click();
    await phone.locator('[data-testid=outbox-item]').first().waitFor();
    const states = await phone.locator('[data-testid=outbox-item]').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    assert.deepEqual(states.filter((s) => s === 'done').length, 3, `应有 3 条已送达: ${states}`);
    assert.deepEqual(states.filter((s) => s === 'conflict').length, 1, `应有 1 条冲突: ${states}`);
    assert.equal(await phone.locator('[data-testid=conflict-title]').innerText(), '任务已改派');
    const what = await phone.locator('[data-testid=conflict-what]').innerText();
    assert.match(what, /改派给/);
    if (holder) assert.ok(what.includes(holder), `冲突说明应写出接手的医生 ${holder}: ${what}`);
    assert.match(what, /测量值已保存/);
    await phoneFit(phone, '同步记录');
    assert.doesNotMatch(await phone.locator('[data-testid=outbox]').innerText(), /task_reassigned|completion_conflict|[a-z]+_[a-z]+\d/);
    await shot(phone, 'mobile-conflict');

    // 6. through the staff API: each completion once, each reading once (the reassigned one's too)
    for (const task of done) {
      const r = await api(sup, 'GET', `/api/v1/tasks/${task.id}`);
      assert.equal(r.json?.status, 'completed', `任务 ${task.id} 应已完成: ${r.text}`);
    }
    const still = await api(sup, 'GET', `/api/v1/tasks/${reassigned.id}`);
    assert.notEqual(still.json?.status, 'completed', '改派的任务不应被离线提交办结');
    assert.equal(still.json?.assignee?.username, TOWNSHIP);
    const countAll = async () => Promise.all([...done, reassigned].map(async (task) =>
      (await mobileReadings(sup, task.resident.id, values.get(task.id))).length));
    assert.deepEqual(await countAll(), [1, 1, 1, 1], '每个测量值应恰好保存一次');

    // 7. syncing again sends nothing twice
    await phone.locator('[data-testid=sync-now]').click();
    await phone.locator('[data-testid=sync-now]', { hasText: '立即同步' }).waitFor();
    await phone.locator('[data-testid=last-sync]', { hasText: /最后同步 \d\d:\d\d/ }).waitFor();
    assert.deepEqual(await countAll(), [1, 1, 1, 1], '再次同步不应重复保存');
    for (const task of done) assert.equal(await phone.locator(`[data-testid=m-task][data-task-id="${task.id}"]`).count(), 0, '已办结的任务应从列表移除');

    // 8. what to do with the conflict: the entered form already waits on the task for the township doctor, so the
    //    card offers 记为临时随访 (the visit did happen); the choice lands once on the resident record
    const encounters = async () => ((await api(sup, 'GET', `/api/v1/residents/${reassigned.resident.id}`)).json?.encounters ?? [])
      .filter((e) => e.kind === 'follow_up' && e.source === 'mobile');
    const before = (await encounters()).length;
    await phone.locator('[data-testid=tab-sync]').click();
    const card = phone.locator('[data-testid=outbox-item][data-state=conflict]');
    assert.equal(await card.locator('[data-testid=conflict-attach_as_note]').count(), 0, '改派的任务已带备注，不应再提供“附给接手医生”');
    await card.locator('[data-testid=conflict-record_visit]').click();
    await phone.locator('[data-testid=sync-now]').click();
    const outcome = phone.locator('[data-testid=resolution][data-state=done]');
    await outcome.waitFor({ timeout: 30_000 });
    assert.match(await outcome.innerText(), /临时随访/);
    await phone.locator('[data-testid=outbox-item][data-state=resolved] [data-testid=outbox-state]', { hasText: '已处理' }).waitFor();
    assert.equal(await phone.locator('[data-testid=conflict-banner]').count(), 0, '处理后不应再提示冲突');
    await phoneFit(phone, '冲突已处理');
    await shot(phone, 'mobile-conflict-resolved');
    await phone.locator('[data-testid=sync-now]').click();
    await phone.locator('[data-testid=sync-now]', { hasText: '立即同步' }).waitFor();
    assert.equal((await encounters()).length, before + 1, '临时随访应在居民档案中恰好记一次');
  } finally {
    await closePage(sup);
    await closePage(phone);
  }
}

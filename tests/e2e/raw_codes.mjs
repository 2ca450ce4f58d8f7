/** Issue 12.9 "small truths" in the browser: no raw process ids, usernames, business keys or organization codes on
 * the pages a clinician reads on the phone (inbox cards, task header, resident record, overdue follow-ups). */
import assert from 'node:assert/strict';
import { closePage, loginAs, shot } from './flows.mjs';

const USERS = [
  process.env.E2E_VILLAGE_USER ?? 'village_doctor1',
  process.env.E2E_SPECIALIST_USER ?? 'specialist_cardio',
  process.env.E2E_SUPERVISOR_USER ?? 'supervisor',
];
const ORG_CODE = /\bC\d\d(T\d\d)?(V\d\d)?\b/;

async function json(page, url) {
  const r = await page.request.get(url);
  return r.ok() ? r.json() : null;
}

/** The raw strings this user's data could leak: process ids, usernames, business keys, drug codes. */
async function rawCodes(page, tasks, records) {
  const defs = (await json(page, '/api/v1/process-definitions')) ?? [];
  const codes = new Set((Array.isArray(defs) ? defs : defs.items ?? []).map((d) => d.process_id));
  for (const t of tasks) {
    codes.add(t.process_id);
    if (t.assignee?.username) codes.add(t.assignee.username);
  }
  for (const r of records) {
    // internal keys (follow_up:16); a referral's number (SZ…) is the slip's printed 转诊单号 and may be shown as such
    for (const i of r.summary?.open_instances ?? []) if (i.business_key && /[:_]/.test(i.business_key)) codes.add(i.business_key);
    for (const m of r.summary?.current_medications ?? []) if (m.drug_name && m.drug !== m.drug_name) codes.add(m.drug);
    // 影像与病历: a link's kind (imaging_study, document) and system (pacs, emr) are shown as words
    for (const l of r.links ?? []) for (const c of [l.kind, l.system]) if (c) codes.add(c);
  }
  codes.add('specialist_');
  codes.add('village_doctor');
  return [...codes].filter((c) => c && c.length > 3);
}

function assertClean(text, codes, where) {
  for (const c of codes) assert.ok(!text.includes(c), `${where} 显示了原始代码 ${c}`);
  const org = text.match(ORG_CODE);
  assert.ok(!org, `${where} 显示了机构代码 ${org?.[0]}`);
}

async function mainText(page) {
  await page.waitForLoadState('networkidle');
  return (await page.locator('main').first().textContent()) ?? '';
}

export async function noRawCodesStory(ctx) {
  for (const user of USERS) {
    const page = await loginAs(ctx, user, { phone: true });
    const tasks = [];
    for (const view of ['mine', 'groups', 'org']) {
      const body = await json(page, `/api/v1/tasks?view=${view}&per_page=100`);
      for (const t of body?.items ?? []) if (!tasks.some((x) => x.id === t.id)) tasks.push(t);
    }
    const residentIds = [...new Set(tasks.map((t) => t.resident?.id).filter(Boolean))].slice(0, 3);
    const records = [];
    for (const id of residentIds) {
      const r = await json(page, `/api/v1/residents/${id}`);
      if (r) records.push({ ...r, links: (await json(page, `/api/v1/integrations/residents/${id}/links`))?.items ?? [] });
    }
    const codes = await rawCodes(page, tasks, records);

    await page.goto('/inbox');
    await page.locator('main').first().waitFor();
    assertClean(await mainText(page), codes, `${user} 的待办`);

    if (tasks.length) {
      await page.goto(`/tasks/${tasks[0].id}`);
      await page.getByText(tasks[0].process_name ?? '—').first().waitFor();
      const header = (await page.locator('main .page-header, main header, main h1').first().textContent()) ?? '';
      assertClean(header, codes, `${user} 的任务页标题`);
      // 转交他人 offers colleagues by name: no candidate's username in its text or its choices
      const detail = await json(page, `/api/v1/tasks/${tasks[0].id}`);
      const handover = page.locator('main section[aria-label="转交"]');
      if (detail?.can?.delegate || detail?.can?.assign) {
        await handover.first().waitFor();
        const people = (detail?.candidates ?? []).map((c) => c.username).filter((u) => u && u.length > 3);
        assertClean((await handover.first().textContent()) ?? '', [...codes, ...people], `${user} 的转交他人`);
      }
    }

    for (const r of records) {
      await page.goto(`/residents/${r.id}`);
      await page.getByText('进行中的流程').first().waitFor();
      const text = await mainText(page);
      for (const i of r.summary?.open_instances ?? []) assert.ok(text.includes(i.process_name), `缺少流程名 ${i.process_name}`);
      assertClean(text, codes, `${user} 的居民档案 ${r.id}`);
    }
    if (user === USERS[0] && records.length) await shot(page, 'resident-no-raw-codes-phone');

    const overdue = await page.request.get('/api/v1/follow-ups/overdue');
    if (overdue.ok()) {
      await page.goto('/follow-ups');
      await page.locator('main').first().waitFor();
      assertClean(await mainText(page), codes, `${user} 的逾期随访`);
    }
    await closePage(page);
  }
}

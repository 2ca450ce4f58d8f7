/**
 * Regimen safety before approval (issue 12.5), in the browser: a county specialist's care-plan draft with losartan
 * 100 mg twice a day is refused on the dose field and stays open; a draft with losartan and potassium chloride asks
 * for an acknowledgement (the page adds the row, the doctor writes why) and then goes to approval, where a second
 * specialist reads the acknowledgement above the decision.
 */
import assert from 'node:assert/strict';
import { closePage, loginAs, shot, unavailable } from './flows.mjs';

const DRAFTER = process.env.E2E_SPECIALIST_USER ?? 'specialist_cardio';
const APPROVER = process.env.E2E_APPROVER_USER ?? 'specialist_endo';
const REASON = '低钾血症（血钾3.2），短期补钾，1周复查血钾';

async function api(page, method, url, body) {
  return page.evaluate(async ({ method, url, body }) => {
    const csrf = decodeURIComponent((document.cookie.match(/(?:^|; )ygt_csrf=([^;]*)/) ?? [])[1] ?? '');
    const r = await fetch(url, { method, credentials: 'include', body: body === undefined ? undefined : JSON.stringify(body),
      headers: { 'X-CSRF-Token': csrf, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) } });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text: text.slice(0, 2000) };
  }, { method, url, body });
}

async function taskOf(page, elementId, instanceId = null) {
  for (const view of ['mine', 'groups']) {
    const r = await api(page, 'GET', `/api/v1/tasks?view=${view}&process_id=care_plan&per_page=100`);
    const found = (r.json?.items ?? []).find((t) => t.element_id === elementId && (instanceId === null || t.instance_id === instanceId));
    if (found) return found;
  }
  return null;
}

async function submitDraft(page, task, data) {
  const saved = await api(page, 'PUT', `/api/v1/tasks/${task.id}/draft`, { data });
  assert.ok(saved.status < 300, `保存草稿失败 ${saved.status} ${saved.text}`);
  await page.goto(`/tasks/${task.id}`);
  await page.locator('.rjsf').waitFor();
  await page.locator('[data-testid=complete]').click();
}

export async function regimenSafetyStory(ctx, t) {
  const page = await loginAs(ctx, DRAFTER);
  const task = await taskOf(page, 'draft_plan_county');
  if (!task) {
    unavailable(ctx, t, '演示数据中没有待制订的县级管理方案');
    return closePage(page);
  }
  const detail = (await api(page, 'GET', `/api/v1/tasks/${task.id}`)).json;
  const content = detail.form?.data?.content ?? detail.form?.schema?.properties?.content?.default ?? {};
  const base = { ...content, acknowledgements: [] };

  await submitDraft(page, task, { content: { ...base, drugs: [
    { drug: 'losartan', name: '氯沙坦钾片', dose_mg: 100, frequency: 'bid' }] }, change_reason: '浏览器测试' });
  await page.getByText('超过说明书最大剂量').first().waitFor();
  assert.match(page.url(), new RegExp(`/tasks/${task.id}$`), '超量的方案不应提交');
  await shot(page, 'care-plan-dose-blocked');

  await submitDraft(page, task, { content: { ...base, drugs: [
    { drug: 'losartan', name: '氯沙坦钾片', dose_mg: 50, frequency: 'qd' },
    { drug: 'potassium_chloride', name: '氯化钾缓释片', dose_mg: 500, frequency: 'bid' }] }, change_reason: '浏览器测试' });
  const comment = page.locator('#root_content_acknowledgements_0_comment');
  await comment.waitFor();                                   // the page added the row for the warning
  assert.equal(await page.locator('#root_content_acknowledgements_0_finding').inputValue(), 'ras_potassium:losartan+potassium_chloride');
  await comment.fill(REASON);
  await page.locator('[data-testid=complete]').click();
  await page.waitForURL((u) => u.pathname === '/inbox');
  await closePage(page);

  const approver = await loginAs(ctx, APPROVER);
  const approve = await taskOf(approver, 'approve_plan', task.instance_id);
  assert.ok(approve, '方案应进入审核');
  await approver.goto(`/tasks/${approve.id}`);
  await approver.locator('.rjsf').waitFor();
  await approver.getByText(REASON, { exact: false }).first().waitFor();
  assert.match(await approver.locator('.rjsf').innerText(), /高钾血症风险/);
  await shot(approver, 'care-plan-approval-acknowledgement');
  await closePage(approver);
}

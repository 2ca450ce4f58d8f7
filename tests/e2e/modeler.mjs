#!/usr/bin/env node
/**
 * The modeler for its users (issue 14.13) and the DMN deploy gate in the editor (14.3):
 * a village doctor neither sees 流程建模 nor opens /modeler (403); the process owner's DMN editor speaks Chinese;
 * leaving with undeployed edits asks first; a rule cell naming an unknown input is refused on deploy and that cell
 * is highlighted; 回放影响 shows what a DMN draft would change over recent real evaluations (14.14).
 *
 *   BASE_URL=http://127.0.0.1:5000 node tests/e2e/modeler.mjs     # a server with `ygt deploy` (bp_grade) and the users
 *
 * Also run by tests/e2e/run.mjs (make test-e2e).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { closePage, flows, loginAs } from './flows.mjs';

const OWNER = process.env.E2E_OWNER_USER ?? 'process_owner';
const VILLAGE = process.env.E2E_VILLAGE_USER ?? 'village_doctor1';

export async function villageDoctorHasNoModeler(ctx) {
  const page = await loginAs(ctx, VILLAGE);
  assert.equal(await page.locator('nav a[href="/modeler"]').count(), 0, '村医的菜单中不应有“流程建模”');
  const resp = await page.goto('/modeler');
  assert.equal(resp.status(), 403, '村医直接打开 /modeler 应得到 403');
  assert.match(await page.locator('body').innerText(), /无权访问/);
  await page.context().close();
}

export async function dmnEditorStory(ctx) {
  const page = await loginAs(ctx, OWNER);
  await page.goto('/modeler?decision=bp_grade');
  const table = page.locator('[data-testid=dmn-modeler]');
  const cell = table.locator('[data-element-id="bp_grade_r7_i1"]').first();
  await cell.waitFor();
  // Chinese interface: the table's own words (When/Then/Hit policy …) come through the translate module
  const text = await table.innerText();
  assert.doesNotMatch(text, /\bWhen\b|\bThen\b|Hit policy|Add rule/, `决策表编辑器仍有英文：${text.slice(0, 300)}`);

  // an edit: `>= abc((`, closed by the editor to something that parses but names an unknown input
  await cell.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('>= abc(())');
  await table.locator('.tjs-table').first().click({ position: { x: 2, y: 2 } }).catch(() => undefined);

  // leaving asks first: dismiss → still here; the edit is kept
  let asked = 0;
  page.once('dialog', (d) => { asked += 1; void d.dismiss(); });
  await page.locator('nav a[href="/inbox"]').first().click();
  await page.waitForTimeout(300);
  assert.equal(asked, 1, '有未部署的修改时离开应先询问');
  assert.match(new URL(page.url()).pathname, /^\/modeler/, '取消后应留在建模页');
  // the back button asks too
  page.once('dialog', (d) => { asked += 1; void d.dismiss(); });
  await page.goBack();
  await page.waitForTimeout(300);
  assert.equal(asked, 2, '按浏览器“后退”离开也应先询问');
  assert.match(new URL(page.url()).pathname, /^\/modeler/, '取消后退后应留在建模页');
  await cell.waitFor();

  // deploy: refused, the cell highlighted, the message names the unknown input
  await page.getByRole('button', { name: '部署为新版本' }).click();
  const alert = page.locator('.alert-error').filter({ hasText: '部署被拒绝' });
  await alert.waitFor();
  assert.match(await alert.innerText(), /abc/);
  await table.locator('[data-element-id="bp_grade_r7_i1"].ygt-invalid-rule').first().waitFor();
  await flows.shot?.(page, 'modeler-dmn-refused');

  // leaving after all: accept → the inbox
  page.once('dialog', (d) => void d.accept());
  await page.locator('nav a[href="/inbox"]').first().click();
  await page.waitForURL((u) => u.pathname.startsWith('/inbox'));
  await closePage(page);
}

/** A broken rule (the example: bp_grade's grade-3 rule starting at 100 mmHg) parses, but its table's own
 * conformance cases fail: the deploy is refused naming the failing cases, and the rule's cell is highlighted. */
export async function dmnBrokenRuleStory(ctx) {
  const page = await loginAs(ctx, OWNER);
  await page.goto('/modeler?decision=bp_grade');
  const table = page.locator('[data-testid=dmn-modeler]');
  const cell = table.locator('[data-element-id="bp_grade_r2_i1"]').first();
  await cell.waitFor();
  await cell.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('>= 100');
  await table.locator('.tjs-table').first().click({ position: { x: 2, y: 2 } }).catch(() => undefined);
  await page.getByRole('button', { name: '部署为新版本' }).click();
  const alert = page.locator('.alert-error').filter({ hasText: '部署被拒绝' });
  await alert.waitFor();
  assert.match(await alert.innerText(), /一致性用例未通过/, '应说明一致性用例未通过');
  await table.locator('[data-element-id^="bp_grade_r2_"].ygt-invalid-rule').first().waitFor();
  await flows.shot?.(page, 'modeler-dmn-cases-failed');
  page.once('dialog', (d) => void d.accept());
  await page.locator('nav a[href="/inbox"]').first().click();
  await page.waitForURL((u) => u.pathname.startsWith('/inbox'));
  await closePage(page);
}

/** The shipped models find their forms by convention (forms/<process>/<task>.json): 检查 must not call them missing. */
export async function noFalseMissingForms(ctx) {
  const page = await loginAs(ctx, OWNER);
  await page.goto('/modeler?process=screening');
  await page.locator('[data-testid=bpmn-modeler] .djs-element').first().waitFor();
  await page.waitForLoadState('networkidle');
  await page.getByRole('button', { name: '检查', exact: true }).click();
  const outcome = page.locator('.alert').filter({ hasText: /检查通过|发现/ }).first();
  await outcome.waitFor();
  const body = await page.locator('body').innerText();
  assert.doesNotMatch(body, /没有配置表单/, '按约定存在的表单不应报“没有配置表单”');
  assert.match(await outcome.innerText(), /检查通过/);
  // the properties panel shows what the engine honours on the task (due date, priority, org), not only in XML
  const shape = page.locator('[data-testid=bpmn-modeler] g.djs-shape[data-element-id="verify_case"]');
  const box = await shape.boundingBox();
  await shape.click({ position: { x: 8, y: Math.max(box.height - 8, 1) } });   // clear of flows ending mid-shape
  await page.locator('[data-testid=prop-id]').and(page.locator('[value="verify_case"]')).waitFor();
  assert.equal(await page.locator('[data-testid=prop-dueIn]').inputValue(), '"P7D"');
  assert.equal(await page.locator('[data-testid=prop-assignOrg]').inputValue(), 'township_code');
  await closePage(page);
}

/** An ANY table with overlapping rules of different outcomes: refused, then deployed by an explicit override. */
export async function dmnFindingsOverride(ctx) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // the findings gate applies to clinical decisions (issue 14.8): the fixture declares a guideline provenance here
  const tag = '<decision id="any_conflicting_outputs" name="any_conflicting_outputs">';
  const xml = fs.readFileSync(path.resolve(here, '../unit/dmn_fixtures/any_conflicting_outputs.dmn'), 'utf8')
    .replace(tag, `${tag}<extensionElements><ygt:provenance xmlns:ygt="https://yigongti.dev/dmn/1.0" table="T99" source="浏览器测试指南"/></extensionElements>`);
  const page = await loginAs(ctx, OWNER);
  const first = await page.evaluate(async (text) => {
    const csrf = decodeURIComponent((document.cookie.match(/(?:^|; )ygt_csrf=([^;]*)/) ?? [])[1] ?? '');
    const form = new FormData();
    form.append('file', new File([text], 'any_conflicting_outputs.dmn'), 'any_conflicting_outputs.dmn');
    form.append('override_findings', 'any_conflicting_outputs');
    form.append('override_reason', '浏览器测试：首个版本');
    const r = await fetch('/api/v1/process-definitions', { method: 'POST', body: form, headers: { 'X-CSRF-Token': csrf } });
    return r.status;
  }, xml);
  assert.ok([200, 201].includes(first), `首个版本部署失败 ${first}`);
  await page.goto('/modeler?decision=any_conflicting_outputs');
  await page.locator('[data-testid=dmn-modeler] .tjs-table').first().waitFor();
  await page.getByRole('button', { name: '部署为新版本' }).click();
  const panel = page.locator('[data-testid=findings-override]');
  await panel.waitFor();
  const button = panel.getByRole('button', { name: '豁免并部署' });
  assert.ok(await button.isDisabled(), '未写理由时不能豁免');
  await panel.locator('textarea').fill('两条规则的结论经县医院确认，按 ANY 合并');
  await button.click();
  await page.locator('[data-testid=deploy-result]').waitFor();
  assert.match(await page.locator('[data-testid=deploy-result]').innerText(), /已部署|内容未变化/);
  await closePage(page);
}

/** Issue 14.14: 回放影响 replays the draft over recent real gradings: unchanged → 结果全部不变; a C1/G1 cell moved
 * from 中危 to 高危 → the count that would change and the from → to line in Chinese, with de-identified examples. */
export async function dmnReplayStory(ctx) {
  const page = await loginAs(ctx, OWNER);
  await page.goto('/modeler?decision=htn_cv_risk');
  const table = page.locator('[data-testid=dmn-modeler]');
  const cell = table.locator('[data-element-id="htn_cv_risk_r7_o2"]').first();
  await cell.waitFor();
  const result = page.locator('[data-testid=replay-result]');
  await page.getByTestId('replay-draft').click();
  await result.waitFor();
  const first = await result.innerText();
  assert.match(first, /回放最近 \d+ 次真实评估：结果全部不变|暂无可回放/, first);
  assert.match(first, /部署此草稿时，本次回放结果将随部署记入审计|暂无可回放/);

  await cell.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('"HIGH"');
  await table.locator('.tjs-table').first().click({ position: { x: 2, y: 2 } }).catch(() => undefined);
  await result.getByText('草稿在回放后又有修改').waitFor();
  await page.getByTestId('replay-draft').click();
  await result.getByText('部署此草稿时').waitFor();
  const second = await result.innerText();
  const m = second.match(/回放最近 (\d+) 次真实评估：(\d+) 次结果将改变/);
  if (m) {
    assert.match(second, new RegExp(`${m[2]} 次将从 中危 变为 高危`), second);
    assert.doesNotMatch(second, /MODERATE|HIGH|resident_id|身份证号\d/, '应显示中文等级，不显示代码或身份信息');
  } else {
    assert.match(second, /结果全部不变|暂无可回放/, second);
  }
  await flows.shot?.(page, 'modeler-dmn-replay');
  page.once('dialog', (d) => void d.accept());
  await page.locator('nav a[href="/inbox"]').first().click();
  await page.waitForURL((u) => u.pathname.startsWith('/inbox'));
  await closePage(page);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let ctx;
  before(async () => { ctx = await flows.start((process.env.BASE_URL ?? 'http://127.0.0.1:5000').replace(/\/$/, '')); });
  after(async () => { await ctx?.close(); });
  test('a village doctor has no modeler (menu and page)', async () => { await villageDoctorHasNoModeler(ctx); });
  test('BPMN check: no false 没有配置表单 for forms found by convention; the panel shows due date and org', async () => { await noFalseMissingForms(ctx); });
  test('DMN editor: an ANY table with findings deploys only with a reason (audited override)', async () => { await dmnFindingsOverride(ctx); });
  test('DMN editor: 回放影响 shows what a draft would change over recent real gradings (14.14)', async () => { await dmnReplayStory(ctx); });
  test('DMN editor: Chinese, asks before leaving with edits, refuses an unknown input with the cell highlighted', async () => {
    await dmnEditorStory(ctx);
  });
  test('DMN editor: a rule that breaks the conformance cases is refused with its cell highlighted', async () => {
    await dmnBrokenRuleStory(ctx);
  });
}

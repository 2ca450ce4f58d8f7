/**
 * Remote consultation (issue 17.1/17.4) in the browser, against the live demo server, on phones:
 *  1. the village doctor requests a real-time consult from the request form (organisations under agreement only);
 *  2. the patient signs the consent on the phone's canvas — nothing reaches the county before that;
 *  3. the township doctor approves the request; the county 医务科 accepts it on the consult page and assigns the
 *     cardiologist (task API);
 *  4. the cardiologist sees the live room (vitals + video) on the consult page and signs the report;
 *  5. the village doctor sees the signed opinion and downloads the report PDF (both sides archived);
 *  6. the 医务科 cannot decline the seeded imaging consult without a reason, then declines it with one.
 *  Between 3 and 4 the 医务科 takes the experts off again on the consult page (改派, reason required) and the
 *  排班/指派专家 step comes back; the lead sees 无法参加本次会诊？ (decline with a reason).
 */
import assert from 'node:assert/strict';
import { closePage, loginAs, shot } from './flows.mjs';

async function api(page, method, url, data) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'ygt_csrf')?.value ?? '';
  const r = await page.request.fetch(url, { method, data, headers: { 'X-CSRF-Token': csrf } });
  const type = r.headers()['content-type'] ?? '';
  return { status: r.status(), body: type.includes('json') ? await r.json() : await r.body(), type };
}

async function stepOf(page, id, elementId, ms = 30000) {
  const until = Date.now() + ms;
  for (;;) {
    const { body } = await api(page, 'GET', `/api/v1/consults/${id}`);
    const task = (body.tasks ?? []).find((t) => t.element_id === elementId);
    if (task) return task;
    if (Date.now() > until) throw new Error(`会诊 ${body.consult_no} 没有待办步骤 ${elementId}（${body.status_label}）`);
    await page.waitForTimeout(500);
  }
}

async function completeStep(page, id, elementId, data) {
  const task = await stepOf(page, id, elementId);
  if (!task.assignee) await api(page, 'POST', `/api/v1/tasks/${task.id}/claim`);
  const { status, body } = await api(page, 'POST', `/api/v1/tasks/${task.id}/complete`, { data });
  assert.equal(status, 200, `${elementId}: ${JSON.stringify(body)}`);
}

/** The process's service steps run in the job worker: on a busy machine the page may show the state before them, so
 * look again (reload) until the element appears. */
async function appearsAfterReload(page, testId, ms = 60000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      await page.getByTestId(testId).waitFor({ timeout: 5000 });
      return;
    } catch (e) {
      if (Date.now() > until) throw new Error(`${testId} 未出现：${(await page.locator('body').innerText()).slice(0, 800)}`);
      await page.reload();
    }
  }
}

async function drawSignature(page) {
  const canvas = page.getByTestId('signature-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + 20, box.y + 100);
  await page.mouse.down();
  for (let i = 1; i <= 30; i++) await page.mouse.move(box.x + 20 + i * 9, box.y + 100 - Math.sin(i / 3) * 50, { steps: 2 });
  await page.mouse.up();
}

export async function consultStory(ctx) {
  const village = await loginAs(ctx, 'village_doctor1', { phone: true });
  const found = await api(village, 'GET', '/api/v1/residents?org_code=C01T01V01&per_page=3');
  const resident = found.body.items[2];
  await village.goto(`/consults/new?resident_id=${resident.id}`);
  try {
    await village.getByTestId('consult-form').waitFor({ timeout: 20000 });
  } catch (e) {
    throw new Error(`发起会诊页未显示表单：${(await village.locator('body').innerText()).slice(0, 400)}`);
  }
  await village.getByTestId('field-invited_org_code').selectOption({ index: 1 });
  await village.getByTestId('field-urgency').selectOption('urgent');
  await village.getByTestId('field-reason').fill('胸痛2小时，心电图ST段压低，基层无法明确');
  await village.getByTestId('field-purpose').fill('明确是否急性冠脉综合征及处置方案');
  await village.getByTestId('summary-chief_complaint').fill('胸痛2小时');
  await village.getByTestId('summary-diagnosis').fill('胸痛待查');
  await village.getByTestId('submit-consult').click();
  await village.getByTestId('consent-card').waitFor();
  const id = Number(village.url().split('/').pop());
  assert.ok(id > 0);
  for (const k of ['purpose', 'method', 'fees', 'privacy']) await village.getByTestId(`informed-${k}`).check();
  assert.equal(await village.getByTestId('consent-submit').isDisabled(), true, '未签名不能提交');
  await drawSignature(village);
  await shot(village, 'consult-consent');
  await village.getByTestId('consent-submit').click();
  await village.getByTestId('consent-signed').waitFor();

  const township = await loginAs(ctx, 'township_doctor1', { phone: true });
  await completeStep(township, id, 'review_request', { decision: 'approve', summary_complete: true });

  const supervisor = await loginAs(ctx, 'supervisor', { phone: true });
  await supervisor.goto(`/consults/${id}`);
  await supervisor.getByTestId('accept').click();
  const assign = await stepOf(supervisor, id, 'assign_experts');
  const form = await api(supervisor, 'GET', `/api/v1/tasks/${assign.id}`);
  const lead = form.body.form.schema.properties.lead_expert.enum[0];
  await completeStep(supervisor, id, 'assign_experts', { lead_expert: lead, slot: new Date().toISOString() });
  // the 医务科 takes the experts off again (a reason is required) and the 排班/指派专家 step is back on the page
  await supervisor.goto(`/consults/${id}`);
  const reassign = supervisor.getByTestId('reassign-card');
  await reassign.locator('summary').click();
  assert.equal(await supervisor.getByTestId('reassign-submit').isDisabled(), true, '未填理由不能改派');
  await supervisor.getByTestId('reassign-reason').fill('原定专家临时手术，改派');
  await supervisor.getByTestId('reassign-submit').click();
  await appearsAfterReload(supervisor, 'task-assign_experts');
  assert.match(await supervisor.getByTestId('consult-timeline').innerText(), /改派专家：原定专家临时手术/);
  await completeStep(supervisor, id, 'assign_experts', { lead_expert: lead, slot: new Date().toISOString() });

  const expertName = (await api(supervisor, 'GET', '/api/v1/consult-experts')).body.find((e) => e.user_id === lead);
  assert.ok(expertName, 'the lead is in the registry');
  const users = await api(supervisor, 'GET', `/api/v1/users?per_page=200`);
  const username = (users.body.items ?? users.body).find((u) => u.id === lead)?.username ?? 'specialist_cardio';
  const expert = await loginAs(ctx, username, { phone: true });
  await expert.goto(`/consults/${id}`);
  await expert.getByTestId('live-section').waitFor({ timeout: 20000 });
  await expert.getByTestId('expert-decline-card').waitFor();          // the lead may decline (with a reason)
  const started = new Date();
  await completeStep(expert, id, 'write_report', { started_at: started.toISOString(), ended_at: new Date(started.getTime() + 30 * 60000).toISOString(),
    assessment: '急性冠脉综合征可能大', diagnosis: '急性非ST段抬高型心肌梗死', icd10: 'I21.4', sign: true });

  await village.goto(`/consults/${id}`);
  await appearsAfterReload(village, 'opinions');
  assert.match(await village.getByTestId('opinions').innerText(), /急性非ST段抬高型心肌梗死/);
  const pdf = await api(village, 'GET', `/api/v1/consults/${id}/report.pdf?side=requester`);
  assert.equal(pdf.status, 200);
  assert.equal(Buffer.from(pdf.body).subarray(0, 4).toString(), '%PDF');
  await shot(village, 'consult-report');

  // the seeded imaging consult waits for the 医务科: a decline needs a reason
  const list = await api(supervisor, 'GET', '/api/v1/consults?status=invited');
  const imaging = list.body.items.find((c) => c.consult_type === 'imaging');
  if (imaging) {
    await supervisor.goto(`/consults/${imaging.id}`);
    assert.equal(await supervisor.getByTestId('decline').isDisabled(), true, '未填理由不能拒绝');
    await supervisor.getByTestId('decline-reason').fill('影像科今日设备检修，请改约明日');
    await supervisor.getByTestId('decline').click();
    await appearsAfterReload(supervisor, 'decline-banner');
  }
  for (const p of [village, township, supervisor, expert]) await closePage(p);
}

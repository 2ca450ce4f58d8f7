/**
 * Issue 21.4/21.5/21.7: on the village doctor's phone, a resident with an open hypertension follow-up is signed with
 * the paid 高血压个性化包 — assessment and selection in the process, the county cashier's payment confirmation
 * (signed webhook `contract_payment`), the resident's signature drawn on the phone — then the follow-up visit is
 * recorded and counts against the package: the ledger shows 1/4 and the 履约率 (fulfilment) indicator's numerator
 * grows on the quality dashboard; the resident record's contract card shows packages, ledger and next due items.
 * No raw codes on the contract page.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closePage, loginAs, refreshQualityFigures, shot } from './flows.mjs';
import { formSamples } from './forms.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

async function api(page, method, url, data) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'ygt_csrf')?.value ?? '';
  const r = await page.request.fetch(url, { method, data, headers: { 'X-CSRF-Token': csrf } });
  return { status: r.status(), body: await r.json().catch(() => ({})) };
}

function cashierClient() {
  const py = process.env.E2E_PYTHON ?? path.join(here, '..', '..', '.venv', 'bin', 'python');
  return JSON.parse(execFileSync(py, [path.join(here, 'his_client.py'), '县医保结算系统（浏览器测试）'], { cwd: path.join(here, '..', '..') }).toString().trim().split('\n').pop());
}

async function pay(base, client, payload) {
  const body = JSON.stringify(payload);
  const id = `pay-${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const key = Buffer.from(client.secret.replace(/^whsec_/, ''), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  const r = await fetch(`${base}/api/v1/webhooks/messages/contract_payment`, {
    method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'X-Client-Id': client.client_id, 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` },
  });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}

async function openTask(page, instanceId, elementId) {
  for (let i = 0; i < 40; i += 1) {
    const { body } = await api(page, 'GET', '/api/v1/tasks?view=org&per_page=200');
    const task = (body.items ?? []).find((t) => t.instance_id === instanceId && t.element_id === elementId);
    if (task) return task;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`task ${elementId} of instance ${instanceId} never opened`);
}

async function fulfilment(page) {
  const month = new Date().toISOString().slice(0, 7);
  const { status, body } = await api(page, 'GET', `/api/v1/quality/overview?period=${month}&group=contracting`);
  assert.equal(status, 200, JSON.stringify(body));
  return body.indicators.find((i) => i.id === 'contract_fulfilment_rate');
}

export async function contractingStory(ctx) {
  const base = ctx.base ?? (process.env.BASE_URL ?? 'http://127.0.0.1:5000').replace(/\/$/, '');
  const page = await loginAs(ctx, process.env.E2E_VILLAGE_USER ?? 'village_doctor1', { phone: true });
  // a resident of mine with an open hypertension follow-up and no contract yet
  const { body: mine } = await api(page, 'GET', '/api/v1/tasks?view=mine&per_page=200');
  let chosen = null;
  for (const t of mine.items ?? []) {
    const residentId = t.resident?.id;
    if (t.process_id !== 'follow_up' || t.disease !== 'htn' || !residentId) continue;
    const { body } = await api(page, 'GET', `/api/v1/contracts?resident_id=${residentId}`);
    if (body.total === 0) { chosen = { ...t, resident_id: residentId }; break; }
  }
  assert.ok(chosen, '村医应有一个未签约居民的高血压随访任务');
  const started = await api(page, 'POST', '/api/v1/contracts', { resident_id: chosen.resident_id, package_code: 'HTN_PLUS' });
  assert.equal(started.status, 201, JSON.stringify(started.body));
  const contract = started.body;
  const assess = await openTask(page, contract.instance_id, 'assess');
  assert.equal((await api(page, 'POST', `/api/v1/tasks/${assess.id}/complete`, { data: {
    groups: ['老年人', '高血压'], htn_uncontrolled_twice: true, htn_risk_answer: 'MODERATE', on_warfarin: false, self_care: 'none', needs: ['上门'] } })).status, 200);

  // the selection task on the phone: R9 recommends the HTN package, which is pre-selected
  const select = await openTask(page, contract.instance_id, 'select_package');
  await page.goto(`/tasks/${select.id}`);
  await page.getByText('高血压个性化包').first().waitFor();
  assert.match(await page.locator('main').innerText(), /推荐/);
  const done = await api(page, 'POST', `/api/v1/tasks/${select.id}/complete`, { data: { packages: ['BASIC', 'HTN_PLUS'], disclosure_ack: true } });
  assert.equal(done.status, 200, JSON.stringify(done.body));

  await page.goto(`/contracts/${contract.id}`);
  await page.getByTestId('contract-status').getByText('待缴费').waitFor();
  assert.match(await page.locator('main').innerText(), /个人自付/);

  // the county cashier confirms the payment
  const paid = await pay(base, cashierClient(), { contract_no: contract.contract_no, payment_id: `E2E-${Date.now()}`, amount_fen: 3000 });
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal(paid.body.applied, true);

  // the resident signs on the phone
  await page.reload();
  await page.getByTestId('contract-status').getByText('待签署').waitFor();
  const canvas = page.getByTestId('signature-canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  await page.mouse.move(box.x + 20, box.y + 40);
  await page.mouse.down();
  for (let i = 1; i <= 12; i += 1) await page.mouse.move(box.x + 20 + i * 20, box.y + 40 + (i % 3) * 25);
  await page.mouse.up();
  await page.getByTestId('sign-submit').click();
  await page.getByTestId('contract-status').getByText('履约中').waitFor({ timeout: 15000 });
  const row = page.getByTestId('ledger-item').filter({ hasText: '上门高血压随访' });
  assert.match(await row.innerText(), /已完成 0\/4/);
  await shot(page, 'contract-signed-phone');
  assert.doesNotMatch(await page.locator('main').innerText(), /\bC01[A-Z0-9]*\b|village_doctor\d|HTN_PLUS|awaiting_|fd_contract/, '签约页面不应显示编码');

  // the follow-up visit is recorded: one unit of the package is delivered
  const supervisor = await loginAs(ctx, process.env.E2E_SUPERVISOR_USER ?? 'supervisor');
  await refreshQualityFigures(supervisor);
  const before = await fulfilment(supervisor);
  const sample = formSamples()['forms/follow_up/record_htn_visit.json'].valid;
  const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });
  const visit = { ...sample, visit: { ...sample.visit, visit_date: today }, signs: { ...sample.signs, heart_rate: 72, weight_kg: 65 } };
  const recorded = await api(page, 'POST', `/api/v1/tasks/${chosen.id}/complete`, { data: visit });
  assert.equal(recorded.status, 200, JSON.stringify(recorded.body));
  let count = '';
  for (let i = 0; i < 40 && !/已完成 1\/4/.test(count); i += 1) {
    await page.reload();
    count = await page.getByTestId('ledger-item').filter({ hasText: '上门高血压随访' }).innerText();
    if (!/已完成 1\/4/.test(count)) await new Promise((r) => setTimeout(r, 250));
  }
  assert.match(count, /已完成 1\/4/);
  // the resident record shows the contract: packages, the ledger delivered/remaining, the next due items, a link
  await page.goto(`/residents/${chosen.resident_id}`);
  const card = page.getByTestId('resident-contract');
  await card.getByText('履约中').waitFor();
  assert.match(await card.innerText(), /高血压个性化包/);
  await card.getByTestId('contract-next-due').waitFor();
  await card.getByText('服务台账').click();
  assert.match(await card.getByTestId('contract-ledger').innerText(), /上门高血压随访\s+1 \/ 4\s+3/);
  await shot(page, 'resident-contract-card');
  await card.getByRole('link', { name: '查看协议' }).click();
  await page.getByTestId('contract-page').waitFor();
  await refreshQualityFigures(supervisor);          // the dashboard reads materialized figures: 刷新数据 first
  const after = await fulfilment(supervisor);
  assert.equal(after.numerator, (before.numerator ?? 0) + 1, '履约率的分子应增加1');
  await supervisor.goto('/quality?group=contracting');
  await supervisor.getByTestId('tile-contract_fulfilment_rate').waitFor();
  await shot(supervisor, 'contract-fulfilment-tile');
  await closePage(supervisor);
  await closePage(page);
}

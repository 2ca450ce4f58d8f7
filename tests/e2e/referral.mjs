/**
 * Two-way referral (issue 16) in the browser, against the live demo server:
 *  1. routine: the village doctor (phone) refers from the patient record → fills the 转诊单 in the inbox form → the
 *     cardiologist accepts in the 接诊审核 form → appointment → the hospital's ADT reports the arrival (signed
 *     webhook) → result with 建议下转 → 下转单 → township/village receipt → first follow-up; the record, the
 *     referral page (timeline, PDFs) and the two-week follow-up task that existed from the start;
 *  2. emergency: 紧急 from the record is accepted at once, no acceptance step, the emergency department is told
 *     within a minute, the sender's 急救处置 task is due in 15 minutes;
 *  3. rejection (the form refuses a rejection without a reason) and redirect to another capable department;
 *  4. out of county with the supervisor's approval and 医保备案号;
 *  5. the supervisor's dashboard moves with these referrals, drills down to the list and exports xlsx.
 * The booking, result, 下转单, receipt, first follow-up, 2-week follow-up and out-of-county approval are filled in
 * the inbox's forms; the 转诊单 of the rejected, redirected and out-of-county referrals go through the task API.
 * `referralNoShowStory` (run last: it moves the platform clock with the admin's 平台时钟 control, issue 14.12): a
 * booked referral's no-show timer fires, the sender verifies 不到位 in the form and sees the outcome.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closePage, loginAs, shot } from './flows.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

async function api(page, method, url, data) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'ygt_csrf')?.value ?? '';
  const r = await page.request.fetch(url, { method, data, headers: { 'X-CSRF-Token': csrf } });
  const type = r.headers()['content-type'] ?? '';
  const body = type.includes('json') ? await r.json() : await r.body();
  return { status: r.status(), body, type };
}

async function detail(page, id) {
  const { status, body } = await api(page, 'GET', `/api/v1/referrals/${id}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

/** The open step `elementId` of referral `id` the user may work on (waits for the process to get there). */
async function stepOf(page, id, elementId, ms = 30000) {
  const until = Date.now() + ms;
  for (;;) {
    const r = await detail(page, id);
    const task = r.tasks.find((t) => t.element_id === elementId);
    if (task) return task;
    if (Date.now() > until) throw new Error(`转诊 ${r.referral_no} 没有待办步骤 ${elementId}（状态 ${r.status_label}）`);
    await page.waitForTimeout(500);
  }
}

/** Complete a step through the inbox's task API (claiming it first when it sits in a group queue). */
async function completeStep(page, id, elementId, data) {
  const task = await stepOf(page, id, elementId);
  if (!task.assignee) await api(page, 'POST', `/api/v1/tasks/${task.id}/claim`);
  const { status, body } = await api(page, 'POST', `/api/v1/tasks/${task.id}/complete`, { data });
  assert.equal(status, 200, `${elementId}: ${JSON.stringify(body)}`);
}

async function waitStatus(page, id, status, ms = 30000) {
  const until = Date.now() + ms;
  let last = '';
  while (Date.now() < until) {
    last = (await detail(page, id)).status;
    if (last === status) return;
    await page.waitForTimeout(500);
  }
  throw new Error(`转诊 ${id} 未进入 ${status}（当前 ${last}）`);
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';
const GIVEN = '建国志强秀英桂兰玉梅德明海峰春荣';

/** A valid GB 11643 ID number of the demo county (area 330127), born in `year`. */
function idNumber(year, seq) {
  const body = `330127${year}0${1 + (seq % 9)}1${seq % 10}${String(100 + (seq % 900)).padStart(3, '0')}`;
  const sum = [...body].reduce((n, d, i) => n + Number(d) * WEIGHTS[i], 0);
  return body + CHECK[sum % 11];
}

/** A new resident of the doctor's village, registered through the API (so the story can run again and again). */
async function freshResident(page, skip = new Set()) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const seq = Math.floor(Math.random() * 900000);
    const name = `转${GIVEN[seq % GIVEN.length]}${GIVEN[(seq >> 3) % GIVEN.length]}`;
    const { status, body } = await api(page, 'POST', '/api/v1/residents', { id_number: idNumber(1950 + (seq % 20), seq), name, phone: '13900001234', address: '杨坪村2组' });
    if (status === 201 || status === 200) {
      skip.add(body.id);
      return body;
    }
    if (status !== 409 && status !== 422) throw new Error(`建档失败 ${status} ${JSON.stringify(body)}`);
  }
  throw new Error('没有可用于转诊的居民');
}

/** Start a referral from the patient record; returns the referral's id (the page moves to it). */
async function referFromRecord(page, residentId, { reason, urgency = null, capability = null, disease = null }) {
  await page.goto(`/residents/${residentId}`);
  await page.locator('[data-testid=resident-referrals]').waitFor();
  await page.locator('[data-testid=start-referral]').click();
  const form = page.locator('[data-testid=start-referral-form]');
  await form.getByLabel('转诊原因').fill(reason);
  if (urgency) await form.getByLabel('紧急程度').selectOption({ label: urgency });
  if (disease) await form.getByLabel('病种').selectOption({ label: disease });
  if (capability) await form.getByLabel('所需诊疗能力').selectOption({ label: capability });
  await form.locator('[data-testid=start-referral-submit]').click();
  await page.waitForURL(/\/referrals\/\d+$/);
  await page.locator('[data-testid=referral-no]').waitFor();
  return Number(new URL(page.url()).pathname.split('/').pop());
}

/** Open a step of the referral page in the inbox form. */
async function openStep(page, id, buttonText, elementId) {
  if (elementId) await stepOf(page, id, elementId);
  await page.goto(`/referrals/${id}`);
  await page.locator('[data-testid=referral-task-link]', { hasText: buttonText }).click();
  await page.waitForURL(/\/tasks\/\d+/);
  await page.locator('[data-testid=task-name]').waitFor();
  const claim = page.getByRole('button', { name: '领取任务' });
  if (await claim.isVisible().catch(() => false)) {
    await claim.click();
    await page.getByRole('button', { name: '领取任务' }).waitFor({ state: 'detached' }).catch(() => undefined);
  }
}

async function submitForm(page) {
  await page.locator('[data-testid=complete]').click();
}

/** A field of the open inbox form (react-jsonschema-form ids are `root_<field>`). */
const field = (page, name) => page.locator(`#root_${name}`);

/** The step left the caller's open steps (the form went through). */
async function waitStepDone(page, id, elementId, ms = 30000) {
  const until = Date.now() + ms;
  while ((await detail(page, id)).tasks.some((t) => t.element_id === elementId)) {
    if (Date.now() > until) throw new Error(`步骤 ${elementId} 未完成`);
    await page.waitForTimeout(500);
  }
}

/** `YYYY-MM-DDTHH:mm` in the browser's zone, `days` after `from` at 09:00 (for a datetime-local input). */
function localAt(days, from = Date.now()) {
  const d = new Date(from + days * 86400000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T09:00`;
}

function hisClient() {
  const py = process.env.E2E_PYTHON ?? path.join(here, '..', '..', '.venv', 'bin', 'python');
  return JSON.parse(execFileSync(py, [path.join(here, 'his_client.py'), '县人民医院 HIS（浏览器测试）'], { cwd: path.join(here, '..', '..') }).toString().trim().split('\n').pop());
}

/** The hospital's ADT tells the platform the patient arrived: a Standard Webhooks signed message. */
async function arrival(base, client, payload) {
  const body = JSON.stringify(payload);
  const id = `adt-${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const key = Buffer.from(client.secret.replace(/^whsec_/, ''), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  const r = await fetch(`${base}/api/v1/webhooks/messages/referral_arrived`, {
    method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'X-Client-Id': client.client_id, 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` },
  });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}

/** What a clinician must never read on these pages. */
async function noRawCodes(page) {
  const text = await page.locator('main').innerText();
  assert.doesNotMatch(text, /\bC01[A-Z0-9]*\b/, '页面不应显示机构编码');
  assert.doesNotMatch(text, /village_doctor\d|specialist_[a-z]+|county_specialist|referral_up|review_referral/, '页面不应显示用户名或流程编码');
}

export async function referralStory(ctx) {
  const skip = new Set();
  const village = await loginAs(ctx, 'village_doctor1', { phone: true });
  const cardio = await loginAs(ctx, 'specialist_cardio');
  const supervisor = await loginAs(ctx, 'supervisor');

  // -- the dashboard before: the story's referrals must move it ----------------------------------------------
  const before = Object.fromEntries((await api(supervisor, 'GET', '/api/v1/referral-stats')).body.indicators.map((i) => [i.key, i]));

  // -- 1. routine up-referral from the record, on the village doctor's phone -----------------------------------
  const resident = await freshResident(village, skip);
  const id = await referFromRecord(village, resident.id, { reason: '两次随访血压控制不满意（168/102 mmHg）', disease: '高血压' });
  await stepOf(village, id, 'fill_referral_form');
  await stepOf(village, id, 'two_week_follow_up');
  await village.reload();
  const tasks = village.locator('[data-testid=referral-tasks]');
  await tasks.locator('[data-testid=referral-task-link]', { hasText: '填写转诊单' }).waitFor();
  // the sender's two-week follow-up exists from the moment the referral is issued
  await tasks.locator('[data-testid=referral-task-link]', { hasText: '2周随访转诊情况' }).waitFor();
  const no = (await village.locator('[data-testid=referral-no]').innerText()).trim();
  assert.match(no, /^SZ\d{8}-\d{4}$/);
  await noRawCodes(village);
  await shot(village, 'referral-new-phone');
  await openStep(village, id, '填写转诊单');
  await village.getByLabel('转往机构/科室').selectOption({ label: '心内科' }).catch(() => undefined);
  await village.getByLabel('主诉').fill('头晕、头痛2周');
  await village.getByLabel('患者/家属已知情同意').check();
  await submitForm(village);
  await waitStatus(village, id, 'offered');

  // the cardiologist sees it in the department's list and decides in the 接诊审核 form
  await cardio.goto('/referrals?status=offered');
  await cardio.locator('[data-testid=referral-item]', { hasText: no }).locator('[data-testid=referral-link]').click();
  await cardio.waitForURL(`**/referrals/${id}`);
  await cardio.locator('[data-testid=sender-summary-open]').click();
  await cardio.locator('[data-testid=sender-summary]').waitFor();
  await openStep(cardio, id, '接诊审核', 'review_referral');
  await cardio.getByLabel('接收', { exact: true }).check();
  await cardio.getByLabel('拟就诊方式').selectOption({ label: '门诊' }).catch(() => undefined);
  await submitForm(cardio);
  await waitStatus(cardio, id, 'accepted');
  await openStep(cardio, id, '预约就诊', 'book_appointment');
  await field(cardio, 'appointment_at').fill(localAt(2));
  await field(cardio, 'place').fill('心内科门诊3诊室');
  await submitForm(cardio);
  await waitStatus(cardio, id, 'appointed');

  // the hospital reports the arrival (twice: the second changes nothing); an unknown number is kept, not lost
  const his = hisClient();
  const first = await arrival(ctx.base, his, { referral_no: no, visit_no: 'MZ-E2E-1' });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  const again = await arrival(ctx.base, his, { referral_no: no, visit_no: 'MZ-E2E-1' });
  assert.equal(again.status, 200);
  assert.equal(again.body.first, false);
  const unknown = await arrival(ctx.base, his, { referral_no: 'SZ19990101-0001' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.code, 'unknown_referral_no');

  await openStep(cardio, id, '回传诊疗结果', 'return_result');
  await field(cardio, 'diagnosis').fill('原发性高血压3级 很高危');
  await field(cardio, 'plan').fill('氨氯地平5mg qd + 缬沙坦80mg qd');
  await field(cardio, 'advice').fill('每2周随访血压，目标<140/90');
  await field(cardio, 'down_referral').check();
  await submitForm(cardio);
  await waitStatus(cardio, id, 'completed');
  await cardio.goto(`/referrals/${id}`);
  await cardio.locator('[data-testid=doc-receipt]').waitFor();
  const timeline = await cardio.locator('[data-testid=referral-timeline]').innerText();
  for (const step of ['发起转诊', '推送接收方', '接收', '预约就诊', '到诊', '结果回传']) assert.ok(timeline.includes(step), `时间线缺少 ${step}`);
  for (const kind of ['referral_form', 'receipt']) {
    const pdf = await api(cardio, 'GET', `/api/v1/referrals/${id}/documents/${kind}.pdf`);
    assert.equal(pdf.status, 200);
    assert.ok(Buffer.from(pdf.body).subarray(0, 4).toString() === '%PDF', `${kind} 不是 PDF`);
  }
  await noRawCodes(cardio);
  await shot(cardio, 'referral-detail');

  // the down-referral back to the village: 下转单 (R2 eligible) → receipt → first follow-up within 14 days
  const down = (await detail(cardio, id)).children[0];
  assert.ok(down && down.referral_no.startsWith('XZ'), '应自动生成下转');
  await openStep(cardio, down.id, '填写下转单', 'fill_down_referral_form');
  await field(cardio, 'discharge_diagnosis').fill('原发性高血压3级');
  await field(cardio, 'long_term_plan').fill('氨氯地平5mg qd + 缬沙坦80mg qd');
  for (const box of ['diagnosis_clear', 'plan_clear', 'condition_stable']) await field(cardio, box).check();
  await submitForm(cardio);
  await waitStepDone(cardio, down.id, 'fill_down_referral_form');
  await openStep(village, down.id, '确认接收下转', 'receive_down_referral');
  await field(village, 'accepted').check();
  await submitForm(village);
  await waitStepDone(village, down.id, 'receive_down_referral');
  const firstVisit = await stepOf(village, down.id, 'first_follow_up');
  const day = (d) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(d);
  assert.ok(day(new Date(firstVisit.due_at)) <= day(new Date(Date.now() + 14 * 86400000)), `首次随访应在14天内（${firstVisit.due_at}）`);
  const today = day(new Date());
  await openStep(village, down.id, '下转首次随访', 'first_follow_up');
  await field(village, 'visit_date').fill(today);
  await field(village, 'sbp').fill('134');
  await field(village, 'dbp').fill('82');
  await village.getByLabel('稳定', { exact: true }).check();
  await submitForm(village);
  await waitStatus(village, down.id, 'completed');
  await openStep(village, id, '2周随访转诊情况', 'two_week_follow_up');
  await village.getByLabel('到位', { exact: true }).check();
  await field(village, 'diagnosis_confirmed').check();
  await submitForm(village);
  await waitStepDone(village, id, 'two_week_follow_up');
  // the record shows both referrals with their milestones
  await village.goto(`/residents/${resident.id}`);
  const section = village.locator('[data-testid=resident-referrals]');
  await section.locator('[data-testid=resident-referral]', { hasText: down.referral_no }).waitFor();
  assert.ok((await section.innerText()).includes(no));
  await noRawCodes(village);
  await shot(village, 'referral-on-record-phone');

  // -- 2. emergency: accepted at once, the emergency department told within a minute ----------------------------
  const sick = await freshResident(village, skip);
  const started = Date.now();
  const eid = await referFromRecord(village, sick.id, { reason: '随访时血压 192/118 伴剧烈头痛、呕吐', urgency: '紧急', disease: '高血压' });
  const e = await detail(village, eid);
  assert.equal(e.urgency, 'emergency');
  assert.ok(['accepted', 'drafting'].includes(e.status));
  await waitStatus(village, eid, 'accepted', 60000);
  const handling = await stepOf(village, eid, 'emergency_handling');
  assert.ok(new Date(handling.due_at).getTime() - started <= 16 * 60000, '急救处置应在15分钟内');
  assert.ok(!(await detail(village, eid)).tasks.some((t) => t.element_id === 'review_referral'), '紧急转诊没有接诊审核');
  const ed = (await detail(village, eid)).to_org_name;
  const edUser = ed === '神经内科' ? await loginAs(ctx, 'specialist_neuro') : cardio;
  const until = started + 60000;
  let told = false;
  while (!told && Date.now() < until) {
    const n = await api(edUser, 'GET', '/api/v1/notifications?per_page=50');
    told = (n.body.items ?? n.body).some((x) => x.kind === 'referral_emergency' && JSON.stringify(x).includes(e.referral_no));
    if (!told) await edUser.waitForTimeout(1000);
  }
  assert.ok(told, '急诊科应在1分钟内收到紧急转诊通知');
  if (edUser !== cardio) await closePage(edUser);
  await village.goto(`/residents/${sick.id}`);
  await village.locator('[data-testid=open-emergency]').waitFor();

  // -- 3. rejection needs a reason; then the sender re-targets to another capable department ------------------
  const endo = await loginAs(ctx, 'specialist_endo');
  const dmPatient = await freshResident(village, skip);
  const rid = await referFromRecord(village, dmPatient.id, { reason: '血糖3个月未达标，HbA1c 9.1%', disease: '2型糖尿病' });
  await completeStep(village, rid, 'fill_referral_form', { target_org: 'C01D02', reason: '血糖3个月未达标，HbA1c 9.1%', consent: true });
  await waitStatus(village, rid, 'offered');
  await openStep(endo, rid, '接诊审核', 'review_referral');
  await endo.getByLabel('拒收', { exact: true }).check();
  await submitForm(endo);
  // without a reason the form does not go through
  await endo.waitForTimeout(800);
  assert.ok(new URL(endo.url()).pathname.startsWith('/tasks/'), '未填写拒收原因不应提交');
  await endo.getByLabel('拒收原因').selectOption({ label: '床位已满' });
  await endo.getByLabel('拒收说明').fill('请下周一再转');
  await submitForm(endo);
  await waitStatus(endo, rid, 'rejected');
  await village.goto(`/referrals/${rid}`);
  assert.ok((await village.locator('[data-testid=reject-reason]').innerText()).includes('床位已满'));
  await village.locator('[data-testid=referral-task-link]', { hasText: '改派或撤销' }).waitFor();
  // the receiving department can also redirect: cardiology → the interventional centre (both offer cardiology)
  const rr = await freshResident(village, skip);
  const did = await referFromRecord(village, rr.id, { reason: '血压波动，需评估是否介入治疗', disease: '高血压' });
  await completeStep(village, did, 'fill_referral_form', { target_org: 'C01D01', reason: '血压波动，需评估是否介入治疗', consent: true });
  await waitStatus(village, did, 'offered');
  await openStep(cardio, did, '接诊审核', 'review_referral');
  await cardio.getByLabel('改派其他科室').check();
  await cardio.getByLabel('改派至科室').selectOption({ label: '微创介入中心' });
  await submitForm(cardio);
  const mic = await loginAs(ctx, 'specialist_mic');
  await stepOf(mic, did, 'review_referral');
  assert.equal((await detail(mic, did)).to_org_name, '微创介入中心');
  await closePage(mic);
  await closePage(endo);

  // -- 4. out of county: the supervisor approves with the 医保备案号 ------------------------------------------
  const far = await freshResident(village, skip);
  const oid = await referFromRecord(village, far.id, { reason: '疑似颅内动脉瘤，县内无神经介入', disease: '其他', capability: '卒中中心 (溶栓/取栓)' });
  await completeStep(village, oid, 'fill_referral_form', { reason: '疑似颅内动脉瘤，县内无神经介入', consent: true });
  await waitStatus(village, oid, 'pending_approval');
  await openStep(supervisor, oid, '县外转诊审批', 'approve_out_of_county');
  await supervisor.locator('#root_approved-0').check();                     // 是 (approve)
  await field(supervisor, 'hospital').selectOption('省人民医院');
  await field(supervisor, 'filing_no').fill('YB-E2E-001');
  await field(supervisor, 'opinion').fill('县内无神经介入条件，同意转省人民医院');
  await submitForm(supervisor);
  await waitStatus(supervisor, oid, 'transferred_out');
  await supervisor.goto(`/referrals/${oid}`);
  await supervisor.locator('[data-testid=referral-no]').waitFor();
  await supervisor.locator('main', { hasText: 'YB-E2E-001' }).waitFor({ timeout: 10000 });

  // -- 5. the dashboard moved with the story, drills down, exports -------------------------------------------
  await supervisor.goto('/referrals/dashboard');
  await supervisor.locator('[data-testid=referral-indicators]').waitFor();
  const after = Object.fromEntries((await api(supervisor, 'GET', '/api/v1/referral-stats')).body.indicators.map((i) => [i.key, i]));
  assert.ok(after.up_count.value >= before.up_count.value + 5, `上转人次应增加（${before.up_count.value} → ${after.up_count.value}）`);
  assert.ok(after.down_count.value >= before.down_count.value + 1);
  assert.ok(after.out_of_county_rate.numerator >= before.out_of_county_rate.numerator + 1);
  assert.ok(after.rejection_rate.numerator >= before.rejection_rate.numerator + 1);
  await supervisor.locator('[data-testid=referral-rates-chart] canvas').waitFor();
  await shot(supervisor, 'referral-dashboard');
  await noRawCodes(supervisor);
  await supervisor.locator('[data-testid=ind-out_of_county_rate]').click();
  await supervisor.waitForURL(/indicator=out_of_county_rate/);
  await supervisor.locator('[data-testid=drill-banner]').waitFor();
  await supervisor.locator('[data-testid=referral-item]').first().waitFor();
  const listed = await supervisor.locator('[data-testid=referral-item]').count();
  assert.equal(listed, after.out_of_county_rate.numerator, '钻取列表应与指标分子一致');
  const xlsx = await api(supervisor, 'GET', '/api/v1/referral-stats.xlsx');
  assert.equal(xlsx.status, 200);
  assert.ok(xlsx.type.includes('spreadsheetml'));

  await closePage(village);
  await closePage(cardio);
  await closePage(supervisor);
}

/** No-show: the appointment plus the grace period pass (the admin moves the demo clock), the sender verifies 不到位
 * in the form and sees the outcome. Answers false when the server's clock cannot be moved (production topology). */
export async function referralNoShowStory(ctx) {
  const admin = await loginAs(ctx, 'county_admin');
  const clock = await api(admin, 'GET', '/api/v1/clock');
  if (clock.status !== 200 || !clock.body.enabled) {
    await closePage(admin);
    return false;
  }
  let village = await loginAs(ctx, 'village_doctor1', { phone: true });
  const cardio = await loginAs(ctx, 'specialist_cardio');
  const resident = await freshResident(village, new Set());
  const id = await referFromRecord(village, resident.id, { reason: '血压控制不满意，需调整方案', disease: '高血压' });
  await openStep(village, id, '填写转诊单', 'fill_referral_form');
  await village.getByLabel('转往机构/科室').selectOption({ label: '心内科' }).catch(() => undefined);
  await village.getByLabel('主诉').fill('头晕1周');
  await village.getByLabel('患者/家属已知情同意').check();
  await submitForm(village);
  await waitStatus(village, id, 'offered');
  await openStep(cardio, id, '接诊审核', 'review_referral');
  await cardio.getByLabel('接收', { exact: true }).check();
  await submitForm(cardio);
  await waitStatus(cardio, id, 'accepted');
  await openStep(cardio, id, '预约就诊', 'book_appointment');
  await field(cardio, 'appointment_at').fill(localAt(1, Date.parse(clock.body.now)));   // by the platform's clock
  await field(cardio, 'place').fill('心内科门诊2诊室');
  await submitForm(cardio);
  await waitStatus(cardio, id, 'appointed');
  assert.equal((await detail(village, id)).tasks.some((t) => t.element_id === 'verify_no_show'), false);

  // the patient never comes: a routine referral's grace is 3 days after the appointment
  const moved = await api(admin, 'POST', '/api/v1/clock', { days: 5 });
  assert.equal(moved.status, 200, JSON.stringify(moved.body));
  // five days on, the sessions have lapsed: the village doctor signs in again
  await closePage(village);
  village = await loginAs(ctx, 'village_doctor1', { phone: true });
  await stepOf(village, id, 'verify_no_show');
  await openStep(village, id, '核实未到位', 'verify_no_show');
  await village.getByLabel('不到位', { exact: true }).check();
  await field(village, 'reason').fill('患者家中农忙，未按预约就诊');
  await submitForm(village);
  await waitStatus(village, id, 'no_show');
  await village.goto(`/referrals/${id}`);
  await village.locator('[data-testid=referral-no]').waitFor();
  const text = await village.locator('main').innerText();
  assert.ok(text.includes('未到位'), '转出方应看到未到位结论');
  assert.ok((await village.locator('[data-testid=no-show-reason]').innerText()).includes('患者家中农忙'), '转出方应看到未到位原因');
  await noRawCodes(village);
  await shot(village, 'referral-no-show-phone');
  await closePage(village);
  await closePage(cardio);
  await closePage(admin);
  return true;
}

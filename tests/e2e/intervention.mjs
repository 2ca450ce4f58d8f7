/**
 * Issue 18.4–18.6 on the phone: a coronary case of the interventional centre with two scanned implants and a
 * complication feeds the centre dashboard. The centre's doctor (specialist_mic) opens a case admitted four days ago
 * and goes through the assessment, consent and reservation (API: the task forms have their own story); in the
 * browser, on the case page while the operation record is open, two drug-eluting stents are scanned by their GS1
 * UDI (typed as a scanner would) — a wrong check digit is refused with its reason; the operation is recorded three
 * days back, the 48-hour checkpoint (a timer) registers a bleeding complication, the patient is discharged today and
 * the DRG grouper's result arrives through the connector. On 介入中心 the complication rate counts the case; its
 * drill-down lists the patient, whose case page shows both stents with lot, serial and expiry, the complication at
 * the 48-hour checkpoint, the DRG group with the margin, and the timeline. The reservation holds two stents in the
 * centre's store (case page and /supply: reserved next to available, with the case holding them), and the centre
 * page lists last month's analysis report delivered by the scheduler.
 */
import assert from 'node:assert/strict';
import { closePage, loginAs, shot } from './flows.mjs';

const STENT = '06901234567892';
const SIGNATURE = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

function shanghaiDate(offsetDays = 0) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() + offsetDays * 86400000));
}

function udi(gtin, lot, serial) {
  const exp = new Date(Date.now() + 400 * 86400000);
  const yymmdd = `${String(exp.getFullYear()).slice(2)}${String(exp.getMonth() + 1).padStart(2, '0')}${String(exp.getDate()).padStart(2, '0')}`;
  return `(01)${gtin}(17)${yymmdd}(10)${lot}(21)${serial}`;
}

async function api(page, method, url, data) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'ygt_csrf')?.value ?? '';
  const r = await page.request.fetch(url, { method, data, headers: { 'X-CSRF-Token': csrf } });
  const body = (r.headers()['content-type'] ?? '').includes('json') ? await r.json() : null;
  return { status: r.status(), body };
}

/** Complete the case's open task `elementId` (waits up to 30 s for it: timers fire every few seconds). */
async function step(page, caseId, elementId, data) {
  for (let k = 0; k < 60; k += 1) {
    const { body } = await api(page, 'GET', `/api/v1/interventions/${caseId}`);
    const task = body.tasks.find((t) => t.element_id === elementId);
    if (task) {
      const done = await api(page, 'POST', `/api/v1/tasks/${task.id}/complete`, { data });
      assert.equal(done.status, 200, JSON.stringify(done.body));
      return;
    }
    await page.waitForTimeout(500);
  }
  assert.fail(`task ${elementId} did not open`);
}

export async function interventionStory(ctx) {
  const doctor = await loginAs(ctx, process.env.E2E_MIC_USER ?? 'specialist_mic', { phone: true });
  const residents = await api(doctor, 'GET', '/api/v1/residents?org_code=C01T04V02&per_page=1');
  const patient = residents.body.items[0];
  const opened = await api(doctor, 'POST', '/api/v1/interventions', {
    resident_id: patient.id, service_line: 'coronary', diagnosis: '冠状动脉粥样硬化性心脏病 稳定型心绞痛',
    procedure_code: '36.0700', procedure_name: '经皮冠状动脉药物洗脱支架置入术', admitted_on: shanghaiDate(-4) });
  assert.equal(opened.status, 201, JSON.stringify(opened.body));
  const id = opened.body.id;
  await step(doctor, id, 'pre_assessment', { procedure_grade: 3, asa: 2, scr_umol_l: 90, contrast_allergy: false,
    planned_consumables: [{ name: '药物洗脱支架', quantity: 2, price: 5800, self_pay: false }] });
  await step(doctor, id, 'patient_consent', { informed: ['procedure', 'risks', 'alternatives', 'contrast', 'consumables'],
    signer_type: 'patient', signer_name: patient.name, consented: true, signature: SIGNATURE });
  await step(doctor, id, 'reserve_consumables', { items: [{ name: '药物洗脱支架', di: STENT, quantity: 2, implant: true }] });

  // the reservation holds two stents in the centre's 二级库: the case page names the lot, /supply shows reserved
  // next to available and the case holding them
  await doctor.goto(`/intervention/cases/${id}`);
  await doctor.getByTestId('case-title').waitFor();
  assert.match(await doctor.getByTestId('case-reservation').innerText(), /药物洗脱支架 × 2[\s\S]*批号 \S+ 预留 2 件/);
  await doctor.goto('/supply');
  await doctor.getByTestId('store-select').selectOption({ label: '微创介入中心二级库（二级库）' });
  const stents = doctor.getByTestId('stock-line').filter({ hasText: '药物洗脱冠脉支架' });
  await stents.getByTestId('stock-reserved').waitFor();
  const reserved = Number(await stents.getByTestId('stock-reserved').innerText());
  assert.ok(reserved >= 2, `reserved ${reserved}`);
  await stents.getByTestId('stock-reservations').locator('summary').click();
  assert.match(await stents.getByTestId('stock-reservations').innerText(), new RegExp(`${opened.body.case_no}[\\s\\S]*2 个`));
  await shot(doctor, 'supply-reserved');

  // 术中扫码 on the case page
  await doctor.goto(`/intervention/cases/${id}`);
  await doctor.getByTestId('case-title').waitFor();
  const serial = `E2E${Date.now() % 100000}`;
  await doctor.getByTestId('case-udi').fill(udi('06901234567891', 'S2405', `${serial}X`));
  await doctor.getByTestId('case-udi-submit').click();
  await doctor.getByTestId('case-scan').getByRole('alert').filter({ hasText: '校验位' }).waitFor();
  for (const s of [`${serial}A`, `${serial}B`]) {
    await doctor.getByTestId('case-udi').fill(udi(STENT, 'S2405', s));
    await doctor.getByTestId('case-udi-submit').click();
    await doctor.getByTestId('case-device').filter({ hasText: s }).waitFor();
  }
  assert.equal(await doctor.getByTestId('case-device').count(), 2);
  await shot(doctor, 'intervention-case-scanned');

  // the operation three days back, the 48-hour checkpoint with a bleeding, discharge today, the DRG result
  const started = new Date(Date.now() - 3 * 86400000);
  await step(doctor, id, 'operation_record', { started_at: started.toISOString(),
    ended_at: new Date(started.getTime() + 3600e3).toISOString(), operator: '介入中心主任', approach: 'radial',
    contrast_agent: '碘克沙醇', contrast_ml: 110, fluoro_minutes: 12, dose_mgy: 700, implants_used: 2, outcome: 'success' });
  await step(doctor, id, 'complication_checkpoint', { has_complication: true, returned_to_theatre: false,
    complications: [{ kind: 'bleeding', grade: 'II', occurred_at: new Date(started.getTime() + 6 * 3600e3).toISOString(),
      treatment: '加压包扎' }] });
  await step(doctor, id, 'discharge_patient', { discharged_on: shanghaiDate(0), destination: 'home', summary: '恢复好' });
  const admin = await loginAs(ctx, process.env.E2E_ADMIN_USER ?? 'county_admin');
  const drg = await api(admin, 'POST', '/api/v1/interventions/drg-results', { case_no: opened.body.case_no, drg_code: 'FM19',
    drg_name: '经皮心血管操作及冠状动脉药物洗脱支架植入', weight: 3.6, total_charge: 43000, patient_share: 8600,
    charges: { drugs: 6000, exams: 5000, other_consumables: 2500, services: 4000 }, grouper: 'CHS-DRG 2.0' });
  assert.equal(drg.status, 200, JSON.stringify(drg.body));
  await closePage(admin);

  // the centre dashboard: the complication rate counts the case; its drill-down opens the case. Last month's
  // analysis report, delivered by the scheduler on the 1st, is listed with its files
  await doctor.goto('/intervention');
  const report = doctor.getByTestId('centre-monthly-report').first();
  await report.waitFor();
  assert.match(await report.innerText(), /\d{4}年\d{2}月[\s\S]*已送达[\s\S]*PDF[\s\S]*Excel/);
  const card = doctor.getByTestId('indicator-complication_rate');
  await card.waitFor();
  assert.match(await card.innerText(), /\d+(\.\d)?%[\s\S]*[1-9]\d* \/ \d+/);
  await card.click();
  const row = doctor.getByTestId('drill-case').filter({ hasText: patient.name });
  await row.waitFor();
  await shot(doctor, 'intervention-centre-drilldown');
  await row.getByRole('link', { name: patient.name }).click();
  await doctor.getByTestId('case-title').waitFor();
  const devices = await doctor.getByTestId('case-devices').innerText();
  assert.match(devices, new RegExp(`${STENT}[\\s\\S]*批号 S2405[\\s\\S]*序列号 ${serial}A[\\s\\S]*有效期至`));
  assert.match(await doctor.getByTestId('case-complication').innerText(), /穿刺部位出血\/血肿[\s\S]*术后48小时|48小时/);
  assert.match(await doctor.getByTestId('case-checkpoints').innerText(), /术后48小时检查点[\s\S]*登记并发症 1 项/);
  assert.match(await doctor.getByTestId('case-drg').innerText(), /FM19[\s\S]*结余/);
  assert.match(await doctor.getByTestId('case-timeline').innerText(), /术中扫码[\s\S]*DRG 分组结果/);
  const text = await doctor.locator('main, .page').first().innerText();
  assert.doesNotMatch(text, /specialist_mic|county_admin|\bbleeding\b|\bcoronary\b/);
  await shot(doctor, 'intervention-case-detail');
  await closePage(doctor);
}

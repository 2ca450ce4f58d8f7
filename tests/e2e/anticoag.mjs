/**
 * Issue 18.3 Done-when, anticoagulant monitoring in the browser. The county HIS sends a warfarin prescription for a
 * new village patient (it passes pre-review and starts the monitoring process); the village doctor, on a 390 px
 * phone, records INR 5.2: the township doctor's urgent task appears with the emergency referral, and the episode page
 * on the phone shows the result and the referral. A rivaroxaban patient's creatinine rises: the county pharmacist's
 * dose review states the dose table's new dose in words. The pharmacist's 抗凝管理 page lists the overdue episode first
 * and shows the TTR histogram (the demo seed's episodes). The story makes its own residents and prescriptions.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { closePage, loginAs, shot } from './flows.mjs';
import { api, complete, hisClient, idNumber, openTask as openAny, webhook } from './his.mjs';

const openTask = (page, instanceId, elementId) => openAny(page, 'anticoag_monitoring', instanceId, elementId);

async function noRawCodes(page) {
  const text = await page.locator('main').innerText();
  assert.doesNotMatch(text, /\bC01[A-Z0-9]*\b/, '页面不应显示机构编码');
  assert.doesNotMatch(text, /village_doctor\d|township_doctor\d|\bwarfarin\b|\brivaroxaban\b|\bsystem\b|15mg_qd|20mg_qd/, '页面不应显示用户名或代码');
}

async function patientOnPrescription(ctx, creator, his, name, drug, doseMg, clinical) {
  const idn = idNumber();
  const made = await api(creator, 'POST', '/api/v1/residents', { id_number: idn, name, org_code: 'C01T01V01' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const sent = await webhook(ctx.base, his, 'rx_created', {
    id_number: idn, rx_id: `RX-E2E-AC-${randomUUID().slice(0, 8)}`, org_code: 'C01T01', prescriber: '卫生院全科医生',
    prescriber_code: 'township_doctor1', signature: { cert_sn: 'CA-E2E-AC' }, long_term: true,
    setting: 'outpatient', indication: 'NVAF', diagnosis: '心房颤动', items: [{ drug, dose_mg: doseMg, frequency: 'qd', days: 28 }], clinical,
  });
  assert.equal(sent.status, 200, JSON.stringify(sent.body));
  assert.equal(sent.body.grade, 'none', JSON.stringify(sent.body));
  let episode;
  for (let i = 0; i < 40 && !episode; i += 1) {
    episode = (await api(creator, 'GET', `/api/v1/anticoag/episodes?resident_id=${made.body.id}`)).body.items?.[0];
    if (!episode?.instance_id) { episode = undefined; await new Promise((r) => setTimeout(r, 250)); }
  }
  assert.ok(episode, `no anticoagulant episode for ${name}`);
  return { resident: made.body.id, episode };
}

export async function anticoagStory(ctx) {
  const township = await loginAs(ctx, 'township_doctor1');
  const village = await loginAs(ctx, 'village_doctor1', { phone: true });
  const pharmacist = await loginAs(ctx, process.env.E2E_PHARMACIST_USER ?? 'pharmacist');
  await township.goto('/');
  const his = hisClient('县人民医院 HIS（抗凝浏览器测试）');
  const today = new Date().toISOString().slice(0, 10);

  // 1. warfarin: the village doctor records INR 5.2 on the phone → urgent task + emergency referral
  const wName = `抗凝测试${String(Date.now()).slice(-4)}`;
  const w = await patientOnPrescription(ctx, township, his, wName, 'warfarin', 3, { inr: 2.4, inr_date: today, weight_kg: 66 });
  const entry = await openTask(village, w.episode.instance_id, 'monitoring_entry');
  await village.goto(`/tasks/${entry.id}`);
  await village.getByText('INR', { exact: false }).first().waitFor();
  await complete(village, entry.id, { entry: { test_date: today, inr: 5.2, inr_method: 'poct', bleeding: 'none' } });
  const urgent = await openTask(township, w.episode.instance_id, 'urgent_care');
  await township.goto(`/tasks/${urgent.id}`);
  const body = township.locator('main');
  await body.getByText(/INR 5\.2/).first().waitFor();
  assert.match(await body.innerText(), /紧急转诊/);
  await noRawCodes(township);
  await shot(township, 'anticoag-urgent-task');
  await village.goto(`/anticoag/${w.episode.id}`);
  await village.getByTestId('results').waitFor();
  assert.match(await village.getByTestId('results').innerText(), /5\.2/);
  assert.match(await village.getByTestId('events').innerText(), /紧急转诊/);
  const width = await village.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 392, `episode page wider than the phone: ${width}px`);
  await noRawCodes(village);
  await shot(village, 'anticoag-episode-phone');

  // 2. rivaroxaban: creatinine 190 µmol/L → CrCl below 30 → the pharmacist reviews the dose, in words
  const rName = `利伐测试${String(Date.now()).slice(-4)}`;
  const r = await patientOnPrescription(ctx, township, his, rName, 'rivaroxaban', 20, { crcl_ml_min: 80, weight_kg: 70 });
  const renal = await openTask(village, r.episode.instance_id, 'monitoring_entry');
  await complete(village, renal.id, { entry: { test_date: today, bleeding: 'none', scr_umol_l: 190, weight_kg: 70 } });
  const review = await openTask(pharmacist, r.episode.instance_id, 'pharmacist_dose_review');
  await pharmacist.goto(`/tasks/${review.id}`);
  await pharmacist.locator('main').getByText(/由 20 mg 每日1次 变为 15 mg 每日1次/).first().waitFor();
  await noRawCodes(pharmacist);
  await shot(pharmacist, 'anticoag-dose-review');

  // 3. 抗凝管理: the overdue episode first, and the TTR histogram
  await pharmacist.goto('/anticoag');
  await pharmacist.getByTestId('episode-card').first().waitFor();
  const first = pharmacist.getByTestId('episode-card').first();
  assert.match(await first.getByTestId('next-due').innerText(), /已逾期/);
  await noRawCodes(pharmacist);
  await shot(pharmacist, 'anticoag-list');
  await pharmacist.getByTestId('tab-ttr').click();
  await pharmacist.getByTestId('ttr-distribution').waitFor();
  await pharmacist.getByTestId('ttr-histogram').waitFor();
  assert.match(await pharmacist.getByTestId('pooled-ttr').innerText(), /\d+(\.\d+)?%/);
  await shot(pharmacist, 'anticoag-ttr');
  // the village doctor's list on the phone: the overdue patient of the village first as well
  await village.goto('/anticoag');
  await village.getByTestId('episode-card').first().waitFor();
  assert.match(await village.getByTestId('episode-card').first().innerText(), /已逾期/);
  await closePage(village);
  await closePage(township);
  await closePage(pharmacist);
}

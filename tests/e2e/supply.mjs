/**
 * Issue 18.4 (M23) on the phone: the county pharmacist opens 库存与耗材 and sees 石门镇's warfarin below its reorder
 * point (with the reorder point, safety stock and the replenishment request owed to the SPD); the interventional
 * centre's doctor scans UDIs: a wrong GTIN check digit is refused with its reason, the demo stent already used on a
 * patient is refused as used, a fresh serial is bound to a patient case and refused the second time; the recall
 * search by the recalled balloon's UDI names the patient who received it. No raw codes on the page.
 */
import assert from 'node:assert/strict';
import { closePage, loginAs, shot } from './flows.mjs';

const STENT = '06901234567892';
const BAD = '06901234567891';
const BALLOON = '06901234500011';

function udi(gtin, lot, serial) {
  const exp = new Date(Date.now() + 400 * 86400000);
  const yymmdd = `${String(exp.getFullYear()).slice(2)}${String(exp.getMonth() + 1).padStart(2, '0')}${String(exp.getDate()).padStart(2, '0')}`;
  return `(01)${gtin}(17)${yymmdd}(10)${lot}(21)${serial}`;
}

async function scan(page, code) {
  await page.getByTestId('udi-input').fill(code);
  await page.getByTestId('udi-check').click();
}

export async function supplyStory(ctx) {
  // the store keeper: a low-stock alert
  const keeper = await loginAs(ctx, process.env.E2E_PHARMACIST_USER ?? 'pharmacist', { phone: true });
  await keeper.goto('/');
  await keeper.goto('/supply');
  await keeper.getByRole('heading', { name: '库存与耗材' }).waitFor();
  await keeper.getByTestId('store-select').selectOption({ label: '石门镇中心卫生院药房（二级库）' });
  const low = keeper.getByTestId('alert-below_rop').filter({ hasText: '华法林' });
  await low.waitFor();
  assert.match(await low.innerText(), /低于请领点[\s\S]*请领点 \d+，安全库存 \d+/);
  // the township store's line, once its stock has loaded (the county 药库's warfarin is plentiful)
  const line = keeper.getByTestId('stock-line').filter({ hasText: '华法林' }).filter({ hasText: '低于请领点' });
  await line.waitFor();
  assert.match(await line.innerText(), /在途 \d+/);
  await keeper.getByTestId('alert-near_expiry').first().waitFor();
  await keeper.getByTestId('alert-recalled_stock').first().waitFor();
  await shot(keeper, 'supply-alerts-phone');
  await closePage(keeper);

  // the interventional centre: UDI scans
  const doctor = await loginAs(ctx, process.env.E2E_MIC_USER ?? 'specialist_mic', { phone: true });
  await doctor.goto('/supply?tab=scan');
  await doctor.getByTestId('store-select').selectOption({ label: '微创介入中心二级库（二级库）' });
  await scan(doctor, udi(BAD, 'S2411', 'DES0099'));
  const refusal = doctor.getByRole('alert').filter({ hasText: '校验位' });
  await refusal.waitFor();
  await shot(doctor, 'supply-bad-check-digit');
  await scan(doctor, udi(STENT, 'S2411', 'DES0001'));            // used on a demo patient by the seed
  const used = doctor.getByTestId('udi-result');
  await used.filter({ hasText: '已使用过' }).waitFor();
  assert.match(await used.innerText(), /药物洗脱冠脉支架/);

  const serial = `DES${Date.now() % 100000}`;
  await scan(doctor, udi(STENT, 'S2411', serial));
  await doctor.getByTestId('udi-use').waitFor();
  const patients = await (await doctor.request.get('/api/v1/residents?org_code=C01T02V01&per_page=1')).json();
  const patient = patients.items[0];
  await doctor.getByTestId('patient-q').fill(patient.name);
  await doctor.getByTestId('patient-search').click();
  await doctor.getByTestId('patient-pick').first().click();
  await doctor.getByTestId('case-ref').fill(`IC-E2E-${serial}`);
  await doctor.getByTestId('udi-use').click();
  await doctor.getByTestId('udi-used').waitFor();
  assert.match(await doctor.getByTestId('udi-used').innerText(), /已登记：药物洗脱冠脉支架/);
  await scan(doctor, udi(STENT, 'S2411', serial));
  await doctor.getByTestId('udi-result').filter({ hasText: '已使用过' }).waitFor();

  // recall: who received the recalled balloon lot
  await doctor.getByTestId('tab-recall').click();
  await doctor.getByTestId('recall-input').fill(udi(BALLOON, 'B2406', 'BL9999'));
  await doctor.getByTestId('recall-search').click();
  const result = doctor.getByTestId('recall-result');
  await result.waitFor();
  assert.match(await result.innerText(), /已召回/);
  assert.equal(await result.getByTestId('recall-patient').count(), 1);
  const text = await doctor.locator('main, .page').first().innerText();
  assert.doesNotMatch(text, /udi_|below_rop|C01T02|specialist_mic/, 'no raw codes or usernames on the page');
  await shot(doctor, 'supply-recall-phone');
  await closePage(doctor);
}

/**
 * Issue 17.5 (M20): a township doctor opens a village resident's record on the phone. 全网记录 lists the network's
 * results with their source organisation — the county hospital's HbA1c marked 互认 with its validity, the chest CT
 * with its PACS link — and ordering HbA1c again (开单前核对) is flagged by mutual recognition: the doctor must give a
 * reason, which is recorded on the order list. No raw codes on the page.
 * Then the invited expert of the neighbouring township hospital (township_doctor3), for whom the patient is outside
 * their organisation: the resident page does not exist for them, but the consult page links to the patient's
 * 全网记录, which opens through the consult (labelled with it).
 */
import assert from 'node:assert/strict';
import { closePage, loginAs, shot } from './flows.mjs';

export async function recognitionStory(ctx) {
  const page = await loginAs(ctx, process.env.E2E_TOWNSHIP_USER ?? 'township_doctor1', { phone: true });
  const found = await page.request.get('/api/v1/residents?org_code=C01T01V01&per_page=1');
  assert.equal(found.status(), 200);
  const resident = (await found.json()).items[0];
  await page.goto(`/residents/${resident.id}`);

  const section = page.getByTestId('network-record');
  await section.scrollIntoViewIfNeeded();
  const hba1c = section.getByTestId('network-items').locator('li', { hasText: '糖化血红蛋白' }).first();
  await hba1c.waitFor();
  assert.match(await hba1c.innerText(), /互认/);
  assert.match(await hba1c.innerText(), /青溪县人民医院/);
  assert.match(await hba1c.innerText(), /有效至/);
  const ldl = section.getByTestId('network-items').locator('li', { hasText: 'LDL-C' }).first();
  assert.match(await ldl.innerText(), /未通过质控认证/);
  await section.getByRole('button', { name: '影像' }).click();
  const ct = section.getByTestId('network-items').locator('li', { hasText: '胸部CT平扫' });
  await ct.getByRole('link', { name: '查看影像' }).waitFor();
  await section.getByRole('button', { name: '全部' }).click();

  const check = section.getByTestId('order-check');
  await check.locator('summary').click();
  await check.locator('select[name=item]').selectOption({ label: '检验：糖化血红蛋白' });
  await check.getByRole('button', { name: '核对' }).click();
  const ask = check.getByTestId('repeat-reason');
  await ask.waitFor();
  assert.match(await ask.innerText(), /已有互认结果/);
  assert.match(await ask.innerText(), /青溪县人民医院/);
  const keep = ask.getByRole('button', { name: '提交理由，继续检查' });
  assert.equal(await keep.isDisabled(), true, '未选理由不能继续检查');
  await ask.locator('select[name=reason_code]').selectOption({ label: '病情变化，原结果与当前临床表现不符' });
  await ask.locator('textarea[name=reason_note]').fill('近两周血糖波动明显');
  await keep.click();
  await ask.waitFor({ state: 'detached' });

  const latest = section.getByTestId('recognition-orders').locator('li').first();
  await latest.getByText('已说明理由，继续检查').waitFor();
  assert.match(await latest.innerText(), /糖化血红蛋白/);
  assert.match(await latest.innerText(), /理由：病情变化，原结果与当前临床表现不符（近两周血糖波动明显）/);
  const box = await check.getByRole('button', { name: '核对' }).boundingBox();
  assert.ok(!box || box.height >= 32, '手机上的按钮应便于点按');
  assert.doesNotMatch(await section.innerText(), /C01T\d|4548-4|awaiting_reason|condition_changed/, '全网记录不应显示编码');
  await shot(page, 'network-record-phone');
  await closePage(page);
  await consultExpertStory(ctx);
}

async function consultExpertStory(ctx) {
  const page = await loginAs(ctx, 'township_doctor3', { phone: true });
  const mine = await page.request.get('/api/v1/consults?side=mine&open=1');
  assert.equal(mine.status(), 200);
  const consult = (await mine.json()).items.find((c) => c.status === 'scheduled');
  assert.ok(consult, '石门镇的会诊专家应有进行中的会诊（演示数据）');
  const direct = await page.request.get(`/api/v1/residents/${consult.resident_id}`);
  assert.equal(direct.status(), 404, '患者不在本机构管辖，居民档案不可见');
  await page.goto(`/consults/${consult.id}`);
  const link = page.getByTestId('consult-network-record');
  await link.waitFor();
  const box = await link.boundingBox();
  assert.ok(box && box.height >= 32, '全网记录按钮应便于点按');
  await link.click();
  await page.waitForURL(/\/residents\/\d+\/network-record/);
  const section = page.getByTestId('network-record');
  await section.getByRole('heading', { name: /全网记录/ }).waitFor();
  await page.getByTestId('network-items').or(section.getByText('暂无全网记录')).first().waitFor();
  const text = await section.innerText();
  assert.match(text, new RegExp(`远程会诊 ${consult.consult_no}`));
  assert.match(text, new RegExp(consult.resident_name));
  assert.doesNotMatch(text, /C01T\d|resident_not_found/, '全网记录不应显示编码');
  await shot(page, 'network-record-consult-expert');
  await page.getByRole('link', { name: '← 返回' }).click();
  await page.getByTestId('consult-page').waitFor();
  await closePage(page);
}

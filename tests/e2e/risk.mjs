/** Issue 12.1 in the browser: a hypertension grade comes from the untreated BP and stays after a controlled visit. */
import assert from 'node:assert/strict';
import { closePage, loginAs, shot, unavailable } from './flows.mjs';

const VILLAGE = process.env.E2E_VILLAGE_USER ?? 'village_doctor1';
const LEVELS = { LOW: '低危', MODERATE: '中危', HIGH: '高危', VERY_HIGH: '很高危' };

/** A managed hypertension patient of the village whose latest BP is controlled (< 140/90) while the grade's basis
 * is an untreated BP at or above 140/90; the record page shows the grade (not 未分层) and that basis in Chinese. */
export async function riskGradeStory(ctx, t) {
  const page = await loginAs(ctx, VILLAGE);
  const ids = new Set();
  for (const view of ['mine', 'groups']) {
    const r = await page.request.get(`/api/v1/tasks?view=${view}&process_id=follow_up&per_page=100`);
    if (r.ok()) for (const task of (await r.json()).items ?? []) if (task.resident?.id) ids.add(task.resident.id);
  }
  let found = null;
  for (const id of ids) {
    const record = await (await page.request.get(`/api/v1/residents/${id}`)).json();
    const htn = (record.summary?.risk_levels ?? []).find((x) => x.disease === 'htn');
    const latest = record.summary?.key_values?.['8480-6']?.latest;
    const basis = htn?.basis?.bp;
    if (htn?.level && basis && latest && Number(latest.value) < 140 && (basis.sbp.value >= 140 || basis.dbp.value >= 90)) {
      found = { id, htn, latest, basis, name: record.name };
      break;
    }
  }
  if (!found) {
    await closePage(page);
    return unavailable(ctx, t, '演示数据中没有血压已控制的高血压管理对象');
  }
  await page.goto(`/residents/${found.id}`);
  const grades = page.locator('[data-testid=risk-levels]');
  await grades.waitFor();
  await grades.getByText(LEVELS[found.htn.level], { exact: true }).first().waitFor();
  const basis = (await page.locator('[data-testid=risk-basis]').first().textContent()) ?? '';
  assert.match(basis, new RegExp(`分层血压：${found.basis.sbp.value}/${found.basis.dbp.value} mmHg`));
  assert.match(basis, /前的最高血压|取档案中最高血压/);
  assert.match(basis, /治疗后血压只用于评估控制情况，不降低分层/);
  assert.ok(!(await grades.textContent()).includes('未分层'), '控制良好的随访后分层不应变为未分层');
  await shot(page, 'resident-risk-basis');
  await closePage(page);
}

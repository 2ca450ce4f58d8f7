/**
 * Issue 18 R6a: the county administrator withdraws a village doctor's 处方权 on 审方工作台 → 处方权管理 (the reason is
 * required), sees 无处方权, and grants it back (授予处方权 → 有处方权); both are in the audit log. The doctor ends as
 * they started, so no seed data is used up.
 */
import assert from 'node:assert/strict';
import { closePage, loginAs } from './flows.mjs';
import { api } from './his.mjs';

export async function privilegeStory(ctx) {
  const admin = await loginAs(ctx, 'county_admin');
  await admin.goto('/');
  const doctors = (await api(admin, 'GET', '/api/v1/users?role=village_doctor&limit=5')).body;
  const doctor = doctors.find((d) => d.prescribing_privilege);
  assert.ok(doctor, JSON.stringify(doctors));

  await admin.goto('/pharmacy?tab=privilege');
  await admin.getByTestId('rx-privileges').waitFor();
  await admin.getByTestId('privilege-q').fill(doctor.display_name);
  const row = admin.getByTestId(`privilege-${doctor.id}`);
  await row.getByText('有处方权').waitFor();
  await row.getByRole('button', { name: '撤销处方权' }).click();
  assert.equal(await row.getByRole('button', { name: '确认撤销' }).isDisabled(), true, '撤销须填写原因');
  await row.getByTestId('privilege-reason').fill('浏览器测试：暂停处方权');
  await row.getByRole('button', { name: '确认撤销' }).click();
  await row.getByText('无处方权').waitFor();
  const text = await admin.locator('main').innerText();
  assert.doesNotMatch(text, /village_doctor|\bC01[A-Z0-9]*\b/, '页面不应显示角色代码或机构编码');

  await row.getByRole('button', { name: '授予处方权' }).click();
  await row.getByText('有处方权').waitFor();
  const audit = (await api(admin, 'GET', `/api/v1/audit?action=user.prescribing_privilege&object_id=${doctor.id}`)).body;
  assert.deepEqual(audit.items.slice(0, 2).map((e) => [e.details.granted, e.details.reason]),
    [[true, null], [false, '浏览器测试：暂停处方权']]);
  await closePage(admin);
}

/**
 * 批量启动 on a 390 px phone: the county administrator opens the page from the menu, sees the follow-up cycles the
 * demo seed started (随访周期) and a batch with a failed item (set up by batch_setup.py: one item refused in words,
 * one still pending), opens it, reads the failed resident by name with the reason, and presses 继续 (confirmed):
 * the pending item starts, the batch ends 已完成（有失败）and 继续 is disabled — nothing is left. Nothing is wider
 * than the phone.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closePage, loginAs, shot } from './flows.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

function setUpBatch() {
  const py = process.env.E2E_PYTHON ?? path.join(root, '.venv', 'bin', 'python');
  const out = execFileSync(py, [path.join(here, 'batch_setup.py')], { cwd: root }).toString().trim();
  return JSON.parse(out.split('\n').pop());
}

async function narrow(page, where) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `${where}：页面宽度 ${width}px，手机上不应出现横向滚动`);
}

export async function batchesStory(ctx) {
  const made = setUpBatch();
  const admin = await loginAs(ctx, 'county_admin', { phone: true });
  await admin.goto('/batches');
  const list = admin.getByTestId('batch-list');
  await list.waitFor();
  const text = await list.innerText();
  assert.match(text, /随访周期/, '演示数据应留下随访周期的批量启动');
  assert.doesNotMatch(text, /follow_up|done_with_failures|running/, text);
  const row = admin.locator(`[data-batch-id="${made.batch_id}"]`);
  assert.match(await row.innerText(), /已启动 0 · 跳过 0 · 失败 1 · 总数 2 · 待启动 1/);
  await narrow(admin, '批量启动');
  await row.getByRole('link').first().click();

  await admin.getByTestId('batch-detail').waitFor();
  const failed = admin.getByTestId('failed-items');
  await failed.waitFor();
  const failedText = await failed.innerText();
  assert.ok(failedText.includes(made.resident_name), failedText);
  assert.ok(failedText.includes(made.reason), failedText);
  await narrow(admin, '批次详情');
  await shot(admin, 'batches-detail-phone');

  const resume = admin.getByTestId('batch-resume');
  assert.equal(await resume.isDisabled(), false);
  let asked = '';
  admin.once('dialog', (d) => { asked = d.message(); void d.accept(); });
  await resume.click();
  await admin.getByTestId('batch-status').getByText('已完成（有失败）').waitFor({ timeout: 120_000 });
  assert.match(asked, /继续启动第 \d+ 批剩余的 1 个/);
  assert.match(await admin.getByTestId('batch-counts').innerText(), /已启动 1 · 跳过 0 · 失败 1 · 总数 2$/);
  assert.equal(await resume.isDisabled(), true, '没有待启动的项目时不应能继续');
  await narrow(admin, '继续之后');
  await closePage(admin);
}

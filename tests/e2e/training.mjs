/**
 * The training story in the browser, against the live demo server:
 * trainer plans a session (dry run, start) → 科教科 head approves in the inbox → the venue screen shows the rotating
 * QR → a trainee's phone (mocked location inside the fence) signs in by the QR link, another phone (outside the
 * fence) is refused, asks for a manual sign-in and the trainer grants it → sign-out → photos and paper → the
 * materials task → both phones sit the exam (auto-marked) → summary → credits on the transcript → summary PDF.
 * A last phone reads the QR with its camera (Chromium fake video of the QR) to sign out.
 *
 * The server runs with YGT_TRAINING_SIGN_OUT_OPENS_MIN and YGT_TRAINING_MIN_PRESENCE relaxed (tests/e2e/live.py),
 * so a 30-minute session can be walked in a minute; presence arithmetic has its own API tests with a fake clock.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, closePage, loginAs, shot } from './flows.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { chromium } = createRequire(path.join(here, '..', '..', 'ui', 'package.json'))('playwright-core');

const VENUE = { lat: 29.6052, lon: 119.0428 };
const INSIDE = { latitude: 29.6054, longitude: 119.0429, accuracy: 18 };
const OUTSIDE = { latitude: 29.6152, longitude: 119.0428, accuracy: 15 };       // about 1.1 km north
const FILES = process.env.E2E_TRAINING_FILES;
const RUN = new Date().toISOString().slice(11, 19).replace(/:/g, '');
const TOPIC = `基层医生扫码签到演练 ${RUN}`;
const STEM = `浏览器考试 ${RUN}：扫码签到须在培训场地内完成`;

function shanghaiLocal(date) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', hour12: false }).formatToParts(date).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}T${p.hour === '24' ? '00' : p.hour}:${p.minute}`;
}

async function api(page, method, url, data) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'ygt_csrf')?.value ?? '';
  const r = await page.request.fetch(url, { method, data, headers: { 'X-CSRF-Token': csrf } });
  const body = (r.headers()['content-type'] ?? '').includes('json') ? await r.json() : await r.body();
  return { status: r.status(), body };
}

async function waitPhase(page, id, phase, ms = 90000) {
  const until = Date.now() + ms;
  let last = '';
  while (Date.now() < until) {
    const { body } = await api(page, 'GET', `/api/v1/training/sessions/${id}`);
    last = body.phase;
    if (last === phase) return;
    await page.waitForTimeout(1000);
  }
  throw new Error(`培训未进入 ${phase}（当前 ${last}）`);
}

async function completeTaskInInbox(page, instanceId, elementId, fill) {
  const { body } = await api(page, 'GET', '/api/v1/tasks?view=mine&process_id=training_session&per_page=50');
  const ours = (x) => x.element_id === elementId && x.instance_id === instanceId;
  let task = body.items.find(ours);
  if (!task) {
    const groups = await api(page, 'GET', '/api/v1/tasks?view=groups&process_id=training_session&per_page=50');
    task = groups.body.items.find(ours);
    assert.ok(task, `收件箱中应有任务 ${elementId}`);
    await page.goto(`/inbox?view=groups&process_id=training_session`);
    await page.locator(`[data-testid=task-card][data-task-id="${task.id}"]`).getByRole('button', { name: '领取' }).click();
    await page.waitForURL(`**/tasks/${task.id}`);
  } else {
    await page.goto(`/tasks/${task.id}`);
  }
  await page.locator('[data-testid=task-name]').waitFor();
  await fill(page);
  await page.locator('[data-testid=complete]').click();
  await page.waitForURL((u) => !u.pathname.startsWith(`/tasks/${task.id}`), { timeout: 20000 }).catch(() => undefined);
}

/** The venue QR as a Y4M video (Chromium's fake camera) — rendered by the repository's own Python (segno). */
function qrVideo(url, file) {
  const py = process.env.E2E_PYTHON ?? 'python3';
  execFileSync(py, [path.join(here, 'qr_y4m.py'), url, file]);
}

export async function trainingStory(ctx) {
  // -- the trainer lands on training work and plans a session that started ten minutes ago ------------------
  const trainer = await loginAs(ctx, 'trainer');
  await trainer.waitForURL('**/training');
  await trainer.locator('h1', { hasText: '培训管理' }).waitFor();
  await trainer.getByLabel('新计划名称').fill('浏览器测试培训计划');
  await trainer.getByRole('button', { name: '新建计划' }).click();
  await trainer.waitForURL('**/training/plans/*');
  await trainer.getByRole('button', { name: '添加培训' }).click();
  const form = trainer.getByRole('form', { name: '添加培训' });
  await form.locator('input[name=topic]').fill(TOPIC);
  await form.getByLabel('项目级别').selectOption('in_house_2');
  await form.locator('input[name=lecturer_name]').fill('张主任');
  await form.locator('input[name=starts]').fill(shanghaiLocal(new Date(Date.now() - 10 * 60000)));
  await form.locator('input[name=hours]').fill('0.5');
  await form.locator('input[name=venue]').fill('县医院学术报告厅');
  await form.locator('input[name=venue_lat]').fill(String(VENUE.lat));
  await form.locator('input[name=venue_lon]').fill(String(VENUE.lon));
  await form.getByLabel('对象机构编码（空 = 本计划机构全部）').fill('C01T01');
  await form.getByRole('button', { name: '保存' }).click();
  const link = trainer.getByRole('link', { name: TOPIC });
  await link.waitFor();
  const id = Number((await link.getAttribute('href')).split('/').pop());
  await trainer.locator('[data-testid=dry-run]').click();
  await trainer.locator('[data-testid=start-report]', { hasText: '试运行：将启动 1 场' }).waitFor();
  await shot(trainer, 'training-plan');
  await trainer.locator('[data-testid=start-plan]').click();
  await trainer.locator('[data-testid=start-report]', { hasText: '已启动 1 场' }).waitFor();
  const instanceId = (await api(trainer, 'GET', `/api/v1/training/sessions/${id}`)).body.instance_id;

  // -- the 科教科 head approves in the inbox -------------------------------------------------------------
  const head = await loginAs(ctx, 'education_head');
  await completeTaskInInbox(head, instanceId, 'approve_session', async (p) => {
    await p.locator('input[name="root_approved"]').first().check();
  });
  await closePage(head);
  await waitPhase(trainer, id, 'sign_in_open');

  // -- the venue screen ------------------------------------------------------------------------------------
  const screen = trainer.context().newPage();
  const venue = await screen;
  await venue.goto(`/training/sessions/${id}/screen`);
  const qr = venue.locator('[data-testid=venue-qr] svg');
  await qr.waitFor();
  await shot(venue, 'training-venue-screen');
  const token = await venue.locator('[data-testid=venue-qr]').getAttribute('data-token');

  // -- a phone inside the fence signs in by the QR link --------------------------------------------------
  const inside = await loginAs(ctx, 'village_doctor1', { phone: true, geolocation: INSIDE });
  await inside.goto('/training/my');
  await inside.locator('[data-testid=my-session]', { hasText: TOPIC }).click();
  await inside.getByRole('button', { name: '确认参加' }).click();
  await inside.locator('.badge', { hasText: '确认参加' }).waitFor();
  await inside.goto(`/training/sign-in/${id}?t=${token}`);
  await inside.locator('[data-testid=sign-in-ok]', { hasText: '签到成功' }).waitFor();
  await shot(inside, 'training-sign-in-phone');

  // -- a phone outside the fence is refused and asks for a manual sign-in --------------------------------
  const outside = await loginAs(ctx, 'township_doctor1', { phone: true, geolocation: OUTSIDE });
  const fresh = await venue.locator('[data-testid=venue-qr]').getAttribute('data-token');
  await outside.goto(`/training/sign-in/${id}?t=${fresh}`);
  await outside.locator('[data-testid=sign-in-refused]', { hasText: '您不在培训场地范围内' }).waitFor();
  await outside.locator('input[placeholder*="定位漂移"]').fill('在报告厅后排');
  await outside.locator('[data-testid=ask-manual]').click();
  await outside.getByText('已通知培训管理员').waitFor();
  await shot(outside, 'training-sign-in-refused-phone');
  await trainer.goto(`/training/sessions/${id}`);
  await trainer.locator('[data-testid=help-requests]').getByRole('button', { name: '确认在场，人工签到' }).click();
  await trainer.locator('[data-testid=roster]').getByText('人工补签').waitFor();

  // -- sign-out with the camera: Chromium's fake camera shows the current QR -----------------------------
  // the code must outlive the camera's set-up (the video, a new browser, a login): a code fetched late in its
  // period is valid for only its grace after the rotation (10 s), so take a fresh one just after a rotation
  let { body: code } = await api(trainer, 'GET', `/api/v1/training/sessions/${id}/sign-in-code`);
  const left = new Date(code.rotates_at).getTime() - Date.now();
  if (left < 20000) {
    await trainer.waitForTimeout(Math.max(0, left) + 1000);
    ({ body: code } = await api(trainer, 'GET', `/api/v1/training/sessions/${id}/sign-in-code`));
  }
  const video = path.join(FILES, 'qr.y4m');
  qrVideo(code.url, video);
  const camBrowser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
    args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${video}`] });
  try {
    const cam = await loginAs(ctx, 'village_doctor1', { phone: true, geolocation: INSIDE, browser: camBrowser });
    await cam.goto(`/training/my/${id}`);
    await cam.locator('[data-testid=go-sign-in]', { hasText: '扫码签退' }).click();
    // decoding the fake camera's frames took over 30 s once on a loaded 2-core CI machine (2026-12-05)
    await cam.locator('[data-testid=sign-in-ok]', { hasText: '签退成功' }).waitFor({ timeout: 60000 });
    await closePage(cam);
  } finally {
    await camBrowser.close();
  }

  // -- the trainer ends attendance, uploads photos and slides, builds the paper ---------------------------
  await trainer.goto(`/training/sessions/${id}`);
  await trainer.locator('[data-testid=end-attendance]').click();
  await waitPhase(trainer, id, 'attendance_closed');
  await trainer.goto('/training/items');
  await trainer.locator('select').first().selectOption('true_false');
  await trainer.locator('textarea').first().fill(STEM);
  await trainer.locator('label.check', { hasText: '正确' }).locator('input').check();
  await trainer.getByRole('button', { name: '保存试题' }).click();
  await trainer.locator('td', { hasText: STEM }).waitFor();
  await trainer.goto(`/training/sessions/${id}`);
  await trainer.getByLabel('资料类别').selectOption('photo');
  await trainer.locator('[data-testid=material-file]').setInputFiles([path.join(FILES, 'photo1.jpg'), path.join(FILES, 'photo2.jpg')]);
  await trainer.locator('.material-list li', { hasText: 'photo2.jpg' }).waitFor();
  await trainer.getByLabel('资料类别').selectOption('slides');
  await trainer.locator('[data-testid=material-file]').setInputFiles(path.join(FILES, 'slides.pdf'));
  await trainer.locator('.material-list li', { hasText: 'slides.pdf' }).waitFor();
  await trainer.locator('.item-pick label', { hasText: STEM }).locator('input').check();
  await trainer.locator('[data-testid=save-paper]').click();
  await trainer.getByText('（1 题，限时').waitFor();
  await shot(trainer, 'training-session');
  await completeTaskInInbox(trainer, instanceId, 'upload_materials', async (p) => {
    await p.locator('#root_materials_uploaded').check();
  });
  await waitPhase(trainer, id, 'exam_open');

  // -- both phones sit the exam --------------------------------------------------------------------------
  for (const phone of [inside, outside]) {
    await phone.goto(`/training/my/${id}`);
    await phone.locator('[data-testid=go-exam]').click();
    await phone.locator('[data-testid=question]').first().waitFor();
    await phone.locator('[data-testid=question] button', { hasText: '正确' }).click();
    if (phone === inside) await shot(phone, 'training-exam-phone');
    await phone.locator('[data-testid=submit-exam]').click();
    await phone.locator('[data-testid=exam-score]', { hasText: '得分 100 分' }).waitFor();
  }
  await waitPhase(trainer, id, 'exam_closed', 60000).catch(() => undefined);

  // -- summary, credits, PDF ------------------------------------------------------------------------------
  await completeTaskInInbox(trainer, instanceId, 'write_summary', async (p) => {
    await p.locator('#root_issues').fill('一名学员室内定位漂移，人工补签');
    await p.locator('#root_improvements').fill('签到大屏增加定位说明');
  });
  await waitPhase(trainer, id, 'completed');
  const pdf = await trainer.request.get(`/api/v1/training/sessions/${id}/summary.pdf`);
  assert.equal(pdf.status(), 200);
  assert.equal((await pdf.body()).subarray(0, 4).toString(), '%PDF');
  await inside.goto('/training/transcript');
  await inside.locator('[data-testid=transcript]', { hasText: TOPIC }).waitFor();
  await shot(inside, 'training-transcript-phone');
  const { body: transcript } = await api(inside, 'GET', `/api/v1/training/transcript?year=${new Date().getFullYear()}`);
  assert.ok(transcript.lines.some((l) => l.topic === TOPIC && l.credits === 0.5), '学分档案应有 0.5 学分');

  await trainer.goto('/training/dashboard');
  await trainer.locator('[data-testid=indicator-table]').waitFor();
  await shot(trainer, 'training-dashboard');
  await closePage(inside);
  await closePage(outside);
  await venue.close();
  await closePage(trainer);
}

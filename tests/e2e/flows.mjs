/** The browser flows of the UI tests: one function per story, written against the contract (not the mock). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const require = createRequire(path.join(root, 'ui', 'package.json'));
const { chromium } = require('playwright-core');

const PASSWORD = process.env.E2E_PASSWORD ?? 'demo12345';
const USERS = {
  village: process.env.E2E_VILLAGE_USER ?? 'village_doctor1',
  owner: process.env.E2E_OWNER_USER ?? 'process_owner',
  supervisor: process.env.E2E_SUPERVISOR_USER ?? 'supervisor',
};
const SCREENS = path.resolve(root, process.env.SCREENS_DIR ?? 'docs/screens');
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS ?? 20000);

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** `strict` (CI, E2E_STRICT=1; never the mock): a story that cannot run fails instead of being skipped. */
async function start(base, { strict = false, mock = false } = {}) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  fs.mkdirSync(SCREENS, { recursive: true });
  return { browser, base, strict, mock, close: () => browser.close() };
}

/** A story's data or endpoint is missing: skip (developing against the mock) or fail (strict). */
function unavailable(ctx, t, reason) {
  if (ctx.strict) throw new Error(`无法执行（严格模式）：${reason}`);
  t?.skip(reason);
}

async function newPage(ctx, { phone = false, geolocation = null, browser = null } = {}) {
  const context = await (browser ?? ctx.browser).newContext({
    baseURL: ctx.base,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: phone ? { width: 390, height: 844 } : { width: 1366, height: 900 },
    deviceScaleFactor: phone ? 2 : 1,
    isMobile: phone,
    hasTouch: phone,
    ...(geolocation ? { geolocation, permissions: ['geolocation', 'camera'] } : {}),
  });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`页面脚本错误: ${e.message}`));
  page.on('requestfailed', (r) => {
    const u = r.url();
    if (!u.startsWith(ctx.base) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`外部请求: ${u}`);
  });
  page.problems = problems;
  return page;
}

async function login(ctx, who, opts) {
  return loginAs(ctx, USERS[who], opts);
}

async function loginAs(ctx, username, opts) {
  const page = await newPage(ctx, opts);
  await page.goto('/login');
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  await page.locator('[data-testid=user-name]').waitFor();
  return page;
}

async function shot(page, name) {
  await page.waitForTimeout(300); // let charts and diagrams finish their first paint
  await page.screenshot({ path: path.join(SCREENS, `${name}.png`), fullPage: false });
}

async function closePage(page) {
  const problems = page.problems ?? [];
  await page.context().close();
  assert.deepEqual(problems, [], '页面不应出现脚本错误或访问外部网络');
}

// --- forms: valid and invalid values from the task's JSON Schema ----------------------------------------------

const TYPICAL = { sbp: 128, dbp: 78, hr: 72, heart_rate: 72, pulse: 72, fpg: 6.1, bg: 6.5, glucose: 6.1, hba1c: 6.5, temp: 36.6,
  temperature: 36.6, weight: 62, weight_kg: 62, height: 165, height_cm: 165, bmi: 22.5, waist: 80, age: 60, inr: 2.5 };

function todayShanghai() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

function numberFor(name, p) {
  const lo = p.minimum ?? (p.exclusiveMinimum !== undefined ? p.exclusiveMinimum + 1 : undefined);
  const hi = p.maximum ?? (p.exclusiveMaximum !== undefined ? p.exclusiveMaximum - 1 : undefined);
  let v = TYPICAL[name] ?? (lo !== undefined && hi !== undefined ? (lo + hi) / 2 : lo ?? (hi !== undefined ? Math.min(hi, 1) : 1));
  if (lo !== undefined) v = Math.max(v, lo);
  if (hi !== undefined) v = Math.min(v, hi);
  return p.type === 'integer' ? Math.round(v) : v;
}

/** Fill one rjsf field (default widgets; ids `root_<path>`) with a valid value. */
async function fillValid(page, id, name, p, ui) {
  const widget = ui?.['ui:widget'];
  if (p.type === 'object' && p.properties) {
    for (const [k, sub] of Object.entries(p.properties)) {
      if ((p.required ?? []).includes(k) || sub.type !== 'array') await fillValid(page, `${id}_${k}`, k, sub, ui?.[k]);
    }
    return;
  }
  if (p.type === 'array') return; // optional lists are left empty
  if (p.readOnly || widget === 'hidden') return;
  const enumValues = p.enum ?? p.oneOf?.map((o) => o.const) ?? p.anyOf?.map((o) => o.const);
  if (p.type === 'boolean') {
    const box = page.locator(`#${id}`);
    if (widget === 'radio' || widget === 'select') {
      if (widget === 'select') await box.selectOption({ index: 1 });
      else await page.locator(`input[name="${id}"]`).last().check();
    } else if ((await box.count()) && !(await box.isChecked())) await box.check();
    return;
  }
  if (enumValues?.length) {
    if (widget === 'radio') await page.locator(`input[name="${id}"]`).first().check();
    else await page.locator(`#${id}`).selectOption({ index: 1 });
    return;
  }
  const el = page.locator(`#${id}`);
  if (!(await el.count())) return;
  if (p.type === 'integer' || p.type === 'number') return el.fill(String(numberFor(name, p)));
  if (p.format === 'date') return el.fill(todayShanghai());
  if (p.format === 'date-time') return el.fill(`${todayShanghai()}T09:30`);
  if (p.format === 'time') return el.fill('09:30');
  const text = p.pattern ? null : '无异常';
  if (text !== null) await el.fill(p.minLength ? text.padEnd(p.minLength, '。') : text);
}

/** An invalid value the schema itself forbids: a number below its minimum, or a required field left empty. */
function invalidFor(schema) {
  for (const [k, p] of Object.entries(schema.properties ?? {})) {
    if ((p.type === 'integer' || p.type === 'number') && p.minimum !== undefined) return { field: k, value: String(p.minimum - 1) };
  }
  return (schema.required ?? []).length ? { field: null } : null;
}

const errorsOnForm = (page) => page.locator('.rjsf .error-detail li, .rjsf .panel-danger.errors li, [data-testid=form-notice].alert-error');

// --- stories --------------------------------------------------------------------------------------------------

async function openSomeTask(ctx, page, t) {
  await page.goto('/inbox');
  const cards = page.locator('[data-testid=task-card]');
  await page.locator('[data-testid=task-list], .state-empty').first().waitFor();
  if (await cards.count()) {
    const id = await cards.first().getAttribute('data-task-id');
    await page.goto(`/tasks/${id}`);
    return id;
  }
  await page.goto('/inbox?view=groups');
  await page.locator('[data-testid=task-list], .state-empty').first().waitFor();
  if (!(await cards.count())) {
    unavailable(ctx, t, '演示数据没有给村医派发任务（“我的待办”和“组内待领”都为空）');
    return null;
  }
  const id = await cards.first().getAttribute('data-task-id');
  await cards.first().getByRole('button', { name: '领取' }).click();
  await page.waitForURL(`**/tasks/${id}`);
  return id;
}

/** A hypertension follow-up task of the village doctor (the demo seed leaves some in 我的待办 and 组内待领). */
async function findFollowUpTask(page) {
  for (const view of ['mine', 'groups']) {
    const r = await page.request.get(`/api/v1/tasks?view=${view}&process_id=follow_up&per_page=50`);
    if (!r.ok()) continue;
    const body = await r.json();
    const task = (body.items ?? body).find((x) => /^record_htn_visit/.test(x.element_id ?? ''));
    if (task) return { view, id: String(task.id) };
  }
  return null;
}

/** Open the task from its inbox card: 办理 from 我的待办, 领取 from 组内待领. */
async function openFromInbox(page, { view, id }) {
  await page.goto(`/inbox?view=${view}&process_id=follow_up`);
  const card = page.locator(`[data-testid=task-card][data-task-id="${id}"]`);
  await card.waitFor();
  if (view === 'groups') await card.getByRole('button', { name: '领取' }).click();
  else await card.locator('a.task-title').click();
  await page.waitForURL(`**/tasks/${id}`);
}

const fieldErrors = (page, inputId) =>
  page.locator(`#${inputId}`).locator('xpath=ancestor::div[contains(concat(" ", normalize-space(@class), " "), " form-group ")][1]').locator('.error-detail li');

/** Open a section of a sectioned form (ui:sections: the follow-up forms) unless it is open already. */
async function openSection(page, name) {
  const head = page.locator(`#section-${name}-head`);
  if (await head.count() && (await head.getAttribute('aria-expanded')) === 'false') await head.click();
}

/** The 高血压随访服务记录表: an impossible SBP is refused on its field; then a complete, valid visit. */
async function followUpVisit(page) {
  const sbp = page.locator('#root_signs_bp_readings_0_sbp');
  const dbp = page.locator('#root_signs_bp_readings_0_dbp');
  await openSection(page, 'signs');
  await sbp.fill('20');                       // below the form's minimum (60 mmHg)
  await dbp.fill('80');
  await page.locator('[data-testid=complete]').click();
  await fieldErrors(page, 'root_signs_bp_readings_0_sbp').first().waitFor();
  assert.ok(await fieldErrors(page, 'root_signs_bp_readings_0_sbp').count(), '收缩压字段上应显示错误');
  await shot(page, 'task-form-errors');

  for (const section of ['visit', 'symptoms', 'signs', 'medication']) await openSection(page, section);
  await page.locator('#root_visit_visit_date').fill(todayShanghai());
  await page.locator('#root_visit_visit_type-0').check();          // 门诊
  await page.locator('#root_visit_outcome-0').check();             // 完成随访
  await page.locator('#root_symptoms_items-0').check();            // 无症状
  await sbp.fill('128');
  await dbp.fill('78');
  await page.locator('#root_signs_bp_source').selectOption({ label: '家庭自测' });
  await page.locator('#root_signs_heart_rate').fill('72');
  await page.locator('#root_signs_weight_kg').fill('65');
  await page.locator('#root_medication_adherence-0').check();      // 规律
  await page.locator('#root_medication_adr-0').check();            // 无
}

/** Any other form (the mock's): valid values from its JSON Schema, after one the schema forbids. */
async function genericForm(page, id, schema, ui) {
  const bad = invalidFor(schema);
  if (bad) {
    if (bad.field) {
      // everything valid except one field, so the error that shows is the one we caused
      for (const [k, p] of Object.entries(schema.properties ?? {})) if (k !== bad.field) await fillValid(page, `root_${k}`, k, p, ui[k]);
      await page.locator(`#root_${bad.field}`).fill(bad.value);
    }
    await page.locator('[data-testid=complete]').click();
    await errorsOnForm(page).first().waitFor();
    assert.ok(await errorsOnForm(page).count(), '提交无效表单后应显示错误');
    assert.match(page.url(), new RegExp(`/tasks/${id}$`), '无效表单不应离开任务页');
    await shot(page, 'task-form-errors');
  }
  for (const [k, p] of Object.entries(schema.properties ?? {})) await fillValid(page, `root_${k}`, k, p, ui[k]);
}

async function villageDoctorCompletesTask(ctx, t) {
  const page = await login(ctx, 'village');
  await page.goto('/inbox');
  await page.locator('[data-testid=task-list], .state-empty').first().waitFor();
  await shot(page, 'inbox');
  const followUp = await findFollowUpTask(page);
  let id;
  if (followUp) {
    await openFromInbox(page, followUp);
    id = followUp.id;
  } else {
    if (ctx.strict) throw new Error(`演示数据中 ${USERS.village} 没有高血压随访任务`);
    id = await openSomeTask(ctx, page, t);
    if (id === null) return closePage(page);
  }
  await page.locator('[data-testid=task-name]').waitFor();
  if (followUp) {
    // issue 12.6: the readings show the target they are judged against (the plan's, or the guideline default)
    await openSection(page, 'signs');
    await page.getByText(/方案目标：血压 <\d+\/\d+ mmHg|未设方案目标/).first().waitFor();
  }
  const detail = await (await page.request.get(`/api/v1/tasks/${id}`)).json();
  const schema = detail.form?.schema ?? { properties: {} };
  const ui = detail.form?.ui_schema ?? {};
  await page.locator('[data-testid=complete]').waitFor();
  await shot(page, 'task');

  if (schema.properties?.signs?.properties?.bp_readings) await followUpVisit(page);
  else await genericForm(page, id, schema, ui);
  assert.match(page.url(), new RegExp(`/tasks/${id}$`), '无效表单不应离开任务页');

  await page.locator('[data-testid=complete]').click();
  await Promise.race([
    page.waitForURL((u) => u.pathname === '/inbox'),
    page.locator('[data-testid=form-notice].alert-error, .alert-error[role=alert]').first().waitFor().then(async () => {
      throw new Error(`完成任务失败：${await page.locator('.alert-error').first().innerText()}`);
    }),
  ]);
  await page.locator('[data-testid=task-list], .state-empty').first().waitFor();
  assert.equal(await page.locator(`[data-task-id="${id}"]`).count(), 0, '完成的任务应离开待办列表');
  const left = await (await page.request.get(`/api/v1/tasks/${id}`)).json();
  assert.equal(left.status, 'completed', '任务应已完成');
  await closePage(page);
}

async function processOwnerDeploysNewVersion(ctx, t) {
  const processId = process.env.E2E_PROCESS ?? 'screening';
  const page = await login(ctx, 'owner');
  const defs = await (await page.request.get('/api/v1/process-definitions')).json();
  if (!(defs.items ?? defs).some((d) => d.process_id === processId)) {
    unavailable(ctx, t, `流程 ${processId} 尚未部署（bpmn/${processId}.bpmn）`);
    return closePage(page);
  }
  await page.goto(`/modeler?process=${processId}`);
  const versions = page.locator('[data-testid=version-list] [data-version]');
  await versions.first().waitFor();
  const before = Math.max(...(await versions.evaluateAll((els) => els.map((e) => Number(e.dataset.version)))));
  await page.locator('[data-testid=bpmn-modeler] .djs-element').first().waitFor();
  await page.locator('[data-testid=deploy]:not([disabled])').waitFor();

  // a task on the canvas: its shape is the rounded rectangle (rx=10)
  const taskId = await page.evaluate(() => {
    const shapes = [...document.querySelectorAll('[data-testid=bpmn-modeler] g.djs-shape[data-element-id]')];
    const task = shapes.find((g) => g.querySelector(':scope > .djs-visual > rect[rx="10"]'));
    return task?.getAttribute('data-element-id') ?? null;
  });
  assert.ok(taskId, `流程 ${processId} 中应有任务`);
  // click inside the task near its lower-left corner: a sequence flow may end at the shape's centre
  const shape = page.locator(`[data-testid=bpmn-modeler] g.djs-shape[data-element-id="${taskId}"]`);
  const box = await shape.boundingBox();
  await shape.click({ position: { x: 8, y: Math.max(box.height - 8, 1) } });
  const nameInput = page.locator('[data-testid=prop-name]');
  await page.locator('[data-testid=prop-id]').and(page.locator(`[value="${taskId}"]`)).waitFor();
  const old = await nameInput.inputValue();
  const next = old.endsWith('（修订）') ? old.slice(0, -'（修订）'.length) : `${old}（修订）`;
  await nameInput.fill(next);
  await shot(page, 'modeler');

  await page.locator('[data-testid=deploy]').click();
  const result = page.locator('[data-testid=deploy-result]');
  await result.waitFor();
  const text = await result.innerText();
  assert.match(text, new RegExp(`v${before + 1}`), `部署应得到新版本 v${before + 1}，实际：${text}`);
  await page.locator(`[data-testid=version-list] [data-version="${before + 1}"]`).waitFor();
  await shot(page, 'modeler-deployed');
  await closePage(page);
}

async function supervisorSeesActiveElement(ctx, t) {
  const page = await login(ctx, 'supervisor');
  const all = await (await page.request.get('/api/v1/process-instances?per_page=1')).json();
  if (!all.total) {
    unavailable(ctx, t, '演示数据中没有流程实例');
    return closePage(page);
  }
  const links = page.locator('[data-testid=instance-link]');
  let found = false;
  for (const status of ['waiting', 'running', '']) {
    await page.goto(`/instances${status ? `?status=${status}` : ''}`);
    await page.locator('[data-testid=instance-table], .state-empty').first().waitFor();
    if (await links.count()) {
      found = true;
      break;
    }
  }
  assert.ok(found, '监管人员应能在流程监控中看到流程实例');
  await shot(page, 'instances');
  await links.first().click();
  await page.locator('[data-testid=instance-status]').waitFor();
  await page.locator('[data-testid=bpmn-canvas] .djs-element').first().waitFor();
  await page.locator('[data-testid=bpmn-canvas] .djs-element.ygt-active').first().waitFor();
  assert.ok(await page.locator('[data-testid=bpmn-canvas] .djs-element.ygt-active').count(), '当前环节应高亮');
  await shot(page, 'instance');
  await closePage(page);
}

/** 12.3: a specialist proposes a revision (API), the supervisor cancels it on the resident record with a reason
 * (撤销此修订), and the record shows who cancelled it and why. */
async function supervisorCancelsOpenRevision(ctx, t) {
  const doc = await loginAs(ctx, process.env.E2E_SPECIALIST_USER ?? 'specialist_cardio');
  const csrf = (await doc.context().cookies()).find((c) => c.name === 'ygt_csrf')?.value ?? '';
  const residents = await (await doc.request.get('/api/v1/residents?per_page=50')).json();
  let plan = null;
  for (const r of residents.items ?? []) {
    const plans = await (await doc.request.get(`/api/v1/care-plans?resident_id=${r.id}`)).json();
    for (const p of plans.items ?? []) {
      if (p.status !== 'active') continue;
      const detail = await (await doc.request.get(`/api/v1/care-plans/${p.id}`)).json();
      const open = (detail.versions ?? []).some((v) => ['draft', 'pending_approval', 'returned'].includes(v.status));
      if (!open && detail.current?.content) {
        plan = detail;
        break;
      }
    }
    if (plan) break;
  }
  if (!plan) {
    unavailable(ctx, t, '演示数据中没有可修订的生效方案');
    return closePage(doc);
  }
  const proposed = await doc.request.post(`/api/v1/care-plans/${plan.id}/revisions`, {
    data: { content: plan.current.content, reason: '浏览器测试：待撤销的修订' }, headers: { 'X-CSRF-Token': csrf } });
  assert.equal(proposed.status(), 202, await proposed.text());
  // 202: the care_plan process opens the version in its service task, run by a job after the commit — wait for it
  let number;
  for (const until = Date.now() + 20_000; !number && Date.now() < until;) {
    const after = await (await doc.request.get(`/api/v1/care-plans/${plan.id}`)).json();
    number = (after.versions ?? []).find((v) => v.status === 'pending_approval')?.version;
    if (!number) await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(number, '提出的修订应待审核');
  await closePage(doc);

  const sup = await login(ctx, 'supervisor');
  await sup.goto(`/residents/${plan.resident_id}`);
  const card = sup.locator(`[data-testid=care-plan][data-plan-id="${plan.id}"]`);
  const open = card.locator('[data-testid=care-plan-open-revision]');
  await open.waitFor();
  await open.getByRole('button', { name: '撤销此修订' }).click();
  const confirm = open.getByRole('button', { name: '确认撤销' });
  assert.ok(await confirm.isDisabled(), '未填写撤销原因时不能确认');
  await open.locator('textarea').fill('浏览器测试：不再需要此修订');
  await confirm.click();
  await open.waitFor({ state: 'detached' });      // 撤销后不再显示进行中的修订
  const line = card.locator('[data-testid=care-plan-revisions] .timeline-data', { hasText: `第 ${number} 版修订` });
  await line.waitFor();
  assert.match(await line.innerText(), /已撤销.*浏览器测试：不再需要此修订/);
  assert.doesNotMatch(await line.innerText(), /supervisor/, '显示姓名而不是用户名');
  await shot(sup, 'care-plan-revision-cancelled');
  await closePage(sup);
}

async function screenshotMainPages(ctx) {
  const anon = await newPage(ctx);
  await anon.goto('/login');
  await anon.locator('input[name=username]').waitFor();
  await shot(anon, 'login');
  await closePage(anon);

  const phone = await login(ctx, 'village', { phone: true });
  await phone.goto('/inbox');
  await phone.locator('[data-testid=task-list], .state-empty').first().waitFor();
  await shot(phone, 'inbox-phone');
  if (!ctx.mock) {
    // a search nothing matches says so (not "您当前没有待办任务") and offers to clear it (the mock ignores q)
    await phone.goto(`/inbox?q=${encodeURIComponent('无此姓名')}`);
    await phone.locator('.state-empty').waitFor();
    assert.match(await phone.locator('.state-empty').innerText(), /没有符合条件的任务/, '无结果的搜索应提示没有符合条件的任务');
    await phone.getByTestId('clear-filters').click();
    await phone.waitForURL((u) => !u.search.includes('q='));
    await phone.locator('[data-testid=task-list], .state-empty').first().waitFor();
    assert.equal(await phone.getByTestId('clear-filters').count(), 0, '清除筛选后不应再提示筛选');
  }
  let card = phone.locator('[data-testid=task-card]').first();
  if (!(await card.count())) {
    await phone.goto('/inbox?view=groups');
    await phone.locator('[data-testid=task-list], .state-empty').first().waitFor();
    card = phone.locator('[data-testid=task-card]').first();
  }
  if (await card.count()) {
    await phone.goto(`/tasks/${await card.getAttribute('data-task-id')}`);
    await phone.locator('[data-testid=task-name]').waitFor();
    await shot(phone, 'task-phone');
  }
  await closePage(phone);

  const sup = await login(ctx, 'supervisor');
  await sup.goto('/instances?tab=overview');
  await sup.locator('[data-testid=bpmn-canvas] .djs-element, .state-empty').first().waitFor();
  await shot(sup, 'process-overview');
  await sup.goto('/residents');
  await sup.locator('[data-testid=resident-table], .state-empty').first().waitFor();
  await shot(sup, 'residents');
  const resident = sup.locator('[data-testid=resident-table] a').first();
  if (await resident.count()) {
    await resident.click();
    await sup.locator('[data-testid=resident-name]').waitFor();
    await sup.locator('[data-testid=bp-chart] canvas, .state-empty').first().waitFor();
    await shot(sup, 'resident');
  }
  await sup.goto('/dashboards');
  await sup.locator('[data-testid=status-chart] canvas, .state-empty, .alert-error').first().waitFor();
  await shot(sup, 'dashboards');
  await closePage(sup);

  const owner = await login(ctx, 'owner');
  await owner.goto('/modeler?tab=decisions');
  const decision = owner.locator('[data-testid=decision-list] button').first();
  await owner.locator('[data-testid=decision-list], .state-empty').first().waitFor();
  if (await decision.count()) {
    await decision.click();
    await owner.locator('[data-testid=dmn-modeler] .tjs-table, [data-testid=dmn-modeler] .djs-container').first().waitFor();
    await shot(owner, 'decision');
  }
  await closePage(owner);
}

export const flows = { start, villageDoctorCompletesTask, processOwnerDeploysNewVersion, supervisorSeesActiveElement,
  supervisorCancelsOpenRevision, screenshotMainPages };
export { CHROMIUM_ARGS, closePage, loginAs, newPage, openSection, shot, todayShanghai, unavailable };

/** The supervisor's 刷新数据 (issue 20.3): recompute this month's materialized quality figures and wait until the
 * new ones are there (the dashboards read those; a change made a moment ago shows after the refresh). */
export async function refreshQualityFigures(page, period = new Date().toISOString().slice(0, 7)) {
  const url = `/api/v1/quality/aggregates?period=${period}`;
  const before = await (await page.request.get(url)).json();
  const csrf = (await page.context().cookies()).find((c) => c.name === 'ygt_csrf')?.value ?? '';
  const resp = await page.request.post(`/api/v1/quality/aggregates/refresh?period=${period}`,
    { headers: { 'X-CSRF-Token': csrf } });
  if (resp.status() !== 202) throw new Error(`quality refresh answered ${resp.status()}: ${await resp.text()}`);
  const until = Date.now() + 180_000;
  for (;;) {
    const now = await (await page.request.get(url)).json();
    if (now.refresh_status === 'done' && now.as_of && now.as_of !== before.as_of) return now;
    if (Date.now() > until) throw new Error('quality refresh did not finish in 3 minutes');
    await new Promise((r) => setTimeout(r, 500));
  }
}

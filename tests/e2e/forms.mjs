#!/usr/bin/env node
/**
 * Every form in `forms/` in the browser (issue 12.10): a process owner deploys a harness process with one user task
 * per form (the form files as they are), starts it, and for each task opens the task page twice: once with one
 * invalid field (the browser refuses it on that field and sends nothing; the server, asked directly, refuses the
 * same field with 422), once with valid data (submitted through the page, the server completes the task).
 * The data are `tests/fixtures/form_samples.json`, which the server's unit test and the UI's Vitest check too.
 *
 *   BASE_URL=http://127.0.0.1:5000 node tests/e2e/forms.mjs     # a server with `ygt migrate` and `ygt seed-demo`
 *
 * Also run by tests/e2e/run.mjs (make test-e2e).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { closePage, flows, loginAs } from './flows.mjs';

const OWNER = process.env.E2E_OWNER_USER ?? 'process_owner';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const PROCESS_ID = 'e2e_all_forms';
// a deployment takes at most 50 files (the server's limit): the forms go out in harness processes of CHUNK forms each
const CHUNK = 40;

export function formFiles() {
  const out = {};
  for (const dir of fs.readdirSync(path.join(root, 'forms')).sort()) {
    for (const name of fs.readdirSync(path.join(root, 'forms', dir)).sort()) {
      if (name.endsWith('.json')) out[`forms/${dir}/${name}`] = fs.readFileSync(path.join(root, 'forms', dir, name), 'utf8');
    }
  }
  return out;
}

export function formSamples() {
  return JSON.parse(fs.readFileSync(path.join(root, 'tests', 'fixtures', 'form_samples.json'), 'utf8'));
}

const esc = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
const taskIdOf = (rel) => `t_${rel.replace(/^forms\//, '').replace(/\.json$/, '').replace(/[^A-Za-z0-9]/g, '_')}`;

/** One user task per form, in a line, each naming its form file (laneless: offered to whoever started it). */
/** One small process per form (`<processId>_<n>`: start → the form's user task → end), all in one file. Each form
 * runs in an instance of its own: a form that takes a default from the process data (`x-default-from`, e.g.
 * enrol_case's icd10) must not pick up another form's answers, which would fill the field the harness leaves out. */
export function harnessBpmn(rels, processId = PROCESS_ID) {
  const processes = rels.map((rel, i) => {
    const id = taskIdOf(rel);
    return `<bpmn:process id="${processId}_${i}" name="表单 ${esc(rel)}（浏览器测试）" isExecutable="true">
<bpmn:startEvent id="start_${i}"/>
<bpmn:userTask id="${id}" name="${esc(rel)}"><bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formJsonSchemaFilename" value="${esc(rel)}"/></spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>
<bpmn:endEvent id="end_${i}"/>
<bpmn:sequenceFlow id="f0_${i}" sourceRef="start_${i}" targetRef="${id}"/>
<bpmn:sequenceFlow id="f1_${i}" sourceRef="${id}" targetRef="end_${i}"/>
</bpmn:process>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="e2e_forms_defs" targetNamespace="https://yigongti.dev/e2e">
${processes.join('\n')}
</bpmn:definitions>
`;
}

function withInvalid(sample) {
  const data = structuredClone(sample.valid);
  const parts = sample.invalid.field.split('.');
  let node = data;
  for (const part of parts.slice(0, -1)) node = node[part];
  const last = parts[parts.length - 1];
  if (sample.invalid.missing) delete node[last];
  else node[last] = sample.invalid.value;
  return data;
}

/** fetch() inside the page: the session cookie and the CSRF header as the UI sends them. */
export async function api(page, method, url, body, headers = {}) {
  return page.evaluate(async ({ method, url, body, headers }) => {
    const csrf = decodeURIComponent((document.cookie.match(/(?:^|; )ygt_csrf=([^;]*)/) ?? [])[1] ?? '');
    let payload;
    if (body && body.__files) {
      payload = new FormData();
      for (const [name, text] of Object.entries(body.__files)) payload.append('file', new File([text], name), name);
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers = { 'Content-Type': 'application/json', ...headers };
    }
    const r = await fetch(url, { method, body: payload, credentials: 'include', headers: { 'X-CSRF-Token': csrf, ...headers } });
    const text = await r.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: r.status, json, text: text.slice(0, 2000) };
  }, { method, url, body, headers });
}

async function openTaskOf(page, instanceId, processId) {
  for (const view of ['groups', 'mine']) {
    const r = await api(page, 'GET', `/api/v1/tasks?view=${view}&process_id=${processId}&per_page=100`);
    const items = (r.json?.items ?? r.json ?? []).filter((t) => String(t.instance_id) === String(instanceId));
    if (items.length) return items[0];
  }
  return null;
}

const fieldErrors = (page, field) => page.locator(`#root_${field.replace(/\./g, '_')}`).first()
  .locator('xpath=ancestor::div[contains(concat(" ", normalize-space(@class), " "), " form-group ")][1]').locator('.error-detail li');

/** Open the task page with `data` as its draft and press 完成并提交. */
async function submitThroughPage(page, task, data) {
  const draft = await api(page, 'PUT', `/api/v1/tasks/${task.id}/draft`, { data });
  assert.ok(draft.status < 300, `保存草稿失败 ${draft.status} ${draft.text}`);
  await page.goto(`/tasks/${task.id}`);
  await page.locator('.rjsf').waitFor();
  const completes = [];
  const onRequest = (r) => { if (r.method() === 'POST' && r.url().includes(`/api/v1/tasks/${task.id}/complete`)) completes.push(r); };
  page.on('request', onRequest);
  await page.locator('[data-testid=complete]').click();
  return { completes, stop: () => page.off('request', onRequest) };
}

export async function allFormsStory(ctx, samples) {
  const page = await loginAs(ctx, OWNER);
  const files = formFiles();
  const rels = Object.keys(files);
  assert.deepEqual(rels, Object.keys(samples).sort(), '每个表单都应有样例数据（tests/fixtures/form_samples.json）');
  for (let start = 0; start < rels.length; start += CHUNK) {
    await formsChunk(page, rels.slice(start, start + CHUNK), samples, `${PROCESS_ID}_${start / CHUNK + 1}`);
  }
  await closePage(page);
}

/** The harness has no business object behind a form: a form's server-side submit check (`x-submit-check`, e.g. the
 * contract a signature belongs to) is left out here; the process's own story (contracting.mjs) exercises it. */
function withoutSubmitCheck(text) {
  const form = JSON.parse(text);
  if (form.schema && 'x-submit-check' in form.schema) delete form.schema['x-submit-check'];
  return JSON.stringify(form);
}

async function formsChunk(page, rels, samples, processId) {
  const files = formFiles();
  const deployed = await api(page, 'POST', '/api/v1/process-definitions',
    { __files: { [`bpmn/${processId}.bpmn`]: harnessBpmn(rels, processId), ...Object.fromEntries(rels.map((r) => [r, withoutSubmitCheck(files[r])])) } });
  assert.ok([200, 201].includes(deployed.status), `部署失败 ${deployed.status} ${deployed.text}`);
  for (const [i, rel] of rels.entries()) {
    const sample = samples[rel];
    const started = await api(page, 'POST', '/api/v1/process-instances', { process_id: `${processId}_${i}` });
    assert.equal(started.status, 201, `${rel}: 启动失败 ${started.text}`);
    const instanceId = started.json.id;
    const task = await openTaskOf(page, instanceId, `${processId}_${i}`);
    assert.ok(task, `${rel}: 找不到待办任务`);
    assert.equal(task.element_id, taskIdOf(rel), `${rel}: 任务顺序不符`);

    // one invalid field: refused in the browser on that field, nothing sent; the server refuses the same field
    const bad = withInvalid(sample);
    const first = await submitThroughPage(page, task, bad);
    await fieldErrors(page, sample.invalid.field).first().waitFor({ timeout: 5000 }).catch(() => {
      throw new Error(`${rel}: 字段 ${sample.invalid.field} 上没有显示错误`);
    });
    await page.waitForTimeout(200);
    first.stop();
    assert.equal(first.completes.length, 0, `${rel}: 无效数据不应提交到服务器`);
    const detail = await api(page, 'GET', `/api/v1/tasks/${task.id}`);
    const refused = await api(page, 'POST', `/api/v1/tasks/${task.id}/complete`, { data: bad, completion_id: crypto.randomUUID() },
      detail.json?.etag ? { 'If-Match': detail.json.etag } : {});
    assert.equal(refused.status, 422, `${rel}: 服务器应拒绝无效数据 (${refused.status} ${refused.text})`);
    const serverFields = new Set((refused.json?.details?.errors ?? []).map((e) => e.field.replace(/^data\./, '')));
    assert.deepEqual([...serverFields], [sample.invalid.field], `${rel}: 服务器指出的字段应与浏览器一致`);

    // valid data: submitted through the page, completed by the server
    const second = await submitThroughPage(page, task, sample.valid);
    await page.waitForURL((u) => u.pathname.startsWith('/inbox'), { timeout: 10000 }).catch(async () => {
      const shown = await page.locator('.rjsf .error-detail li, [data-testid=form-notice], .rjsf .errors li').allInnerTexts();
      throw new Error(`${rel}: 有效数据未能提交：${shown.join('；')}`);
    });
    second.stop();
    assert.equal(second.completes.length, 1, `${rel}: 应提交一次`);
    const done = await api(page, 'GET', `/api/v1/tasks/${task.id}`);
    assert.equal(done.json?.status, 'completed', `${rel}: 任务应已完成`);
    const instance = await api(page, 'GET', `/api/v1/process-instances/${instanceId}`);
    assert.equal(instance.json?.status, 'completed', `${rel}: 表单提交后实例应已结束`);
  }
}

// run on its own: BASE_URL=… node tests/e2e/forms.mjs
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let ctx;
  before(async () => { ctx = await flows.start((process.env.BASE_URL ?? 'http://127.0.0.1:5000').replace(/\/$/, '')); });
  after(async () => { await ctx?.close(); });
  test('every form in forms/ opens and submits in the browser: valid data completes, one invalid field is refused on its field', async () => {
    await allFormsStory(ctx, formSamples());
  });
}

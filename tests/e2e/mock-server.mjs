#!/usr/bin/env node
/**
 * A contract-shaped stand-in for the platform API (shared/DESIGN.md "Contract", issue 3 inbox API), in memory,
 * serving ui/dist like Flask does. It exists so the UI can be developed and its browser tests exercised before
 * (or without) the real backend: `node tests/e2e/mock-server.mjs` → http://127.0.0.1:5174.
 * It is NOT the platform: the browser tests' real target is a live server with the demo seed (BASE_URL).
 */
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const dist = path.join(root, 'ui', 'dist');
const PORT = Number(process.env.MOCK_PORT ?? 5174);
const PASSWORD = 'demo12345';
const UI_ROUTES = [/^\/$/, /^\/inbox$/, /^\/tasks\/.+/, /^\/modeler/, /^\/instances/, /^\/residents/, /^\/dashboards/, /^\/login$/];

const iso = (msFromNow) => new Date(Date.now() + msFromNow).toISOString();
const DAY = 86400000;

const orgs = [
  { code: 'C001', name: '示范县人民医院', level: 'county', parent_code: null },
  { code: 'T01', name: '城关镇卫生院', level: 'township', parent_code: 'C001' },
  { code: 'V001', name: '张家村卫生室', level: 'village', parent_code: 'T01' },
];
const users = {
  village_doctor1: { id: 1, username: 'village_doctor1', display_name: '王村医', roles: ['village_doctor'], org: orgs[2] },
  process_owner: { id: 2, username: 'process_owner', display_name: '李流程', roles: ['process_owner'], org: orgs[0] },
  supervisor: { id: 3, username: 'supervisor', display_name: '赵监管', roles: ['supervisor'], org: orgs[0] },
};

const followUpForm = {
  schema: {
    type: 'object',
    title: '高血压随访',
    required: ['visit_on', 'sbp', 'dbp', 'symptoms'],
    properties: {
      visit_on: { type: 'string', format: 'date', title: '随访日期' },
      sbp: { type: 'integer', title: '收缩压 (mmHg)', minimum: 40, maximum: 300 },
      dbp: { type: 'integer', title: '舒张压 (mmHg)', minimum: 20, maximum: 200 },
      symptoms: { type: 'string', title: '症状', enum: ['无症状', '头痛头晕', '恶心呕吐', '胸闷心悸'] },
      adherence: { type: 'boolean', title: '规律服药' },
      note: { type: 'string', title: '备注' },
    },
  },
  ui_schema: { note: { 'ui:widget': 'textarea' }, symptoms: { 'ui:widget': 'radio' } },
};

const residents = [
  {
    id: 101, name: '张桂兰', sex: 'F', age: 67, birth_date: '1958-03-12', id_number: '330102195803121527', id_number_masked: '3301**********1527',
    phone: '13800000001', address: '张家村 3 组 12 号', village: '张家村', org_code: 'V001', org_name: '张家村卫生室',
    conditions: [{ code: 'I10', name: '高血压' }, { code: 'E11', name: '2型糖尿病' }],
    risk_levels: [{ disease: 'hypertension', level: 'HIGH', reasons: ['2级高血压', '合并糖尿病'], decided_at: iso(-20 * DAY) }],
    care_plan: { targets: { sbp: '<140', dbp: '<90', fpg: '<7.0' }, drugs: ['氨氯地平 5mg qd', '二甲双胍 0.5g bid'], follow_up_frequency: '每月一次', management_level: '强化管理' },
    follow_ups: [
      { at: iso(-60 * DAY), disease: 'hypertension', classification: '控制不满意', action: '调整用药_2周随访', by: '王村医' },
      { at: iso(-30 * DAY), disease: 'hypertension', classification: '控制满意', action: '常规随访', by: '王村医' },
    ],
    observations: [
      ...[158, 152, 149, 142, 138, 145].flatMap((v, i) => [
        { code: '8480-6', value: v, unit: 'mmHg', effective_at: iso((-150 + i * 30) * DAY), source: '随访' },
        { code: '8462-4', value: v - 62, unit: 'mmHg', effective_at: iso((-150 + i * 30) * DAY), source: '随访' },
      ]),
      ...[8.9, 8.1, 7.6, 7.2].map((v, i) => ({ code: '1558-6', value: v, unit: 'mmol/L', effective_at: iso((-120 + i * 40) * DAY), source: 'LIS' })),
    ],
    instances: [],
  },
  {
    id: 102, name: '李建国', sex: 'M', age: 58, birth_date: '1967-08-02', id_number: '330102196708023016', id_number_masked: '3301**********3016',
    phone: '13800000002', address: '张家村 1 组 5 号', village: '张家村', org_code: 'V001', org_name: '张家村卫生室',
    conditions: [{ code: 'I10', name: '高血压' }], risk_levels: [{ disease: 'hypertension', level: 'MODERATE', reasons: ['1级高血压', '吸烟'] }],
    care_plan: null, follow_ups: [], observations: [], instances: [],
  },
];
const resRef = (r) => ({ id: r.id, name: r.name, village_code: r.org_code });

let taskSeq = 1;
const tasks = [];
function addTask(t) {
  const task = { id: taskSeq++, status: 'ready', org_code: 'V001', org_name: '张家村卫生室', role: 'village_doctor', lane: 'village_doctor', priority: 3, overdue: false, created_at: iso(-2 * DAY), comments: [], draft: null, ...t };
  task.etag = `"${crypto.randomUUID()}"`;
  tasks.push(task);
  return task;
}
addTask({ name: '高血压随访', process_id: 'follow_up', bpmn_id: 'record_visit', instance_id: 2, assignee: 'village_doctor1', due_at: iso(3 * DAY), resident: resRef(residents[0]), disease: 'hypertension', risk_level: 'HIGH', form: followUpForm });
addTask({ name: '复测血压', process_id: 'screening', bpmn_id: 'verify_case', instance_id: 1, assignee: null, due_at: iso(-1 * DAY), overdue: true, priority: 1, resident: resRef(residents[1]), disease: 'hypertension', risk_level: 'MODERATE', form: followUpForm });
addTask({ name: '乡镇核实', process_id: 'screening', bpmn_id: 'verify_case', instance_id: 3, assignee: null, role: 'township_doctor', lane: 'township_doctor', org_code: 'T01', org_name: '城关镇卫生院', due_at: iso(5 * DAY), resident: resRef(residents[0]), disease: 'hypertension', risk_level: 'HIGH', form: followUpForm });

// the real models of the repository (bpmn/, dmn/, forms/): the mock serves what `ygt deploy` would deploy
const repo = path.resolve(here, '../..');
const definitions = {
  screening: { process_id: 'screening', name: '慢病筛查', versions: [{ version: 1, deployed_at: iso(-30 * DAY), deployed_by: 'process_owner', xml: fs.readFileSync(path.join(repo, 'bpmn', 'screening.bpmn'), 'utf8') }] },
};
const decisions = { bp_grade: { decision_id: 'bp_grade', name: '血压水平分类', version: 1, source: '中国高血压防治指南 2018 表 T01', xml: fs.readFileSync(path.join(repo, 'dmn', 'bp_grade.dmn'), 'utf8') } };
const forms = Object.fromEntries(fs.readdirSync(path.join(repo, 'forms', 'screening')).filter((f) => f.endsWith('.json')).map((f) => {
  const form = JSON.parse(fs.readFileSync(path.join(repo, 'forms', 'screening', f), 'utf8'));
  return [`screening/${f.slice(0, -'.json'.length)}`, { schema: form.schema, ui_schema: form.uiSchema ?? {} }];
}));

const instances = [
  { id: 1, process_id: 'screening', version: 1, status: 'waiting', business_key: 'SCR-2026-0001', resident_id: 102, resident_name: '李建国', org_code: 'V001', org_name: '张家村卫生室', started_at: iso(-3 * DAY), ended_at: null,
    error: null, diagram: { completed: ['case_flagged', 'to_verify'], active: ['verify_case'], error: [] },
    history: [{ at: iso(-3 * DAY), type: 'started', element_id: 'case_flagged', actor: 'system', data: { reason: '筛查规则标记' } }, { at: iso(-3 * DAY), type: 'task_created', element_id: 'verify_case', actor: 'system', data: null }] },
  { id: 3, process_id: 'screening', version: 1, status: 'error', business_key: 'SCR-2026-0002', resident_id: 101, resident_name: '张桂兰', org_code: 'V001', org_name: '张家村卫生室', started_at: iso(-6 * DAY), ended_at: null,
    error: { element_id: 'order_test', message: 'LIS 接口连接超时', line: null }, diagram: { completed: ['case_flagged', 'to_verify', 'verify_case', 'to_outcome'], active: [], error: ['order_test'] },
    history: [{ at: iso(-6 * DAY), type: 'started', element_id: 'case_flagged', actor: 'system', data: null }, { at: iso(-5 * DAY), type: 'task_completed', element_id: 'verify_case', actor: 'village_doctor1', data: { sbp: 150 } }, { at: iso(-5 * DAY), type: 'error', element_id: 'order_test', actor: 'system', data: { message: 'LIS 接口连接超时' } }] },
];
residents[0].instances = [instances[1]];
residents[1].instances = [instances[0]];

// --- HTTP plumbing ---------------------------------------------------------------------------------------------
const sessions = new Map(); // sid -> {username, csrf}

function send(res, status, body, headers = {}) {
  const isText = typeof body === 'string';
  res.writeHead(status, { 'Content-Type': isText ? 'application/xml; charset=utf-8' : 'application/json; charset=utf-8', ...headers });
  res.end(isText ? body : body === undefined ? '' : JSON.stringify(body));
}
const fail = (res, status, code, message, details = {}) => send(res, status, { code, message, details });

function cookies(req) {
  const out = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k) out[k] = decodeURIComponent(v.join('='));
  }
  return out;
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

function parseMultipart(buf, contentType) {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType)?.slice(1).find(Boolean);
  if (!boundary) return [];
  const text = buf.toString('latin1');
  const files = [];
  for (const part of text.split(`--${boundary}`)) {
    const idx = part.indexOf('\r\n\r\n');
    if (idx < 0) continue;
    const head = part.slice(0, idx);
    const name = /filename="([^"]*)"/.exec(head)?.[1];
    if (name === undefined) continue;
    const content = Buffer.from(part.slice(idx + 4).replace(/\r\n$/, ''), 'latin1').toString('utf8');
    files.push({ name, content });
  }
  return files;
}

function serveStatic(req, res, pathname) {
  const file = pathname.startsWith('/assets/') ? path.join(dist, pathname) : UI_ROUTES.some((r) => r.test(pathname)) ? path.join(dist, 'index.html') : null;
  if (!file || !file.startsWith(dist) || !fs.existsSync(file)) return fail(res, 404, 'not_found', 'The requested URL was not found on the server.');
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.eot': 'application/vnd.ms-fontobject' };
  res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
}

const userRef = (username) => (username && users[username] ? { id: users[username].id, username, display_name: users[username].display_name } : null);
const publicTask = (t) => {
  const { form, comments, draft, assignee, ...rest } = t;
  void form; void comments; void draft;
  return { ...rest, element_id: t.bpmn_id, assignee: userRef(assignee) };
};

function visibleTasks(user, view) {
  const open = tasks.filter((t) => t.status !== 'completed');
  if (view === 'mine') return open.filter((t) => t.assignee === user.username);
  if (view === 'groups') return open.filter((t) => !t.assignee && user.roles.includes(t.role));
  return open.filter((t) => t.org_code === user.org.code || user.org.level === 'county');
}

function validateFollowUp(data) {
  const errors = [];
  const s = followUpForm.schema;
  for (const f of s.required) if (data?.[f] === undefined || data?.[f] === '') errors.push({ field: f, message: '必填项' });
  for (const [f, p] of Object.entries(s.properties)) {
    const v = data?.[f];
    if (typeof v === 'number') {
      if (p.minimum !== undefined && v < p.minimum) errors.push({ field: f, message: `必须大于等于 ${p.minimum}` });
      if (p.maximum !== undefined && v > p.maximum) errors.push({ field: f, message: `必须小于等于 ${p.maximum}` });
    }
  }
  // A rule only the server knows: the diastolic must be below the systolic.
  if (typeof data?.sbp === 'number' && typeof data?.dbp === 'number' && data.dbp >= data.sbp) errors.push({ field: 'dbp', message: '舒张压必须小于收缩压' });
  return errors;
}

async function api(req, res, url, user) {
  const p = url.pathname.replace(/^\/api\/v1/, '');
  const m = req.method;
  const q = url.searchParams;
  let match;
  const json = async () => {
    const b = await readBody(req);
    try { return b.length ? JSON.parse(b.toString('utf8')) : {}; } catch { return {}; }
  };

  if (p === '/tasks/counts' && m === 'GET') {
    return send(res, 200, { mine: visibleTasks(user, 'mine').length, groups: visibleTasks(user, 'groups').length, org: visibleTasks(user, 'org').length, overdue: visibleTasks(user, 'mine').filter((t) => t.overdue).length });
  }
  if (p === '/tasks' && m === 'GET') {
    let items = visibleTasks(user, q.get('view') ?? 'mine');
    if (q.get('process_id')) items = items.filter((t) => t.process_id === q.get('process_id'));
    if (q.get('risk_level')) items = items.filter((t) => t.risk_level === q.get('risk_level'));
    if (q.get('overdue') === 'true') items = items.filter((t) => t.overdue);
    if (q.get('q')) items = items.filter((t) => t.name.includes(q.get('q')) || t.resident?.name.includes(q.get('q')));
    return send(res, 200, { items: items.map(publicTask), total: items.length });
  }
  if ((match = /^\/tasks\/(\d+)$/.exec(p)) && m === 'GET') {
    const t = tasks.find((x) => x.id === Number(match[1]));
    if (!t) return fail(res, 404, 'not_found', '任务不存在');
    const r = residents.find((x) => x.id === t.resident?.id);
    const mine = t.assignee === user.username;
    const candidate = !t.assignee && user.roles.includes(t.role);
    const can = { claim: t.status !== 'completed' && candidate, unclaim: mine, complete: t.status !== 'completed' && (mine || candidate), assign: false, delegate: mine, return: false };
    return send(res, 200, { ...publicTask(t), can, candidates: [userRef('village_doctor1')], form: { ...t.form, data: {} }, draft: t.draft, instructions: '请在非同日复测血压并如实记录。', resident_summary: r ? { id: r.id, name: r.name, sex: r.sex, age: r.age, village: r.village, conditions: r.conditions.map((c) => c.name), risk_levels: r.risk_levels, latest_bp: { sbp: 145, dbp: 83, at: iso(-30 * DAY) } } : null });
  }
  if ((match = /^\/tasks\/(\d+)\/(claim|unclaim|draft|complete|comments|delegate)$/.exec(p))) {
    const t = tasks.find((x) => x.id === Number(match[1]));
    if (!t) return fail(res, 404, 'not_found', '任务不存在');
    const action = match[2];
    if (action === 'claim' && m === 'POST') {
      if (t.assignee && t.assignee !== user.username) return fail(res, 409, 'already_claimed', '任务已被他人领取');
      t.assignee = user.username;
      return send(res, 200, publicTask(t));
    }
    if (action === 'unclaim' && m === 'POST') { t.assignee = null; return send(res, 200, publicTask(t)); }
    if (action === 'draft' && m === 'PUT') { t.draft = (await json()).data ?? null; return send(res, 200, { saved_at: new Date().toISOString() }); }
    if (action === 'comments' && m === 'GET') return send(res, 200, { items: t.comments, total: t.comments.length });
    if (action === 'comments' && m === 'POST') {
      const c = { id: t.comments.length + 1, author: user.username, author_name: user.display_name, body: (await json()).body, created_at: new Date().toISOString() };
      t.comments.push(c);
      return send(res, 201, c);
    }
    if (action === 'delegate' && m === 'POST') {
      const to = (await json()).to_username;
      if (!users[to]) return fail(res, 422, 'validation_error', '用户不存在', { errors: [{ field: 'to_username', message: '用户不存在' }] });
      t.assignee = to;
      return send(res, 200, publicTask(t));
    }
    if (action === 'complete' && m === 'POST') {
      if (t.status === 'completed') return fail(res, 409, 'task_already_completed', '任务已完成');
      if (t.assignee && t.assignee !== user.username) return fail(res, 409, 'task_reassigned', '任务不在您名下');
      if (req.headers['if-match'] && req.headers['if-match'] !== t.etag) return fail(res, 409, 'definition_changed', '任务已变化');
      const body = await json();
      if (!body.completion_id) return fail(res, 422, 'validation_error', '缺少 completion_id');
      const errors = validateFollowUp(body.data);
      if (errors.length) return fail(res, 422, 'form_invalid', '表单数据有误 (form data invalid)', { errors });
      t.status = 'completed';
      return send(res, 200, { id: t.id, status: 'completed' });
    }
  }
  if (p === '/process-definitions' && m === 'GET') {
    const items = Object.values(definitions).map((d) => ({ process_id: d.process_id, name: d.name, latest_version: d.versions.at(-1).version, versions: d.versions.map(({ xml, ...v }) => (void xml, v)) }));
    return send(res, 200, { items, total: items.length });
  }
  if (p === '/process-definitions' && m === 'POST') {
    if (!user.roles.includes('process_owner')) return fail(res, 403, 'forbidden', '没有权限');
    const files = parseMultipart(await readBody(req), req.headers['content-type'] ?? '');
    const deployed = [];
    for (const f of files) {
      if (f.name.endsWith('.bpmn')) {
        const id = /<bpmn:process id="([^"]+)"/.exec(f.content)?.[1];
        if (!id) return fail(res, 422, 'invalid_definition', '[x] 没有流程', { file: f.name, element_id: null, reason: 'no process' });
        const bad = /id="((?:Activity|Gateway|Event)_[0-9a-z]{7})"/.exec(f.content);
        if (bad) return fail(res, 422, 'invalid_definition', `<${bad[1]}> 编号是建模器默认值`, { file: f.name, element_id: bad[1], reason: '编号是建模器默认值 (modeler default id)' });
        for (const fm of f.content.matchAll(/name="formJsonSchemaFilename" value="([^"]+)"/g)) {
          if (!files.some((x) => x.name === fm[1])) return fail(res, 422, 'invalid_definition', `form file '${fm[1]}' not provided`, { file: f.name, element_id: null, reason: `form file '${fm[1]}' not provided` });
        }
        const d = (definitions[id] ??= { process_id: id, name: id, versions: [] });
        const last = d.versions.at(-1);
        if (last && last.xml === f.content) deployed.push({ process_id: id, version: last.version, changed: false });
        else {
          const version = (last?.version ?? 0) + 1;
          d.versions.push({ version, deployed_at: new Date().toISOString(), deployed_by: user.username, xml: f.content });
          deployed.push({ process_id: id, version, changed: true });
        }
      }
    }
    await new Promise((r) => setTimeout(r, 300));
    return send(res, 201, { deployment_id: 1, deployed, decisions: [] });
  }
  if ((match = /^\/process-definitions\/([^/]+)\/versions\/(\d+)\/xml$/.exec(p))) {
    const v = definitions[match[1]]?.versions.find((x) => x.version === Number(match[2]));
    return v ? send(res, 200, v.xml) : fail(res, 404, 'not_found', '流程版本不存在');
  }
  if ((match = /^\/process-definitions\/([^/]+)\/versions\/(\d+)\/forms$/.exec(p))) return send(res, 200, forms);
  if ((match = /^\/process-definitions\/([^/]+)\/stats$/.exec(p))) return send(res, 200, { process_id: match[1], elements: { verify_case: 12, enrol_case: 4, order_test: 0 }, errors: { order_test: 1 } });
  if (p === '/process-instances/stats') return send(res, 200, { by_status: { waiting: 16, running: 3, completed: 40, error: 1 }, by_process: { screening: { waiting: 12, completed: 30, error: 1 }, follow_up: { waiting: 4, running: 3, completed: 10 } } });
  if (p === '/process-instances' && m === 'GET') {
    let items = instances;
    if (q.get('status')) items = items.filter((i) => i.status === q.get('status'));
    if (q.get('process_id')) items = items.filter((i) => i.process_id === q.get('process_id'));
    return send(res, 200, { items: items.map(({ history, diagram, ...i }) => (void history, void diagram, i)), total: items.length });
  }
  if ((match = /^\/process-instances\/(\d+)$/.exec(p))) {
    const i = instances.find((x) => x.id === Number(match[1]));
    if (!i) return fail(res, 404, 'not_found', '流程实例不存在');
    return send(res, 200, { ...i, open_tasks: tasks.filter((t) => t.instance_id === i.id && t.status !== 'completed').map(publicTask) });
  }
  if ((match = /^\/process-instances\/(\d+)\/(suspend|resume|terminate|retry)$/.exec(p)) && m === 'POST') {
    const i = instances.find((x) => x.id === Number(match[1]));
    i.status = { suspend: 'suspended', resume: 'waiting', terminate: 'terminated', retry: 'waiting' }[match[2]];
    i.history.push({ at: new Date().toISOString(), type: match[2] === 'retry' ? 'retried' : match[2] === 'suspend' ? 'suspended' : match[2] === 'resume' ? 'resumed' : 'terminated', element_id: null, actor: user.username, data: null });
    return send(res, 200, i);
  }
  if (p === '/decisions' && m === 'GET') return send(res, 200, { items: Object.values(decisions).map(({ xml, ...d }) => (void xml, d)), total: 1 });
  if ((match = /^\/decisions\/([^/]+)\/xml$/.exec(p))) return decisions[match[1]] ? send(res, 200, decisions[match[1]].xml) : fail(res, 404, 'not_found', '决策不存在');
  if ((match = /^\/decisions\/([^/]+)\/evaluate$/.exec(p)) && m === 'POST') {
    const { inputs } = await json();
    if (typeof inputs?.sbp !== 'number') return fail(res, 422, 'invalid_input', '缺少输入 sbp', { field: 'sbp' });
    const rule = inputs.sbp >= 180 ? ['r_g3', 1, 'G3'] : inputs.sbp >= 160 ? ['r_g2', 2, 'G2'] : inputs.sbp >= 140 ? ['r_g1', 3, 'G1'] : ['r_normal', 4, 'NORMAL'];
    return send(res, 200, { decision_id: match[1], outputs: { bp_grade: rule[2] }, trace: [{ decision_id: match[1], table: 'T01', rule_id: rule[0], rule_index: rule[1] }] });
  }
  if ((match = /^\/decisions\/([^/]+)\/cases\/run$/.exec(p)) && m === 'POST') {
    return send(res, 200, { passed: 2, failed: 1, results: [{ name: 'sbp 185 → G3', passed: true }, { name: 'sbp 165 → G2', passed: true }, { name: 'sbp 130/85 → NORMAL_HIGH', passed: false, diff: { bp_grade: { expected: 'NORMAL_HIGH', got: 'NORMAL' } } }] });
  }
  if (p === '/decisions/validate' && m === 'POST') return send(res, 200, { valid: true });
  if (p === '/residents' && m === 'GET') {
    const term = q.get('q') ?? '';
    const items = residents.filter((r) => !term || r.name.includes(term) || r.id_number.includes(term)).map(({ id_number, observations, follow_ups, care_plan, instances: _i, ...r }) => (void id_number, void observations, void follow_ups, void care_plan, void _i, r));
    return send(res, 200, { items, total: items.length });
  }
  if ((match = /^\/residents\/(\d+)$/.exec(p))) {
    const r = residents.find((x) => x.id === Number(match[1]));
    return r ? send(res, 200, r) : fail(res, 404, 'not_found', '居民不存在');
  }
  if (p === '/organizations') return send(res, 200, orgs);
  if (p === '/referrals' && m === 'GET') return send(res, 200, { items: [], total: 0 });
  return fail(res, 404, 'not_found', 'The requested URL was not found on the server.');
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  try {
    if (!url.pathname.startsWith('/api/')) return serveStatic(req, res, url.pathname);
    const c = cookies(req);
    // the platform's vocabulary (public): the snapshot the UI unit tests use
    if (url.pathname === '/api/v1/vocabulary') return send(res, 200, JSON.parse(fs.readFileSync(path.join(root, 'ui', 'src', 'test', 'vocabulary.json'), 'utf8')));
    if (url.pathname === '/api/v1/auth/login' && req.method === 'POST') {
      const b = JSON.parse((await readBody(req)).toString('utf8') || '{}');
      const u = users[b.username];
      if (!u || b.password !== PASSWORD) return fail(res, 401, 'invalid_credentials', '用户名或密码错误 (invalid credentials)');
      const sid = crypto.randomUUID();
      const csrf = crypto.randomUUID();
      sessions.set(sid, { username: u.username, csrf });
      return send(res, 200, { ...u, csrf_token: csrf }, { 'Set-Cookie': [`ygt_session=${sid}; Path=/; HttpOnly; SameSite=Lax`, `ygt_csrf=${csrf}; Path=/; SameSite=Lax`] });
    }
    const session = sessions.get(c.ygt_session);
    if (!session) return fail(res, 401, 'unauthorized', '请先登录 (login required)');
    if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method) && req.headers['x-csrf-token'] !== session.csrf) return fail(res, 403, 'csrf_failed', 'CSRF 校验失败 (csrf token missing or wrong)');
    if (url.pathname === '/api/v1/auth/logout') {
      sessions.delete(c.ygt_session);
      res.writeHead(204, { 'Set-Cookie': 'ygt_session=; Path=/; Max-Age=0' });
      return res.end();
    }
    if (url.pathname === '/api/v1/auth/me') return send(res, 200, users[session.username]);
    return await api(req, res, url, users[session.username]);
  } catch (e) {
    console.error(e);
    return fail(res, 500, 'internal_error', '服务器内部错误 (internal error)');
  }
});

server.listen(PORT, '127.0.0.1', () => console.log(`mock platform API + UI on http://127.0.0.1:${PORT}`));
export default server;

/**
 * What the pharmacy-side stories share: a valid resident id number, JSON calls with the page's session (CSRF token
 * included), a registered HIS client (tests/e2e/his_client.py) and its signed webhooks (Standard Webhooks HMAC), and
 * waiting for a process's task to reach a user's inbox.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** A random 18-digit 居民身份证号 with a valid check digit (GB 11643). */
export function idNumber() {
  const rand = (n) => Math.floor(Math.random() * n);
  const body = `33012719490${1 + rand(9)}${String(10 + rand(18))}` + String(rand(100)).padStart(2, '0') + '13579'[rand(5)];
  const sum = [...body].reduce((acc, d, i) => acc + Number(d) * WEIGHTS[i], 0);
  return body + '10X98765432'[sum % 11];
}

/** `{status, body}` of a call made with the page's logged-in session. */
export async function api(page, method, url, data) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'ygt_csrf')?.value ?? '';
  const r = await page.request.fetch(url, { method, data, headers: { 'X-CSRF-Token': csrf } });
  const type = r.headers()['content-type'] ?? '';
  return { status: r.status(), body: type.includes('json') ? await r.json() : await r.text() };
}

/** A webhook client for the county HIS named `label` (made by the server's own CLI). */
export function hisClient(label) {
  const py = process.env.E2E_PYTHON ?? path.join(here, '..', '..', '.venv', 'bin', 'python');
  return JSON.parse(execFileSync(py, [path.join(here, 'his_client.py'), label], { cwd: path.join(here, '..', '..') }).toString().trim().split('\n').pop());
}

/** POST a signed webhook message as that client. */
export async function webhook(base, client, message, payload) {
  const body = JSON.stringify(payload);
  const id = `e2e-${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const key = Buffer.from(client.secret.replace(/^whsec_/, ''), 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  const r = await fetch(`${base}/api/v1/webhooks/messages/${message}`, {
    method: 'POST', body,
    headers: { 'Content-Type': 'application/json', 'X-Client-Id': client.client_id, 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': `v1,${sig}` },
  });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}

/** The open `elementId` task of the instance in the page user's inbox views, waiting up to `tries` × 250 ms. */
export async function openTask(page, processId, instanceId, elementId, { views = ['mine', 'groups', 'org'], tries = 40 } = {}) {
  for (let i = 0; i < tries; i += 1) {
    for (const view of views) {
      const { body } = await api(page, 'GET', `/api/v1/tasks?view=${view}&process_id=${processId}&element_id=${elementId}&per_page=200`);
      const task = (body.items ?? []).find((t) => t.instance_id === instanceId);
      if (task) return task;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no open ${elementId} task for instance ${instanceId}`);
}

/** Claim (if not yet) and complete a task with `data`. */
export async function complete(page, taskId, data) {
  const claimed = await api(page, 'POST', `/api/v1/tasks/${taskId}/claim`);
  assert.ok([200, 409].includes(claimed.status), JSON.stringify(claimed.body));
  const done = await api(page, 'POST', `/api/v1/tasks/${taskId}/complete`, { data });
  assert.equal(done.status, 200, JSON.stringify(done.body));
}

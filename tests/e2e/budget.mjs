/**
 * Issue 22.3 performance budget for the village doctor's phone: the follow-up task page (/tasks/:id).
 *
 *  - initial JS ≤ 200 KB compressed: every script the page loads until it is interactive, counted as the bytes the
 *    server sent (brotli/gzip as negotiated by Chromium), on a cold cache;
 *  - interactive ≤ 5 s on emulated Slow 3G (Chromium DevTools' preset through CDP Network.emulateNetworkConditions:
 *    2,000 ms latency per request, 50,000 B/s down and up): a doctor who has used the app before (its hashed assets
 *    are in the HTTP cache, index.html is revalidated) opens a follow-up task; interactive = the form's fields and
 *    the 完成 button are on screen and enabled; the median of three such loads is asserted.
 *
 * The cold-cache Slow 3G time is measured and reported as well (docs/ui.md), not asserted: at 2 s per request and
 * 50 KB/s no first visit of any single-page app meets 5 s (the HTML alone takes > 2 s).
 * Figures go to stdout (`budget: …`) and, with BUDGET_JSON=<file>, into a JSON file.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { closePage, loginAs, newPage } from './flows.mjs';

const VILLAGE = process.env.E2E_VILLAGE_USER ?? 'village_doctor1';
const PASSWORD = process.env.E2E_PASSWORD ?? 'demo12345';
export const BUDGET = { initialJsBytes: 200 * 1024, interactiveMs: 5000 };
// Chromium DevTools "Slow 3G" (the same preset in Puppeteer's PredefinedNetworkConditions)
export const SLOW_3G = { offline: false, latency: 2000, downloadThroughput: 50000, uploadThroughput: 50000 };

/** A follow-up visit task the doctor holds (or can claim). */
async function followUpTaskId(page) {
  for (const view of ['mine', 'groups']) {
    const r = await page.request.get(`/api/v1/tasks?view=${view}&process_id=follow_up&per_page=50`);
    if (!r.ok()) continue;
    const body = await r.json();
    const task = (body.items ?? body).find((x) => /^record_(htn|dm)_visit/.test(x.element_id ?? ''));
    if (task) {
      if (view === 'groups') await page.request.post(`/api/v1/tasks/${task.id}/claim`);
      return String(task.id);
    }
  }
  return null;
}

/** In every page of the context: the moment (ms from the navigation's start) the task form is first usable. */
const WATCH_INTERACTIVE = () => {
  const ready = () => {
    const button = document.querySelector('[data-testid=complete]');
    return button && !button.disabled && document.querySelector('form input, form select');
  };
  const observer = new MutationObserver(() => {
    if (window.__ygtInteractive === undefined && ready()) {
      window.__ygtInteractive = performance.now();
      observer.disconnect();
    }
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['disabled'] });
};

/** Open `path` in `page` under `conditions`; the scripts and bytes it loaded and the time until the form is usable. */
async function openMeasured(page, path, conditions) {
  if (!page.context().watching) {
    await page.context().addInitScript(WATCH_INTERACTIVE);
    page.context().watching = true;
  }
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const scripts = new Map();
  let total = 0;
  cdp.on('Network.responseReceived', (e) => {
    if (e.type === 'Script') scripts.set(e.requestId, { url: e.response.url, encoding: e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? '', bytes: 0, cached: e.response.fromDiskCache || e.response.fromMemoryCache });
  });
  cdp.on('Network.loadingFinished', (e) => {
    total += e.encodedDataLength;
    const s = scripts.get(e.requestId);
    if (s) s.bytes = e.encodedDataLength;
  });
  if (conditions) await cdp.send('Network.emulateNetworkConditions', conditions);
  await page.goto(path, { waitUntil: 'commit', timeout: 120000 });
  await page.waitForFunction(() => window.__ygtInteractive !== undefined, null, { timeout: 120000, polling: 200 });
  // measured inside the page from the navigation's start (performance.timeOrigin), not by the test's polling
  const interactiveMs = Math.round(await page.evaluate(() => window.__ygtInteractive));
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const list = [...scripts.values()];
  const jsBytes = list.reduce((n, s) => n + s.bytes, 0);
  await cdp.detach();
  return { interactiveMs, jsBytes, transferred: total, scripts: list };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

export async function budgetStory(ctx, t) {
  const page = await loginAs(ctx, VILLAGE, { phone: true });
  const id = await followUpTaskId(page);
  await closePage(page);
  if (!id) return void t?.skip('演示数据中村医没有随访任务');
  const path = `/tasks/${id}`;

  // cold: a fresh phone context, signed in through the API (the login page is not part of the task route)
  const cold = await newPage(ctx, { phone: true });
  const r = await cold.request.post('/api/v1/auth/login', { data: { username: VILLAGE, password: PASSWORD } });
  assert.ok(r.ok(), `登录失败 ${r.status()}`);
  const coldFast = await openMeasured(cold, path, null);
  await closePage(cold);

  const slow = await newPage(ctx, { phone: true });
  await slow.request.post('/api/v1/auth/login', { data: { username: VILLAGE, password: PASSWORD } });
  const coldSlow = await openMeasured(slow, path, SLOW_3G);
  // warm: the same phone opens the task again (hashed assets from its cache, index.html revalidated); three times,
  // the median counts (the network is emulated exactly; the CPU of a shared CI machine is not)
  const warmRuns = [];
  for (let i = 0; i < 3; i += 1) {
    await slow.goto('/inbox');
    await slow.locator('[data-testid=task-list], .state-empty').first().waitFor();
    warmRuns.push(await openMeasured(slow, path, SLOW_3G));
  }
  await closePage(slow);
  const warmSlow = [...warmRuns].sort((a, b) => a.interactiveMs - b.interactiveMs)[1];

  const figures = {
    route: '/tasks/:id (follow-up visit, phone 390x844)',
    initial_js_compressed_bytes: coldFast.jsBytes,
    initial_js_files: coldFast.scripts.map((s) => `${s.url.replace(/^.*\/assets\//, '')} ${s.encoding || 'identity'} ${s.bytes}`),
    cold_transferred_bytes: coldFast.transferred,
    cold_slow3g_interactive_ms: coldSlow.interactiveMs,
    warm_slow3g_interactive_ms: warmSlow.interactiveMs,
    warm_slow3g_runs_ms: warmRuns.map((r) => r.interactiveMs),
    warm_slow3g_transferred_bytes: warmSlow.transferred,
  };
  console.log(`budget: initial JS ${kb(figures.initial_js_compressed_bytes)} compressed (budget ${kb(BUDGET.initialJsBytes)}), ` +
    `cold transfer ${kb(figures.cold_transferred_bytes)}; Slow 3G interactive: warm ${figures.warm_slow3g_interactive_ms} ms ` +
    `(median of ${figures.warm_slow3g_runs_ms.join('/')}; budget ${BUDGET.interactiveMs} ms), cold ${figures.cold_slow3g_interactive_ms} ms`);
  for (const f of figures.initial_js_files) console.log(`budget:   ${f}`);
  if (process.env.BUDGET_JSON) fs.writeFileSync(process.env.BUDGET_JSON, JSON.stringify(figures, null, 1));
  if (process.env.BUDGET_MEASURE_ONLY === '1') return figures;
  assert.ok(coldFast.scripts.every((s) => s.encoding === 'br' || s.encoding === 'gzip'), '脚本应压缩传输');
  assert.ok(figures.initial_js_compressed_bytes <= BUDGET.initialJsBytes,
    `随访任务页首屏脚本 ${kb(figures.initial_js_compressed_bytes)} 超出预算 ${kb(BUDGET.initialJsBytes)}`);
  assert.ok(figures.warm_slow3g_interactive_ms <= BUDGET.interactiveMs,
    `Slow 3G 下随访任务页 ${figures.warm_slow3g_interactive_ms} ms 才可操作，超出预算 ${BUDGET.interactiveMs} ms`);
  return figures;
}

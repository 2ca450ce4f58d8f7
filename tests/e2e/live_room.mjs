/** Issue 17.2/17.3 in the browser: a village doctor (phone) and the county cardiologist (desktop) open the same live
 * room; with Chromium's fake camera each sees the other's video (frames decoded: videoWidth > 0) over WebRTC
 * signalled through the platform; a simulated monitor posts vitals through POST /fhir once a second and they show
 * on both sides within 5 s; SpO2 88 % raises the alarm banner on both; the room closes and both pages say so and
 * the stream answers 403. Run alone: E2E_ONLY=实时会诊 python tests/e2e/live.py */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, closePage, loginAs, shot } from './flows.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const { chromium } = createRequire(path.join(root, 'ui', 'package.json'))('playwright-core');
const DOCTOR = process.env.E2E_VILLAGE_USER ?? 'village_doctor1';
const EXPERT = process.env.E2E_EXPERT_USER ?? 'specialist_cardio';
const FAKE_MEDIA = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

function setup(...args) {
  const py = process.env.E2E_PYTHON ?? path.join(root, '.venv', 'bin', 'python');
  const out = execFileSync(py, [path.join(here, 'live_room_setup.py'), ...args], { cwd: root }).toString().trim();
  return JSON.parse(out.split('\n').pop());
}

const LOINC = { hr: ['8867-4', '/min'], spo2: ['59408-5', '%'], sbp: ['8480-6', 'mm[Hg]'], dbp: ['8462-4', 'mm[Hg]'], rr: ['9279-1', '/min'], temp: ['8310-5', 'Cel'] };

/** One second of the simulated monitor: a transaction Bundle of Observations to POST /fhir. */
async function postVitals(base, room, values, n) {
  const at = new Date().toISOString();
  const key = `${room.device}-${Date.now()}-${n}`;
  const bundle = {
    resourceType: 'Bundle', type: 'transaction', id: key,
    entry: Object.entries(values).map(([ch, value]) => ({
      fullUrl: `urn:uuid:${key}-${ch}`, request: { method: 'POST', url: 'Observation' },
      resource: {
        resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: LOINC[ch][0] }] },
        subject: { reference: `Patient/${room.resident_id}` }, device: { reference: `Device/${room.device}` },
        effectiveDateTime: at, valueQuantity: { value, unit: LOINC[ch][1], system: 'http://unitsofmeasure.org' },
      },
    })),
  };
  const r = await fetch(`${base}/fhir`, { method: 'POST', headers: { Authorization: `Bearer ${room.token}`, 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
  return r.status;
}

async function remoteFrames(page) {
  await page.waitForFunction(() => {
    const v = document.querySelector('[data-testid=remote-video]');
    return v && v.videoWidth > 0 && v.readyState >= 2;
  }, null, { timeout: 30000 });
  return page.locator('[data-testid=remote-video]').evaluate((v) => v.videoWidth);
}

export async function liveRoomStory(ctx) {
  const ref = Date.now() % 1_000_000;
  const room = setup('open', String(ref), DOCTOR, EXPERT);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS, ...FAKE_MEDIA] });
  let monitor = null;
  let monitorState = { stop: false };
  try {
    const doctor = await loginAs(ctx, DOCTOR, { phone: true, browser });
    const expert = await loginAs(ctx, EXPERT, { browser });
    const url = `/live/${room.kind}/${room.ref}`;
    for (const page of [doctor, expert]) {
      await page.goto(url);
      await page.getByRole('heading', { name: '浏览器测试：实时会诊' }).waitFor();
      await page.locator('[data-testid=vitals-status]', { hasText: '实时' }).waitFor();
    }

    // video: both join; each decodes the other's fake-camera frames
    await doctor.getByTestId('join-video').click();
    await expert.getByTestId('join-video').click();
    assert.ok((await remoteFrames(doctor)) > 0, 'doctor sees the expert');
    assert.ok((await remoteFrames(expert)) > 0, 'expert sees the doctor');
    await doctor.locator('[data-testid=peer-state]', { hasText: '已连接' }).waitFor();

    // vitals: a monitor posting once a second (never two at once, as a gateway would); the time a value is shown
    // on both sides is counted from the start of the POST that carried it
    let n = 0;
    monitorState = { values: { hr: 86, spo2: 96, sbp: 128, dbp: 80, rr: 17, temp: 36.8 }, posted: new Map(), statuses: [], stop: false };
    monitor = (async () => {
      while (!monitorState.stop) {
        const started = Date.now();
        const values = monitorState.values;
        if (!monitorState.posted.has(values)) monitorState.posted.set(values, started);
        const status = await postVitals(ctx.base, room, values, n++);
        monitorState.statuses.push([status, Date.now() - started]);
        await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - started))));
      }
    })();
    const shownOnBoth = async (what, selector, text) => {
      const values = monitorState.values;
      await Promise.all([doctor, expert].map((page) => page.locator(selector, { hasText: text }).waitFor({ timeout: 8000 })));
      const elapsed = Date.now() - monitorState.posted.get(values);
      console.log(`${what} on both sides ${elapsed} ms after the monitor posted it (POST status, ms: ${JSON.stringify(monitorState.statuses.slice(-4))})`);
      assert.ok(elapsed < 5000, `${what} shown after ${elapsed} ms`);
    };
    await shownOnBoth('vitals', '[data-testid=vital-hr-value]', '86');
    assert.ok(monitorState.statuses.every(([status]) => status === 200), JSON.stringify(monitorState.statuses));
    assert.equal(await doctor.locator('[data-testid=vitals-alarm]').count(), 0);

    // SpO2 88 %: the alarm banner on both sides, within 5 s
    monitorState.values = { ...monitorState.values, spo2: 88 };
    await shownOnBoth('alarm banner', '[data-testid=vitals-alarm]', '血氧饱和度');
    for (const page of [doctor, expert]) {
      assert.match(await page.locator('[data-testid=vitals-alarm]').first().innerText(), /88%.*<90/);
    }
    await doctor.locator('[data-testid=alarm-log]').count();
    await shot(doctor, 'live-room-phone');
    await shot(expert, 'live-room');

    // the phone loses its network for a moment: the room stays open and the picture comes back
    await doctor.context().setOffline(true);
    await doctor.waitForTimeout(1500);
    await doctor.context().setOffline(false);
    await doctor.locator('[data-testid=vitals-status]', { hasText: '实时' }).waitFor({ timeout: 15000 });
    assert.ok((await remoteFrames(doctor)) > 0, 'video back after the network returned');

    // the room closes: vitals refused (403), both pages say so, the stream answers 403
    monitorState.stop = true;
    await monitor;
    monitor = null;
    setup('close', String(room.ref));
    assert.equal(await postVitals(ctx.base, room, monitorState.values, n++), 403);
    for (const page of [doctor, expert]) {
      await page.locator('[data-testid=vitals-status]', { hasText: '会诊已结束' }).waitFor({ timeout: 10000 });
      const stream = await page.request.get(`/api/v1/live/rooms/${room.kind}/${room.ref}/stream`);
      assert.equal(stream.status(), 403);
    }
    for (const page of [doctor, expert]) {
      await closePage(page);
    }
  } finally {
    monitorState.stop = true;
    await browser.close();
  }
}

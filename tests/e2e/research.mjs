/**
 * Research extraction (科研数据, issue 20.7) in the browser, against the live demo server, on a 390x844 phone:
 *  1. the researcher (科研人员) opens 科研数据, builds a hypertension cohort in Chinese (病种 高血压, 年龄 ≥ 35, dates
 *     generalised to month), previews its size (a number only, no rows), adds 收缩压 末次值, saves and submits;
 *  2. the data/ethics committee votes: the supervisor (chair) and the endocrinologist each get their own vote task and
 *     vote 同意 with an opinion; the project page shows both votes and the result (委员会表决, rule R13-2); the
 *     发布前核查 task states the extract's k-anonymity and l-diversity, the project page shows k, l and the
 *     suppression; the supervisor releases it;
 *  3. the researcher downloads the CSV: a 研究编号 column, no resident's name and no ID number in it; the downloads
 *     left drop from 3 to 2 and the download is in the log;
 *  4. no raw codes on the pages, every button a ≥ 44 px tap target.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { closePage, loginAs, shot } from './flows.mjs';

async function api(page, method, url, data) {
  const csrf = (await page.context().cookies()).find((c) => c.name === 'ygt_csrf')?.value ?? '';
  const r = await page.request.fetch(url, { method, data, headers: { 'X-CSRF-Token': csrf } });
  return { status: r.status(), body: await r.json().catch(() => null) };
}

async function noRawCodes(page, where) {
  const text = await page.locator('main, .page').first().innerText();
  for (const raw of ['htn', 'pending_release', 'changes_requested', 'obs_last', '8480-6', 'age_band', 'research_extract']) {
    assert.ok(!text.includes(raw), `${where} 不应显示代码 ${raw}`);
  }
}

async function tapTargets(page, where) {
  const small = await page.locator('.page button:visible').evaluateAll((els) => els
    .map((e) => ({ t: e.textContent.trim(), h: e.getBoundingClientRect().height }))
    .filter((b) => b.h > 0 && b.h < 44));
  assert.deepEqual(small, [], `${where} 的按钮应不小于 44px`);
}

async function completeInInbox(page, instanceId, elementId, fill) {
  const ours = (x) => x.element_id === elementId && x.instance_id === instanceId;
  let task;
  for (let i = 0; i < 30 && !task; i += 1) {
    for (const view of ['mine', 'groups', 'org']) {
      const { body } = await api(page, 'GET', `/api/v1/tasks?view=${view}&process_id=research_extract&per_page=50`);
      task = task ?? body?.items?.find(ours);
    }
    if (!task) await page.waitForTimeout(1000);
  }
  assert.ok(task, `收件箱中应有任务 ${elementId}`);
  const me = (await api(page, 'GET', '/api/v1/auth/me')).body;
  if (task.assignee?.id !== me?.id) await api(page, 'POST', `/api/v1/tasks/${task.id}/claim`);
  await page.goto(`/tasks/${task.id}`);
  await page.locator('[data-testid=task-name]').waitFor();
  const text = await page.locator('main, .page').first().innerText();
  await fill(page);
  await page.locator('[data-testid=complete]').click();
  const left = await page.waitForURL((u) => !u.pathname.startsWith(`/tasks/${task.id}`), { timeout: 20000 }).then(() => true, () => false);
  if (!left) {
    await shot(page, `research-${elementId}-stuck`);
    throw new Error(`任务 ${elementId} 未能完成：${(await page.locator('main, .page').first().innerText()).slice(0, 3000)}`);
  }
  return text;
}

async function waitStatus(page, id, status, ms = 60000) {
  const until = Date.now() + ms;
  let last = '';
  while (Date.now() < until) {
    const { body } = await api(page, 'GET', `/api/v1/research/projects/${id}`);
    last = body?.status;
    if (last === status) return body;
    await page.waitForTimeout(1000);
  }
  throw new Error(`科研项目未进入 ${status}（当前 ${last}）`);
}

export async function researchStory(ctx) {
  // 1. the researcher defines and submits a hypertension cohort
  const researcher = await loginAs(ctx, 'researcher', { phone: true });
  await researcher.goto('/research');
  await researcher.getByTestId('research-new').click();
  await researcher.getByTestId('research-form').waitFor({ timeout: 20000 });
  await researcher.getByTestId('research-title').fill('高血压患者血压控制队列（浏览器测试）');
  await researcher.getByTestId('research-purpose').fill('描述在管高血压患者的末次收缩压分布');
  await researcher.getByTestId('crit-diseases').locator('input[data-value=htn]').check();
  await researcher.getByTestId('crit-age-min').fill('35');
  await researcher.getByTestId('research-preview').click();
  await researcher.getByTestId('preview-size').waitFor();
  assert.match(await researcher.getByTestId('preview-size').innerText(), /^共 \d+ 人$/, '预览只显示人数');
  await researcher.getByTestId('obs-var-code').selectOption({ label: '收缩压' });
  await researcher.getByTestId('add-obs-var').click();
  assert.match(await researcher.getByTestId('chosen-variables').innerText(), /收缩压 末次值/);
  await researcher.locator('input[name=date_mode][data-value=month]').check();
  await noRawCodes(researcher, '新建科研项目');
  await tapTargets(researcher, '新建科研项目');
  await shot(researcher, 'research-new-phone');
  await researcher.getByTestId('research-save').click();
  await researcher.waitForURL(/\/research\/\d+$/);
  const id = Number(new URL(researcher.url()).pathname.split('/').pop());
  assert.match(await researcher.getByTestId('project-criteria').innerText(), /病种 高血压；年龄 35–… 岁/);
  await researcher.getByTestId('project-submit').click();
  await researcher.getByTestId('project-status').filter({ hasText: '委员会审查中' }).waitFor();
  const { body: submitted } = await api(researcher, 'GET', `/api/v1/research/projects/${id}`);
  assert.ok(submitted.cohort_size > 0, '提交时统计队列人数');
  const { body: mine } = await api(researcher, 'GET', '/api/v1/research/projects');
  assert.ok(mine.items.some((p) => p.id === id));
  await closePage(researcher);

  // 2. two committee members vote, the decision table approves
  const committee = await loginAs(ctx, 'supervisor', { phone: true });
  const findVote = async (page) => {
    for (let i = 0; i < 30; i += 1) {
      const { body } = await api(page, 'GET', '/api/v1/tasks?view=mine&process_id=research_extract&per_page=50');
      const t = (body?.items ?? []).find((x) => x.element_id === 'committee_vote');
      if (t) return t;
      await page.waitForTimeout(1000);
    }
    return null;
  };
  const review = await findVote(committee);
  const instance = review?.instance_id;
  assert.ok(instance, '委员收件箱中应有投票任务');
  const reviewText = await completeInInbox(committee, instance, 'committee_vote', async (p) => {
    await p.locator('input[name="root_vote"]').first().check();
    await p.locator('#root_opinion').fill('同意，仅限本研究使用。');
  });
  assert.match(reviewText, /高血压患者血压控制队列/, '投票任务说明项目');
  assert.match(reviewText, /第 1 轮投票/, '投票任务说明轮次与截止');
  await committee.goto(`/research/${id}`);
  await committee.getByTestId('committee-votes').waitFor();
  assert.match(await committee.getByTestId('committee-members').innerText(), /未投票/, '另一位委员尚未投票');
  await closePage(committee);
  const endo = await loginAs(ctx, 'specialist_endo', { phone: true });
  assert.ok(await findVote(endo), '第二位委员收件箱中应有投票任务');
  await completeInInbox(endo, instance, 'committee_vote', async (p) => {
    await p.locator('input[name="root_vote"]').first().check();
    await p.locator('#root_opinion').fill('同意。');
  });
  await closePage(endo);
  const chair = await loginAs(ctx, 'supervisor', { phone: true });
  await waitStatus(chair, id, 'pending_release');
  await chair.goto(`/research/${id}`);
  await chair.getByTestId('committee-result').waitFor();
  assert.match(await chair.getByTestId('committee-result').innerText(), /通过（委员会表决 · 规则 R13-2）/);
  assert.equal(await chair.getByTestId('vote-log').locator('li').count(), 2, '两位委员的投票均在项目页');
  await shot(chair, 'research-votes-phone');
  const releaseText = await completeInInbox(chair, instance, 'release_review', async (p) => {
    await p.locator('input[name="root_release"]').first().check();
  });
  assert.match(releaseText, /k-匿名 = \d+/, '发布前核查显示 k 值');
  assert.match(releaseText, /l-多样性 = /, '发布前核查显示 l 值');
  const released = await waitStatus(chair, id, 'released');
  const committee2 = chair;
  await committee2.goto(`/research/${id}`);
  await committee2.getByTestId('extract-summary').waitFor();
  assert.equal(await committee2.getByTestId('k-value').innerText(), String(released.extract.k_anonymity));
  await committee2.getByTestId('l-value').waitFor();
  assert.ok(released.extract.k_anonymity === null || released.extract.k_anonymity >= 5, 'k 达到要求');
  assert.equal(await committee2.getByTestId('downloads').count(), 0, '委员会不能下载');
  await noRawCodes(committee2, '科研项目（委员会）');
  await shot(committee2, 'research-review-phone');
  const { body: people } = await api(committee2, 'GET', '/api/v1/residents?per_page=200');
  const names = (people?.items ?? []).map((r) => r.name).filter((n) => n && n.length >= 2);
  assert.ok(names.length > 10, '应读到居民姓名用于比对');
  await closePage(committee2);

  // 3. the researcher downloads the de-identified extract
  const back = await loginAs(ctx, 'researcher', { phone: true });
  await back.goto(`/research/${id}`);
  await back.getByTestId('downloads-left').filter({ hasText: '3' }).waitFor({ timeout: 20000 });
  const [download] = await Promise.all([back.waitForEvent('download'), back.getByTestId('download-csv').click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8').replace(/^\ufeff/, '');
  const lines = csv.trim().split(/\r?\n/);
  assert.match(lines[0], /^研究编号,性别,年龄段,乡镇,管理病种,风险分层 \(最高\),收缩压 末次值$/);
  assert.equal(lines.length - 1, released.extract.row_count);
  assert.ok(lines.slice(1).every((l) => /^R[0-9a-f]{16},/.test(l)), '每行以研究编号开头');
  assert.ok(!/\d{17}[\dXx]/.test(csv), '数据集中不应有身份证号');
  const leaked = names.filter((n) => csv.includes(n));
  assert.deepEqual(leaked, [], '数据集中不应有居民姓名');
  await back.getByTestId('downloads-left').filter({ hasText: '2' }).waitFor();
  await back.getByTestId('download-log').waitFor();
  await noRawCodes(back, '科研项目（申请人）');
  await tapTargets(back, '科研项目（申请人）');
  await shot(back, 'research-download-phone');
  await closePage(back);
}

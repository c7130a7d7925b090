// The log viewer: following live lines, pausing when the user scrolls away,
// newest-first, the text and level filters, and gaps of dropped entries.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  appendEntries,
  appendLines,
  assertClean,
  createSession,
  createSessionAt,
  endSession,
  logAtBottom,
  logCount,
  openDashboard,
  screenshot,
  setup,
  visibleLogRows,
  waitForLogCount,
  waitUntil,
} from './support.mjs';

const lines = (n, text = (i) => `line ${i}`) => Array.from({ length: n }, (_, i) => text(i + 1));
const logRow = (seq) => `[data-testid=log-scroll] .log-row[data-seq="${seq}"]`;

/** Waits until exactly the lines `seqs` are on screen, in this order. */
async function waitForRows(page, seqs) {
  let shown;
  await waitUntil(
    async () => {
      shown = (await visibleLogRows(page)).map((r) => r.seq);
      return JSON.stringify(shown) === JSON.stringify(seqs);
    },
    { message: () => `lines ${seqs} on screen (shown: ${shown})` },
  );
}

/** The highlighted parts of the messages on screen. */
const marks = (page) =>
  page.$$eval('[data-testid=log-scroll] .log-row .log-message mark', (found) => found.map((m) => m.textContent));

/** Opens the dashboard on `id` and waits until line `last` is rendered. */
async function openLog(page, server, id, last) {
  await openDashboard(page, server, `?session=${id}`);
  await page.locator(logRow(last)).waitFor();
}

test('a followed log shows new lines live, pauses on scroll-up and resumes', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'follower' });
  await appendLines(server, id, lines(200));
  await openLog(page, server, id, 200);
  const follow = page.locator('[data-testid=follow-toggle]');
  const banner = page.locator('[data-testid=paused-banner]');
  assert.equal(await follow.getAttribute('aria-pressed'), 'true', 'follow is on by default');
  assert.ok(await logAtBottom(page), 'a followed log starts at its end');

  await appendLines(server, id, ['fresh line one']);
  await page.locator(logRow(201), { hasText: 'fresh line one' }).waitFor({ timeout: 2_000 });
  await waitUntil(() => logAtBottom(page), { message: 'the view to stay at the end' });
  assert.ok(await banner.isHidden());

  // Scroll up with the mouse wheel, as a user would.
  await page.locator('[data-testid=log-scroll]').hover();
  await page.mouse.wheel(0, -1500);
  await banner.waitFor({ state: 'visible', timeout: 2_000 });
  assert.match(await banner.textContent(), /Paused/);
  const scrolledTo = await page.$eval('[data-testid=log-scroll]', (el) => el.scrollTop);
  await appendLines(server, id, ['while paused 1', 'while paused 2', 'while paused 3']);
  let bannerText;
  await waitUntil(async () => /Paused\D*3\b/.test((bannerText = await banner.textContent())), {
    timeout: 2_000,
    message: () => `the banner to count 3 new lines (it says "${bannerText}")`,
  });
  assert.equal(await page.$eval('[data-testid=log-scroll]', (el) => el.scrollTop), scrolledTo, 'no auto-scroll while paused');
  assert.ok(!(await logAtBottom(page)));
  const inView = (await visibleLogRows(page)).map((r) => r.seq);
  assert.ok(!inView.includes(204), 'the new lines stay below the view');

  await page.locator('[data-testid=jump-latest]').click();
  await page.locator(logRow(204)).waitFor();
  await banner.waitFor({ state: 'hidden' });
  await waitUntil(() => logAtBottom(page), { message: 'the view to be at the end after jumping' });
  assert.equal(await follow.getAttribute('aria-pressed'), 'true', 'follow is on again');
  await appendLines(server, id, ['after resuming']);
  await page.locator(logRow(205), { hasText: 'after resuming' }).waitFor({ timeout: 2_000 });
  await waitUntil(() => logAtBottom(page), { message: 'follow to keep the newest line in view' });
  await assertClean(env);
});

test('newest-first reverses the order of the lines', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'order' });
  await appendLines(server, id, lines(12));
  await openLog(page, server, id, 12);
  const seqs = async () => (await visibleLogRows(page)).map((r) => r.seq);
  assert.deepEqual(await seqs(), lines(12, (i) => i));

  const toggle = page.locator('[data-testid=newest-first]');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  await waitUntil(async () => (await seqs())[0] === 12, { message: 'line 12 on top' });
  assert.deepEqual(await seqs(), lines(12, (i) => 13 - i));

  // New lines arrive at the top.
  await appendLines(server, id, ['thirteen']);
  await waitUntil(async () => (await seqs())[0] === 13, { timeout: 2_000, message: 'line 13 on top' });

  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  await waitUntil(async () => (await seqs())[0] === 1, { message: 'line 1 on top again' });
  assert.deepEqual(await seqs(), lines(13, (i) => i));
  await assertClean(env);
});

test('the text filter narrows the lines and highlights matches', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'filtering' });
  await appendLines(server, id, lines(60, (i) => (i % 10 === 0 ? `found the Needle-${i / 10} here` : `hay ${i}`)));
  await openLog(page, server, id, 60);
  await waitForLogCount(page, 60, 60);

  await page.locator('[data-testid=filter-input]').fill('needle');
  await waitForLogCount(page, 6, 60);
  await waitForRows(page, [10, 20, 30, 40, 50, 60]);
  assert.deepEqual(await marks(page), Array(6).fill('Needle'), 'each match is highlighted, case-insensitively');
  await screenshot(page, 'filtered.png');

  // As a regular expression.
  await page.locator('[data-testid=filter-regex]').check();
  await page.locator('[data-testid=filter-input]').fill('needle-[24]\\b');
  await waitForLogCount(page, 2, 60);
  await waitForRows(page, [20, 40]);
  assert.deepEqual(await marks(page), ['Needle-2', 'Needle-4']);

  // An invalid pattern must not throw (the console check below would see it).
  await page.locator('[data-testid=filter-input]').fill('needle-[');
  await page.waitForTimeout(300);

  await page.locator('[data-testid=filter-input]').fill('');
  await waitForLogCount(page, 60, 60);
  assert.equal(await page.locator('[data-testid=log-scroll] mark').count(), 0);
  await assertClean(env);
});

test('the text filter waits for a pause in typing and then filters once', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'typing' });
  // Each prefix of "needle" matches a different number of lines (30, 24, 18,
  // 12, 6, 6), so filtering on a keystroke would change the count shown.
  const words = ['needle', 'need', 'kneel', 'bone', 'moon'];
  await appendLines(server, id, lines(60, (i) => `${words[i % 10] ?? 'hay'} ${i}`));
  // The page runs on Playwright's clock, so the test decides when page time
  // passes: however slowly this machine delivers the keys, no pause in the
  // typing is long enough to run the filter.
  await page.clock.install();
  await openLog(page, server, id, 60);
  const before = await logCount(page);
  assert.equal(before.shown, 60);
  // Every run of the view's refilter (patched on the module the page itself
  // imported) with the text it ran for, and every text the count shows.
  await page.evaluate(async () => {
    const { LogView } = await import('/dashboard/log-view.js');
    const refilter = LogView.prototype.refilter;
    window.__refilters = [];
    LogView.prototype.refilter = function (...args) {
      window.__refilters.push(this.filter.text);
      return refilter.apply(this, args);
    };
    const count = document.querySelector('[data-testid=log-count]');
    window.__counts = [];
    new MutationObserver(() => window.__counts.push(count.textContent))
      .observe(count, { childList: true, characterData: true, subtree: true });
  });
  const seen = () => page.evaluate(() => ({ refilters: [...window.__refilters], counts: [...new Set(window.__counts)] }));
  const input = page.locator('[data-testid=filter-input]');
  await input.focus();

  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1_000);
  await page.keyboard.type('needle');
  assert.equal(await input.inputValue(), 'needle');
  let { refilters, counts } = await seen();
  assert.deepEqual(refilters, [], 'no keystroke filters the log');
  assert.ok(counts.every((text) => text === before.text), `the count stays "${before.text}" (it showed ${counts})`);

  // Typing stopped and time passes: one run, for the whole word.
  await page.clock.runFor(1_000);
  ({ refilters, counts } = await seen());
  assert.deepEqual(refilters, ['needle'], 'the log is filtered once');
  const after = await logCount(page);
  assert.deepEqual([after.shown, after.total], [6, 60]);
  assert.ok(counts.every((text) => text === before.text || text === after.text),
    `the count shows no partial word's result (it showed ${counts})`);
  await page.clock.resume();
  await waitForRows(page, [10, 20, 30, 40, 50, 60]);
  assert.deepEqual(await marks(page), Array(6).fill('needle'));
  assert.equal((await seen()).refilters.length, 1, 'and only once');
  await assertClean(env);
});

test('the level filter shows only the chosen levels', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'levels' });
  const levels = ['debug', 'debug', 'debug', 'debug', 'info', 'info', 'info', 'warn', 'warn', 'error'];
  await appendEntries(server, id, levels.map((level, i) => ({ level, message: `${level} message ${i + 1}` })));
  await openLog(page, server, id, 10);
  const shownLevels = async () => (await visibleLogRows(page)).map((r) => r.level);
  assert.deepEqual(await shownLevels(), levels);

  await page.locator('[data-testid=level-debug]').uncheck();
  await page.locator('[data-testid=level-info]').uncheck();
  await waitUntil(async () => (await shownLevels()).length === 3, { message: 'three lines left' });
  assert.deepEqual(await shownLevels(), ['warn', 'warn', 'error']);
  await waitForLogCount(page, 3, 10);

  await page.locator('[data-testid=level-error]').uncheck();
  await waitUntil(async () => (await shownLevels()).length === 2, { message: 'only warnings left' });
  await page.locator('[data-testid=level-debug]').check();
  await waitUntil(async () => (await shownLevels()).length === 6, { message: 'debug and warn lines' });
  assert.deepEqual(await shownLevels(), ['debug', 'debug', 'debug', 'debug', 'warn', 'warn']);
  await page.locator('[data-testid=level-info]').check();
  await page.locator('[data-testid=level-error]').check();
  await waitUntil(async () => (await shownLevels()).length === 10, { message: 'all lines back' });
  await assertClean(env);
});

test('entries dropped by the server show as a gap', async (t) => {
  const env = await setup(t, { serverArgs: ['--max-log-entries', '50'] });
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'overflow' });
  await appendLines(server, id, lines(200));
  await openLog(page, server, id, 200);
  assert.equal(await page.locator(logRow(150)).count(), 0, 'evicted lines are not shown');

  // The gap is before the oldest retained line, at the top.
  await page.$eval('[data-testid=log-scroll]', (el) => {
    el.scrollTop = 0;
  });
  const gap = page.locator('[data-testid=log-scroll] [data-testid=log-gap]').first();
  await gap.waitFor();
  assert.match(await gap.textContent(), /\b150 entries dropped\b/);
  await page.locator(logRow(151)).waitFor();
  const gapBox = await gap.boundingBox();
  const firstBox = await page.locator(logRow(151)).boundingBox();
  assert.ok(gapBox.y < firstBox.y, 'the gap comes before line 151');
  await assertClean(env);
});

test('a multi-line message takes the room of its lines when wrap is off', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'stack-trace' });
  await appendEntries(server, id, [
    { message: 'before the crash', level: 'info' },
    {
      message: 'Unhandled exception: access violation\n  at Engine::Tick (Engine.cpp:120)\n  at main (Main.cpp:12)',
      level: 'error',
    },
    { message: 'after one', level: 'info' },
    { message: 'after two', level: 'info' },
  ]);
  await openLog(page, server, id, 4);
  assert.equal(await page.locator('[data-testid=wrap-toggle]').getAttribute('aria-pressed'), 'false');
  const boxes = [];
  for (const seq of [1, 2, 3, 4]) boxes.push(await page.locator(logRow(seq)).boundingBox());
  assert.ok(boxes[1].height >= boxes[0].height * 2.5, `the three-line row is ${boxes[1].height} px high`);
  for (let i = 1; i < boxes.length; i += 1) {
    assert.ok(boxes[i].y >= boxes[i - 1].y + boxes[i - 1].height - 1, `row ${i + 1} does not overlap row ${i}`);
  }
  const message = await page.locator(`${logRow(2)} .log-message`).boundingBox();
  assert.ok(message.y + message.height <= boxes[2].y + 1, 'the last line of the trace is above the next row');
  await screenshot(page, 'log-multiline.png');
  await assertClean(env);
});

test('the pause banner counts only lines that arrived while paused', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'counter' });
  await appendLines(server, id, lines(300));
  const banner = page.locator('[data-testid=paused-banner]');

  // Scrolling up with nothing new says "Paused", not "0 new".
  await openLog(page, server, id, 300);
  await page.locator('[data-testid=log-scroll]').hover();
  await page.mouse.wheel(0, -1500);
  await banner.waitFor({ state: 'visible', timeout: 2_000 });
  assert.doesNotMatch(await banner.textContent(), /\bnew\b/);

  // A deep link pauses on its line; the lines loaded with it are not new.
  await openDashboard(page, server, `?session=${id}&line=7`);
  await page.locator(`${logRow(7)}.log-row--target`).waitFor();
  await banner.waitFor({ state: 'visible' });
  assert.doesNotMatch(await banner.textContent(), /\bnew\b/, 'nothing new yet');
  await appendLines(server, id, ['later one', 'later two']);
  let text;
  await waitUntil(async () => /Paused\D*2 new/.test((text = await banner.textContent())), {
    timeout: 2_000,
    message: () => `the banner to count 2 new lines (it says "${text}")`,
  });
  await assertClean(env);
});

test('the text filter finds values that are only in data', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'data-filter' });
  await appendEntries(server, id, [
    { message: 'build step finished', level: 'info', data: { artifact: 'LyraGame-Win64-Shipping.exe', ms: 812 } },
    { message: 'another step', level: 'info', data: { artifact: 'LyraServer.pak' } },
    { message: 'no data here', level: 'info' },
  ]);
  await openLog(page, server, id, 3);
  await page.locator('[data-testid=filter-input]').fill('shipping.EXE');
  await waitForLogCount(page, 1, 3);
  await waitForRows(page, [1]);
  assert.deepEqual(await page.$$eval('.log-row .log-data-toggle mark', (found) => found.map((m) => m.textContent)),
    ['Shipping.exe'], 'the match in data is marked');
  await page.locator('[data-testid=filter-regex]').check();
  await page.locator('[data-testid=filter-input]').fill('"artifact":"Lyra(Game|Server)');
  await waitForLogCount(page, 2, 3);
  await assertClean(env);
});

test('a link to a line the server no longer keeps says so', async (t) => {
  const env = await setup(t, { serverArgs: ['--max-log-entries', '50'] });
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'evicted' });
  await appendLines(server, id, lines(200));
  await openDashboard(page, server, `?session=${id}&line=7`);
  const notice = page.locator('[data-testid=log-notice]');
  await notice.waitFor({ state: 'visible' });
  assert.match(await notice.textContent(), /line 7\b.*no longer kept/i);
  assert.match(await notice.textContent(), /\b151\b/, 'it names the oldest line kept');
  // The view opens where the kept lines begin, after the gap.
  await page.locator('[data-testid=log-scroll] [data-testid=log-gap]').waitFor();
  await page.locator(logRow(151)).waitFor();
  await assertClean(env);
});

test('waits for a stopped log leave no abort listeners behind', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  await page.addInitScript(() => {
    // Abort listeners added and not removed (fired `once` listeners of a
    // signal that never aborts stay registered).
    window.__abortListeners = 0;
    const add = AbortSignal.prototype.addEventListener;
    const remove = AbortSignal.prototype.removeEventListener;
    AbortSignal.prototype.addEventListener = function (type, ...rest) {
      if (type === 'abort') window.__abortListeners += 1;
      return add.call(this, type, ...rest);
    };
    AbortSignal.prototype.removeEventListener = function (type, ...rest) {
      if (type === 'abort') window.__abortListeners -= 1;
      return remove.call(this, type, ...rest);
    };
  });
  const { id } = await createSession(server, { appname: 'ended-log' });
  await appendLines(server, id, lines(10));
  await endSession(server, id);
  await openLog(page, server, id, 10);
  const follow = page.locator('[data-testid=follow-toggle]');
  await page.evaluate(() => document.activeElement?.blur());
  for (let i = 0; i < 20; i += 1) {
    const before = await follow.getAttribute('aria-pressed');
    await page.keyboard.press('f');
    await waitUntil(async () => (await follow.getAttribute('aria-pressed')) !== before, { message: 'f to toggle follow' });
  }
  await page.waitForTimeout(300);
  const left = await page.evaluate(() => window.__abortListeners);
  assert.ok(left <= 2, `${left} abort listeners are still registered`);
  await assertClean(env);
});

test('a log started afresh under the same id keeps no row heights of the old one', async (t) => {
  // The view forgets measured heights when the page's lines shrink below
  // them. A filter leaves the lines held (their heights stay good); they go
  // when the server answers that the page's cursor is past the end of the
  // log: a new log under the old id. Ended sessions are forgotten at once
  // here, so the id is free again.
  const env = await setup(t, { serverArgs: ['--max-ended-sessions', '0'] });
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'first-life' });
  // Wrapped, these take one to five rows.
  await appendLines(server, id, lines(2000, (i) => `line ${i} ${'lorem ipsum dolor '.repeat((i % 5) * 9)}`));
  await openLog(page, server, id, 2000);
  // The view's measured row heights: the Geometry of the module the page
  // itself imported, caught on its next layout.
  await page.evaluate(async () => {
    const { Geometry } = await import('/dashboard/log-geometry.js');
    const layout = Geometry.prototype.layout;
    Geometry.prototype.layout = function (...args) {
      window.__geometry = this;
      return layout.apply(this, args);
    };
  });
  const heightKeys = () => page.evaluate(() => [...window.__geometry.heights.keys()]);
  await page.locator('[data-testid=wrap-toggle]').click();
  // Read the whole log from the top, a screen at a time.
  await page.$eval('[data-testid=log-scroll]', async (el) => {
    const frames = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    for (let top = 0; top < el.scrollHeight - el.clientHeight; top += el.clientHeight) {
      el.scrollTop = top;
      await frames();
    }
  });
  const measured = await heightKeys();
  assert.ok(measured.length >= 1900, `heights of the lines read were measured (${measured.length})`);

  // Not following, the page reads nothing more once it has this last line.
  const follow = page.locator('[data-testid=follow-toggle]');
  await follow.click();
  assert.equal(await follow.getAttribute('aria-pressed'), 'false');
  await appendLines(server, id, ['last of the first log']);
  await waitForLogCount(page, 2001, 2001);
  // The session ends and is forgotten; a new one takes its id, with a log of five lines.
  await endSession(server, id);
  await createSessionAt(server, id, { appname: 'second-life' });
  await appendLines(server, id, lines(5, (i) => `second life ${i}`));
  await page.locator(`tr[data-session-id="${id}"]`, { hasText: 'second-life' }).waitFor();

  // Following again, the page finds its place is past the new log's end and starts over.
  await follow.click();
  await waitForLogCount(page, 5, 5);
  await page.locator(logRow(5), { hasText: 'second life 5' }).waitFor();
  const kept = await heightKeys();
  assert.ok(kept.length <= 5 && kept.every((key) => [1, 2, 3, 4, 5].includes(key)),
    `only the new log's lines have heights (${kept.length} kept, among them ${kept.filter((key) => key > 5).slice(0, 5)})`);
  await assertClean(env);
});

test('the filter, regex and levels are in the URL, and a link restores them', async (t) => {
  const env = await setup(t);
  const { server, page, browser } = env;
  const { id } = await createSession(server, { appname: 'url-filter' });
  await appendEntries(server, id, [
    { message: 'needle one', level: 'debug' },
    { message: 'needle two', level: 'info' },
    { message: 'hay', level: 'warn' },
    { message: 'needle three', level: 'error' },
  ]);
  await openLog(page, server, id, 4);
  await page.locator('[data-testid=filter-input]').fill('needle t[wh]');
  await page.locator('[data-testid=filter-regex]').check();
  await page.locator('[data-testid=level-error]').uncheck();
  await waitForLogCount(page, 1, 4);
  let url;
  await waitUntil(() => {
    url = new URL(page.url());
    return url.searchParams.get('filter') === 'needle t[wh]' && url.searchParams.get('regex') === '1'
      && url.searchParams.get('levels') === 'debug,info,warn';
  }, { message: () => `the filters in the URL (${url})` });

  const second = await browser.newPage();
  await second.goto(url.href);
  await second.locator('.log-row[data-seq="2"]').waitFor();
  assert.equal(await second.locator('[data-testid=filter-input]').inputValue(), 'needle t[wh]');
  assert.ok(await second.locator('[data-testid=filter-regex]').isChecked());
  assert.ok(!(await second.locator('[data-testid=level-error]').isChecked()));
  await waitForLogCount(second, 1, 4);
  // A line's link carries the view along.
  const href = new URL(await second.locator('.log-row[data-seq="2"] a.log-link').getAttribute('href'), url).searchParams;
  assert.equal(href.get('filter'), 'needle t[wh]');
  assert.equal(href.get('line'), '2');
  await assertClean(env);
});

test('a line\'s text can be copied', async (t) => {
  const env = await setup(t);
  const { server, page, browser } = env;
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const { id } = await createSession(server, { appname: 'copy-line' });
  const trace = 'Assertion failed: ptr != nullptr\n  at Renderer::Draw (Renderer.cpp:88)';
  await appendEntries(server, id, [{ message: 'first', level: 'info' }, { message: trace, level: 'error' }]);
  await openLog(page, server, id, 2);
  await page.locator(logRow(2)).hover();
  const copy = page.locator(`${logRow(2)} [data-testid=copy-line]`);
  assert.equal(await copy.getAttribute('aria-label'), 'Copy the text of line 2');
  await copy.click();
  const copied = await waitUntil(() => page.evaluate(() => navigator.clipboard.readText()), {
    message: 'the clipboard to hold the line',
  });
  assert.equal(copied, trace);
  await assertClean(env);
});

test('an ended session shows its end, with the exit code zen run recorded, as the last row', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await createSession(server, {
    appname: 'zen-run', metadata: { exit_code: 3, signal: 9, duration_ms: 12_345 },
  });
  await appendLines(server, id, lines(30));
  await openLog(page, server, id, 30);
  const marker = page.locator('[data-testid=log-end]');
  assert.ok(await marker.isHidden(), 'an active session has no end row');
  await endSession(server, id);
  await marker.waitFor({ state: 'visible', timeout: 3_000 });
  const text = await marker.textContent();
  assert.match(text, /Session ended/);
  assert.match(text, /exit code 3/);
  assert.match(text, /signal 9/);
  assert.match(text, /12\.3 s/);
  const last = await page.locator(logRow(30)).boundingBox();
  const box = await marker.boundingBox();
  assert.ok(box.y >= last.y + last.height - 1, 'the end comes after the last line');
  await waitUntil(() => logAtBottom(page), { message: 'a follower to see the end' });

  // Newest first, it is on top.
  await page.locator('[data-testid=newest-first]').click();
  await waitUntil(async () => {
    const top = await page.locator(logRow(30)).boundingBox();
    const end = await marker.boundingBox();
    return top && end && end.y + end.height <= top.y + 1;
  }, { message: 'the end above the newest line' });
  await screenshot(page, 'log-ended.png');
  await assertClean(env);
});

test('context shows the lines around each match', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'context' });
  await appendLines(server, id, lines(60, (i) => (i % 10 === 0 ? `found the needle ${i / 10}` : `hay ${i}`)));
  await openLog(page, server, id, 60);
  await page.locator('[data-testid=filter-input]').fill('needle');
  await waitForLogCount(page, 6, 60);
  await page.locator('[data-testid=filter-context]').selectOption('2');
  const expected = [10, 20, 30, 40, 50].flatMap((n) => [n - 2, n - 1, n, n + 1, n + 2]).concat([58, 59, 60]);
  await waitForLogCount(page, expected.length, 60);
  await page.$eval('[data-testid=log-scroll]', (el) => {
    el.scrollTop = 0;
  });
  await waitForRows(page, expected);
  const context = await page.$$eval('.log-row.log-row--context', (found) => found.map((r) => Number(r.dataset.seq)));
  assert.deepEqual(context.sort((a, b) => a - b), expected.filter((n) => n % 10 !== 0), 'only the neighbours are context');
  assert.equal(new URL(page.url()).searchParams.get('context'), '2');
  // A line arriving after a match joins as its context.
  await appendLines(server, id, ['hay 61']);
  await waitForLogCount(page, expected.length + 1, 61);
  await screenshot(page, 'log-context.png');
  await assertClean(env);
});

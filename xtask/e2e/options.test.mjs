// The log viewer's display options: line wrapping, the three timestamp
// modes, expandable `data`, and downloading the (filtered) view.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';

import {
  appendEntries,
  assertClean,
  createSession,
  openDashboard,
  setup,
  waitForLogCount,
  waitUntil,
} from './support.mjs';

const LONG = `long line: ${'0123456789 abcdefghij '.repeat(30)}end`;

async function logSession(server) {
  const { id } = await createSession(server, { appname: 'options' });
  await appendEntries(server, id, [
    { message: 'keep: first', level: 'info' },
    { message: LONG, level: 'warn' },
    { message: 'keep: with data', level: 'error', data: { file: 'Main.cpp', line: 42, nested: { ok: true } } },
    { message: 'drop: not matching', level: 'debug' },
    { message: 'keep: last', level: 'info' },
  ]);
  const response = await fetch(server.url(`/sessions/${id}/log`));
  const { entries } = await response.json();
  return { id, entries };
}

const row = (seq) => `[data-testid=log-scroll] .log-row[data-seq="${seq}"]`;

test('wrapping long lines keeps rows from overlapping', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await logSession(server);
  await openDashboard(page, server, `?session=${id}`);
  await page.locator(row(5)).waitFor();
  const wrap = page.locator('[data-testid=wrap-toggle]');
  assert.equal(await wrap.getAttribute('aria-pressed'), 'false');
  const short = (await page.locator(row(1)).boundingBox()).height;
  const unwrapped = (await page.locator(row(2)).boundingBox()).height;
  assert.ok(unwrapped < short * 1.5, `an unwrapped long line is one line high (${unwrapped} px)`);

  await wrap.click();
  assert.equal(await wrap.getAttribute('aria-pressed'), 'true');
  await waitUntil(async () => (await page.locator(row(2)).boundingBox()).height > short * 2, {
    message: 'the long line to wrap onto several lines',
  });
  const boxes = [];
  for (const seq of [1, 2, 3, 4, 5]) boxes.push(await page.locator(row(seq)).boundingBox());
  for (let i = 1; i < boxes.length; i += 1) {
    assert.ok(boxes[i].y >= boxes[i - 1].y + boxes[i - 1].height - 1, `row ${i + 1} does not overlap row ${i}`);
  }
  await wrap.click();
  await waitUntil(async () => (await page.locator(row(2)).boundingBox()).height < short * 1.5, {
    message: 'the long line to be one line again',
  });
  await assertClean(env);
});

test('timestamps show local time, UTC or relative time', async (t) => {
  // Five and a half hours east of UTC, so local and UTC times differ.
  const env = await setup(t, { timezoneId: 'Asia/Kolkata' });
  const { server, page } = env;
  const { id, entries } = await logSession(server);
  await openDashboard(page, server, `?session=${id}`);
  await page.locator(row(1)).waitFor();
  const mode = page.locator('[data-testid=time-mode]');
  const time = () => page.locator(`${row(1)} .log-time`).textContent();
  const stamp = new Date(entries[0].timestamp);
  const utc = entries[0].timestamp.slice(11, 19); // HH:MM:SS
  const local = new Date(stamp.getTime() + 5.5 * 3600_000).toISOString().slice(11, 19);

  assert.equal(await mode.inputValue(), 'local');
  assert.match(await time(), new RegExp(local), 'local time is the browser zone');
  await mode.selectOption('utc');
  await waitUntil(async () => (await time()).includes(utc), { message: `the UTC time ${utc}` });
  await mode.selectOption('relative');
  await waitUntil(async () => !/\d\d:\d\d:\d\d/.test(await time()), { message: 'a relative time' });
  assert.match(await time(), /\d|now/, 'a relative time says how long ago');
  assert.match(await page.locator(`${row(1)} .log-time`).getAttribute('title'), new RegExp(utc), 'the exact time on hover');
  await assertClean(env);
});

test('data fields expand and collapse', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await logSession(server);
  await openDashboard(page, server, `?session=${id}`);
  await page.locator(row(5)).waitFor();
  assert.equal(await page.locator(`${row(1)} button.log-data-toggle`).count(), 0, 'no toggle without data');
  const toggle = page.locator(`${row(3)} button.log-data-toggle`);
  await toggle.click();
  const data = page.locator(`${row(3)} .log-data`);
  await data.waitFor({ state: 'visible' });
  const text = await data.textContent();
  for (const part of ['file', 'Main.cpp', 'line', '42', 'nested', 'ok', 'true']) {
    assert.ok(text.includes(part), `the data shows ${part}: ${text}`);
  }
  // Rows below move down rather than being covered.
  const dataBox = await data.boundingBox();
  const nextBox = await page.locator(row(4)).boundingBox();
  assert.ok(nextBox.y >= dataBox.y + dataBox.height - 1, 'the expanded data does not cover the next row');
  await toggle.click();
  await waitUntil(async () => (await data.count()) === 0 || (await data.isHidden()), { message: 'the data to collapse' });
  await assertClean(env);
});

test('downloads hold the filtered view as text and NDJSON', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await logSession(server);
  await openDashboard(page, server, `?session=${id}`);
  await page.locator(row(5)).waitFor();
  await page.locator('[data-testid=filter-input]').fill('keep:');
  await waitForLogCount(page, 3, 5);

  const download = async (testid) => {
    const [file] = await Promise.all([page.waitForEvent('download'), page.locator(`[data-testid=${testid}]`).click()]);
    return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
  };
  const text = await download('download-text');
  assert.match(text.name, /\.txt$/);
  const lines = text.text.split('\n').filter(Boolean);
  assert.equal(lines.length, 3, text.text);
  ['keep: first', 'keep: with data', 'keep: last'].forEach((message, i) => {
    assert.ok(lines[i].includes(message), `line ${i + 1} of the text is "${message}": ${lines[i]}`);
  });

  const ndjson = await download('download-ndjson');
  assert.match(ndjson.name, /\.ndjson$/);
  const records = ndjson.text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  assert.deepEqual(records.map((r) => [r.seq, r.message, r.level]), [
    [1, 'keep: first', 'info'],
    [3, 'keep: with data', 'error'],
    [5, 'keep: last', 'info'],
  ]);
  assert.deepEqual(records[1].data, { file: 'Main.cpp', line: 42, nested: { ok: true } });
  await assertClean(env);
});

test('turning wrap on while following stays at the end', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await createSession(server, { appname: 'wrap-follow' });
  await appendEntries(server, id, Array.from({ length: 200 }, (_, i) => ({
    message: i % 2 === 0 ? `${i + 1} ${LONG}` : `short ${i + 1}`,
    level: 'info',
  })));
  await openDashboard(page, server, `?session=${id}`);
  await page.locator(row(200)).waitFor();
  const atEnd = () => page.$eval('[data-testid=log-scroll]', (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4);
  await waitUntil(atEnd, { message: 'a followed log to start at its end' });

  await page.locator('[data-testid=wrap-toggle]').click();
  await waitUntil(async () => page.$$eval('.log-row', (rows) => rows.some((r) => r.offsetHeight > 44)), {
    message: 'the long lines to wrap',
  });
  await waitUntil(atEnd, { message: 'the view to be at the end after wrapping' });
  assert.equal(await page.locator('[data-testid=follow-toggle]').getAttribute('aria-pressed'), 'true');
  assert.ok(await page.locator('[data-testid=paused-banner]').isHidden(), 'no pause banner');
  await appendEntries(server, id, [{ message: `201 ${LONG}`, level: 'info' }]);
  await page.locator(row(201)).waitFor();
  await waitUntil(atEnd, { message: 'a new wrapped line to be followed' });
  await assertClean(env);
});

test('wrap, rows per page, the tab and the time format survive a reload', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await logSession(server);
  await openDashboard(page, server, `?session=${id}`);
  await page.locator(row(5)).waitFor();
  await page.locator('[data-testid=wrap-toggle]').click();
  await page.locator('[data-testid=time-mode]').selectOption('utc');
  await page.locator('[data-testid=page-size]').selectOption('50');
  await page.locator('[data-testid=tab-all]').click();

  await page.reload();
  await page.locator('[data-testid=conn-status][data-state=open]').waitFor();
  await page.locator(row(5)).waitFor();
  assert.equal(await page.locator('[data-testid=wrap-toggle]').getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('[data-testid=time-mode]').inputValue(), 'utc');
  assert.equal(await page.locator('[data-testid=page-size]').inputValue(), '50');
  assert.equal(await page.locator('[data-testid=tab-all]').getAttribute('aria-selected'), 'true');
  await waitUntil(async () => (await page.locator(`${row(2)}`).boundingBox()).height > 30, {
    message: 'the long line to be wrapped after the reload',
  });
  await assertClean(env);
});

test('a data property filters the log by it', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const { id } = await logSession(server);
  await appendEntries(server, id, [{ message: 'other file', level: 'info', data: { file: 'Other.cpp' } }]);
  await openDashboard(page, server, `?session=${id}`);
  await page.locator(row(6)).waitFor();
  await page.locator(`${row(3)} button.log-data-toggle`).click();
  const property = page.locator(`${row(3)} [data-testid=data-filter]`, { hasText: 'file' });
  await property.click();
  assert.equal(await page.locator('[data-testid=filter-input]').inputValue(), '"file":"Main.cpp"');
  await waitForLogCount(page, 1, 6);
  assert.equal(new URL(page.url()).searchParams.get('filter'), '"file":"Main.cpp"');
  await assertClean(env);
});

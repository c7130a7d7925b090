// The sessions table and the detail panel: first load, live updates over the
// WebSocket, sorting, pagination, and the properties of one session.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  appendLines,
  assertClean,
  axeFindings,
  createSession,
  endSession,
  listSessions,
  luminance,
  openDashboard,
  paintedBackground,
  screenshot,
  seedSessions,
  serverSessionId,
  setup,
  tableIds,
  waitUntil,
} from './support.mjs';

const row = (id) => `[data-testid=sessions-table] tbody tr[data-session-id="${id}"]`;

test('first load shows the server\'s own session selected with its start-up log', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  await seedSessions(server);
  const own = await serverSessionId(server);

  await openDashboard(page, server);
  await page.locator(`${row(own)}[aria-selected="true"]`).waitFor();
  await waitUntil(async () => (await page.locator('[data-testid=detail-id]').textContent())?.trim() === own, {
    message: 'the detail panel to show the server session',
  });
  assert.match(await page.locator('[data-testid=detail] [data-field="appname"]').textContent(), /zenserver/);
  // The start-up line the server logs about itself, read through the log API.
  await page.locator('.log-row .log-message', { hasText: 'listening on http://' }).first().waitFor();
  assert.equal(await page.locator('[data-testid=tab-active]').getAttribute('aria-selected'), 'true');
  assert.equal((await page.locator('[data-testid=tab-active] [data-testid=tab-count]').textContent()).trim(), '3');
  assert.equal((await page.locator('[data-testid=tab-ended] [data-testid=tab-count]').textContent()).trim(), '1');
  assert.equal((await page.locator('[data-testid=tab-all] [data-testid=tab-count]').textContent()).trim(), '4');

  // The light theme is light.
  assert.ok(luminance(await paintedBackground(page, '[data-testid=sessions-table]')) > 0.7, 'light background');
  await screenshot(page, 'main-light.png');
  await assertClean(env);
});

test('a session created over HTTP appears live; ending it moves it to Ended', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  await openDashboard(page, server);
  await page.locator('[data-testid=sessions-table] tbody tr[data-session-id]').first().waitFor();
  await page.evaluate(() => {
    window.__e2eNoReload = true;
  });
  const activeCount = page.locator('[data-testid=tab-active] [data-testid=tab-count]');
  assert.equal((await activeCount.textContent()).trim(), '1');

  const session = await createSession(server, { appname: 'live-e2e', mode: 'interactive', jobid: 'job-live' });
  await page.locator(row(session.id)).waitFor({ timeout: 2_000 });
  assert.match(await page.locator(row(session.id)).textContent(), /live-e2e/);
  await waitUntil(async () => (await activeCount.textContent()).trim() === '2', { timeout: 2_000, message: 'Active (2)' });
  assert.equal(await page.evaluate(() => window.__e2eNoReload), true, 'the page was not reloaded');

  await endSession(server, session.id);
  await page.locator(row(session.id)).waitFor({ state: 'detached', timeout: 2_000 });
  await waitUntil(async () => (await activeCount.textContent()).trim() === '1', { timeout: 2_000, message: 'Active (1)' });
  const endedCount = page.locator('[data-testid=tab-ended] [data-testid=tab-count]');
  assert.equal((await endedCount.textContent()).trim(), '1');

  await page.locator('[data-testid=tab-ended]').click();
  assert.equal(await page.locator('[data-testid=tab-ended]').getAttribute('aria-selected'), 'true');
  assert.equal(await page.locator('[data-testid=tab-active]').getAttribute('aria-selected'), 'false');
  await page.locator(row(session.id)).waitFor();
  assert.match(await page.locator(row(session.id)).textContent(), /ended/i);
  assert.deepEqual(await tableIds(page), [session.id]);
  await assertClean(env);
});

/** The value a column sorts by, as the API reports it. */
function sortValue(session, key) {
  return key === 'entries' ? session.log.entries : session[key];
}

function compare(a, b) {
  if (typeof a === 'number') return a - b;
  return a < b ? -1 : a > b ? 1 : 0;
}

test('sorting by each column toggles between ascending and descending', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  // Distinct lowercase values per column; two ended sessions for `status`;
  // entry counts in another order than creation; updates in a third order.
  const specs = [
    ['delta', 'mode-c', 'job-3', 5],
    ['alpha', 'mode-e', 'job-5', 2],
    ['echo', 'mode-a', 'job-1', 9],
    ['charlie', 'mode-d', 'job-4', 1],
    ['bravo', 'mode-b', 'job-2', 7],
  ];
  const mine = [];
  for (const [appname, mode, jobid] of specs) {
    mine.push((await createSession(server, { appname, mode, jobid })).id);
  }
  for (const index of [3, 0, 4, 2, 1]) {
    const lines = Array.from({ length: specs[index][3] }, (_, i) => `line ${i + 1}`);
    await appendLines(server, mine[index], lines);
  }
  await endSession(server, mine[1]);
  await endSession(server, mine[3]);
  const sessions = new Map((await listSessions(server, 'all')).map((s) => [s.id, s]));

  await openDashboard(page, server);
  await page.locator('[data-testid=tab-all]').click();
  await waitUntil(async () => mine.every((id) => sessions.has(id)) && (await tableIds(page)).length === 6, {
    message: 'all six sessions in the All tab',
  });

  for (const key of ['appname', 'mode', 'jobid', 'id', 'created', 'updated', 'entries', 'status']) {
    const header = page.locator(`[data-testid=sessions-table] th[data-sort-key="${key}"]`);
    let previous;
    for (const click of [1, 2]) {
      await header.click();
      const direction = await waitUntil(
        async () => {
          const sort = await header.getAttribute('aria-sort');
          return sort !== previous && ['ascending', 'descending'].includes(sort) ? sort : null;
        },
        { message: `${key}: aria-sort after click ${click}` },
      );
      previous = direction;
      const others = await page.$$eval(
        `[data-testid=sessions-table] th[data-sort-key]:not([data-sort-key="${key}"])`,
        (ths) => ths.map((th) => th.getAttribute('aria-sort')),
      );
      assert.ok(others.every((s) => s === 'none'), `${key}: other headers say ${others}`);
      const sign = direction === 'ascending' ? 1 : -1;
      const shown = (await tableIds(page)).filter((id) => mine.includes(id));
      const values = shown.map((id) => sortValue(sessions.get(id), key));
      for (let i = 1; i < values.length; i += 1) {
        assert.ok(
          sign * compare(values[i - 1], values[i]) <= 0,
          `${key} ${direction}: ${JSON.stringify(values)} is out of order`,
        );
      }
      if (key !== 'status') {
        const expected = [...values].sort((a, b) => sign * compare(a, b));
        assert.deepEqual(values, expected, `${key} ${direction}`);
      }
    }
  }
  await assertClean(env);
});

test('pagination pages through 60 sessions', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  // With the server's own session, 60 active sessions.
  await Promise.all(
    Array.from({ length: 59 }, (_, i) =>
      createSession(server, { appname: `app-${String(i + 1).padStart(2, '0')}`, mode: 'bulk' }),
    ),
  );
  const all = (await listSessions(server, 'active')).map((s) => s.id);
  assert.equal(all.length, 60);

  await openDashboard(page, server);
  const info = page.locator('[data-testid=page-info]');
  const prev = page.locator('[data-testid=page-prev]');
  const next = page.locator('[data-testid=page-next]');
  // "26–50 of 60"; any dash, any spacing.
  const pageInfo = async () => (await info.textContent()).replace(/\s+/g, ' ').replace(/ ?[-‐‑–—] ?/, '–').trim();
  const pageShows = async (text, rows) => {
    let shown;
    await waitUntil(async () => (shown = await pageInfo()) === text, {
      message: () => `page info "${text}" (it shows "${shown}")`,
    });
    const ids = await tableIds(page);
    assert.equal(ids.length, rows, `${text}: ${ids.length} rows`);
    return ids;
  };

  assert.equal(await page.locator('[data-testid=page-size]').inputValue(), '25');
  // The server's own session is selected, and it is the oldest: the last page.
  await pageShows('51–60 of 60', 10);
  await prev.click();
  await prev.click();
  const first = await pageShows('1–25 of 60', 25);
  assert.ok(await prev.isDisabled(), 'prev is disabled on the first page');
  assert.ok(await next.isEnabled());
  await next.click();
  const second = await pageShows('26–50 of 60', 25);
  assert.ok(await prev.isEnabled());
  await next.click();
  const third = await pageShows('51–60 of 60', 10);
  assert.ok(await next.isDisabled(), 'next is disabled on the last page');
  assert.deepEqual(new Set([...first, ...second, ...third]), new Set(all), 'the pages cover every session once');
  await prev.click();
  await pageShows('26–50 of 60', 25);
  await prev.click();
  await pageShows('1–25 of 60', 25);

  await page.locator('[data-testid=page-size]').selectOption('50');
  await pageShows('1–50 of 60', 50);
  await page.locator('[data-testid=page-size]').selectOption('10');
  await pageShows('1–10 of 60', 10);
  await page.locator('[data-testid=page-size]').selectOption('100');
  await pageShows('1–60 of 60', 60);
  assert.ok(await prev.isDisabled());
  assert.ok(await next.isDisabled());
  await assertClean(env);
});

test('the detail panel shows the properties and metadata sent', async (t) => {
  const env = await setup(t);
  const { server, page, browser } = env;
  await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const metadata = {
    project: 'Lyra',
    branch: 'release/5.4',
    changelist: 31337,
    dirty: false,
    nested: { platform: 'Win64', tags: ['a', 'b'] },
  };
  const session = await createSession(server, { appname: 'UnrealEditor', mode: 'interactive', jobid: 'job-77', metadata });

  await openDashboard(page, server);
  await page.locator(row(session.id)).click();
  await page.locator(`${row(session.id)}[aria-selected="true"]`).waitFor();
  const detail = page.locator('[data-testid=detail]');
  await waitUntil(async () => (await detail.locator('[data-testid=detail-id]').textContent()).trim() === session.id, {
    message: 'detail-id to be the clicked session',
  });
  assert.match(page.url(), new RegExp(`[?&]session=${session.id}`), 'the selection is in the URL');
  const field = async (name) => (await detail.locator(`[data-field="${name}"]`).textContent()).trim();
  assert.match(await field('appname'), /UnrealEditor/);
  assert.match(await field('mode'), /interactive/);
  assert.match(await field('jobid'), /job-77/);
  assert.match(await field('status'), /active/);
  const meta = async (key) => (await detail.locator(`[data-meta-key="${key}"] .meta-value`).textContent()).trim();
  assert.equal(await meta('project'), 'Lyra');
  assert.equal(await meta('branch'), 'release/5.4');
  assert.equal(await meta('changelist'), '31337');
  assert.equal(await meta('dirty'), 'false');
  assert.equal(await meta('nested'), '{"platform":"Win64","tags":["a","b"]}');
  assert.equal(await detail.locator('[data-meta-key]').count(), 5);

  // The table shows the id short and times relative, the full values on hover.
  const cell = async (key) => {
    const index = await page.$$eval('[data-testid=sessions-table] thead th', (ths, k) =>
      ths.findIndex((th) => th.dataset.sortKey === k), key);
    return page.locator(`${row(session.id)} td`).nth(index);
  };
  const idCell = await cell('id');
  assert.ok(session.id.endsWith((await idCell.textContent()).trim()), 'the id column shows the end of the id');
  assert.equal(await idCell.getAttribute('title'), session.id);
  const created = await cell('created');
  assert.match(await created.textContent(), /now|ago|\bs\b/);
  const exact = session.created.slice(11, 19); // HH:MM:SS; the browser runs in UTC
  assert.ok((await created.getAttribute('title')).includes(exact), `the exact creation time ${exact} on hover`);

  await detail.locator('[data-testid=copy-id]').click();
  const copied = await waitUntil(() => page.evaluate(() => navigator.clipboard.readText()), {
    message: 'the clipboard to hold the id',
  });
  assert.equal(copied, session.id);
  await assertClean(env);
});

test('the page holding the selected session is the one shown', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  // The server's session is the oldest: sorted newest first, it is on page 2.
  for (let i = 0; i < 30; i += 1) {
    await createSession(server, { appname: `paged-${String(i + 1).padStart(2, '0')}`, mode: 'bulk' });
  }
  const own = await serverSessionId(server);
  await openDashboard(page, server);
  await page.locator(`${row(own)}[aria-selected="true"]`).waitFor();
  assert.match((await page.locator('[data-testid=page-info]').textContent()).replace(/\s+/g, ' '), /^26\D+31 of 31$/);

  // Paging away from the selection is the user's choice, and stays.
  await page.locator('[data-testid=page-prev]').click();
  await createSession(server, { appname: 'paged-late', mode: 'bulk' });
  await waitUntil(async () => /of 32$/.test(await page.locator('[data-testid=page-info]').textContent()), {
    message: 'the new session to be counted',
  });
  assert.match(await page.locator('[data-testid=page-info]').textContent(), /^1\D+25 of 32$/);
  await assertClean(env);
});

test('live updates leave the detail panel and the table rows alone', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const session = await createSession(server, { appname: 'steady', metadata: { branch: 'release/5.4-hotfix' } });
  await openDashboard(page, server, `?session=${session.id}`);
  const value = page.locator('[data-testid=detail] [data-meta-key="branch"] .meta-value');
  await value.waitFor();
  // The user selects the branch to copy it, and marks the row elements.
  await value.evaluate((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
  });
  await page.$$eval('[data-testid=sessions-table] tbody tr', (rows) => rows.forEach((r) => { r.__e2eKept = true; }));
  const entries = page.locator('[data-testid=detail] [data-field="entries"]');
  for (let i = 1; i <= 3; i += 1) {
    await appendLines(server, session.id, [`push ${i}`]);
    await waitUntil(async () => (await entries.textContent()).trim() === String(i), { message: `${i} entries shown` });
  }
  await page.waitForTimeout(1_500); // past the once-a-second refresh of relative times
  assert.equal(await page.evaluate(() => getSelection().toString()), 'release/5.4-hotfix', 'the selection survives');
  assert.ok(await page.$eval(row(session.id), (r) => r.__e2eKept === true), 'the row was not rebuilt');
  await assertClean(env);
});

test('the search box finds sessions by app, mode, job, id and metadata, with the query in the URL', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const editor = await createSession(server, {
    appname: 'UnrealEditor', mode: 'interactive', metadata: { project: 'Lyra', platform: 'Win64', user: 'ana' },
  });
  const agent = await createSession(server, {
    appname: 'BuildAgent', mode: 'ci', jobid: 'job-20412', metadata: { platform: 'Linux', branch: 'main' },
  });
  const cook = await createSession(server, { appname: 'cook', mode: 'cook', metadata: { project: 'Fortnite' } });
  await openDashboard(page, server);
  const search = page.locator('[data-testid=session-search]');
  const shows = async (query, ids) => {
    await search.fill(query);
    let shown;
    await waitUntil(async () => JSON.stringify((shown = await tableIds(page)).sort()) === JSON.stringify([...ids].sort()), {
      message: () => `"${query}" to show ${ids} (shown: ${shown})`,
    });
  };
  await shows('lyra', [editor.id]);
  await waitUntil(async () => new URL(page.url()).searchParams.get('q') === 'lyra', { message: 'the query in the URL' });
  await shows('JOB-20412', [agent.id]);
  await shows('win64 unreal', [editor.id]);
  await shows('platform', []); // keys are not values
  await shows(cook.id.slice(-10), [cook.id]);
  await shows('', (await listSessions(server, 'active')).map((s) => s.id));

  // A link with a query opens with it.
  await openDashboard(page, server, '?q=linux');
  assert.equal(await search.inputValue(), 'linux');
  await waitUntil(async () => JSON.stringify(await tableIds(page)) === JSON.stringify([agent.id]), {
    message: 'only the Linux agent',
  });
  await assertClean(env);
});

test('a metadata value in the detail panel finds the sessions that share it', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const a = await createSession(server, { appname: 'editor', metadata: { branch: 'release/5.4', platform: 'Win64' } });
  const b = await createSession(server, { appname: 'agent', metadata: { branch: 'release/5.4' } });
  await createSession(server, { appname: 'other', metadata: { branch: 'main' } });
  await openDashboard(page, server, `?session=${a.id}`);
  const find = page.locator('[data-testid=detail] [data-meta-key="branch"] [data-testid=meta-find]');
  assert.equal(await find.getAttribute('aria-label'), 'Find the sessions whose metadata has release/5.4');
  await find.click();
  assert.equal(await page.locator('[data-testid=session-search]').inputValue(), 'release/5.4');
  await waitUntil(async () => JSON.stringify((await tableIds(page)).sort()) === JSON.stringify([a.id, b.id].sort()), {
    message: 'the two sessions on release/5.4',
  });
  assert.equal(new URL(page.url()).searchParams.get('q'), 'release/5.4');
  await assertClean(env);
});

test('chosen metadata keys show as columns that sort and stay after a reload', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const specs = [['Lyra', 'Win64'], ['Fortnite', 'Linux'], ['Avalon', 'Mac']];
  const ids = [];
  for (const [project, platform] of specs) {
    ids.push((await createSession(server, { appname: `editor-${project}`, metadata: { project, platform } })).id);
  }
  await openDashboard(page, server);
  await page.locator('[data-testid=columns-toggle]').click();
  await page.locator('[data-testid=column-project]').check();
  const header = page.locator('[data-testid=sessions-table] th[data-sort-key="meta:project"]');
  await header.waitFor();
  const projects = () => page.$$eval('[data-testid=sessions-table] tbody tr', (rows) =>
    rows.map((r) => r.querySelector('td[data-meta-column="project"]')?.textContent ?? ''));
  await header.click();
  await waitUntil(async () => (await header.getAttribute('aria-sort')) === 'ascending', { message: 'sorted by project' });
  assert.deepEqual((await projects()).filter(Boolean), ['Avalon', 'Fortnite', 'Lyra']);
  await header.click();
  assert.deepEqual((await projects()).filter(Boolean), ['Lyra', 'Fortnite', 'Avalon']);

  await page.reload();
  await page.locator('[data-testid=conn-status][data-state=open]').waitFor();
  await header.waitFor();
  await page.locator(`[data-testid=sessions-table] tbody tr[data-session-id="${ids[0]}"] td[data-meta-column="project"]`, {
    hasText: 'Lyra',
  }).waitFor();
  assert.deepEqual(await axeFindings(page), []);
  await assertClean(env);
});

// Several sessions read together: all sessions of a job, or those picked in
// the table, merged in time order with each line tagged with its session,
// followed live, filtered like one log, and kept in the URL.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  appendLines,
  assertClean,
  axeFindings,
  createSession,
  endSession,
  logAtBottom,
  openDashboard,
  screenshot,
  setup,
  visibleLogRows,
  waitForLogCount,
  waitUntil,
} from './support.mjs';

const row = (id) => `[data-testid=sessions-table] tbody tr[data-session-id="${id}"]`;

/** Three sessions of one job whose lines interleave in time. */
async function job(server) {
  const names = ['UnrealEditor', 'BuildAgent', 'cook'];
  const sessions = [];
  for (const appname of names) sessions.push(await createSession(server, { appname, jobid: 'job-merge' }));
  for (let round = 1; round <= 3; round += 1) {
    for (const [i, session] of sessions.entries()) {
      await appendLines(server, session.id, [`${names[i]} step ${round}`]);
      await new Promise((resolve) => setTimeout(resolve, 5)); // distinct timestamps, not a timing assertion
    }
  }
  return { names, sessions };
}

/** The tag and text of the rows on screen. */
async function tagged(page) {
  const rows = await visibleLogRows(page);
  const tags = await page.$$eval('[data-testid=log-scroll] .log-row', (found) =>
    Object.fromEntries(found.map((r) => [r.dataset.key, r.querySelector('.log-source')?.textContent ?? ''])));
  const keys = await page.$$eval('[data-testid=log-scroll] .log-row', (found) =>
    Object.fromEntries(found.map((r) => [r.querySelector('.log-message').textContent, r.dataset.key])));
  return rows.map((r) => `${tags[keys[r.text]]}: ${r.text}`);
}

for (const colorScheme of ['light', 'dark']) {
  test(`all sessions of a job read together, in time order, followed live (${colorScheme})`, async (t) => {
    const env = await setup(t, { colorScheme });
    const { server, page } = env;
    const { names, sessions } = await job(server);
    await openDashboard(page, server, `?session=${sessions[0].id}`);
    const button = page.locator('[data-testid=merge-job]');
    await button.waitFor();
    assert.match(await button.textContent(), /all 3 sessions of job job-merge/);
    await button.click();
    await waitForLogCount(page, 9, 9);
    const expected = [1, 2, 3].flatMap((round) => names.map((name) => `${name}: ${name} step ${round}`));
    let shown;
    await waitUntil(async () => JSON.stringify((shown = await tagged(page))) === JSON.stringify(expected), {
      message: () => `the merged lines in time order (${JSON.stringify(shown)})`,
    });
    const url = new URL(page.url());
    assert.deepEqual(url.searchParams.get('merge').split(',').sort(), sessions.map((s) => s.id).sort());
    assert.equal(url.searchParams.get('session'), null);
    assert.equal(await page.locator('[data-testid=merged-list] li').count(), 3);

    // Live lines join at the end, tagged.
    await appendLines(server, sessions[1].id, ['BuildAgent late line']);
    await waitForLogCount(page, 10, 10);
    await waitUntil(async () => (await tagged(page)).at(-1) === 'BuildAgent: BuildAgent late line', {
      message: 'the live line at the end',
    });
    await waitUntil(() => logAtBottom(page), { message: 'the merged view to follow' });

    // One filter over all of them.
    await page.locator('[data-testid=filter-input]').fill('step 2');
    await waitForLogCount(page, 3, 10);
    assert.deepEqual(await axeFindings(page), []);
    await page.locator('[data-testid=filter-input]').fill('');
    await waitForLogCount(page, 10, 10);
    await screenshot(page, `merged-${colorScheme}.png`);

    // A line links to its own session.
    const link = new URL(await page.locator('.log-row a.log-link').first().getAttribute('href'), page.url());
    assert.equal(link.searchParams.get('session'), sessions[0].id);
    assert.equal(link.searchParams.get('merge'), null);

    // The URL reopens the same merged view.
    await page.goto(page.url());
    await waitForLogCount(page, 10, 10);
    await assertClean(env);
  });
}

test('sessions picked in the table are read together; opening one alone ends the merge', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  const a = await createSession(server, { appname: 'alpha' });
  const b = await createSession(server, { appname: 'bravo' });
  await createSession(server, { appname: 'charlie' });
  await appendLines(server, a.id, ['alpha one']);
  await appendLines(server, b.id, ['bravo one']);
  await appendLines(server, a.id, ['alpha two']);
  await endSession(server, b.id);
  await openDashboard(page, server);
  await page.locator('[data-testid=tab-all]').click();
  await page.locator(`${row(a.id)} [data-testid=merge-check]`).check();
  const open = page.locator('[data-testid=merge-open]');
  assert.ok(await open.isDisabled(), 'one pick is not enough');
  // Looking at another session on the way keeps the picks.
  await page.locator(`${row(b.id)} td.cell-app`).click();
  await page.locator(`${row(b.id)}[aria-selected="true"]`).waitFor();
  assert.ok(await page.locator(`${row(a.id)} [data-testid=merge-check]`).isChecked(), 'the pick stays');
  // x on a focused row picks it, like its checkbox.
  await page.locator(row(b.id)).focus();
  await page.keyboard.press('x');
  assert.ok(await page.locator(`${row(b.id)} [data-testid=merge-check]`).isChecked(), 'x picks the focused row');
  await page.keyboard.press('x');
  assert.ok(!(await page.locator(`${row(b.id)} [data-testid=merge-check]`).isChecked()), 'x again drops it');
  await page.locator(`${row(b.id)} [data-testid=merge-check]`).check();
  await open.click();
  await waitForLogCount(page, 3, 3);
  let shown;
  await waitUntil(async () => JSON.stringify((shown = await tagged(page))) === JSON.stringify([
    'alpha: alpha one', 'bravo: bravo one', 'alpha: alpha two',
  ]), { message: () => `the picked lines merged (${JSON.stringify(shown)})` });

  await page.locator('[data-testid=merged-list] li', { hasText: 'alpha' }).getByRole('button', { name: 'Open' }).click();
  await page.locator(`${row(a.id)}[aria-selected="true"]`).waitFor();
  await waitForLogCount(page, 2, 2);
  assert.equal(new URL(page.url()).searchParams.get('session'), a.id);
  assert.equal(await page.locator('.log-row .log-source').count(), 0, 'a single log has no tags');
  await assertClean(env);
});

test('a merged link naming a forgotten session shows the others and says so', async (t) => {
  const env = await setup(t, { allowConsole: [/status of 404/] });
  const { server, page } = env;
  const a = await createSession(server, { appname: 'kept' });
  await appendLines(server, a.id, ['still here']);
  const gone = 'ffffffffffffffffffffffff';
  await openDashboard(page, server, `?merge=${a.id},${gone}`);
  await waitForLogCount(page, 1, 1);
  const notice = page.locator('[data-testid=log-notice]');
  await notice.waitFor({ state: 'visible' });
  assert.match(await notice.textContent(), /not found|does not exist|no session/i);
  await assertClean(env);
});

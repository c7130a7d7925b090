// Using the dashboard without a mouse, and with a server that needs a token.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  appendLines,
  assertClean,
  contrast,
  createSession,
  logAtBottom,
  openDashboard,
  setup,
  tableIds,
  waitUntil,
} from './support.mjs';

const selectedId = (page) =>
  page.$eval('[data-testid=sessions-table] tbody tr[aria-selected="true"]', (row) => row.dataset.sessionId);
const activeTestId = (page) => page.evaluate(() => document.activeElement?.dataset?.testid ?? null);

test('keyboard: / focuses the filter, f toggles follow, G jumps to the end, arrows move the selection', async (t) => {
  const env = await setup(t);
  const { server, page } = env;
  for (const appname of ['kb-one', 'kb-two', 'kb-three']) {
    await createSession(server, { appname });
  }
  const { id } = await createSession(server, { appname: 'kb-long' });
  await appendLines(server, id, Array.from({ length: 300 }, (_, i) => `keyboard line ${i + 1}`));
  await openDashboard(page, server, `?session=${id}`);
  await page.locator('.log-row[data-seq="300"]').waitFor();
  const blur = () => page.evaluate(() => document.activeElement?.blur());

  await blur();
  await page.keyboard.press('/');
  assert.equal(await activeTestId(page), 'filter-input');
  assert.equal(await page.locator('[data-testid=filter-input]').inputValue(), '', 'the / is not typed');
  await page.keyboard.type('f');
  const follow = page.locator('[data-testid=follow-toggle]');
  assert.equal(await follow.getAttribute('aria-pressed'), 'true', 'an f typed into the filter is text');
  await page.locator('[data-testid=filter-input]').fill('');
  await blur();

  await page.keyboard.press('f');
  await waitUntil(async () => (await follow.getAttribute('aria-pressed')) === 'false', { message: 'f to stop following' });
  await page.keyboard.press('f');
  await waitUntil(async () => (await follow.getAttribute('aria-pressed')) === 'true', { message: 'f to follow again' });

  await page.$eval('[data-testid=log-scroll]', (el) => {
    el.scrollTop = 0;
  });
  await page.locator('.log-row[data-seq="1"]').waitFor();
  await blur();
  await page.keyboard.press('Shift+G');
  await page.locator('.log-row[data-seq="300"]').waitFor();
  await waitUntil(() => logAtBottom(page), { message: 'G to scroll to the newest line' });

  const ids = await tableIds(page);
  const start = ids.indexOf(id);
  assert.equal(await selectedId(page), id);
  const step = start === ids.length - 1 ? -1 : 1;
  await blur();
  await page.keyboard.press(step === 1 ? 'ArrowDown' : 'ArrowUp');
  await waitUntil(async () => (await selectedId(page)) === ids[start + step], {
    message: 'the arrow to move the selection',
  });
  await waitUntil(async () => new URL(page.url()).searchParams.get('session') === ids[start + step], {
    message: 'the URL to follow the selection',
  });
  await page.keyboard.press(step === 1 ? 'ArrowUp' : 'ArrowDown');
  await waitUntil(async () => (await selectedId(page)) === id, { message: 'the other arrow to move back' });
  await assertClean(env);
});

test('a server with a token asks for it once and then works', async (t) => {
  // The browser itself logs the refused requests that make the dashboard ask.
  const env = await setup(t, {
    serverArgs: ['--token', 'e2e-secret-token'],
    allowConsole: [/status of 401/, /WebSocket connection to .* failed/],
  });
  const { server, page } = env;
  await page.goto(server.url('/dashboard/'));
  const dialog = page.locator('[data-testid=token-dialog]');
  await dialog.waitFor({ state: 'visible' });
  // The dialog's button stays readable under the pointer.
  const submit = page.locator('[data-testid=token-submit]');
  await submit.hover();
  await page.waitForTimeout(200); // past any transition
  const [color, background] = await submit.evaluate((el) => {
    const style = getComputedStyle(el);
    return [style.color, style.backgroundColor];
  });
  const ratio = contrast(color, background);
  assert.ok(ratio >= 3, `hovered Connect button: ${color} on ${background} is ${ratio.toFixed(2)}:1`);
  await page.locator('[data-testid=token-input]').fill('e2e-secret-token');
  await page.locator('[data-testid=token-submit]').click();
  await dialog.waitFor({ state: 'hidden' });
  await page.locator('[data-testid=conn-status][data-state=open]').waitFor();

  const headers = { authorization: 'Bearer e2e-secret-token' };
  const own = (await (await fetch(server.url('/sessions/'), { headers })).json()).sessions.find((s) => s.server).id;
  await page.locator(`[data-testid=sessions-table] tbody tr[data-session-id="${own}"][aria-selected="true"]`).waitFor();
  await page.locator('.log-row .log-message', { hasText: 'listening on http://' }).first().waitFor();

  // Kept for the browser session: a reload does not ask again.
  await page.reload();
  await page.locator('[data-testid=conn-status][data-state=open]').waitFor();
  assert.ok(await dialog.isHidden(), 'no second prompt after a reload');
  await assertClean(env);
});

// The live connection: the indicator shows when the server goes away, and the
// dashboard reconnects on its own when it comes back.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  assertClean,
  openBrowser,
  openDashboard,
  screenshot,
  serverSessionId,
  startServer,
  waitUntil,
} from './support.mjs';

test('the connection indicator shows a lost server and the dashboard reconnects', async (t) => {
  let server = await startServer();
  // While the server is down the browser itself reports the refused
  // connections; the old server's session is gone after the restart.
  const browser = await openBrowser({
    allowConsole: [/Failed to load resource: net::ERR_/, /WebSocket connection to .* failed/, /status of 404/],
  });
  t.after(async () => {
    await browser.close();
    await server.stop();
  });
  const { page } = browser;
  await openDashboard(page, server);
  const status = page.locator('[data-testid=conn-status]');
  const first = await serverSessionId(server);
  await page.locator(`tr[data-session-id="${first}"]`).waitFor();

  const port = server.port;
  await server.stop();
  await page.locator('[data-testid=conn-status]:not([data-state=open])').waitFor({ timeout: 10_000 });
  assert.ok(['closed', 'connecting'].includes(await status.getAttribute('data-state')));

  server = await startServer([], { port });
  await page.locator('[data-testid=conn-status][data-state=open]').waitFor({ timeout: 20_000 });
  const second = await serverSessionId(server);
  assert.notEqual(second, first);
  await page.locator(`tr[data-session-id="${second}"]`).waitFor({ timeout: 5_000 });
  await page.locator(`tr[data-session-id="${first}"]`).waitFor({ state: 'detached', timeout: 5_000 });
  await assertClean({ browser });
});

test('a lost server is shown beside the log, the table is marked stale, and the new server session is picked', async (t) => {
  let server = await startServer();
  const browser = await openBrowser({
    allowConsole: [/Failed to load resource: net::ERR_/, /WebSocket connection to .* failed/, /status of 404/],
  });
  t.after(async () => {
    await browser.close();
    await server.stop();
  });
  const { page } = browser;
  await openDashboard(page, server);
  const first = await serverSessionId(server);
  await page.locator(`tr[data-session-id="${first}"][aria-selected="true"]`).waitFor();
  await page.locator('.log-row .log-message', { hasText: 'listening on http://' }).first().waitFor();

  const port = server.port;
  await server.stop();
  const notice = page.locator('[data-testid=log-notice]');
  await notice.waitFor({ state: 'visible', timeout: 10_000 });
  assert.match(await notice.textContent(), /server/i);
  assert.ok(await page.locator('.log-row').count() > 0, 'the lines read so far stay');
  const noticeBox = await notice.boundingBox();
  const rows = await page.$$eval('.log-row', (found) => found.map((r) => {
    const box = r.getBoundingClientRect();
    return { top: box.top, bottom: box.bottom };
  }));
  assert.ok(rows.every((r) => r.bottom <= noticeBox.y + 1 || r.top >= noticeBox.y + noticeBox.height - 1),
    'the notice covers no line');
  const pane = page.locator('[data-testid=sessions-pane]');
  await waitUntil(async () => (await pane.getAttribute('data-stale')) === 'true', { message: 'the table marked stale' });
  assert.match(await page.locator('[data-testid=stale-note]').textContent(), /not live|as of/i);
  await screenshot(page, 'server-gone.png');

  server = await startServer([], { port });
  await page.locator('[data-testid=conn-status][data-state=open]').waitFor({ timeout: 20_000 });
  const second = await serverSessionId(server);
  await page.locator(`tr[data-session-id="${second}"][aria-selected="true"]`).waitFor({ timeout: 5_000 });
  await waitUntil(async () => new URL(page.url()).searchParams.get('session') === second, {
    message: 'the URL to name the new server session',
  });
  await page.locator('.log-row .log-message', { hasText: 'listening on http://' }).first().waitFor();
  await notice.waitFor({ state: 'hidden' });
  assert.notEqual(await pane.getAttribute('data-stale'), 'true');
  await assertClean({ browser });
});

// The live connection: the indicator shows when the server goes away, and the
// dashboard reconnects on its own when it comes back.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertClean, openBrowser, openDashboard, serverSessionId, startServer } from './support.mjs';

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

// Untrusted text stays text; a copied link reopens the same view; the dark
// theme follows the system setting.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  appendEntries,
  appendLines,
  assertClean,
  contrast,
  createSession,
  luminance,
  openDashboard,
  paintedBackground,
  screenshot,
  seedSessions,
  serverSessionId,
  setup,
} from './support.mjs';

const IMG = '<img src=x onerror=alert(1)>';
const SCRIPT = '<script>window.__pwned=1</script>';

test('HTML in messages, data, metadata and names renders as text', async (t) => {
  const env = await setup(t);
  const { server, page, browser } = env;
  const session = await createSession(server, {
    appname: '<img src=x onerror=alert(2)>',
    mode: '<b>bold</b>',
    jobid: SCRIPT,
    metadata: { note: SCRIPT, [IMG]: 'key with markup', nested: { html: IMG } },
  });
  await appendLines(server, session.id, [IMG]);
  await appendEntries(server, session.id, [
    { message: SCRIPT, level: 'error', data: { html: '<img src=x onerror=alert(3)>', script: SCRIPT } },
  ]);

  await openDashboard(page, server, `?session=${session.id}`);
  const row = page.locator(`[data-testid=sessions-table] tbody tr[data-session-id="${session.id}"]`);
  await row.waitFor();
  await page.locator('.log-row[data-seq="2"]').waitFor();
  await page.locator('.log-row[data-seq="2"] button.log-data-toggle').click();
  await page.locator('.log-row[data-seq="2"] .log-data, .log-data').first().waitFor();
  await page.waitForTimeout(500); // time for an injected handler to fire

  assert.equal(await page.locator('.log-row[data-seq="1"] .log-message').textContent(), IMG);
  assert.equal(await page.locator('.log-row[data-seq="2"] .log-message').textContent(), SCRIPT);
  assert.match(await page.locator('.log-data').first().textContent(), /<img src=x onerror=alert\(3\)>/);
  assert.match(await row.textContent(), /<img src=x onerror=alert\(2\)>/);
  const detail = page.locator('[data-testid=detail]');
  assert.equal((await detail.locator('[data-meta-key="note"] .meta-value').textContent()).trim(), SCRIPT);
  assert.equal((await detail.locator(`[data-meta-key="${IMG}"] .meta-value`).textContent()).trim(), 'key with markup');
  assert.equal(
    (await detail.locator('[data-meta-key="nested"] .meta-value').textContent()).trim(),
    JSON.stringify({ html: IMG }),
  );
  assert.match(await detail.locator('[data-field="jobid"]').textContent(), /<script>window\.__pwned=1<\/script>/);
  assert.match(await detail.locator('[data-field="mode"]').textContent(), /<b>bold<\/b>/);

  // No element was made from the markup.
  const made = await page.evaluate(() => ({
    images: [...document.querySelectorAll('img')].filter((img) => !img.src.endsWith('/favicon.svg')).length,
    bold: [...document.querySelectorAll('b')].filter((b) => b.textContent === 'bold').length,
    scripts: [...document.scripts].filter((s) => s.textContent.includes('__pwned')).length,
    pwned: window.__pwned,
  }));
  assert.deepEqual(made, { images: 0, bold: 0, scripts: 0, pwned: undefined });
  assert.deepEqual(browser.dialogs, [], 'no dialog opened');
  await assertClean(env);
});

test('a copied line link reopens the same session and line', async (t) => {
  const env = await setup(t);
  const { server, page, browser } = env;
  const { id } = await createSession(server, { appname: 'linked' });
  await appendLines(server, id, Array.from({ length: 300 }, (_, i) => `entry number ${i + 1}`));
  await openDashboard(page, server, `?session=${id}`);
  await page.locator('.log-row[data-seq="300"]').waitFor();

  // Take the link of an early line, far from where follow mode shows.
  await page.$eval('[data-testid=log-scroll]', (el) => {
    el.scrollTop = 0;
  });
  const link = page.locator('.log-row[data-seq="7"] a.log-link');
  await link.waitFor();
  const href = new URL(await link.getAttribute('href'), page.url()).href;
  const url = new URL(href);
  assert.equal(url.pathname, '/dashboard/');
  assert.equal(url.searchParams.get('session'), id);
  assert.equal(url.searchParams.get('line'), '7');

  // Paste it into a fresh tab.
  const second = await browser.newPage();
  await second.goto(href);
  await second.locator('[data-testid=conn-status][data-state=open]').waitFor();
  await second.locator(`[data-testid=sessions-table] tbody tr[data-session-id="${id}"][aria-selected="true"]`).waitFor();
  assert.equal((await second.locator('[data-testid=detail-id]').textContent()).trim(), id);
  const target = second.locator('.log-row[data-seq="7"]');
  await target.waitFor();
  assert.match(await target.getAttribute('class'), /\blog-row--target\b/);
  assert.equal(await second.locator('.log-row.log-row--target').count(), 1);
  const inView = await second.$eval('[data-testid=log-scroll]', (scroll) => {
    const box = scroll.getBoundingClientRect();
    const row = scroll.querySelector('.log-row[data-seq="7"]').getBoundingClientRect();
    return row.top >= box.top - 1 && row.bottom <= box.bottom + 1;
  });
  assert.ok(inView, 'the linked line is scrolled into view');
  assert.match(await target.locator('.log-message').textContent(), /entry number 7$/);
  // Opening a line of the server's own session works the same way.
  const own = await serverSessionId(server);
  await second.goto(server.url(`/dashboard/?session=${own}&line=1`));
  await second.locator(`[data-testid=sessions-table] tbody tr[data-session-id="${own}"][aria-selected="true"]`).waitFor();
  await second.locator('.log-row.log-row--target[data-seq="1"]').waitFor();
  await assertClean(env);
});

test('the dark theme follows the system setting', async (t) => {
  const env = await setup(t, { colorScheme: 'dark' });
  const { server, page } = env;
  const { agent } = await seedSessions(server);
  await openDashboard(page, server, `?session=${agent.id}`);
  await page.locator('.log-row[data-seq="4"]').waitFor();

  const tableBackground = await paintedBackground(page, '[data-testid=sessions-table]');
  const logBackground = await paintedBackground(page, '[data-testid=log-scroll]');
  const text = await page.$eval('.log-row .log-message', (el) => getComputedStyle(el).color);
  assert.ok(luminance(tableBackground) < 0.2, `dark table background (${tableBackground})`);
  assert.ok(luminance(logBackground) < 0.2, `dark log background (${logBackground})`);
  assert.ok(luminance(text) > 0.4, `light text (${text})`);
  const ratio = contrast(text, logBackground);
  assert.ok(ratio >= 4.5, `log text contrast ${ratio.toFixed(1)}:1 is at least 4.5:1`);
  await screenshot(page, 'main-dark.png');
  await assertClean(env);
});

// The harness checks itself: the server starts and serves the dashboard with
// its security headers, and the collectors that every other test relies on
// really notice console errors, CSP violations and dialogs. Without this, a
// broken collector would let every "no errors" assertion pass silently.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertClean, screenshot, setup } from './support.mjs';

test('the dashboard is served with a strict CSP and the harness notices problems', async (t) => {
  const env = await setup(t);
  const { server, page, browser } = env;

  const response = await page.goto(server.url('/dashboard/'));
  assert.equal(response.status(), 200);
  const headers = response.headers();
  assert.match(headers['content-type'], /^text\/html/);
  assert.match(headers['content-security-policy'], /default-src 'self'/);
  assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  await page.waitForLoadState('load');
  await assertClean(env);

  // Each kind of problem is caught.
  await page.evaluate(() => console.error('deliberate console error'));
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__inline = 1';
    document.head.append(script);
  });
  await page.evaluate(() => setTimeout(() => alert('deliberate dialog'), 0));
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate(() => window.__inline), undefined, 'the CSP blocks inline script');
  const problems = await browser.collectProblems();
  assert.ok(problems.some((p) => p.includes('deliberate console error')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('CSP violation: script-src')), problems.join('\n'));
  assert.deepEqual(browser.dialogs, ['alert: deliberate dialog']);
  await assert.rejects(assertClean(env), /deliberate console error/);

  const file = await screenshot(page, 'harness.png');
  assert.match(file, /target[/\\]e2e[/\\]harness\.png$/);
});

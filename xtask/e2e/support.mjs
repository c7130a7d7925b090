// Shared helpers of the browser tests: a real zenserver on an ephemeral
// port, a few HTTP calls a client would make, and headless Chromium driven by
// playwright-core, with every console error and CSP violation recorded so a
// test can assert that none happened.
//
// Run through `cargo xtask e2e`, which builds the server and sets
// ZENSERVER_BIN; `node --test xtask/e2e/` from the repository root works too once
// `target/debug/zenserver` is built. With E2E_DASHBOARD_DIR=web the server
// serves the dashboard from disk (`--dashboard-dir`), so changes to web/ are
// tested without rebuilding.

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

/** This folder, `xtask/e2e`. */
const testsDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(testsDir, '..', '..');
export const screenshotDir = path.join(repoRoot, 'target', 'e2e');

const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
];

// ---------------------------------------------------------------- the server

/**
 * Starts zenserver on a free loopback port and resolves once it has printed
 * `zenserver listening on http://127.0.0.1:PORT`. `stop()` ends it.
 */
let storeServers = 0;

export async function startServer(extraArgs = [], { port = 0 } = {}) {
  const bin = path.resolve(repoRoot, process.env.ZENSERVER_BIN || 'target/debug/zenserver');
  // ZEN_* variables would change the server's limits behind the tests' back.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ZEN_')));
  const args = ['--port', String(port), ...extraArgs];
  // The Redis pass of `cargo xtask test` runs every test again on Redis,
  // each server a deployment of its own.
  if (process.env.E2E_STORE && !extraArgs.includes('--store')) {
    storeServers += 1;
    args.push('--store', process.env.E2E_STORE);
    if (!extraArgs.includes('--store-prefix')) {
      args.push('--store-prefix', `e2e-${process.pid}-${storeServers}-${Date.now()}`);
    }
  }
  if (process.env.E2E_DASHBOARD_DIR) {
    args.push('--dashboard-dir', path.resolve(repoRoot, process.env.E2E_DASHBOARD_DIR));
  }
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 200) stderr.shift();
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('zenserver did not announce its port within 20 s')), 20_000);
    let settled = false;
    const fail = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n--- zenserver stderr ---\n${stderr.join('\n')}`));
    };
    child.once('error', fail);
    exited.then(({ code, signal }) => fail(new Error(`zenserver exited early (code ${code}, signal ${signal})`)));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = /^zenserver listening on (http:\/\/\S+?:\d+)/.exec(line);
      if (match && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  const server = {
    base,
    port: Number(new URL(base).port),
    url: (p) => new URL(p, base).href,
    stderr: () => stderr.join('\n'),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  liveServers.add(child);
  exited.then(() => liveServers.delete(child));
  return server;
}

// A test that throws before its cleanup must not leave servers behind.
const liveServers = new Set();
process.once('exit', () => {
  for (const child of liveServers) child.kill('SIGKILL');
});

// ------------------------------------------------------------- HTTP helpers

async function call(server, method, p, { json, text, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['content-type'] = 'application/json';
  } else if (text !== undefined) {
    init.body = text;
    init.headers['content-type'] = 'text/plain';
  }
  const response = await fetch(server.url(p), init);
  const body = await response.text();
  if (!response.ok) {
    throw new Error(`${method} ${p} answered ${response.status}: ${body}`);
  }
  return body ? JSON.parse(body) : null;
}

/** `POST /sessions/`; resolves to the new session. */
export function createSession(server, body) {
  return call(server, 'POST', '/sessions/', { json: { mode: 'e2e', ...body } });
}

/** `POST /sessions/{id}`: creates the session with this id (or updates it). */
export function createSessionAt(server, id, body) {
  return call(server, 'POST', `/sessions/${id}`, { json: { mode: 'e2e', ...body } });
}

/** `POST /sessions/{id}/log` with plain text, one entry per line. */
export function appendLines(server, id, lines, { level } = {}) {
  const query = level ? `?level=${level}` : '';
  return call(server, 'POST', `/sessions/${id}/log${query}`, { text: lines.join('\n') + '\n' });
}

/** `POST /sessions/{id}/log` with JSON entries (`{message, level, data}`). */
export function appendEntries(server, id, entries) {
  return call(server, 'POST', `/sessions/${id}/log`, { json: { entries } });
}

/** `DELETE /sessions/{id}`: ends the session. */
export function endSession(server, id) {
  return call(server, 'DELETE', `/sessions/${id}`);
}

export function getSession(server, id) {
  return call(server, 'GET', `/sessions/${id}`);
}

export async function listSessions(server, status = 'all') {
  return (await call(server, 'GET', `/sessions/?status=${status}`)).sessions;
}

/** The id of the server's own session. */
export async function serverSessionId(server) {
  const own = (await listSessions(server, 'active')).find((s) => s.server);
  if (!own) throw new Error('the server lists no session of its own');
  return own.id;
}

// ------------------------------------------------------------- test data

/** A few sessions of different kinds, so screenshots show a realistic table. */
export async function seedSessions(server) {
  const editor = await createSession(server, {
    appname: 'UnrealEditor',
    mode: 'interactive',
    jobid: null,
    metadata: { project: 'Lyra', branch: 'main', pid: 4812 },
  });
  const agent = await createSession(server, {
    appname: 'build-agent',
    mode: 'ci',
    jobid: 'job-20412',
    metadata: { pipeline: 'nightly', platform: 'Win64' },
  });
  const cli = await createSession(server, { appname: 'zen-cli', mode: 'oneshot', jobid: 'cli-7' });
  await appendEntries(server, agent.id, [
    { message: 'Cooking content for Win64', level: 'info' },
    { message: 'Shader cache miss for 42 materials', level: 'warn', data: { materials: 42 } },
    { message: 'Package Lyra/Maps/Expanse failed to load', level: 'error' },
    { message: 'Retrying with -fastcook', level: 'debug' },
  ]);
  await appendLines(server, editor.id, ['Editor started', 'Loaded 1,284 assets']);
  await endSession(server, cli.id);
  return { editor, agent, cli };
}

// ------------------------------------------------------------------ browser

/**
 * Launches Chromium with a fresh profile and opens one page. Everything that
 * goes wrong in the page is collected: `console.error`, uncaught exceptions,
 * and CSP violations (seen both as console errors and through a
 * `securitypolicyviolation` listener injected before any page script runs).
 */
export async function openBrowser({ colorScheme = 'light', timezoneId = 'UTC', allowConsole = [] } = {}) {
  const profile = await mkdtemp(path.join(tmpdir(), 'zenserver-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
    colorScheme,
    locale: 'en-US',
    timezoneId,
  });
  const problems = [];
  const dialogs = [];
  context.setDefaultTimeout(10_000);
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}` +
        ` at ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  const watch = (page) => {
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (allowConsole.some((pattern) => pattern.test(text))) return;
      const where = message.location();
      problems.push(`console error: ${text} (${where.url}:${where.lineNumber})`);
    });
    page.on('pageerror', (error) => problems.push(`uncaught: ${error.stack || error}`));
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      dialog.dismiss().catch(() => {});
    });
  };
  const initial = context.pages();
  initial.forEach(watch);
  context.on('page', watch);
  const page = initial[0] ?? (await context.newPage());

  return {
    context,
    page,
    problems,
    dialogs,
    /** A second page in the same profile, watched like the first. */
    newPage: () => context.newPage(),
    /** Console errors, uncaught exceptions and CSP violations so far. */
    async collectProblems() {
      const found = [...problems];
      for (const p of context.pages()) {
        const violations = await p.evaluate(() => window.__cspViolations ?? []).catch(() => []);
        found.push(...violations.map((v) => `CSP violation: ${v}`));
      }
      return found;
    },
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a PNG of the page under `target/e2e/`; resolves to its path. */
export async function screenshot(page, name) {
  await mkdir(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, name.endsWith('.png') ? name : `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
}

// -------------------------------------------------------------- test set-up

/**
 * A server and a browser for one test, both torn down after it:
 * `const { server, browser, page } = await setup(t, { serverArgs, colorScheme })`.
 * `allowConsole` lists patterns of console errors the test expects (the
 * browser's own reports of refused requests, say).
 * End the test with `await assertClean(env)`.
 */
export async function setup(t, { serverArgs = [], colorScheme, timezoneId, allowConsole } = {}) {
  const server = await startServer(serverArgs);
  let browser;
  try {
    browser = await openBrowser({ colorScheme, timezoneId, allowConsole });
  } catch (error) {
    await server.stop();
    throw error;
  }
  t.after(async () => {
    await browser.close();
    await server.stop();
  });
  return { server, browser, page: browser.page };
}

/** Fails when the page logged an error, threw, hit the CSP or opened a dialog. */
export async function assertClean({ browser }) {
  const problems = await browser.collectProblems();
  problems.push(...browser.dialogs.map((d) => `dialog opened: ${d}`));
  if (problems.length > 0) {
    throw new Error(`the page was not clean:\n  ${problems.join('\n  ')}`);
  }
}

// ------------------------------------------------------------ page helpers

/** Opens the dashboard (`query` like `?session=ID`) and waits for the live socket. */
export async function openDashboard(page, server, query = '') {
  await page.goto(server.url(`/dashboard/${query}`));
  await page.locator('[data-testid=conn-status][data-state=open]').waitFor({ timeout: 10_000 });
}

/**
 * Polls `probe` until it returns a truthy value; returns that value.
 * `message` (a string or a function giving one) names what was awaited.
 */
export async function waitUntil(probe, { timeout = 5_000, interval = 50, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const what = typeof message === 'function' ? message() : message;
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** The rendered log rows in on-screen order (top to bottom), as `{seq, text, top}`. */
export function visibleLogRows(page) {
  return page.evaluate(() => {
    const scroll = document.querySelector('[data-testid=log-scroll]');
    const box = scroll.getBoundingClientRect();
    return [...scroll.querySelectorAll('.log-row')]
      .map((row) => ({ row, rect: row.getBoundingClientRect() }))
      .filter(({ rect }) => rect.height > 0 && rect.bottom > box.top && rect.top < box.bottom)
      .sort((a, b) => a.rect.top - b.rect.top)
      .map(({ row, rect }) => ({
        seq: Number(row.dataset.seq),
        text: row.querySelector('.log-message')?.textContent ?? '',
        level: row.querySelector('.log-level')?.textContent?.trim() ?? '',
        top: rect.top,
      }));
  });
}

/**
 * The log count as numbers: `{shown, total}` from "120 of 10,000 lines", or
 * from "10,000 lines" when nothing is filtered out.
 */
export async function logCount(page) {
  const text = await page.locator('[data-testid=log-count]').textContent();
  const number = (s) => Number(s.replace(/[,.\s\u00a0\u202f]/g, ''));
  const filtered = /([\d,.\u00a0\u202f]+)\s+of\s+([\d,.\u00a0\u202f]+)/.exec(text);
  if (filtered) return { shown: number(filtered[1]), total: number(filtered[2]), text };
  const all = /([\d,.\u00a0\u202f]+)\s+lines?/.exec(text);
  if (all) return { shown: number(all[1]), total: number(all[1]), text };
  return { shown: NaN, total: NaN, text };
}

/** Waits until the log count reads `shown` of `total` lines. */
export function waitForLogCount(page, shown, total, timeout = 5_000) {
  let last;
  return waitUntil(
    async () => {
      last = await logCount(page);
      return last.shown === shown && last.total === total;
    },
    { timeout, message: () => `the log count to read ${shown} of ${total} (it says "${last?.text}")` },
  );
}

/** Whether the log viewer is scrolled to (within a few pixels of) its end. */
export function logAtBottom(page) {
  return page.$eval('[data-testid=log-scroll]', (el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4);
}

/** Session ids of the table body rows, top to bottom. */
export function tableIds(page) {
  return page.$$eval('[data-testid=sessions-table] tbody tr[data-session-id]', (rows) =>
    rows.map((row) => row.dataset.sessionId),
  );
}

/** Relative luminance (0 black … 1 white) of a CSS `rgb()`/`rgba()` colour. */
export function luminance(color) {
  const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)/.exec(color);
  if (!m) throw new Error(`cannot read colour ${color}`);
  const [r, g, b] = m.slice(1, 4).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio (1 … 21) of two CSS colours. */
export function contrast(a, b) {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (light + 0.05) / (dark + 0.05);
}

/** The background actually painted behind an element (first opaque ancestor). */
export function paintedBackground(page, selector) {
  return page.$eval(selector, (el) => {
    for (let node = el; node; node = node.parentElement) {
      const bg = getComputedStyle(node).backgroundColor;
      if (bg && bg !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(bg)) return bg;
    }
    // Nothing painted: the canvas colour of the used colour scheme.
    const scheme = getComputedStyle(document.documentElement).colorScheme;
    return scheme.includes('dark') && matchMedia('(prefers-color-scheme: dark)').matches
      ? 'rgb(18, 18, 18)'
      : 'rgb(255, 255, 255)';
  });
}

/**
 * Runs axe-core (from this folder's node_modules) in the page and resolves to its
 * serious and critical findings, each as one readable line. The script is
 * evaluated through the DevTools protocol, which the page's CSP does not
 * govern, so the page stays as strict as it is served.
 */
export async function axeFindings(page) {
  axeSource ??= await readFile(path.join(testsDir, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations);
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')})`);
}
let axeSource = null;

// Talking to the server: JSON requests with the optional bearer token, and
// the WebSocket address. The token is asked for once, when the server first
// answers 401, and kept in sessionStorage for this browser session.

import { byId } from './dom.js';

const TOKEN_KEY = 'zenserver-token';
let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
let asking = null;

/** An error answer, with the problem+json `detail` when there was one. */
export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
}

/** GET `path` as JSON. `signal` aborts it. A 401 asks for the token and retries. */
export async function getJson(path, { signal } = {}) {
  for (;;) {
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const response = await fetch(path, { headers, signal, cache: 'no-store' });
    if (response.status === 401) {
      await askForToken();
      continue;
    }
    if (!response.ok) {
      let detail = '';
      try { detail = (await response.json()).detail ?? ''; } catch { /* not problem+json */ }
      throw new ApiError(response.status, detail);
    }
    return response.json();
  }
}

/** The URL of the live session list; browsers cannot send headers there. */
export function liveUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  return `${scheme}//${location.host}/sessions/ws${query}`;
}

/** Whether the server has asked for a token (so a failing socket may need one). */
export function hasToken() {
  return token !== '';
}

/** Shows the token dialog (once, however many requests are waiting); says so
 * when a token was given before and refused. */
export function askForToken() {
  asking ??= new Promise((resolve) => {
    const dialog = byId('token-dialog');
    const input = byId('token-input');
    byId('token-form').addEventListener('submit', () => {
      token = input.value.trim();
      sessionStorage.setItem(TOKEN_KEY, token);
      asking = null;
      resolve();
    }, { once: true });
    byId('token-error').hidden = token === '';
    input.value = '';
    dialog.showModal();
    input.focus();
  });
  return asking;
}

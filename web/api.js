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

/**
 * Shows the token dialog (once, however many requests are waiting); says so
 * when a token was given before and refused. Settles when the dialog closes:
 * with a token it resolves, dismissed (Escape) it rejects with a 401, so
 * every waiting request fails now and asks again on its next attempt.
 */
export function askForToken() {
  asking ??= new Promise((resolve, reject) => {
    const dialog = byId('token-dialog');
    const input = byId('token-input');
    const form = byId('token-form');
    let given = false;
    const submitted = () => {
      token = input.value.trim();
      sessionStorage.setItem(TOKEN_KEY, token);
      given = true;
    };
    form.addEventListener('submit', submitted, { once: true });
    dialog.addEventListener('close', () => {
      form.removeEventListener('submit', submitted);
      asking = null;
      if (given) resolve();
      else reject(new ApiError(401, 'This server needs a token, and none was given'));
    }, { once: true });
    byId('token-error').hidden = token === '';
    input.value = '';
    dialog.showModal();
    input.focus();
  });
  return asking;
}

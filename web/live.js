// The live session list from /sessions/ws, reconnecting on its own with
// backoff (0.5 s doubling to 10 s, with jitter) and saying how it is doing.

import { liveUrl, getJson } from './api.js';

const FIRST_DELAY = 500;
const MAX_DELAY = 10_000;

/**
 * Connects and keeps connected. `onList(message)` gets every list;
 * `onState(state, detail)` gets `connecting`, `open` or `closed`.
 */
export function connectLive({ onList, onState }) {
  let delay = FIRST_DELAY;
  let countdown = 0;

  const connect = () => {
    onState('connecting', 'Connecting…');
    const socket = new WebSocket(liveUrl());
    let opened = false;
    socket.addEventListener('open', () => {
      opened = true;
      delay = FIRST_DELAY;
      onState('open', 'Live');
    });
    socket.addEventListener('message', (event) => {
      try {
        const message = JSON.parse(event.data);
        if (message.type === 'sessions') onList(message);
      } catch (error) {
        console.warn('unreadable message from /sessions/ws', error);
      }
    });
    socket.addEventListener('close', async () => {
      if (!opened) {
        // The upgrade may have been refused for want of a token: a plain
        // request finds out, and asks for it.
        try { await getJson('/health'); await getJson('/sessions/?status=active'); } catch { /* offline */ }
      }
      retry();
    });
  };

  const retry = () => {
    const wait = Math.min(delay, MAX_DELAY) * (0.8 + Math.random() * 0.4);
    delay = Math.min(delay * 2, MAX_DELAY);
    const until = Date.now() + wait;
    const tick = () => {
      const left = Math.max(0, Math.ceil((until - Date.now()) / 1000));
      onState('closed', left > 0 ? `Disconnected · retrying in ${left}s` : 'Disconnected · retrying');
    };
    tick();
    clearInterval(countdown);
    countdown = setInterval(tick, 1000);
    setTimeout(() => { clearInterval(countdown); connect(); }, wait);
  };

  connect();
}

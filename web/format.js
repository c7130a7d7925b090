// Time formatting: relative times for glancing, exact times on hover.

const pad = (n, width = 2) => String(n).padStart(width, '0');

/** `15:04:05.123`, in local time or UTC. */
export function clock(ms, utc) {
  const d = new Date(ms);
  return utc
    ? `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}`
    : `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** `2026-11-27 15:04:05.123`, local time. */
export function localDateTime(ms) {
  if (!Number.isFinite(ms)) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ms, false)}`;
}

/** `2026-11-27 15:04:05.123 local · 2026-11-27T14:04:05.123Z`, for tooltips. */
export function exact(ms) {
  if (!Number.isFinite(ms)) return '';
  return `${localDateTime(ms)} local · ${new Date(ms).toISOString()}`;
}

/** `just now`, `42s ago`, `5m ago`, `3h ago`, `2d ago`. */
export function ago(ms, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 5) return 'just now';
  if (seconds < 60) return `${seconds}s ago`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ago`;
  return `${Math.floor(hours / 24)}d ago`;
}

/** A log timestamp in the chosen mode: `local`, `utc` or `relative`. */
export function logTime(ms, mode, now = Date.now()) {
  if (mode === 'relative') {
    const seconds = (now - ms) / 1000;
    if (seconds < 60) return `-${seconds.toFixed(1).padStart(5)}s`;
    return ago(ms, now).replace(' ago', '').padStart(7);
  }
  return clock(ms, mode === 'utc');
}

export function parseTime(text) {
  return text ? Date.parse(text) : NaN;
}

export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** `850 ms`, `12.3 s`, `4m 05s`, `2h 03m`. */
export function duration(ms) {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${pad(seconds % 60)}s`;
  return `${Math.floor(seconds / 3600)}h ${pad(Math.floor(seconds / 60) % 60)}m`;
}

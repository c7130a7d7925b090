// The lines of one session's log, fetched and followed with long-poll cursor
// reads. Items are entries or gaps (entries the server evicted before they
// were read, or old lines this page let go of to stay within MAX_ITEMS).

import { getJson } from './api.js';
import { parseTime } from './format.js';

const WAIT_SECONDS = 25;
const PAGE = 10_000;
/** Lines kept in the page at most; older ones give way, counted in a gap. */
const MAX_ITEMS = 50_000;

/**
 * Resolves when `register(done)` calls `done` or `signal` aborts, whichever
 * comes first, and leaves no listener on the signal: a page that follows a
 * log for a day waits thousands of times on the same signal. `register` may
 * return a function that undoes what it set up (a timer).
 */
const until = (signal, register) => new Promise((resolve) => {
  if (signal.aborted) {
    resolve();
    return;
  }
  let undo = null;
  const done = () => {
    signal.removeEventListener('abort', done);
    undo?.();
    resolve();
  };
  signal.addEventListener('abort', done, { once: true });
  undo = register(done) ?? null;
});

const sleep = (ms, signal) => until(signal, (done) => {
  const timer = setTimeout(done, ms);
  return () => clearTimeout(timer);
});

function lineCount(message) {
  let count = 1;
  for (let at = message.indexOf('\n'); at >= 0; at = message.indexOf('\n', at + 1)) count += 1;
  return count;
}

export class LogStore {
  /**
   * `onChange({ appended, reset })` after every change; `onStatus(text)` for
   * problems worth showing (the session is gone, the server is unreachable).
   */
  constructor({ onChange, onStatus }) {
    this.onChange = onChange;
    this.onStatus = onStatus;
    this.items = [];
    this.entryCount = 0;
    this.sessionId = null;
    this.follow = true;
    this.ended = false;
    this.loaded = false;
    /** Whether the last read reached the end of the log. */
    this.caughtUp = false;
    /** Whether the log cannot be read at all (no such session). */
    this.failed = false;
    this.controller = null;
    this.resume = null;
    this.trimmed = false;
    /** Whether a message of several lines was read. */
    this.multiline = false;
  }

  /** Starts over with `sessionId`'s log. */
  open(sessionId) {
    this.controller?.abort();
    this.controller = new AbortController();
    this.sessionId = sessionId;
    this.items = [];
    this.entryCount = 0;
    this.multiline = false;
    this.ended = false;
    this.loaded = false;
    this.caughtUp = false;
    this.failed = false;
    this.onChange({ appended: 0, reset: true });
    if (sessionId) this.run(sessionId, this.controller.signal);
  }

  setFollow(follow) {
    this.follow = follow;
    if (follow && this.resume) {
      this.resume();
      this.resume = null;
    }
  }

  /** The session ended: once caught up there is nothing more to wait for. */
  setEnded(ended) {
    this.ended = ended;
  }

  async run(sessionId, signal) {
    let cursor = 0;
    let caughtUp = false;
    let failures = 0;
    while (!signal.aborted) {
      if (caughtUp && (!this.follow || this.ended)) {
        // Not following: wait to be asked again (or for the next session).
        await until(signal, (done) => { this.resume = done; });
        this.resume = null;
        continue;
      }
      const wait = caughtUp ? `&wait=${WAIT_SECONDS}` : '';
      const started = Date.now();
      let read;
      try {
        read = await getJson(`/sessions/${sessionId}/log?cursor=${cursor}&limit=${PAGE}${wait}`, { signal });
      } catch (error) {
        if (signal.aborted) return;
        if (error.status === 404 || error.status === 400) {
          // Nothing to read, ever: as loaded as it will be.
          this.failed = true;
          this.onStatus(error.message);
          return;
        }
        failures += 1;
        this.onStatus(`Cannot reach the server (${error.message}); retrying…`);
        await sleep(Math.min(10_000, 500 * 2 ** failures), signal);
        continue;
      }
      if (signal.aborted) return;
      if (failures > 0) this.onStatus('');
      failures = 0;
      if (read.reset) {
        // The cursor was ahead of this log: it is a new log under an old id.
        this.items = [];
        this.entryCount = 0;
        this.onChange({ appended: 0, reset: true });
      }
      const appended = this.add(read);
      cursor = read.cursor;
      this.loaded = true;
      this.caughtUp = !read.more;
      // A read that waited brings lines written since the page caught up.
      this.onChange({ appended, reset: this.trimmed, live: wait !== '' });
      this.trimmed = false;
      caughtUp = !read.more;
      if (caughtUp && wait && read.entries.length === 0 && Date.now() - started < 1000 && !this.ended) {
        // Answered at once with nothing: do not spin.
        await sleep(1000, signal);
      }
    }
  }

  /** Adds a read's gap and entries; returns how many entries came. */
  add(read) {
    if (read.dropped > 0) this.items.push({ gap: read.dropped, key: `gap-${read.cursor}-${this.items.length}` });
    for (const entry of read.entries) {
      this.items.push({
        seq: entry.seq,
        key: entry.seq,
        timestamp: entry.timestamp,
        ms: parseTime(entry.timestamp),
        level: entry.level,
        message: entry.message,
        data: entry.data,
        lines: lineCount(entry.message),
        lower: null,
      });
      if (this.items.at(-1).lines > 1) this.multiline = true;
    }
    this.entryCount += read.entries.length;
    if (this.items.length > MAX_ITEMS) this.trim();
    return read.entries.length;
  }

  trim() {
    const excess = this.items.length - MAX_ITEMS;
    const removed = this.items.splice(0, excess + 1);
    const entries = removed.filter((item) => item.gap === undefined).length;
    this.entryCount -= entries;
    const earlier = removed.reduce((sum, item) => sum + (item.gap ?? 1), 0);
    this.items.unshift({ gap: earlier, key: `gap-trim-${this.items[0]?.key}`, trimmed: true });
    // Positions moved: views must rebuild rather than extend.
    this.trimmed = true;
  }
}

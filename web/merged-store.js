// Several sessions' logs read as one, in time order: one LogStore per
// session does the reading and following, and this keeps their items merged
// by timestamp, each tagged with where it came from (`source`, an index into
// `sources`). It has the interface of LogStore, so the log view shows either.

import { LogStore } from './log-store.js';

export class MergedStore {
  /** The same callbacks as LogStore. */
  constructor({ onChange, onStatus }) {
    this.onChange = onChange;
    this.onStatus = onStatus;
    this.children = [];
    /** `{ id, appname }` per session, in the order they were given. */
    this.sources = [];
    /** Child items already merged, per child. */
    this.taken = [];
    this.items = [];
    this.follow = true;
    this.statuses = [];
    /** Whether the first pages of all logs have been merged. */
    this.merged = false;
  }

  get sessionId() {
    return this.sources.length > 0 ? 'merged' : null;
  }

  get entryCount() {
    return this.children.reduce((sum, child) => sum + child.entryCount, 0);
  }

  /** Every log has its first page, or cannot be read at all. */
  get loaded() {
    return this.children.length > 0 && this.children.every((child) => child.loaded || child.failed);
  }

  get caughtUp() {
    return this.children.every((child) => child.caughtUp || child.failed);
  }

  get ended() {
    return this.children.every((child) => child.ended);
  }

  get multiline() {
    return this.children.some((child) => child.multiline);
  }

  /** Starts over with the logs of `sessions` (`{ id, appname }`); none closes. */
  open(sessions) {
    for (const child of this.children) child.open(null);
    this.sources = sessions.map(({ id, appname }) => ({ id, appname }));
    this.items = [];
    this.merged = false;
    this.statuses = sessions.map(() => '');
    this.taken = sessions.map(() => 0);
    this.children = sessions.map((_, index) => new LogStore({
      onChange: (change) => this.childChanged(index, change),
      onStatus: (text) => this.childStatus(index, text),
    }));
    this.onChange({ appended: 0, reset: true });
    this.children.forEach((child, index) => {
      child.setFollow(this.follow);
      child.open(this.sources[index].id);
    });
  }

  setFollow(follow) {
    this.follow = follow;
    for (const child of this.children) child.setFollow(follow);
  }

  /** Which of the sessions have ended, by id. */
  setEnded(endedIds) {
    this.children.forEach((child, index) => child.setEnded(endedIds.has(this.sources[index].id)));
  }

  childStatus(index, text) {
    this.statuses[index] = text ? `${this.sources[index].appname}: ${text}` : '';
    this.onStatus(this.statuses.filter(Boolean).join(' · '));
    // A log that cannot be read must not hold the others back.
    if (this.children[index]?.failed) this.childChanged(index, { reset: true });
  }

  childChanged(index, { reset, live = false }) {
    const child = this.children[index];
    if (!child) return; // still being built: the first reads follow
    if (!this.merged) {
      // Merged once every log has its first page, then kept merged.
      if (this.loaded) {
        this.merged = true;
        this.mergeAll();
      }
      return;
    }
    if (reset || this.taken.some((taken, i) => taken > this.children[i].items.length)) {
      this.mergeAll();
      return;
    }
    const fresh = child.items.slice(this.taken[index]);
    this.taken[index] = child.items.length;
    this.tag(fresh, index);
    let inOrder = true;
    for (const item of fresh) {
      const last = this.items.at(-1);
      if (!last || order(last, item) <= 0) {
        this.items.push(item);
      } else {
        // Older than lines of another session already shown: put it in place.
        this.items.splice(this.insertionPoint(item), 0, item);
        inOrder = false;
      }
    }
    this.onChange({ appended: inOrder ? fresh.length : 0, reset: !inOrder, live });
  }

  /** Merges every child's items afresh. */
  mergeAll() {
    const all = [];
    this.children.forEach((child, index) => {
      this.tag(child.items, index);
      this.taken[index] = child.items.length;
      for (const item of child.items) all.push(item);
    });
    all.sort(order);
    this.items = all;
    this.onChange({ appended: 0, reset: true });
  }

  /**
   * Marks items with their source and a key unique across sessions. A gap
   * has no time of its own: it takes the time of the entry after it.
   */
  tag(items, source) {
    let next = Infinity;
    for (let i = items.length - 1; i >= 0; i -= 1) {
      const item = items[i];
      if (item.source === undefined) {
        item.source = source;
        item.key = `${source}:${item.key}`;
      }
      if (item.gap === undefined) next = item.ms;
      else item.ms = next;
    }
  }

  insertionPoint(item) {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (order(this.items[middle], item) <= 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** Time order; within one millisecond, by session, then by line. */
function order(a, b) {
  return (a.ms - b.ms) || (a.source - b.source) || ((a.seq ?? 0) - (b.seq ?? 0));
}

// The log viewer: follow mode, scrolling and a virtual list that renders only
// the rows in sight (plus a margin), so 10,000 lines scroll and filter
// smoothly. What passes the filter is `log-filter.js`, where rows sit
// `log-geometry.js`, what a row looks like `log-row.js`, the toolbar and
// messages `log-controls.js`.

import { byId, copyText } from './dom.js';
import { LogControls } from './log-controls.js';
import { download } from './log-download.js';
import { LogFilter } from './log-filter.js';
import { Geometry, ROW } from './log-geometry.js';
import { endRowText, logRow } from './log-row.js';
import { LogStore } from './log-store.js';
import { MergedStore } from './merged-store.js';
import { loadPref, savePref } from './prefs.js';

const OVERSCAN = 20;
const TIME_MODES = ['local', 'utc', 'relative'];

export class LogView {
  /**
   * `onLineLink`: `href(seq, sessionId)` of a line's link, `select(seq)` when
   * one is clicked; `onViewChange()` when the filter changed (for the URL).
   */
  constructor({ onLineLink, onViewChange }) {
    this.onLineLink = onLineLink;
    this.onViewChange = onViewChange;
    this.scroller = byId('log-scroll');
    this.spacer = byId('log-spacer');
    const callbacks = {
      onChange: (change) => this.changed(change),
      onStatus: (text) => this.status(text),
    };
    /** One session's log, or several merged: `store` is the one shown. */
    this.single = new LogStore(callbacks);
    this.merged = new MergedStore(callbacks);
    this.store = this.single;
    this.view = [];
    /** Store items the view has looked at; later ones are new. */
    this.scanned = 0;
    this.newestFirst = false;
    this.wrap = loadPref('wrap', ['true', 'false'], 'false') === 'true';
    this.timeMode = loadPref('time-mode', TIME_MODES, 'local');
    this.filter = new LogFilter();
    this.expanded = new Set();
    this.geometry = new Geometry();
    this.paused = false;
    this.newCount = 0;
    this.target = null;
    this.programmaticScroll = false;
    this.frame = 0;
    this.statusText = '';
    /** Something to say about the view itself (a linked line is gone). */
    this.noticeText = '';
    /** How the session ended, shown after its last line; '' while active. */
    this.endText = '';
    /** Rows drawn last time, by item key, reused while `epoch` holds. */
    this.rowCache = new Map();
    /** Grows whenever what a row shows changes (filter, time mode, ...). */
    this.epoch = 0;
    this.scroller.addEventListener('scroll', () => this.scrolled());
    this.spacer.addEventListener('click', (event) => this.clicked(event));
    new ResizeObserver(() => this.draw()).observe(this.scroller);
    this.controls = new LogControls(this);
    this.controls.update();
    setInterval(() => {
      if (this.timeMode === 'relative') this.redraw();
    }, 1000);
  }

  /**
   * Shows `sessionId`'s log, scrolled to line `targetSeq` if given; with no
   * session, shows `why` instead.
   */
  open(sessionId, targetSeq = null, why = '') {
    if (this.store === this.merged) this.merged.open([]);
    this.store = this.single;
    this.startOver(targetSeq, why);
    this.single.open(sessionId);
  }

  /** Shows the logs of `sessions` (`{ id, appname }`) merged in time order. */
  openMerged(sessions) {
    this.single.open(null);
    this.store = this.merged;
    this.startOver(null, '');
    this.endText = '';
    this.merged.setFollow(true);
    this.merged.open(sessions);
  }

  startOver(targetSeq, why) {
    this.target = targetSeq;
    this.epoch += 1;
    this.paused = targetSeq !== null;
    this.newCount = 0;
    this.expanded.clear();
    this.geometry.heights.clear();
    this.statusText = why;
    this.noticeText = '';
  }

  /** The sessions of a merged view changed: which have ended. */
  setMergedSessions(sessions) {
    if (this.store !== this.merged) return;
    this.merged.setEnded(new Set(sessions.filter((s) => s?.status === 'ended').map((s) => s.id)));
  }

  /** The session shown changed (or its list entry did). */
  setSession(session) {
    if (this.store !== this.single) return;
    const ended = session?.status === 'ended';
    this.store.setEnded(ended);
    this.endText = ended ? endRowText(session) : '';
    this.updateEnd();
  }

  /** The end row: after the last line, or above the newest one when those come first. */
  updateEnd() {
    const end = byId('log-end');
    const text = this.store.caughtUp ? this.endText : '';
    if (end.textContent !== text) end.textContent = text;
    const changed = end.hidden !== (text === '');
    end.hidden = text === '';
    const before = this.newestFirst ? this.spacer : null;
    if (end.nextSibling !== before) this.scroller.insertBefore(end, before);
    if (changed && this.store.follow && !this.paused && this.target === null) this.scrollToLatest();
  }

  setFollow(follow) {
    this.store.setFollow(follow);
    if (follow) {
      this.paused = false;
      this.newCount = 0;
      this.scrollToLatest();
    }
    this.controls.update();
  }

  toggleFollow() {
    this.setFollow(!this.store.follow);
  }

  toggleNewestFirst() {
    this.newestFirst = !this.newestFirst;
    this.layout();
    this.jumpToLatest();
  }

  toggleWrap() {
    this.wrap = !this.wrap;
    savePref('wrap', String(this.wrap));
    this.geometry.heights.clear();
    this.layout();
    if (this.store.follow && !this.paused) this.scrollToLatest();
    this.draw();
    this.controls.update();
  }

  setTimeMode(mode) {
    this.timeMode = mode;
    savePref('time-mode', mode);
    this.redraw();
  }

  jumpToLatest() {
    this.target = null;
    if (!this.store.follow) this.store.setFollow(true);
    this.paused = false;
    this.newCount = 0;
    this.scrollToLatest();
    this.controls.update();
    this.draw();
  }

  focusLine(seq) {
    this.target = seq;
    this.epoch += 1;
    this.paused = true;
    this.revealTarget();
    this.controls.update();
  }

  status(text) {
    this.statusText = text;
    this.controls.updateMessages();
  }

  /** Whether any line takes more than one row even without wrapping. */
  multiline() {
    return this.store.multiline;
  }

  // ---- data ----

  /**
   * The store changed. Only `live` lines, read after the log was caught up,
   * are new to a paused reader: the backlog loaded with the page is not.
   */
  changed({ appended, reset, live = false }) {
    if (reset) {
      this.rebuild();
    } else if (appended > 0) {
      const items = this.store.items;
      const before = this.view.length;
      if (this.filter.withContext()) {
        // A new line may be context of an old match: select afresh.
        this.view = this.filter.select(items);
      } else {
        for (let index = this.scanned; index < items.length; index += 1) {
          if (this.filter.passes(items[index])) this.view.push(index);
        }
      }
      this.scanned = items.length;
      const added = this.view.length - before;
      const addedHeight = this.heightOfLast(added);
      this.layout();
      if (this.store.follow && this.paused && added > 0) {
        if (live) this.newCount += added;
        // Keep what the reader looks at in place when lines arrive above it.
        if (this.newestFirst) this.setScrollTop(this.scroller.scrollTop + addedHeight);
      }
    }
    this.updateEnd();
    if (this.target !== null && this.revealTarget()) {
      // shown
    } else if (this.target !== null && this.targetEvicted()) {
      this.noticeText = `Line ${this.target.toLocaleString('en-US')} is no longer kept: the server dropped it to stay `
        + `within its limits. The log now starts at line ${this.oldestSeq().toLocaleString('en-US')}.`;
      this.target = null;
      this.setScrollTop(this.newestFirst ? this.geometry.total : 0);
    } else if (this.store.follow && !this.paused) {
      this.scrollToLatest();
    }
    this.controls.update();
    this.draw();
  }

  refilter() {
    this.controls.compileFilter();
    this.onViewChange?.();
    this.epoch += 1;
    // At the end before, at the end after. `paused` alone lags behind a
    // scroll the user just made (its event is still to come).
    const stick = !this.paused && this.atLatest();
    this.rebuild();
    if (stick) this.scrollToLatest();
    this.draw();
  }

  /** The seq of the oldest entry held, or null. */
  oldestSeq() {
    return this.store.items.find((item) => item.gap === undefined)?.seq ?? null;
  }

  /** Whether the line linked to was evicted before this page could read it. */
  targetEvicted() {
    const oldest = this.oldestSeq();
    return this.store.loaded && oldest !== null && this.target < oldest;
  }

  rebuild() {
    const items = this.store.items;
    // Lines the store let go of need no height any more.
    if (this.geometry.heights.size > items.length) this.geometry.prune(items);
    this.view = this.filter.select(items);
    this.scanned = items.length;
    this.layout();
    this.controls.update();
  }

  /** The item shown at display position `position`. */
  itemAt(position) {
    const index = this.newestFirst ? this.view[this.view.length - 1 - position] : this.view[position];
    return this.store.items[index];
  }

  // ---- geometry ----

  /** Whether every row is ROW high, so no height needs measuring. */
  uniform() {
    return !this.wrap && this.expanded.size === 0 && !this.multiline();
  }

  heightOf(item) {
    return this.uniform() ? ROW : this.geometry.heightOf(item);
  }

  layout() {
    this.geometry.layout(this.view.length, this.uniform(), (position) => this.itemAt(position));
    this.spacer.style.height = `${this.geometry.total}px`;
  }

  /** Height of the `count` newest items in the view. */
  heightOfLast(count) {
    let height = 0;
    for (let i = this.view.length - count; i < this.view.length; i += 1) {
      height += this.heightOf(this.store.items[this.view[i]]);
    }
    return height;
  }

  // ---- scrolling ----

  atLatest() {
    const { scrollTop, clientHeight, scrollHeight } = this.scroller;
    return this.newestFirst ? scrollTop <= 2 : scrollTop + clientHeight >= scrollHeight - 2;
  }

  setScrollTop(value) {
    if (Math.abs(this.scroller.scrollTop - value) < 1) return;
    this.programmaticScroll = true;
    this.scroller.scrollTop = value;
  }

  scrollToLatest() {
    // Past the end is clamped: the end row, if any, comes into view too.
    this.setScrollTop(this.newestFirst ? 0 : this.geometry.total + this.scroller.clientHeight);
  }

  scrolled() {
    const programmatic = this.programmaticScroll;
    this.programmaticScroll = false;
    if (this.atLatest() && this.target === null) {
      // At the newest line, however it got there: following again.
      this.paused = false;
      this.newCount = 0;
    } else if (!programmatic && this.store.follow) {
      this.paused = true;
    }
    this.controls.updateBanner();
    this.draw();
  }

  /** Scrolls the target line into the middle; false if it is not loaded yet. */
  revealTarget() {
    const position = this.view.findIndex((index) => this.store.items[index].seq === this.target);
    if (position < 0) return false;
    const displayed = this.newestFirst ? this.view.length - 1 - position : position;
    const top = this.spacer.offsetTop + this.geometry.top(displayed);
    this.setScrollTop(Math.max(0, top - this.scroller.clientHeight / 2 + ROW));
    this.draw();
    return true;
  }

  // ---- drawing ----

  /** Draws again with every row rebuilt. */
  redraw() {
    this.epoch += 1;
    this.draw();
  }

  draw() {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => this.drawNow());
  }

  drawNow(remeasures = 2) {
    const count = this.view.length;
    const { clientHeight } = this.scroller;
    // Rows start below the end row when that is on top.
    const scrollTop = Math.max(0, this.scroller.scrollTop - this.spacer.offsetTop);
    const first = Math.max(0, this.geometry.positionAt(scrollTop) - OVERSCAN);
    const last = Math.min(count - 1, this.geometry.positionAt(scrollTop + clientHeight) + OVERSCAN);
    const rows = [];
    const cache = new Map();
    for (let position = first; position <= last; position += 1) {
      const item = this.itemAt(position);
      const cached = this.rowCache.get(item.key);
      const row = cached && cached.epoch === this.epoch ? cached.row : this.row(item);
      const top = `${this.geometry.top(position)}px`;
      if (row.style.top !== top) row.style.top = top;
      cache.set(item.key, { epoch: this.epoch, row });
      rows.push(row);
    }
    this.rowCache = cache;
    this.scroller.classList.toggle('wrap', this.wrap);
    this.scroller.classList.toggle('newest-first', this.newestFirst);
    // Touch only what changed: rows that stay keep their place in the DOM.
    const keep = new Set(rows);
    for (const child of [...this.spacer.children]) {
      if (!keep.has(child)) child.remove();
    }
    for (const row of rows) {
      if (row.parentNode !== this.spacer) this.spacer.append(row);
    }
    this.controls.updateMessages();
    if (this.uniform() || remeasures === 0) return;
    let changed = false;
    for (let i = 0; i < rows.length; i += 1) {
      if (this.geometry.measured(this.itemAt(first + i), rows[i].offsetHeight)) changed = true;
    }
    if (changed) {
      this.layout();
      // Rows grew or shrank under a follower: the end moved, follow it.
      if (this.store.follow && !this.paused && this.target === null) this.scrollToLatest();
      this.drawNow(remeasures - 1);
    }
  }

  row(item) {
    return logRow(item, {
      filter: this.filter,
      timeMode: this.timeMode,
      target: this.target,
      expanded: this.expanded,
      href: (line) => this.onLineLink.href(line.seq, line.source === undefined ? undefined : this.merged.sources[line.source].id),
      sources: this.merged.sources,
    });
  }

  clicked(event) {
    const copy = event.target.closest('.log-copy');
    if (copy) {
      const key = copy.closest('.log-row').dataset.key;
      const item = this.store.items.find((candidate) => String(candidate.key) === key);
      if (item) copyText(item.message, 'Line text');
      return;
    }
    const property = event.target.closest('.log-data-prop');
    if (property) {
      this.controls.setFilterText(property.dataset.filter);
      return;
    }
    const toggle = event.target.closest('.log-data-toggle');
    if (toggle) {
      const key = toggle.closest('.log-row').dataset.key;
      if (this.expanded.has(key)) this.expanded.delete(key);
      else this.expanded.add(key);
      this.layout();
      this.redraw();
      return;
    }
    const link = event.target.closest('.log-link');
    // In a merged view a line's link opens its own session: let it.
    if (link && this.store === this.single) {
      event.preventDefault();
      const seq = Number(link.closest('.log-row').dataset.seq);
      this.focusLine(seq);
      this.onLineLink.select(seq);
      copyText(new URL(link.href, location.href).href, 'Link to this line');
    }
  }

  download(format) {
    const items = [];
    for (let position = 0; position < this.view.length; position += 1) items.push(this.itemAt(position));
    download(items, format, this.store.sessionId ?? 'log', this.store === this.merged ? this.merged.sources : []);
  }
}

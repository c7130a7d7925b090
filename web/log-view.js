// The log viewer: filters, follow mode and a virtual list that renders only
// the rows in sight (plus a margin), so 10,000 lines scroll and filter
// smoothly. Rows have one height unless lines wrap or `data` is expanded;
// then heights are measured as rows are drawn and kept per line.

import { byId, copyText, h } from './dom.js';
import { exact, logTime, plural } from './format.js';
import { LogStore } from './log-store.js';

const ROW = 22;
const OVERSCAN = 20;

export class LogView {
  constructor({ onLineLink }) {
    this.onLineLink = onLineLink;
    this.scroller = byId('log-scroll');
    this.spacer = byId('log-spacer');
    this.store = new LogStore({
      onChange: (change) => this.changed(change),
      onStatus: (text) => this.status(text),
    });
    this.view = [];
    /** Store items the view has looked at; later ones are new. */
    this.scanned = 0;
    this.newestFirst = false;
    this.wrap = false;
    this.timeMode = 'local';
    this.filter = { text: '', regex: false, levels: new Set(['debug', 'info', 'warn', 'error']) };
    this.matcher = null;
    this.expanded = new Set();
    this.heights = new Map();
    this.offsets = null;
    this.paused = false;
    this.newCount = 0;
    this.target = null;
    this.programmaticScroll = false;
    this.frame = 0;
    this.statusText = '';
    /** Rows drawn last time, by item key, reused while `epoch` holds. */
    this.rowCache = new Map();
    /** Grows whenever what a row shows changes (filter, time mode, ...). */
    this.epoch = 0;
    this.bindControls();
    setInterval(() => {
      if (this.timeMode === 'relative') this.redraw();
    }, 1000);
  }

  bindControls() {
    this.scroller.addEventListener('scroll', () => this.scrolled());
    this.spacer.addEventListener('click', (event) => this.clicked(event));
    new ResizeObserver(() => this.draw()).observe(this.scroller);
    byId('follow-toggle').addEventListener('click', () => this.setFollow(!this.store.follow));
    byId('newest-first').addEventListener('click', () => {
      this.newestFirst = !this.newestFirst;
      this.layout();
      this.jumpToLatest();
    });
    byId('wrap-toggle').addEventListener('click', () => {
      this.wrap = !this.wrap;
      this.heights.clear();
      this.layout();
      this.draw();
      this.updateControls();
    });
    byId('time-mode').addEventListener('change', (event) => {
      this.timeMode = event.target.value;
      this.redraw();
    });
    byId('filter-input').addEventListener('input', (event) => {
      this.filter.text = event.target.value;
      this.refilter();
    });
    byId('filter-regex').addEventListener('change', (event) => {
      this.filter.regex = event.target.checked;
      this.refilter();
    });
    for (const box of document.querySelectorAll('input[data-level]')) {
      box.addEventListener('change', () => {
        if (box.checked) this.filter.levels.add(box.dataset.level);
        else this.filter.levels.delete(box.dataset.level);
        this.refilter();
      });
    }
    byId('jump-latest').addEventListener('click', () => this.jumpToLatest());
    byId('download-text').addEventListener('click', () => this.download('text'));
    byId('download-ndjson').addEventListener('click', () => this.download('ndjson'));
  }

  /**
   * Shows `sessionId`'s log, scrolled to line `targetSeq` if given; with no
   * session, shows `why` instead.
   */
  open(sessionId, targetSeq = null, why = '') {
    this.target = targetSeq;
    this.epoch += 1;
    this.paused = targetSeq !== null;
    this.newCount = 0;
    this.expanded.clear();
    this.heights.clear();
    this.statusText = why;
    this.store.open(sessionId);
  }

  setEnded(ended) {
    this.store.setEnded(ended);
  }

  setFollow(follow) {
    this.store.setFollow(follow);
    if (follow) {
      this.paused = false;
      this.newCount = 0;
      this.scrollToLatest();
    }
    this.updateControls();
  }

  toggleFollow() {
    this.setFollow(!this.store.follow);
  }

  jumpToLatest() {
    this.target = null;
    if (!this.store.follow) this.store.setFollow(true);
    this.paused = false;
    this.newCount = 0;
    this.scrollToLatest();
    this.updateControls();
    this.draw();
  }

  focusLine(seq) {
    this.target = seq;
    this.epoch += 1;
    this.paused = true;
    this.revealTarget();
    this.updateControls();
  }

  status(text) {
    this.statusText = text;
    this.updateEmpty();
  }

  // ---- data ----

  changed({ appended, reset }) {
    if (reset) {
      this.rebuild();
    } else if (appended > 0) {
      const items = this.store.items;
      const before = this.view.length;
      for (let index = this.scanned; index < items.length; index += 1) {
        if (this.passes(items[index])) this.view.push(index);
      }
      this.scanned = items.length;
      const added = this.view.length - before;
      const addedHeight = this.heightOfLast(added);
      this.layout();
      if (this.store.follow && this.paused && added > 0) {
        this.newCount += added;
        // Keep what the reader looks at in place when lines arrive above it.
        if (this.newestFirst) this.setScrollTop(this.scroller.scrollTop + addedHeight);
      }
    }
    if (this.target !== null && this.revealTarget()) {
      // shown
    } else if (this.store.follow && !this.paused) {
      this.scrollToLatest();
    }
    this.updateControls();
    this.draw();
  }

  refilter() {
    this.matcher = this.makeMatcher();
    this.epoch += 1;
    this.rebuild();
    if (!this.paused) this.scrollToLatest();
    this.draw();
  }

  makeMatcher() {
    const input = byId('filter-input');
    input.classList.remove('invalid');
    input.title = '';
    const text = this.filter.text;
    if (!text) return null;
    if (this.filter.regex) {
      try {
        const pattern = new RegExp(text, 'i');
        return { test: (message) => pattern.test(message), source: text, regex: true };
      } catch (error) {
        input.classList.add('invalid');
        input.title = error.message;
        return null;
      }
    }
    const needle = text.toLowerCase();
    return { test: (message, item) => (item.lower ??= message.toLowerCase()).includes(needle), needle };
  }

  passes(item) {
    if (item.gap !== undefined) return true;
    if (!this.filter.levels.has(item.level)) return false;
    return !this.matcher || this.matcher.test(item.message, item);
  }

  rebuild() {
    const items = this.store.items;
    const view = [];
    for (let index = 0; index < items.length; index += 1) {
      if (this.passes(items[index])) view.push(index);
    }
    this.view = view;
    this.scanned = items.length;
    this.layout();
    this.updateControls();
  }

  /** The item shown at display position `position`. */
  itemAt(position) {
    const index = this.newestFirst ? this.view[this.view.length - 1 - position] : this.view[position];
    return this.store.items[index];
  }

  // ---- geometry ----

  uniform() {
    return !this.wrap && this.expanded.size === 0;
  }

  heightOf(item) {
    return this.uniform() ? ROW : (this.heights.get(item.key) ?? ROW);
  }

  layout() {
    const count = this.view.length;
    if (this.uniform()) {
      this.offsets = null;
      this.total = count * ROW;
    } else {
      const offsets = new Float64Array(count + 1);
      for (let position = 0; position < count; position += 1) {
        offsets[position + 1] = offsets[position] + this.heightOf(this.itemAt(position));
      }
      this.offsets = offsets;
      this.total = offsets[count];
    }
    this.spacer.style.height = `${this.total}px`;
  }

  top(position) {
    return this.offsets ? this.offsets[position] : position * ROW;
  }

  positionAt(y) {
    if (!this.offsets) return Math.floor(y / ROW);
    let low = 0;
    let high = this.view.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.offsets[middle] <= y) low = middle;
      else high = middle - 1;
    }
    return low;
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
    this.setScrollTop(this.newestFirst ? 0 : this.total);
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
    this.updateBanner();
    this.draw();
  }

  /** Scrolls the target line into the middle; false if it is not loaded yet. */
  revealTarget() {
    const position = this.view.findIndex((index) => this.store.items[index].seq === this.target);
    if (position < 0) return false;
    const displayed = this.newestFirst ? this.view.length - 1 - position : position;
    this.setScrollTop(Math.max(0, this.top(displayed) - this.scroller.clientHeight / 2 + ROW));
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
    const { scrollTop, clientHeight } = this.scroller;
    const first = Math.max(0, this.positionAt(scrollTop) - OVERSCAN);
    const last = Math.min(count - 1, this.positionAt(scrollTop + clientHeight) + OVERSCAN);
    const rows = [];
    const cache = new Map();
    for (let position = first; position <= last; position += 1) {
      const item = this.itemAt(position);
      const cached = this.rowCache.get(item.key);
      const row = cached && cached.epoch === this.epoch ? cached.row : this.row(item);
      const top = `${this.top(position)}px`;
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
    this.updateEmpty();
    if (this.uniform() || remeasures === 0) return;
    let changed = false;
    for (let i = 0; i < rows.length; i += 1) {
      const item = this.itemAt(first + i);
      const height = rows[i].offsetHeight;
      if (height > 0 && this.heights.get(item.key) !== height) {
        this.heights.set(item.key, height);
        changed = true;
      }
    }
    if (changed) {
      this.layout();
      this.drawNow(remeasures - 1);
    }
  }

  row(item) {
    if (item.gap !== undefined) {
      const text = item.trimmed
        ? `${plural(item.gap, 'older line')} not kept in this view`
        : `${plural(item.gap, 'entry', 'entries')} dropped`;
      return h('div', { class: 'log-gap', text, attrs: { 'data-testid': 'log-gap' } });
    }
    const target = item.seq === this.target;
    const main = h('div', { class: 'log-main' }, h('span', { class: 'log-message' }, this.highlight(item.message)));
    if (item.data !== undefined) {
      const open = this.expanded.has(item.seq);
      const compact = JSON.stringify(item.data);
      main.append(h('button', {
        class: 'log-data-toggle',
        text: open ? '▾ data' : compact,
        title: open ? 'Hide data' : 'Show data',
        attrs: { type: 'button', 'aria-expanded': String(open) },
      }));
      if (open) main.append(h('pre', { class: 'log-data', text: JSON.stringify(item.data, null, 2) }));
    }
    return h('div', {
      class: `log-row level-${item.level}${target ? ' log-row--target' : ''}`,
      data: { seq: item.seq },
    },
    h('a', {
      class: 'log-link',
      text: item.seq,
      title: 'Link to this line',
      attrs: { href: this.onLineLink.href(item.seq) },
    }),
    h('span', { class: 'log-time', text: logTime(item.ms, this.timeMode), title: exact(item.ms) }),
    h('span', { class: 'log-level', text: item.level }),
    main);
  }

  /** The message as text nodes, with the filter's matches in `mark`s. */
  highlight(message) {
    const matcher = this.matcher;
    if (!matcher) return [message];
    const ranges = [];
    if (matcher.regex) {
      const pattern = new RegExp(matcher.source, 'gi');
      for (let match = pattern.exec(message); match; match = pattern.exec(message)) {
        if (match[0].length === 0) { pattern.lastIndex += 1; continue; }
        ranges.push([match.index, match.index + match[0].length]);
      }
    } else {
      const lower = message.toLowerCase();
      for (let at = lower.indexOf(matcher.needle); at >= 0; at = lower.indexOf(matcher.needle, at + matcher.needle.length)) {
        ranges.push([at, at + matcher.needle.length]);
      }
    }
    const parts = [];
    let at = 0;
    for (const [start, end] of ranges) {
      if (start > at) parts.push(message.slice(at, start));
      parts.push(h('mark', { text: message.slice(start, end) }));
      at = end;
    }
    if (at < message.length) parts.push(message.slice(at));
    return parts;
  }

  clicked(event) {
    const toggle = event.target.closest('.log-data-toggle');
    if (toggle) {
      const seq = Number(toggle.closest('.log-row').dataset.seq);
      if (this.expanded.has(seq)) this.expanded.delete(seq);
      else this.expanded.add(seq);
      this.layout();
      this.redraw();
      return;
    }
    const link = event.target.closest('.log-link');
    if (link) {
      event.preventDefault();
      const seq = Number(link.closest('.log-row').dataset.seq);
      this.focusLine(seq);
      this.onLineLink.select(seq);
      copyText(new URL(link.href, location.href).href, 'Link to this line');
    }
  }

  // ---- controls ----

  updateControls() {
    byId('follow-toggle').setAttribute('aria-pressed', String(this.store.follow));
    byId('newest-first').setAttribute('aria-pressed', String(this.newestFirst));
    byId('wrap-toggle').setAttribute('aria-pressed', String(this.wrap));
    const shown = this.view.reduce((sum, index) => sum + (this.store.items[index].gap === undefined ? 1 : 0), 0);
    const total = this.store.entryCount;
    byId('log-count').textContent = shown === total
      ? plural(total, 'line')
      : `${shown.toLocaleString('en-US')} of ${plural(total, 'line')}`;
    this.updateBanner();
  }

  updateBanner() {
    const show = this.store.follow && this.paused && this.store.entryCount > 0;
    byId('paused-banner').hidden = !show;
    const follow = byId('follow-toggle');
    follow.dataset.paused = String(show);
    follow.title = show ? 'Following, paused while you read older lines (f)' : 'Follow new lines (f)';
    byId('paused-text').textContent = `Paused · ${this.newCount.toLocaleString('en-US')} new`;
  }

  updateEmpty() {
    const empty = byId('log-empty');
    let text = this.statusText;
    if (!text && this.view.length === 0) {
      if (!this.store.sessionId) text = 'Select a session to see its log.';
      else if (!this.store.loaded) text = 'Loading…';
      else if (this.store.entryCount > 0) text = 'No line matches the filter.';
      else text = this.store.follow && !this.store.ended ? 'No lines yet · waiting for the first one' : 'No lines.';
    }
    empty.textContent = text;
    empty.hidden = text === '';
  }

  download(format) {
    const lines = [];
    for (let position = 0; position < this.view.length; position += 1) {
      const item = this.itemAt(position);
      if (item.gap !== undefined) {
        if (format === 'text') lines.push(`--- ${plural(item.gap, 'entry', 'entries')} dropped ---`);
        continue;
      }
      if (format === 'ndjson') {
        const { seq, timestamp, level, message, data } = item;
        lines.push(JSON.stringify(data === undefined ? { seq, timestamp, level, message } : { seq, timestamp, level, message, data }));
      } else {
        const data = item.data === undefined ? '' : ` ${JSON.stringify(item.data)}`;
        lines.push(`${item.timestamp} ${item.level.toUpperCase().padEnd(5)} ${item.message}${data}`);
      }
    }
    const type = format === 'ndjson' ? 'application/x-ndjson' : 'text/plain';
    const url = URL.createObjectURL(new Blob([`${lines.join('\n')}\n`], { type }));
    const name = `${this.store.sessionId ?? 'log'}.${format === 'ndjson' ? 'ndjson' : 'txt'}`;
    const link = h('a', { attrs: { href: url, download: name } });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

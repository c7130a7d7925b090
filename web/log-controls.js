// The log viewer's toolbar and messages: the buttons and boxes bound to the
// view (follow, newest first, wrap, time format, the filter with its regex,
// context and levels, downloads), the filter as URL parameters, and what the
// count, the pause banner, the notice strip and the empty log say.

import { byId } from './dom.js';
import { plural } from './format.js';
import { LEVELS } from './log-filter.js';

/** The choices of lines around each match, as index.html offers them. */
const CONTEXTS = [0, 2, 5, 10];
/** How long typing pauses before the filter runs over the whole log. */
const FILTER_DELAY = 120;

export class LogControls {
  constructor(view) {
    this.view = view;
    this.filter = view.filter;
    this.filterTimer = 0;
    byId('time-mode').value = view.timeMode;
    this.bind(view);
  }

  /** Wires each control to what it does in the view. */
  bind(view) {
    byId('follow-toggle').addEventListener('click', () => view.toggleFollow());
    byId('newest-first').addEventListener('click', () => view.toggleNewestFirst());
    byId('wrap-toggle').addEventListener('click', () => view.toggleWrap());
    byId('time-mode').addEventListener('change', (event) => view.setTimeMode(event.target.value));
    // Each keystroke would scan the whole log; wait for a pause in typing.
    byId('filter-input').addEventListener('input', (event) => {
      this.filter.text = event.target.value;
      clearTimeout(this.filterTimer);
      this.filterTimer = setTimeout(() => view.refilter(), FILTER_DELAY);
    });
    byId('filter-context').addEventListener('change', (event) => {
      this.filter.context = Number(event.target.value);
      view.refilter();
    });
    byId('filter-regex').addEventListener('change', (event) => {
      this.filter.regex = event.target.checked;
      view.refilter();
    });
    for (const box of document.querySelectorAll('input[data-level]')) {
      box.addEventListener('change', () => {
        if (box.checked) this.filter.levels.add(box.dataset.level);
        else this.filter.levels.delete(box.dataset.level);
        view.refilter();
      });
    }
    byId('jump-latest').addEventListener('click', () => view.jumpToLatest());
    byId('download-text').addEventListener('click', () => view.download('text'));
    byId('download-ndjson').addEventListener('click', () => view.download('ndjson'));
  }

  /** Takes the filter from a link's `filter`, `regex`, `context` and `levels`. */
  applyParams(params) {
    this.filter.text = params.get('filter') ?? '';
    this.filter.regex = params.get('regex') === '1';
    const context = Number(params.get('context'));
    if (CONTEXTS.includes(context)) this.filter.context = context;
    const levels = params.get('levels');
    if (levels !== null) this.filter.levels = new Set(levels.split(',').filter((level) => LEVELS.includes(level)));
    this.showFilter();
    this.compileFilter();
  }

  /** Filters by `text`, plainly (not as a regular expression), at once. */
  setFilterText(text) {
    clearTimeout(this.filterTimer);
    this.filter.text = text;
    this.filter.regex = false;
    this.showFilter();
    this.view.refilter();
  }

  /** Makes the filter's controls say what the filter is. */
  showFilter() {
    byId('filter-input').value = this.filter.text;
    byId('filter-regex').checked = this.filter.regex;
    byId('filter-context').value = String(this.filter.context);
    for (const box of document.querySelectorAll('input[data-level]')) {
      box.checked = this.filter.levels.has(box.dataset.level);
    }
  }

  /** The filter as URL parameters; the defaults are left out. */
  urlParams() {
    const params = {};
    if (this.filter.text) params.filter = this.filter.text;
    if (this.filter.regex) params.regex = '1';
    if (this.filter.context > 0) params.context = String(this.filter.context);
    if (this.filter.levels.size < LEVELS.length) {
      params.levels = LEVELS.filter((level) => this.filter.levels.has(level)).join(',');
    }
    return params;
  }

  /** Compiles the filter; an invalid regular expression marks the box. */
  compileFilter() {
    this.filter.compile();
    const input = byId('filter-input');
    input.classList.toggle('invalid', this.filter.error !== '');
    input.title = this.filter.error;
  }

  /** The toggles' state and the line count. */
  update() {
    const { view } = this;
    byId('follow-toggle').setAttribute('aria-pressed', String(view.store.follow));
    byId('newest-first').setAttribute('aria-pressed', String(view.newestFirst));
    byId('wrap-toggle').setAttribute('aria-pressed', String(view.wrap));
    const shown = view.view.reduce((sum, index) => sum + (view.store.items[index].gap === undefined ? 1 : 0), 0);
    const total = view.store.entryCount;
    byId('log-count').textContent = shown === total
      ? plural(total, 'line')
      : `${shown.toLocaleString('en-US')} of ${plural(total, 'line')}`;
    this.updateBanner();
  }

  updateBanner() {
    const { view } = this;
    const show = view.store.follow && view.paused && view.store.entryCount > 0;
    byId('paused-banner').hidden = !show;
    const follow = byId('follow-toggle');
    follow.dataset.paused = String(show);
    follow.title = show ? 'Following, paused while you read older lines (f)' : 'Follow new lines (f)';
    byId('paused-text').textContent = view.newCount > 0
      ? `Paused · ${view.newCount.toLocaleString('en-US')} new`
      : 'Paused';
  }

  /**
   * Says what there is to say: over the empty log when there are no lines,
   * else in the notice strip above them, never over lines being read.
   */
  updateMessages() {
    const { view } = this;
    const { store } = view;
    let empty = '';
    if (view.view.length === 0) {
      empty = view.statusText;
      if (!empty && !store.sessionId) empty = 'Select a session to see its log.';
      else if (!empty && !store.loaded) empty = 'Loading…';
      else if (!empty && store.entryCount > 0) empty = 'No line matches the filter.';
      else if (!empty) empty = store.follow && !store.ended ? 'No lines yet · waiting for the first one' : 'No lines.';
    }
    const emptyElement = byId('log-empty');
    emptyElement.textContent = empty;
    emptyElement.hidden = empty === '';
    const notice = [view.view.length > 0 ? view.statusText : '', view.noticeText].filter(Boolean).join(' ');
    const noticeElement = byId('log-notice');
    if (noticeElement.textContent !== notice) noticeElement.textContent = notice;
    noticeElement.hidden = notice === '';
  }
}

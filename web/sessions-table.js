// The sessions table: tabs by status, a search over app, mode, job, id and
// metadata values, sorting by any column, pagination, relative times,
// keyboard selection. Rows are kept per session and only
// their changed cells are written, so a push does not throw away the row the
// user points at, and the once-a-second refresh of relative times touches
// only the time cells of the page shown.

import { byId, h } from './dom.js';
import { ago, clock, exact, parseTime } from './format.js';
import { loadPref, savePref } from './prefs.js';
import { MetaColumns, metaValue } from './table-columns.js';

const TABS = ['active', 'ended', 'all'];
const PAGE_SIZES = ['10', '25', '50', '100'];

const SORT_VALUES = {
  appname: (s) => s.appname.toLowerCase(),
  mode: (s) => s.mode.toLowerCase(),
  jobid: (s) => (s.jobid ?? '').toLowerCase(),
  id: (s) => s.id,
  created: (s) => s.createdMs,
  updated: (s) => s.updatedMs,
  entries: (s) => s.log.entries,
  status: (s) => s.status,
};

/** How the column `key` sorts: a fixed column, or `meta:KEY` for metadata. */
function sortValue(key) {
  if (!key.startsWith('meta:')) return SORT_VALUES[key];
  const name = key.slice(5);
  return (s) => (typeof s.metadata[name] === 'number' ? s.metadata[name] : metaValue(s, name).toLowerCase());
}

export class SessionsTable {
  /**
   * `onSelect(id)` when a row is chosen; `onMerge(ids)` to read the picked
   * sessions together; `onViewChange()` when the search changed.
   */
  constructor({ onSelect, onMerge, onViewChange }) {
    this.onSelect = onSelect;
    this.onMerge = onMerge;
    /** Sessions picked (checkbox) to be read together, by id. */
    this.picked = new Set();
    this.onViewChange = onViewChange;
    this.sessions = [];
    /** The search, as lower-case words that must all be found. */
    this.words = [];
    this.tab = loadPref('tab', TABS, 'active');
    this.sort = { key: 'created', descending: true };
    this.page = 0;
    this.pageSize = Number(loadPref('page-size', PAGE_SIZES, '25'));
    this.selectedId = null;
    this.stale = false;
    /** When the last list came, for the stale marker. */
    this.receivedAt = undefined;
    this.table = byId('sessions-table');
    this.body = this.table.tBodies[0];
    /** Row elements by session id, reused from push to push. */
    this.rows = new Map();
    byId('page-size').value = String(this.pageSize);

    const tabs = [...document.querySelectorAll('[data-tab]')];
    for (const tab of tabs) {
      tab.addEventListener('click', () => this.showTab(tab.dataset.tab));
    }
    // One tab stop for the tabs; arrows move between them (WAI-ARIA tabs).
    byId('session-tabs').addEventListener('keydown', (event) => {
      const at = tabs.indexOf(event.target.closest('[data-tab]'));
      const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (at < 0 || to === undefined) return;
      event.preventDefault();
      const tab = tabs[(to + tabs.length) % tabs.length];
      this.showTab(tab.dataset.tab);
      tab.focus();
    });
    // Delegated: metadata columns come and go.
    this.table.tHead.addEventListener('click', (event) => {
      const th = event.target.closest('th[data-sort-key]');
      if (th && event.target.closest('button')) this.sortBy(th.dataset.sortKey);
    });
    this.columns = new MetaColumns({ onChange: () => this.columnsChanged() });
    this.columnsChanged();
    byId('page-size').addEventListener('change', (event) => {
      this.pageSize = Number(event.target.value);
      savePref('page-size', event.target.value);
      this.page = 0;
      this.render();
    });
    byId('page-prev').addEventListener('click', () => { this.page -= 1; this.render(); });
    byId('page-next').addEventListener('click', () => { this.page += 1; this.render(); });
    this.body.addEventListener('change', (event) => {
      const box = event.target.closest('input[data-testid=merge-check]');
      if (!box) return;
      const id = box.closest('tr').dataset.sessionId;
      if (box.checked) this.picked.add(id);
      else this.picked.delete(id);
      this.updateMergeBar();
    });
    byId('merge-open').addEventListener('click', () => this.onMerge([...this.picked]));
    byId('merge-clear').addEventListener('click', () => this.setPicked([]));
    this.body.addEventListener('click', (event) => {
      if (event.target.closest('.cell-pick')) return; // picking is not selecting
      const row = event.target.closest('tr[data-session-id]');
      if (row) this.onSelect(row.dataset.sessionId);
    });
    this.body.addEventListener('keydown', (event) => this.keydown(event));
    byId('session-search').addEventListener('input', (event) => {
      this.setQuery(event.target.value);
      this.onViewChange?.();
    });
    setInterval(() => this.tick(), 1000);
  }

  /** Takes the newest list from the server. */
  setSessions(sessions) {
    this.sessions = sessions.map((session) => ({
      ...session,
      createdMs: parseTime(session.created),
      updatedMs: parseTime(session.updated),
    }));
    this.columns.offer(sessions);
    const ids = new Set(sessions.map((session) => session.id));
    for (const id of this.rows.keys()) {
      if (!ids.has(id)) this.rows.delete(id);
    }
    this.receivedAt = Date.now();
    this.render();
  }

  find(id) {
    return this.sessions.find((session) => session.id === id) ?? null;
  }

  /** Selects `id` and shows the page that holds it. */
  setSelected(id) {
    this.selectedId = id;
    this.revealSelected();
    this.render();
    this.selectedRow()?.scrollIntoView({ block: 'nearest' });
  }

  /** The list is not live (the socket is down): say so, and stop the clocks. */
  setStale(wanted) {
    // Before the first list there is nothing stale to mark.
    const stale = wanted && this.receivedAt !== undefined;
    if (stale === this.stale) return;
    this.stale = stale;
    const pane = byId('sessions-pane');
    pane.dataset.stale = String(stale);
    const note = byId('stale-note');
    note.hidden = !stale;
    note.textContent = this.receivedAt ? `Not live · as of ${clock(this.receivedAt, false).slice(0, 8)}` : 'Not live';
    this.tick();
  }

  setPicked(ids) {
    this.picked = new Set(ids);
    for (const [id, row] of this.rows) row.querySelector('input').checked = this.picked.has(id);
    this.updateMergeBar();
  }

  updateMergeBar() {
    for (const id of this.picked) {
      if (!this.find(id)) this.picked.delete(id);
    }
    byId('merge-bar').hidden = this.picked.size === 0;
    byId('merge-open').disabled = this.picked.size < 2;
    byId('merge-open').textContent = this.picked.size < 2
      ? 'Pick another to read together'
      : `Read ${this.picked.size} together`;
  }

  /** Puts the chosen metadata columns in the header; rows are made afresh. */
  columnsChanged() {
    const header = this.table.tHead.rows[0];
    for (const th of header.querySelectorAll('th[data-meta-column]')) th.remove();
    header.append(...this.columns.headers());
    this.rows.clear();
    if (this.sort.key.startsWith('meta:') && !this.columns.keys.includes(this.sort.key.slice(5))) {
      this.sort = { key: 'created', descending: true };
    }
    this.render();
  }

  /** Shows only the sessions that have every word of `query`. */
  setQuery(query) {
    const input = byId('session-search');
    if (input.value !== query) input.value = query;
    this.words = query.toLowerCase().split(/\s+/).filter(Boolean);
    this.page = 0;
    this.revealSelected();
    this.render();
  }

  urlParams() {
    const query = byId('session-search').value.trim();
    return query ? { q: query } : {};
  }

  showTab(tab) {
    this.tab = tab;
    savePref('tab', tab);
    this.page = 0;
    this.revealSelected();
    this.render();
  }

  sortBy(key) {
    this.sort = this.sort.key === key
      ? { key, descending: !this.sort.descending }
      : { key, descending: key === 'created' || key === 'updated' || key === 'entries' };
    this.page = 0;
    this.revealSelected();
    this.render();
  }

  /** Sessions of the current tab, in the current order. */
  visible() {
    const shown = this.sessions.filter((s) => (this.tab === 'all' || s.status === this.tab) && this.found(s));
    const value = sortValue(this.sort.key);
    const direction = this.sort.descending ? -1 : 1;
    return shown.sort((a, b) => {
      const x = value(a);
      const y = value(b);
      const order = x < y ? -1 : x > y ? 1 : 0;
      return order * direction || (b.createdMs - a.createdMs) || (a.id < b.id ? 1 : -1);
    });
  }

  found(session) {
    if (this.words.length === 0) return true;
    session.searchText ??= [
      session.appname, session.mode, session.jobid ?? '', session.id,
      ...Object.values(session.metadata).map((value) => (typeof value === 'string' ? value : JSON.stringify(value))),
    ].join('\n').toLowerCase();
    return this.words.every((word) => session.searchText.includes(word));
  }

  /** Turns to the page that holds the selected session, if this tab has it. */
  revealSelected() {
    const index = this.visible().findIndex((s) => s.id === this.selectedId);
    if (index >= 0) this.page = Math.floor(index / this.pageSize);
  }

  selectedRow() {
    return this.body.querySelector('tr[aria-selected="true"]');
  }

  /** Moves the selection by `delta` rows, across pages. */
  move(delta) {
    const rows = this.visible();
    if (rows.length === 0) return;
    const current = rows.findIndex((s) => s.id === this.selectedId);
    const next = current < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, current + delta));
    this.onSelect(rows[next].id);
  }

  /** Keys on a focused row: arrows and j/k move, Enter and Space select. */
  keydown(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.closest('input')) return;
    const row = event.target.closest('tr[data-session-id]');
    if (!row) return;
    const delta = { ArrowDown: 1, j: 1, ArrowUp: -1, k: -1, PageDown: this.pageSize, PageUp: -this.pageSize }[event.key];
    if (delta !== undefined) {
      event.preventDefault();
      this.move(delta);
      this.selectedRow()?.focus();
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.onSelect(row.dataset.sessionId);
    } else if (event.key === 'x') {
      // Pick it to read with others, as its checkbox would.
      const box = row.querySelector('input[data-testid=merge-check]');
      box.checked = !box.checked;
      box.dispatchEvent(new Event('change', { bubbles: true }));
    }
  }

  render() {
    const counts = { active: 0, ended: 0, all: this.sessions.length };
    for (const session of this.sessions) counts[session.status] += 1;
    for (const tab of document.querySelectorAll('[data-tab]')) {
      const selected = tab.dataset.tab === this.tab;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected) byId('sessions-panel').setAttribute('aria-labelledby', tab.id);
      setText(tab.querySelector('.tab-count'), String(counts[tab.dataset.tab]));
    }
    for (const th of this.table.querySelectorAll('th[data-sort-key]')) {
      const sorted = th.dataset.sortKey === this.sort.key;
      th.setAttribute('aria-sort', sorted ? (this.sort.descending ? 'descending' : 'ascending') : 'none');
    }

    const rows = this.visible();
    const pages = Math.max(1, Math.ceil(rows.length / this.pageSize));
    this.page = Math.min(Math.max(0, this.page), pages - 1);
    const start = this.page * this.pageSize;
    const pageRows = rows.slice(start, start + this.pageSize);
    const now = Date.now();
    const elements = pageRows.map((session) => this.row(session, now));
    // One row is a tab stop: the selected one, else the first.
    const stop = elements.find((row) => row.getAttribute('aria-selected') === 'true') ?? elements[0];
    for (const row of elements) row.tabIndex = row === stop ? 0 : -1;
    const current = [...this.body.children];
    if (current.length !== elements.length || current.some((row, i) => row !== elements[i])) {
      // Moving a focused row out of the DOM would drop the focus.
      const focused = document.activeElement;
      this.body.replaceChildren(...elements);
      if (elements.includes(focused)) focused.focus();
    }
    byId('sessions-empty').hidden = rows.length > 0;
    setText(byId('page-info'), rows.length === 0
      ? '0 of 0'
      : `${start + 1}–${start + pageRows.length} of ${rows.length}`);
    byId('page-prev').disabled = this.page === 0;
    byId('page-next').disabled = this.page >= pages - 1;
  }

  /** Refreshes the relative times of the rows shown, nothing else. */
  tick() {
    if (this.stale) return;
    const now = Date.now();
    for (const row of this.body.children) {
      const session = this.find(row.dataset.sessionId);
      if (!session) continue;
      setText(row.cells[5], ago(session.createdMs, now));
      setText(row.cells[6], ago(session.updatedMs, now));
    }
  }

  /** The row of `session`, made once and then brought up to date. */
  row(session, now) {
    let row = this.rows.get(session.id);
    if (!row) {
      row = h('tr', { data: { sessionId: session.id } },
        h('td', { class: 'cell-pick' }, h('input', {
          attrs: {
            type: 'checkbox',
            'data-testid': 'merge-check',
            'aria-label': `Pick ${session.appname} ${session.id.slice(-8)} to read with others`,
            tabindex: '-1',
          },
        })),
        h('td', { class: 'cell-app' }), h('td'), h('td'),
        h('td', { class: 'cell-id', text: session.id.slice(-8), title: session.id }),
        h('td'), h('td'), h('td', { class: 'numeric' }), h('td'),
        this.columns.keys.map((key) => h('td', { class: 'cell-meta', data: { metaColumn: key } })));
      this.rows.set(session.id, row);
    }
    row.setAttribute('aria-selected', String(session.id === this.selectedId));
    const [pick, app, mode, job, , created, updated, entries, status] = row.cells;
    pick.firstChild.checked = this.picked.has(session.id);
    const appKey = `${session.appname}\u0000${session.server}`;
    if (app.dataset.key !== appKey) {
      app.dataset.key = appKey;
      app.title = session.appname;
      app.replaceChildren(session.appname,
        ...(session.server ? [h('span', { class: 'badge badge-server', text: 'server' })] : []));
    }
    setText(mode, session.mode, session.mode);
    setText(job, session.jobid ?? '—', session.jobid ?? '');
    job.classList.toggle('cell-muted', session.jobid === null);
    setText(created, ago(session.createdMs, now), exact(session.createdMs));
    setText(updated, ago(session.updatedMs, now), exact(session.updatedMs));
    setText(entries, session.log.entries.toLocaleString('en-US'),
      session.log.dropped > 0 ? `${session.log.dropped.toLocaleString('en-US')} dropped` : '');
    for (const cell of row.querySelectorAll('td[data-meta-column]')) {
      const value = metaValue(session, cell.dataset.metaColumn);
      setText(cell, value, value);
    }
    if (status.dataset.key !== session.status) {
      status.dataset.key = session.status;
      status.replaceChildren(h('span', { class: `badge badge-${session.status}`, text: session.status }));
    }
    return row;
  }
}

/** Writes text (and a title) only when they differ, so unchanged nodes stay. */
function setText(element, text, title) {
  if (element.textContent !== text) element.textContent = text;
  if (title !== undefined && element.title !== title) element.title = title;
}

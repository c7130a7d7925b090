// The sessions table: tabs by status, sorting by any column, pagination,
// relative times, keyboard selection. Rows are rebuilt from the newest list
// on every push and every second (for the relative times); a page holds at
// most 100 rows, so that stays cheap.

import { byId, h } from './dom.js';
import { ago, exact, parseTime } from './format.js';

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

export class SessionsTable {
  constructor({ onSelect }) {
    this.onSelect = onSelect;
    this.sessions = [];
    this.tab = 'active';
    this.sort = { key: 'created', descending: true };
    this.page = 0;
    this.pageSize = 25;
    this.selectedId = null;
    this.table = byId('sessions-table');
    this.body = this.table.tBodies[0];

    for (const tab of document.querySelectorAll('[data-tab]')) {
      tab.addEventListener('click', () => this.showTab(tab.dataset.tab));
    }
    for (const th of this.table.querySelectorAll('th[data-sort-key]')) {
      th.querySelector('button').addEventListener('click', () => this.sortBy(th.dataset.sortKey));
    }
    byId('page-size').addEventListener('change', (event) => {
      this.pageSize = Number(event.target.value);
      this.page = 0;
      this.render();
    });
    byId('page-prev').addEventListener('click', () => { this.page -= 1; this.render(); });
    byId('page-next').addEventListener('click', () => { this.page += 1; this.render(); });
    this.body.addEventListener('click', (event) => {
      const row = event.target.closest('tr[data-session-id]');
      if (row) this.onSelect(row.dataset.sessionId);
    });
    setInterval(() => this.render(), 1000);
  }

  /** Takes the newest list from the server. */
  setSessions(sessions) {
    this.sessions = sessions.map((session) => ({
      ...session,
      createdMs: parseTime(session.created),
      updatedMs: parseTime(session.updated),
    }));
    this.render();
  }

  find(id) {
    return this.sessions.find((session) => session.id === id) ?? null;
  }

  setSelected(id) {
    this.selectedId = id;
    this.render();
    this.body.querySelector('tr[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  }

  showTab(tab) {
    this.tab = tab;
    this.page = 0;
    this.render();
  }

  sortBy(key) {
    this.sort = this.sort.key === key
      ? { key, descending: !this.sort.descending }
      : { key, descending: key === 'created' || key === 'updated' || key === 'entries' };
    this.page = 0;
    this.render();
  }

  /** Sessions of the current tab, in the current order. */
  visible() {
    const shown = this.sessions.filter((s) => this.tab === 'all' || s.status === this.tab);
    const value = SORT_VALUES[this.sort.key];
    const direction = this.sort.descending ? -1 : 1;
    return shown.sort((a, b) => {
      const x = value(a);
      const y = value(b);
      const order = x < y ? -1 : x > y ? 1 : 0;
      return order * direction || (b.createdMs - a.createdMs) || (a.id < b.id ? 1 : -1);
    });
  }

  /** Moves the selection by `delta` rows, across pages. */
  move(delta) {
    const rows = this.visible();
    if (rows.length === 0) return;
    const current = rows.findIndex((s) => s.id === this.selectedId);
    const next = current < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, current + delta));
    this.page = Math.floor(next / this.pageSize);
    this.onSelect(rows[next].id);
    this.body.querySelector('tr[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  }

  render() {
    const counts = { active: 0, ended: 0, all: this.sessions.length };
    for (const session of this.sessions) counts[session.status] += 1;
    for (const tab of document.querySelectorAll('[data-tab]')) {
      tab.setAttribute('aria-selected', String(tab.dataset.tab === this.tab));
      tab.querySelector('.tab-count').textContent = String(counts[tab.dataset.tab]);
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
    this.body.replaceChildren(...pageRows.map((session) => this.row(session, now)));
    byId('sessions-empty').hidden = rows.length > 0;
    byId('page-info').textContent = rows.length === 0
      ? '0 of 0'
      : `${start + 1}–${start + pageRows.length} of ${rows.length}`;
    byId('page-prev').disabled = this.page === 0;
    byId('page-next').disabled = this.page >= pages - 1;
  }

  row(session, now) {
    return h('tr', {
      data: { sessionId: session.id },
      attrs: { 'aria-selected': String(session.id === this.selectedId) },
    },
    h('td', { class: 'cell-app', title: session.appname }, session.appname,
      session.server ? h('span', { class: 'badge badge-server', text: 'server' }) : null),
    h('td', { text: session.mode, title: session.mode }),
    session.jobid === null
      ? h('td', { class: 'cell-muted', text: '—' })
      : h('td', { text: session.jobid, title: session.jobid }),
    h('td', { class: 'cell-id', text: session.id.slice(-8), title: session.id }),
    h('td', { text: ago(session.createdMs, now), title: exact(session.createdMs) }),
    h('td', { text: ago(session.updatedMs, now), title: exact(session.updatedMs) }),
    h('td', {
      class: 'numeric',
      text: session.log.entries.toLocaleString('en-US'),
      title: session.log.dropped > 0 ? `${session.log.dropped.toLocaleString('en-US')} dropped` : undefined,
    }),
    h('td', {}, h('span', { class: `badge badge-${session.status}`, text: session.status })));
  }
}

// The detail panel: every property of the selected session, its metadata as
// key/value rows (nested values as compact JSON), a copy-id button and, when
// its job has other sessions, a way to read them all together; or, for a
// merged view, the sessions in it. A push about the session shown updates
// what changed in place, so text the user is selecting stays selected.

import { byId, copyText, h, patchChildren } from './dom.js';
import { exact, localDateTime, parseTime } from './format.js';
import { sourceTag } from './log-row.js';

const metaText = (value) => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * `find(text)` runs when a metadata value's find button is pressed. One
 * listener for the panel: patched buttons keep no stale value in a closure.
 */
export function onMetadataFind(find) {
  byId('detail').addEventListener('click', (event) => {
    const button = event.target.closest('[data-testid=meta-find]');
    if (button) find(button.dataset.value);
  });
}

/** The session the panel was built for; its listeners hold that id. */
let shownId = null;

/**
 * `job`: `{ name, count, open() }` when the session's job has several
 * sessions, else null.
 */
export function renderDetail(session, selectedId, job = null) {
  const panel = byId('detail');
  const replace = (session?.id ?? null) !== shownId;
  shownId = session?.id ?? null;
  if (!session) {
    patchChildren(panel, [h('p', {
      class: 'detail-empty',
      text: selectedId
        ? `Session ${selectedId} is not in the server's list (it ended and was forgotten, or never existed).`
        : 'Select a session.',
    })], replace);
    return;
  }
  const time = (text) => (text ? localDateTime(parseTime(text)) : '—');
  const property = (field, label, value, title) => [
    h('dt', { text: label }),
    h('dd', { data: { field }, text: value, title }),
  ];
  const metadata = Object.entries(session.metadata);
  patchChildren(panel, [
    h('h2', { class: 'detail-title' }, session.appname,
      h('span', { class: `badge badge-${session.status}`, text: session.status }),
      session.server ? h('span', { class: 'badge badge-server', text: 'server' }) : null),
    h('div', { class: 'detail-id-row' },
      h('span', { class: 'detail-id', text: session.id, attrs: { 'data-testid': 'detail-id' } }),
      h('button', {
        class: 'icon-button',
        text: 'Copy',
        title: 'Copy the session id',
        attrs: { type: 'button', 'data-testid': 'copy-id' },
        on: { click: () => copyText(session.id, 'Session id') },
      })),
    job ? h('button', {
      class: 'merge-job',
      text: `Read all ${job.count} sessions of job ${job.name} together`,
      attrs: { type: 'button', 'data-testid': 'merge-job' },
      on: { click: job.open },
    }) : null,
    h('div', { class: 'detail-section', text: 'Properties' }),
    h('dl', { class: 'props' },
      property('appname', 'App', session.appname),
      property('mode', 'Mode', session.mode),
      property('jobid', 'Job', session.jobid ?? '—'),
      property('status', 'Status', session.status),
      property('server', 'Server', session.server ? 'yes (the server’s own session)' : 'no'),
      property('created', 'Created', time(session.created), session.created),
      property('updated', 'Updated', time(session.updated), session.updated),
      property('ended', 'Ended', time(session.ended), session.ended ?? undefined),
      property('entries', 'Entries', session.log.entries.toLocaleString('en-US')),
      property('cursor', 'Last seq', session.log.cursor.toLocaleString('en-US')),
      property('dropped', 'Dropped', session.log.dropped.toLocaleString('en-US'))),
    h('div', { class: 'detail-section', text: `Metadata (${metadata.length})` }),
    metadata.length === 0
      ? h('p', { class: 'detail-empty', text: 'No metadata.' })
      : h('table', { class: 'meta-table' }, h('tbody', {}, metadata.map(([key, value]) => h('tr', {
        data: { metaKey: key },
      },
      h('td', { class: 'meta-key', text: key, title: key }),
      h('td', { class: 'meta-value', text: metaText(value) }),
      h('td', { class: 'meta-find' }, h('button', {
        class: 'icon-button',
        text: '⌕',
        title: 'Find the sessions with this value',
        data: { value: metaText(value) },
        attrs: {
          type: 'button',
          'data-testid': 'meta-find',
          'aria-label': `Find the sessions whose metadata has ${metaText(value)}`,
        },
      })))))),
  ], replace);
}

/** The panel for a merged view: its sessions, each with its colour. */
export function renderMerged(sessions, { onOpen }) {
  const key = `merged:${sessions.map((s) => s.id).join(',')}`;
  const replace = key !== shownId;
  shownId = key;
  patchChildren(byId('detail'), [
    h('h2', { class: 'detail-title', text: `${sessions.length} sessions together` }),
    h('p', { class: 'detail-empty', text: 'Their lines are merged in time order, each tagged with its session.' }),
    h('ul', { class: 'merged-list', attrs: { 'data-testid': 'merged-list' } }, sessions.map((session, index) => h('li', {},
      sourceTag(session, index),
      h('span', { class: `badge badge-${session.status}`, text: session.status }),
      h('span', { class: 'detail-id', text: session.id.slice(-8), title: session.id }),
      h('button', {
        class: 'icon-button',
        text: 'Open',
        title: `Read ${session.appname} alone`,
        attrs: { type: 'button' },
        on: { click: () => onOpen(session.id) },
      })))),
  ], replace);
}

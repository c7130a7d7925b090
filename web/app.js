// The dashboard: wires the live session list, the sessions table, the detail
// panel and the log viewer together, keeps the view in the URL
// (?session=ID&line=SEQ or ?merge=ID,ID,... for several sessions read
// together, the session search `q`, the log's `filter`, `regex`, `context`
// and `levels`) so a link opens the same view, and handles the keyboard and
// the theme.

import { onMetadataFind, renderDetail, renderMerged } from './detail.js';
import { byId } from './dom.js';
import { connectLive } from './live.js';
import { LogView } from './log-view.js';
import { SessionsTable } from './sessions-table.js';

const SESSION_ID = /^[0-9a-f]{24}$/;
const params = new URLSearchParams(location.search);
const linkedId = params.get('session')?.toLowerCase() || null;
const initialLine = Number.parseInt(params.get('line') ?? '', 10);
let selectedId = null;
let selectedLine = null;
let serverId = null;
/** A session named by the URL, opened once the first list shows it exists. */
let pendingLink = linkedId;
/** The sessions read together, or null when one session is shown. */
let mergedIds = null;
let pendingMerge = params.get('merge')?.toLowerCase().split(',').filter((id) => SESSION_ID.test(id)) ?? null;
if (pendingMerge?.length === 0) pendingMerge = null;

const table = new SessionsTable({
  onSelect: (id) => select(id),
  onMerge: (ids) => merge(ids),
  onViewChange: () => updateUrl(),
});
table.setQuery(params.get('q') ?? '');
const logView = new LogView({
  onLineLink: {
    // A line of a merged view links to its own session.
    href: (seq, sessionId) => urlFor(sessionId ?? selectedId, seq, sessionId ? null : mergedIds),
    select: (seq) => {
      selectedLine = seq;
      updateUrl();
    },
  },
  onViewChange: () => updateUrl(),
});
logView.controls.applyParams(params);
onMetadataFind((value) => {
  table.setQuery(value);
  updateUrl();
});

function urlFor(id, line = null, merged = mergedIds) {
  const query = new URLSearchParams();
  if (merged) query.set('merge', merged.join(','));
  else if (id) query.set('session', id);
  if (line !== null) query.set('line', String(line));
  for (const [key, value] of Object.entries({ ...table.urlParams(), ...logView.controls.urlParams() })) {
    query.set(key, value);
  }
  const text = query.toString();
  return `${location.pathname}${text ? `?${text}` : ''}`;
}

function updateUrl() {
  history.replaceState(null, '', urlFor(selectedId, selectedLine));
}

/** Selects a session: table row, detail panel, log, URL. */
function select(id, line = null) {
  if (id === selectedId && line === null && logView.store.sessionId === id && !mergedIds) return;
  if (mergedIds) {
    // Leaving a merged view; picks made while reading one session stay.
    mergedIds = null;
    table.setPicked([]);
  }
  selectedId = id;
  selectedLine = line;
  table.setSelected(id);
  const session = table.find(id);
  showDetail(session, id);
  // Only sessions the server lists have a log to read.
  logView.open(session ? id : null, line, session ? '' : missingText(id));
  logView.setSession(session);
  updateUrl();
}

/** Reads the logs of `ids` together, merged in time order. */
function merge(ids) {
  mergedIds = ids;
  selectedId = null;
  selectedLine = null;
  table.setSelected(null);
  table.setPicked(ids);
  const sessions = mergedSessions();
  renderMerged(sessions, { onOpen: (id) => select(id) });
  logView.openMerged(sessions);
  logView.setMergedSessions(sessions);
  updateUrl();
}

/** The merged sessions as the list has them (or their id, once forgotten). */
function mergedSessions() {
  return mergedIds.map((id) => table.find(id) ?? { id, appname: id.slice(-8), status: 'ended', metadata: {} });
}

/** The detail panel, with a way to read all sessions of the job together. */
function showDetail(session, id) {
  // The panel keeps its listeners across pushes: look the job up on click.
  const jobIds = () => table.sessions.filter((s) => s.jobid === session.jobid).map((s) => s.id);
  const count = session?.jobid ? jobIds().length : 0;
  renderDetail(session, id, count > 1 ? { name: session.jobid, count, open: () => merge(jobIds()) } : null);
}

function missingText(id) {
  return SESSION_ID.test(id)
    ? `Session ${id} does not exist, or ended and was forgotten.`
    : `“${id}” is not a session id (24 hex digits).`;
}

function showServer(sessions) {
  const own = sessions.find((session) => session.id === serverId);
  const info = byId('server-info');
  if (!own) {
    info.textContent = '';
    return;
  }
  const { version, address, host, pid } = own.metadata;
  info.textContent = [`v${version}`, address, host, pid ? `pid ${pid}` : null].filter(Boolean).join(' · ');
  info.title = `The server's own session: ${own.id}`;
}

connectLive({
  onList(message) {
    const previousServer = serverId;
    serverId = message.server;
    table.setSessions(message.sessions);
    showServer(message.sessions);
    if (previousServer && previousServer !== serverId && !table.find(selectedId)) {
      // The server restarted and forgot the session shown: show its new one.
      select(serverId);
      return;
    }
    if (pendingMerge !== null) {
      const ids = pendingMerge;
      pendingMerge = null;
      pendingLink = null;
      merge(ids);
      return;
    }
    if (mergedIds) {
      renderMerged(mergedSessions(), { onOpen: (id) => select(id) });
      logView.setMergedSessions(mergedSessions());
      return;
    }
    if (pendingLink !== null) {
      const link = pendingLink;
      pendingLink = null;
      select(link, Number.isFinite(initialLine) ? initialLine : null);
      return;
    }
    if (!selectedId && serverId) {
      select(serverId);
      return;
    }
    const session = table.find(selectedId);
    showDetail(session, selectedId);
    logView.setSession(session);
  },
  onState(state, text) {
    const indicator = byId('conn-status');
    indicator.dataset.state = state;
    indicator.querySelector('.conn-text').textContent = text;
    indicator.title = state === 'open' ? 'Receiving live updates' : 'The live session list is not connected';
    table.setStale(state !== 'open');
  },
});

renderDetail(null, null);

// ---- keyboard ----
// Keys act on what has focus: the table, the tabs and the log handle their
// own (arrows scroll a focused log natively). Arrows and j/k reach the
// table from here only when nothing in particular has the focus.

document.addEventListener('keydown', (event) => {
  const typing = event.target.closest('input, select, textarea, dialog');
  if (event.key === 'Escape' && typing) {
    event.target.blur?.();
    return;
  }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  switch (event.key) {
    case '/':
      event.preventDefault();
      byId('filter-input').focus();
      byId('filter-input').select();
      break;
    case 'f':
      logView.toggleFollow();
      break;
    case '?':
      byId('shortcuts').showModal();
      break;
    case 'G':
      logView.jumpToLatest();
      break;
    case 'ArrowDown':
    case 'j':
    case 'ArrowUp':
    case 'k':
      if (event.target !== document.body && event.target !== document.documentElement) break;
      event.preventDefault();
      table.move(event.key === 'ArrowDown' || event.key === 'j' ? 1 : -1);
      break;
    default:
  }
});

// ---- theme: follow the system, or what the toggle picked ----

const THEMES = ['auto', 'light', 'dark'];
const THEME_TITLES = { auto: 'Theme: follow the system', light: 'Theme: light', dark: 'Theme: dark' };
const THEME_ICONS = { auto: '◐', light: '☀', dark: '☾' };

function applyTheme(theme) {
  if (theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const toggle = byId('theme-toggle');
  toggle.textContent = THEME_ICONS[theme];
  toggle.title = THEME_TITLES[theme];
}

let theme = localStorage.getItem('zenserver-theme') ?? 'auto';
if (!THEMES.includes(theme)) theme = 'auto';
applyTheme(theme);
byId('theme-toggle').addEventListener('click', () => {
  theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
  localStorage.setItem('zenserver-theme', theme);
  applyTheme(theme);
});

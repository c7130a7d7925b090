// One row of the log viewer, built from an item of the log store: a gap, or
// an entry with its link, time, level, message and (expandable) `data`.

import { h } from './dom.js';
import { duration, exact, localDateTime, logTime, parseTime, plural } from './format.js';
import { dataText } from './log-filter.js';

/**
 * `options`: `filter` (marks matches), `timeMode`, `target` (the seq linked
 * to), `expanded` (keys of items whose data is open), `href(item)` (a line's
 * link), `sources` (in a merged view, the sessions items come from).
 */
export function logRow(item, { filter, timeMode, target, expanded, href, sources }) {
  if (item.gap !== undefined) {
    const text = item.trimmed
      ? `${plural(item.gap, 'older line')} not kept in this view`
      : `${plural(item.gap, 'entry', 'entries')} dropped`;
    return h('div', { class: 'log-gap', text, attrs: { 'data-testid': 'log-gap' } });
  }
  const main = h('div', { class: 'log-main' }, h('span', { class: 'log-message' }, filter.highlight(item.message)));
  if (item.data !== undefined) {
    const open = expanded.has(String(item.key));
    main.append(h('button', {
      class: 'log-data-toggle',
      title: open ? 'Hide data' : 'Show data',
      attrs: { type: 'button', 'aria-expanded': String(open) },
    }, open ? '▾ data' : filter.highlight(dataText(item))));
    if (open) {
      main.append(h('pre', { class: 'log-data', text: JSON.stringify(item.data, null, 2) }));
      if (item.data !== null && typeof item.data === 'object' && !Array.isArray(item.data)) {
        main.append(dataFilters(item.data));
      }
    }
  }
  return h('div', {
    class: `log-row level-${item.level}${item.seq === target && item.source === undefined ? ' log-row--target' : ''}`
      + `${filter.isContext(item) ? ' log-row--context' : ''}`,
    data: { seq: item.seq, key: item.key },
  },
  h('a', {
    class: 'log-link',
    text: item.seq,
    title: 'Link to this line',
    attrs: { href: href(item) },
  }),
  h('button', {
    class: 'log-copy',
    text: '⧉',
    title: 'Copy the text of this line',
    attrs: { type: 'button', 'aria-label': `Copy the text of line ${item.seq}`, 'data-testid': 'copy-line' },
  }),
  h('span', { class: 'log-time', text: logTime(item.ms, timeMode), title: exact(item.ms) }),
  h('span', { class: 'log-level', text: item.level }),
  item.source === undefined ? null : sourceTag(sources[item.source], item.source),
  main);
}

/**
 * A button per top-level property of `data` that filters the log by it: the
 * filter text is the property as it appears in the compact JSON searched.
 */
function dataFilters(data) {
  return h('div', { class: 'log-data-filters' }, h('span', { class: 'log-data-filters-label', text: 'Filter by' }),
    Object.entries(data).map(([key, value]) => h('button', {
      class: 'log-data-prop',
      text: `${key} = ${typeof value === 'string' ? value : JSON.stringify(value)}`,
      title: 'Show only the lines with this property',
      data: { filter: `${JSON.stringify(key)}:${JSON.stringify(value)}` },
      attrs: { type: 'button', 'data-testid': 'data-filter' },
    })));
}

/** A session's name in a merged view, in one of eight colours by position. */
export function sourceTag(source, index) {
  return h('span', {
    class: `log-source source-${index % 8}`,
    text: source.appname,
    title: `${source.appname} · ${source.id}`,
  });
}

/** `Session ended 2026-11-27 15:04:05.123 · exit code 3 · signal 9 · took 12.3 s`. */
export function endRowText(session) {
  const { exit_code: code, signal, duration_ms: took } = session.metadata ?? {};
  return [
    `Session ended ${localDateTime(parseTime(session.ended))}`.trim(),
    Number.isInteger(code) ? `exit code ${code}` : null,
    Number.isInteger(signal) ? `signal ${signal}` : null,
    Number.isFinite(took) ? `took ${duration(took)}` : null,
  ].filter(Boolean).join(' · ');
}

// Saving the lines the log viewer shows, as text or NDJSON.

import { h } from './dom.js';
import { plural } from './format.js';

/**
 * Offers `items` (entries and gaps, in display order) as a file. In a merged
 * view `sources` names the sessions items came from.
 */
export function download(items, format, baseName, sources = []) {
  const lines = [];
  for (const item of items) {
    if (item.gap !== undefined) {
      if (format === 'text') lines.push(`--- ${plural(item.gap, 'entry', 'entries')} dropped ---`);
      continue;
    }
    const source = sources[item.source];
    if (format === 'ndjson') {
      const { seq, timestamp, level, message, data } = item;
      lines.push(JSON.stringify({
        ...(source ? { session: source.id, appname: source.appname } : {}),
        seq, timestamp, level, message, ...(data === undefined ? {} : { data }),
      }));
    } else {
      const data = item.data === undefined ? '' : ` ${JSON.stringify(item.data)}`;
      const from = source ? ` [${source.appname}]` : '';
      lines.push(`${item.timestamp} ${item.level.toUpperCase().padEnd(5)}${from} ${item.message}${data}`);
    }
  }
  const type = format === 'ndjson' ? 'application/x-ndjson' : 'text/plain';
  const url = URL.createObjectURL(new Blob([`${lines.join('\n')}\n`], { type }));
  const name = `${baseName}.${format === 'ndjson' ? 'ndjson' : 'txt'}`;
  const link = h('a', { attrs: { href: url, download: name } });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

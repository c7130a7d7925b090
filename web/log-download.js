// Saving the lines the log viewer shows, as text or NDJSON.

import { h } from './dom.js';
import { plural } from './format.js';

/** Offers `items` (entries and gaps, in display order) as a file. */
export function download(items, format, baseName) {
  const lines = [];
  for (const item of items) {
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
  const name = `${baseName}.${format === 'ndjson' ? 'ndjson' : 'txt'}`;
  const link = h('a', { attrs: { href: url, download: name } });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// Metadata keys chosen as extra columns of the sessions table (project,
// platform, branch...): the menu that offers the keys the sessions have,
// the header cells, and the choice kept in localStorage.

import { byId, h } from './dom.js';
import { loadList, saveList } from './prefs.js';

/** A metadata value as a cell shows it: strings as they are, the rest as JSON. */
export function metaValue(session, key) {
  const value = session.metadata?.[key];
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export class MetaColumns {
  /** `onChange()` after a key was chosen or dropped. */
  constructor({ onChange }) {
    /** The chosen keys, in the order they were chosen. */
    this.keys = loadList('columns');
    this.offered = '';
    this.list = byId('columns-list');
    this.list.addEventListener('change', (event) => {
      const box = event.target.closest('input[data-column]');
      if (!box) return;
      const key = box.dataset.column;
      this.keys = box.checked ? [...this.keys, key] : this.keys.filter((chosen) => chosen !== key);
      saveList('columns', this.keys);
      onChange();
    });
  }

  /** Offers the metadata keys of `sessions` (and the chosen ones) in the menu. */
  offer(sessions) {
    const keys = new Set(this.keys);
    for (const session of sessions) {
      for (const key of Object.keys(session.metadata ?? {})) keys.add(key);
    }
    const offered = [...keys].sort();
    // Rebuilt only when the keys change, so an open menu keeps its focus.
    if (offered.join('\n') === this.offered) return;
    this.offered = offered.join('\n');
    this.list.replaceChildren(...(offered.length === 0
      ? [h('span', { class: 'columns-none', text: 'No metadata yet' })]
      : offered.map((key) => h('label', { class: 'check' },
        h('input', {
          attrs: { type: 'checkbox', 'data-column': key, 'data-testid': `column-${key}`, checked: this.keys.includes(key) },
        }),
        key))));
  }

  /** Header cells of the chosen columns, sortable like the others. */
  headers() {
    return this.keys.map((key) => h('th', { data: { sortKey: `meta:${key}`, metaColumn: key }, attrs: { 'aria-sort': 'none' } },
      h('button', { text: key, title: `Metadata: ${key}`, attrs: { type: 'button' } })));
  }
}

// What the log viewer's filter lets through: the chosen levels and a text
// (plain, case-insensitive, or a regular expression) found in the message or
// in `data` (as the compact JSON the row shows), and where it matches, so the
// row can mark it. With `context`, that many lines of the chosen levels
// before and after each match are shown too.

import { h } from './dom.js';

export const LEVELS = ['debug', 'info', 'warn', 'error'];

/** `data` as compact JSON, made once per item. */
export function dataText(item) {
  return (item.json ??= JSON.stringify(item.data));
}

/** What a plain filter searches: message and data, lower-cased, once per item. */
function searchText(item) {
  const message = item.message.toLowerCase();
  // A newline between them, so no match spans message and data.
  return item.data === undefined ? message : `${message}\n${dataText(item).toLowerCase()}`;
}

export class LogFilter {
  constructor() {
    this.text = '';
    this.regex = false;
    this.levels = new Set(LEVELS);
    this.matcher = null;
    /** Lines shown around each match (only while there is a text). */
    this.context = 0;
    /** Why the text is not a valid regular expression, or ''. */
    this.error = '';
  }

  /** Compiles the text; call after changing `text` or `regex`. */
  compile() {
    this.error = '';
    this.matcher = null;
    if (!this.text) return;
    if (this.regex) {
      try {
        const pattern = new RegExp(this.text, 'i');
        this.matcher = {
          test: (item) => pattern.test(item.message) || (item.data !== undefined && pattern.test(dataText(item))),
          source: this.text,
          regex: true,
        };
      } catch (error) {
        this.error = error.message;
      }
      return;
    }
    const needle = this.text.toLowerCase();
    this.matcher = { test: (item) => (item.lower ??= searchText(item)).includes(needle), needle };
  }

  passes(item) {
    if (item.gap !== undefined) return true;
    if (!this.levels.has(item.level)) return false;
    return !this.matcher || this.matcher.test(item);
  }

  /** Whether lines around matches are shown: the view cannot just be extended. */
  withContext() {
    return this.matcher !== null && this.context > 0;
  }

  /** An item shown only as context of a match near it. */
  isContext(item) {
    return this.withContext() && item.gap === undefined && !this.passes(item);
  }

  /** Indices of the `items` to show, in order. */
  select(items) {
    const shown = [];
    if (!this.withContext()) {
      for (let index = 0; index < items.length; index += 1) {
        if (this.passes(items[index])) shown.push(index);
      }
      return shown;
    }
    // Among the lines of the chosen levels, each match brings `context`
    // lines before it (still waiting in `recent`) and after it (`after`).
    const recent = [];
    let after = 0;
    for (let index = 0; index < items.length; index += 1) {
      const item = items[index];
      if (item.gap !== undefined) {
        shown.push(...recent.splice(0), index);
        after = 0;
        continue;
      }
      if (!this.levels.has(item.level)) continue;
      if (!this.matcher || this.matcher.test(item)) {
        shown.push(...recent.splice(0), index);
        after = this.context;
      } else if (after > 0) {
        shown.push(index);
        after -= 1;
      } else {
        recent.push(index);
        if (recent.length > this.context) recent.shift();
      }
    }
    return shown;
  }

  /** `text` as text nodes, with the filter's matches in `mark`s. */
  highlight(text) {
    const matcher = this.matcher;
    if (!matcher) return [text];
    const ranges = [];
    if (matcher.regex) {
      const pattern = new RegExp(matcher.source, 'gi');
      for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
        if (match[0].length === 0) { pattern.lastIndex += 1; continue; }
        ranges.push([match.index, match.index + match[0].length]);
      }
    } else {
      const lower = text.toLowerCase();
      for (let at = lower.indexOf(matcher.needle); at >= 0; at = lower.indexOf(matcher.needle, at + matcher.needle.length)) {
        ranges.push([at, at + matcher.needle.length]);
      }
    }
    const parts = [];
    let at = 0;
    for (const [start, end] of ranges) {
      if (start > at) parts.push(text.slice(at, start));
      parts.push(h('mark', { text: text.slice(start, end) }));
      at = end;
    }
    if (at < text.length) parts.push(text.slice(at));
    return parts;
  }
}

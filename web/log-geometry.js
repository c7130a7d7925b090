// Where each line of the log viewer sits. Rows are one height unless lines
// wrap, a message has several lines or `data` is expanded; then heights are
// measured as rows are drawn and kept per line (until measured, a message of
// n lines is n rows high), and an array of offsets maps positions to pixels
// and back.

export const ROW = 22;

export class Geometry {
  constructor() {
    /** Measured heights by item key. */
    this.heights = new Map();
    this.offsets = null;
    this.total = 0;
    this.count = 0;
  }

  /**
   * Lays out `count` rows. `uniform` says every row is ROW high; otherwise
   * `itemAt(position)` gives the item whose height to look up.
   */
  layout(count, uniform, itemAt) {
    this.count = count;
    if (uniform) {
      this.offsets = null;
      this.total = count * ROW;
      return;
    }
    const offsets = new Float64Array(count + 1);
    for (let position = 0; position < count; position += 1) {
      offsets[position + 1] = offsets[position] + this.heightOf(itemAt(position));
    }
    this.offsets = offsets;
    this.total = offsets[count];
  }

  /** The measured height, else ROW for each line of the message. */
  heightOf(item) {
    return this.heights.get(item.key) ?? ROW * (item.lines ?? 1);
  }

  /** Forgets the heights of items no longer in `items`. */
  prune(items) {
    const kept = new Set(items.map((item) => item.key));
    for (const key of this.heights.keys()) {
      if (!kept.has(key)) this.heights.delete(key);
    }
  }

  /** Records a measured height; true if it changed. */
  measured(item, height) {
    if (height <= 0 || this.heights.get(item.key) === height) return false;
    this.heights.set(item.key, height);
    return true;
  }

  top(position) {
    return this.offsets ? this.offsets[position] : position * ROW;
  }

  positionAt(y) {
    if (!this.offsets) return Math.floor(y / ROW);
    let low = 0;
    let high = this.count - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.offsets[middle] <= y) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}

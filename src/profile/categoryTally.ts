/**
 * Category counts of a column, as profiles keep them: the rows of each distinct value, up to
 * CATEGORY_LIMIT values; later new values count as `other`.
 */

/** Distinct values whose counts a profile keeps; later values count as `other`. */
export const CATEGORY_LIMIT = 1000;

export interface CategoryCounts {
  /** [value, rows], most rows first, then by value. */
  values: [string | number, number][];
  /** Rows whose value is not among `values`. */
  other: number;
  /** True when some value's rows were counted in `other` (more than CATEGORY_LIMIT distinct values met). */
  truncated: boolean;
}

export class CategoryTally {
  /** Made at the first value: a run keeps a tally per column of every batch. */
  private values: Map<string | number, number> | null = null;
  other = 0;
  truncated = false;

  /** Counts `n` rows of `value`; a new value past CATEGORY_LIMIT counts as `other`. */
  add(value: string | number, n: number): void {
    const counts = (this.values ??= new Map());
    const seen = counts.get(value);
    if (seen !== undefined) counts.set(value, seen + n);
    else if (counts.size < CATEGORY_LIMIT) counts.set(value, n);
    else {
      this.other += n;
      this.truncated = true;
    }
  }

  /** Adds the counts of rows after this one's (`met()` of another tally): as if this tally had counted them. */
  absorb(later: CategoryCounts): void {
    for (const [value, n] of later.values) this.add(value, n);
    this.other += later.other;
    this.truncated ||= later.truncated;
  }

  /** The counts, values in the order met (what `absorb` takes: which values a full tally keeps depends on it). */
  met(): CategoryCounts {
    return { values: [...(this.values ?? [])], other: this.other, truncated: this.truncated };
  }

  /**
   * Adds a profile's counts, then keeps the CATEGORY_LIMIT values of the most rows (the others'
   * rows move to `other`): merged profiles keep the largest categories, whatever their order.
   */
  merge(counts: CategoryCounts): void {
    const values = (this.values ??= new Map());
    for (const [value, n] of counts.values) values.set(value, (values.get(value) ?? 0) + n);
    this.other += counts.other;
    this.truncated ||= counts.truncated;
    if (values.size <= CATEGORY_LIMIT) return;
    for (const [value, n] of [...values.entries()].sort(byCount).slice(CATEGORY_LIMIT)) {
      values.delete(value);
      this.other += n;
    }
    this.truncated = true;
  }

  toJSON(): CategoryCounts {
    return { values: [...(this.values ?? new Map<string | number, number>()).entries()].sort(byCount), other: this.other, truncated: this.truncated };
  }
}

/** Most rows first; ties by value (numbers before strings), so equal counts give equal files. */
export function byCount(a: [string | number, number], b: [string | number, number]): number {
  if (a[1] !== b[1]) return b[1] - a[1];
  if (typeof a[0] === typeof b[0]) return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
  return typeof a[0] === 'number' ? -1 : 1;
}

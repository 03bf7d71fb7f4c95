/**
 * The profile of one column, built chunk by chunk from typed arrays (numbers) or value lists
 * (strings), and merged with the profile of other rows of the same column.
 *
 * - numbers: rows, NULLs, NaN, +/-Inf, and over the finite values min, max, mean, standard
 *   deviation (count, mean and M2 merged with Chan et al.'s parallel formula) and a quantile
 *   sketch (quantileSketch.ts);
 * - strings, booleans and integers: exact category counts of up to CATEGORY_LIMIT distinct
 *   values, later ones counted as `other` (docs/drift.md: how truncated counts merge).
 *
 * A chunk costs one pass for min, max, sum and the non-finite counts, one for M2, and the
 * sketch's copy; nothing is allocated per value (strings aside: DuckDB hands them over as such).
 */
import { CategoryTally, type CategoryCounts } from './categoryTally.js';
import { sortFloat64 } from './kernels.js';
import { emptyMoments, mergeMoments, type Moments } from './moments.js';
import { QuantileSketch, type SketchJson } from './quantileSketch.js';

/**
 * Finite values a column's sketch takes at a time: sorted (kernels.ts) and thinned at once
 * (QuantileSketch.ofSorted), then merged in, instead of compacting an intake of ~2000 values
 * sorted by V8 over and over (docs/performance.md, "Profiles"). 64 KB per numeric column.
 */
const RUN = 8192;

export type ColumnKind = 'numeric' | 'categorical';


export interface NumericSummary {
  /** Finite values. */
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Sum of squared differences from the mean (for merging); std = sqrt(m2 / (count - 1)). */
  m2: number;
  std: number | null;
  sketch: SketchJson;
}

export interface ColumnProfile {
  name: string;
  /** The DuckDB type it was read as, e.g. DOUBLE, VARCHAR, INTEGER. */
  type: string;
  kind: ColumnKind;
  rows: number;
  nulls: number;
  nan: number;
  inf: number;
  numeric: NumericSummary | null;
  categories: CategoryCounts | null;
}

export type NumberArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array | Uint32Array | readonly number[];

/** Builds the profile of one column from chunks of rows. */
export class ColumnProfiler {
  rows = 0;
  nulls = 0;
  nan = 0;
  inf = 0;
  private readonly moments: Moments = emptyMoments();
  private readonly sketch: QuantileSketch | null;
  private readonly counts: CategoryTally | null;
  /** Finite values of a chunk that held NaN or Inf, copied for the sketch. */
  private scratch = new Float64Array(0);
  /** Finite values not yet in the sketch (RUN at a time). */
  private run: Float64Array | null = null;
  private runSize = 0;

  constructor(
    readonly name: string,
    readonly type: string,
    readonly kind: ColumnKind,
    /** Also count categories of the numbers (integer-coded columns). */
    readonly countNumbers = false,
  ) {
    this.sketch = kind === 'numeric' ? new QuantileSketch() : null;
    this.counts = kind === 'categorical' || countNumbers ? new CategoryTally() : null;
  }

  /** Counts `count` NULL rows. */
  addNulls(count: number): void {
    this.rows += count;
    this.nulls += count;
  }

  /** Adds `rows` numbers (NULLs already left out: count them with addNulls). */
  addNumbers(values: NumberArray, rows = values.length): void {
    if (rows === 0) return;
    this.rows += rows;
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let nonFinite = 0;
    for (let i = 0; i < rows; i++) {
      const v = values[i]!;
      if (v - v !== 0) {
        nonFinite++;
        continue;
      }
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    let finite: NumberArray = values;
    if (nonFinite > 0) finite = this.keepFinite(values, rows);
    const n = rows - nonFinite;
    if (this.counts) this.countValues(finite, n);
    if (n === 0) return;
    const mean = sum / n;
    let m2 = 0;
    for (let i = 0; i < n; i++) {
      const d = finite[i]! - mean;
      m2 += d * d;
    }
    mergeMoments(this.moments, n, mean, m2, min, max);
    if (this.sketch) this.addToRun(finite, n);
  }

  /** Adds category values (strings, or booleans as text); null counts as a NULL row. */
  addValues(values: readonly (string | null)[], rows = values.length): void {
    for (let i = 0; i < rows; i++) {
      const v = values[i];
      if (v === null || v === undefined) this.addNulls(1);
      else {
        this.rows++;
        this.counts!.add(v, 1);
      }
    }
  }

  /** Adds the rows of `other`, a profile of the same column. */
  merge(other: ColumnProfile): void {
    this.flushRun();
    this.rows += other.rows;
    this.nulls += other.nulls;
    this.nan += other.nan;
    this.inf += other.inf;
    const o = other.numeric;
    if (o && o.count > 0) {
      mergeMoments(this.moments, o.count, o.mean!, o.m2, o.min!, o.max!);
      this.sketch?.merge(QuantileSketch.fromJSON(o.sketch));
    }
    if (other.categories && this.counts) this.counts.merge(other.categories);
  }

  toJSON(): ColumnProfile {
    this.flushRun();
    const numeric: NumericSummary | null = this.sketch
      ? {
          count: this.moments.count,
          min: this.moments.count > 0 ? this.moments.min : null,
          max: this.moments.count > 0 ? this.moments.max : null,
          mean: this.moments.count > 0 ? this.moments.mean : null,
          m2: this.moments.m2,
          std: this.moments.count > 1 ? Math.sqrt(this.moments.m2 / (this.moments.count - 1)) : null,
          sketch: this.sketch.toJSON(),
        }
      : null;
    return { name: this.name, type: this.type, kind: this.kind, rows: this.rows, nulls: this.nulls, nan: this.nan, inf: this.inf, numeric, categories: this.categoriesJson() };
  }



  private addToRun(values: NumberArray, n: number): void {
    this.run ??= new Float64Array(RUN);
    for (let i = 0; i < n; ) {
      const take = Math.min(n - i, RUN - this.runSize);
      // A typed array is copied (and widened to float64) in bulk.
      if (ArrayBuffer.isView(values)) this.run.set((values as Float64Array).subarray(i, i + take), this.runSize);
      else for (let j = 0; j < take; j++) this.run[this.runSize + j] = values[i + j]!;
      this.runSize += take;
      i += take;
      if (this.runSize === RUN) this.flushRun();
    }
  }

  /** The values waiting in the run into the sketch. */
  private flushRun(): void {
    if (!this.sketch || this.runSize === 0) return;
    this.sketch.merge(QuantileSketch.ofSorted(sortFloat64(this.run!.subarray(0, this.runSize)), 0));
    this.runSize = 0;
  }

  private keepFinite(values: NumberArray, rows: number): Float64Array {
    if (this.scratch.length < rows) this.scratch = new Float64Array(rows);
    let n = 0;
    for (let i = 0; i < rows; i++) {
      const v = values[i]!;
      if (v - v === 0) this.scratch[n++] = v;
      else if (Number.isNaN(v)) this.nan++;
      else this.inf++;
    }
    return this.scratch;
  }

  private countValues(values: NumberArray, n: number): void {
    for (let i = 0; i < n; i++) this.counts!.add(values[i]!, 1);
  }

  private categoriesJson(): CategoryCounts | null {
    return this.counts ? this.counts.toJSON() : null;
  }
}

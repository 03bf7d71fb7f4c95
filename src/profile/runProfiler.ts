/**
 * The profile a run records while it scores, from the tensors it builds and the predictions it
 * gets back: no second read of the input. Per batch, every row counts exactly (rows, NULLs,
 * NaN/Inf, min, max, mean, M2, categories); the quantile sketch takes the sample of
 * rowSample.ts, built when a part's profile is taken, so the per-batch cost is two passes
 * over each column and a copy of the sampled values.
 *
 * Batches are profiled in submission order (`addBatch`, before the tensors go to the workers,
 * which take their buffers), their predictions attached in the same order (`addPredictions`),
 * and `takePart(rows)` gives the profile of the next `rows` scored rows: each journaled part
 * keeps its own, and a run's profile is the merge of its parts' (profile.ts mergeProfiles).
 *
 * @example
 *   const profiler = new RunProfiler(columns, { classes: ['legit', 'fraud'], review: false, numeric: ['confidence'] });
 *   profiler.addBatch(batch.feeds, batch.rowCount, fileIndex, batch.rowStart, batch.rowNumbers);
 *   profiler.addPredictions(rows, predictions);
 *   const partProfile = profiler.takePart(rowsOfThePart);
 */
import { mergeMoments } from './moments.js';
import { CategoryTally } from './categoryTally.js';
import type { ColumnKind, ColumnProfile } from './columnProfile.js';
import { PROFILE_VERSION, type Profile } from './profile.js';
import { QuantileSketch } from './quantileSketch.js';
import { SAMPLE_LEVEL, sampleBatch, type BatchSample } from './rowSample.js';

export type TensorArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array | Uint16Array | string[];

/** One dataset column as a model input holds it: position `position` of the last axis (width `width`) of tensor `feed`. */
export interface TensorColumn {
  name: string;
  /** The column's DuckDB type (what a profile of the dataset records). */
  type: string;
  kind: ColumnKind;
  feed: string;
  position: number;
  width: number;
  /** The column's value is a t + b of the tensor's t (scale, min-max); absent: the tensor's value. */
  affine?: { a: number; b: number };
  /** The tensor holds an index into these values (a vocabulary); other indices count as `other`. */
  vocab?: readonly string[];
  /** A NaN in the tensor was a NULL (NULLs pass as NaN, and a NaN value would have rejected its row). */
  nanIsNull: boolean;
  /** Integer columns: their values are counted as categories too. */
  countValues: boolean;
}

/** The prediction columns a run profiles. */
export interface PredictionLayout {
  /** Class names (a classifier); null for a regression. */
  classes: string[] | null;
  /** The output has a `needs_review` column. */
  review: boolean;
  /** Numeric prediction columns (`confidence`, `prob_<label>`, a regression's `prediction`), in the order `addPredictions` gets them. */
  numeric: string[];
}

export interface BatchPredictions {
  /** Predicted class per row (-1: none). */
  classIndex: Int32Array | null;
  review: Uint8Array | null;
  numeric: (Float32Array | Float64Array)[];
}

const EMPTY = new Float64Array(0);

/** A growable list of float64 values. */
class Values {
  data = EMPTY;
  length = 0;

  /** Room for `n` more values (sized once per batch: no growing in the loop). */
  reserve(n: number): void {
    if (this.length + n > this.data.length) this.grow(this.length + n);
  }

  /** Appends a data[offset + rows[k] stride] + b for k in [from, to), finite values only. */
  gather(data: ArrayLike<number>, rows: Int32Array, from: number, to: number, offset: number, stride: number, a: number, b: number): void {
    this.reserve(to - from);
    const out = this.data;
    let n = this.length;
    for (let k = from; k < to; k++) {
      const v = data[offset + rows[k]! * stride]!;
      if (v - v === 0) out[n++] = a * v + b;
    }
    this.length = n;
  }

  append(other: Values): void {
    if (this.length + other.length > this.data.length) this.grow(this.length + other.length);
    this.data.set(other.data.subarray(0, other.length), this.length);
    this.length += other.length;
  }

  private grow(size: number): void {
    const bigger = new Float64Array(Math.max(size, Math.min(this.data.length * 2, size + 65536)));
    bigger.set(this.data.subarray(0, this.length));
    this.data = bigger;
  }
}

/** The exact counts and moments of a column over some rows, and its sampled values. */
class ColumnStats {
  rows = 0;
  nulls = 0;
  nan = 0;
  inf = 0;
  count = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  /** Sampled values at weight 1, and at weight 2^SAMPLE_LEVEL. */
  readonly exact = new Values();
  readonly sampled = new Values();
  readonly categories = new CategoryTally();

  /** Adds `rows` numbers at data[offset + i stride] whose moments are `moments`, read back through `affine`. */
  addNumbers(data: ArrayLike<number>, rows: number, offset: number, stride: number, sample: BatchSample, column: Pick<TensorColumn, 'affine' | 'nanIsNull' | 'countValues'>, moments: Moments): void {
    this.rows += rows;
    const { a, b } = column.affine ?? IDENTITY;
    if (column.nanIsNull) this.nulls += moments.nan;
    else this.nan += moments.nan;
    this.inf += moments.inf;
    if (moments.n > 0) {
      const [lo, hi] = a >= 0 ? [a * moments.min + b, a * moments.max + b] : [a * moments.max + b, a * moments.min + b];
      mergeMoments(this, moments.n, a * moments.mean + b, a * a * moments.m2, lo, hi);
    }
    this.exact.gather(data, sample.rows, 0, sample.exact, offset, stride, a, b);
    this.sampled.gather(data, sample.rows, sample.exact, sample.rows.length, offset, stride, a, b);
    if (column.countValues) {
      for (let i = 0, j = offset; i < rows; i++, j += stride) {
        const v = data[j]!;
        if (v - v === 0) this.categories.add(a * v + b, 1);
      }
    }
  }

  /** Adds `rows` category values: vocabulary indices, booleans (0/1) or strings. */
  addCategories(data: TensorArray, rows: number, offset: number, stride: number, vocab: readonly string[] | undefined): void {
    this.rows += rows;
    if (vocab) {
      const counts = new Float64Array(vocab.length);
      for (let i = 0, j = offset; i < rows; i++, j += stride) {
        const index = Number(data[j]!);
        if (index >= 0 && index < vocab.length) counts[index]!++;
        else this.categories.other++;
      }
      counts.forEach((n, index) => n > 0 && this.categories.add(vocab[index]!, n));
    } else if (Array.isArray(data)) {
      for (let i = 0, j = offset; i < rows; i++, j += stride) this.categories.add(data[j]!, 1);
    } else {
      let yes = 0;
      for (let i = 0, j = offset; i < rows; i++, j += stride) if (Number(data[j]!) !== 0) yes++;
      if (yes > 0) this.categories.add('true', yes);
      if (rows - yes > 0) this.categories.add('false', rows - yes);
    }
  }

  /** Adds the rows `other` counted after this one's. */
  absorb(other: ColumnStats): void {
    this.rows += other.rows;
    this.nulls += other.nulls;
    this.nan += other.nan;
    this.inf += other.inf;
    if (other.count > 0) mergeMoments(this, other.count, other.mean, other.m2, other.min, other.max);
    this.exact.append(other.exact);
    this.sampled.append(other.sampled);
    this.categories.absorb(other.categories);
  }

  toJSON(column: { name: string; type: string; kind: ColumnKind; countValues: boolean }): ColumnProfile {
    const base = { name: column.name, type: column.type, kind: column.kind, rows: this.rows, nulls: this.nulls, nan: this.nan, inf: this.inf };
    const counted = column.kind === 'categorical' || column.countValues;
    const categories = counted ? this.categories.toJSON() : null;
    if (column.kind === 'categorical') return { ...base, numeric: null, categories };
    const sketch = new QuantileSketch();
    sketch.addSampled(this.exact.data, this.exact.length, 0);
    sketch.addSampled(this.sampled.data, this.sampled.length, SAMPLE_LEVEL);
    const some = this.count > 0;
    const numeric = { count: this.count, min: some ? this.min : null, max: some ? this.max : null, mean: some ? this.mean : null, m2: this.m2, std: this.count > 1 ? Math.sqrt(this.m2 / (this.count - 1)) : null, sketch: sketch.toJSON() };
    return { ...base, numeric, categories };
  }
}

/** The profile of one batch (or, merged, of one part). */
class Piece {
  rows = 0;
  readonly columns: ColumnStats[];
  readonly predicted: ColumnStats[];
  classes: Float64Array | null;
  predictedRows = 0;
  review = 0;
  sample: BatchSample = { rows: new Int32Array(0), exact: 0 };
  hasPredictions = false;

  constructor(columns: number, predictions: PredictionLayout | null) {
    this.columns = Array.from({ length: columns }, () => new ColumnStats());
    this.predicted = Array.from({ length: predictions?.numeric.length ?? 0 }, () => new ColumnStats());
    this.classes = predictions?.classes ? new Float64Array(predictions.classes.length) : null;
  }

  /** Room for the sampled values of `pieces`, taken at once rather than grown piece by piece. */
  reserve(pieces: readonly Piece[]): void {
    for (const [own, of] of [[this.columns, (p: Piece) => p.columns], [this.predicted, (p: Piece) => p.predicted]] as const) {
      own.forEach((stats, c) => {
        stats.exact.reserve(pieces.reduce((n, p) => n + of(p)[c]!.exact.length, 0));
        stats.sampled.reserve(pieces.reduce((n, p) => n + of(p)[c]!.sampled.length, 0));
      });
    }
  }

  absorb(other: Piece): void {
    this.rows += other.rows;
    this.columns.forEach((c, i) => c.absorb(other.columns[i]!));
    this.predicted.forEach((c, i) => c.absorb(other.predicted[i]!));
    if (this.classes && other.classes) other.classes.forEach((n, i) => (this.classes![i]! += n));
    this.predictedRows += other.predictedRows;
    this.review += other.review;
  }
}

export class RunProfiler {
  /** Batches profiled and not yet taken into a part, in order; the first `predicted` have their predictions. */
  private readonly pending: Piece[] = [];
  private predicted = 0;

  constructor(
    readonly columns: readonly TensorColumn[],
    readonly predictions: PredictionLayout | null,
  ) {}

  /** Profiles a batch of `rows` scored rows of input file `file` (its feeds, before they go to the workers). */
  addBatch(feeds: Record<string, { data: TensorArray }>, rows: number, file: number, rowStart: number, rowNumbers?: BigInt64Array): void {
    if (rows === 0) return;
    const piece = new Piece(this.columns.length, this.predictions);
    piece.rows = rows;
    piece.sample = sampleBatch(file, rowStart, rows, rowNumbers);
    const numbers = new Map<string, ArrayLike<number>>();
    this.columns.forEach((column, c) => {
      const data = feeds[column.feed]!.data;
      const stats = piece.columns[c]!;
      if (column.kind === 'categorical') return stats.addCategories(data, rows, column.position, column.width, column.vocab);
      let values = numbers.get(column.feed);
      if (!values) numbers.set(column.feed, (values = asNumbers(data)));
      stats.addNumbers(values, rows, column.position, column.width, piece.sample, column, scanColumn(values, rows, column.position, column.width));
    });
    this.pending.push(piece);
  }

  /** The predictions of the oldest batch profiled without them. */
  addPredictions(rows: number, p: BatchPredictions): void {
    const piece = this.pending[this.predicted++];
    if (!piece || !this.predictions) return;
    piece.hasPredictions = true;
    p.numeric.forEach((values, i) => piece.predicted[i]!.addNumbers(values, rows, 0, 1, piece.sample, { nanIsNull: false, countValues: false }, scanColumn(values, rows, 0, 1)));
    if (p.classIndex && piece.classes) {
      for (let r = 0; r < rows; r++) {
        const c = p.classIndex[r]!;
        if (c < 0) continue;
        piece.classes[c]!++;
        piece.predictedRows++;
        if (p.review && p.review[r]) piece.review++;
      }
    }
  }

  /**
   * The profile of the next `rows` scored rows: whole batches (parts hold whole batches; one a
   * boundary would split counts in the first part). Zero rows: every column with no row.
   */
  takePart(rows: number, source: string): Profile {
    const part = new Piece(this.columns.length, this.predictions);
    let taken = 0;
    for (let sum = 0; sum < rows && taken < this.pending.length; taken++) sum += this.pending[taken]!.rows;
    const pieces = this.pending.splice(0, taken);
    this.predicted = Math.max(0, this.predicted - taken);
    part.reserve(pieces);
    for (const piece of pieces) part.absorb(piece);
    return this.profileOf(part, source);
  }

  private profileOf(part: Piece, source: string): Profile {
    const columns = this.columns.map((c, i) => part.columns[i]!.toJSON(c));
    const p = this.predictions;
    if (p) p.numeric.forEach((name, i) => columns.push(part.predicted[i]!.toJSON({ name, type: 'FLOAT', kind: 'numeric', countValues: false })));
    const prediction =
      p?.classes && part.classes
        ? { rows: part.predictedRows, classes: Object.fromEntries(p.classes.map((c, i) => [c, part.classes![i]!])), review: p.review ? part.review : null, review_rate: p.review && part.predictedRows > 0 ? part.review / part.predictedRows : null }
        : null;
    return { profile_version: PROFILE_VERSION, source, rows: part.rows, columns, prediction };
  }
}

const IDENTITY = { a: 1, b: 0 };

/** The moments of some rows of one column: finite values, their mean, M2, min and max; NaN and infinities. */
interface Moments {
  n: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
  nan: number;
  inf: number;
}

/**
 * One pass over one column of a row-major tensor (data[offset + i stride]): the sums of its
 * values and of their squares shifted by its first value (so the squares do not cancel for
 * values far from 0), min and max, in locals (a column at a time beats a row at a time with
 * per-position accumulators, docs/performance.md). NaN or an infinity makes the sums
 * non-finite: `countNonFinite` then takes the column again.
 */
function scanColumn(data: ArrayLike<number>, rows: number, offset: number, stride: number): Moments {
  if (rows === 0) return { n: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity, nan: 0, inf: 0 };
  const shift = data[offset]!;
  let sum = 0;
  let squares = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0, j = offset; i < rows; i++, j += stride) {
    const v = data[j]!;
    const d = v - shift;
    sum += d;
    squares += d * d;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (sum - sum !== 0 || squares - squares !== 0) return countNonFinite(data, rows, offset, stride);
  const mean = sum / rows;
  return { n: rows, mean: shift + mean, m2: Math.max(0, squares - mean * sum), min, max, nan: 0, inf: 0 };
}

function countNonFinite(data: ArrayLike<number>, rows: number, offset: number, stride: number): Moments {
  let n = 0;
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  let inf = 0;
  for (let i = 0, j = offset; i < rows; i++, j += stride) {
    const v = data[j]!;
    if (v - v !== 0) {
      if (v !== v) nan++;
      else inf++;
      continue;
    }
    n++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = n > 0 ? sum / n : 0;
  let m2 = 0;
  for (let i = 0, j = offset; i < rows; i++, j += stride) {
    const d = data[j]! - mean;
    if (d - d === 0) m2 += d * d;
  }
  return { n, mean, m2, min, max, nan, inf };
}

/** Numbers of a tensor: int64 ones converted (they are row counts or codes: exact below 2^53). */
function asNumbers(data: TensorArray): ArrayLike<number> {
  if (data instanceof BigInt64Array) return Float64Array.from(data, Number);
  return data as ArrayLike<number>;
}

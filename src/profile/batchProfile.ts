/**
 * The profile of one batch of a run's inputs, from the tensors it is scored with: every row's
 * counts and moments, category counts, and the values of its sampled rows (rowSample.ts). It is
 * plain data (typed arrays, posted between threads without copying), so an inference worker
 * computes it beside the batch it scores and sends it back with the predictions: the scoring
 * thread, which reads, writes and post-processes, only adds it up (runProfiler.ts).
 *
 * @example
 *   const batch = profileBatch(columns, feeds, { rows: 2048, file: 0, rowStart: 4096 });
 *   batch.stats[c * STATS + COUNT]; // finite values of column c
 */
import { CategoryTally, type CategoryCounts } from './categoryTally.js';
import type { ColumnKind } from './columnProfile.js';
import { joinedRegions, profileFloat32Feed, sampleArrayType, scanFloat32Columns, type Float32FeedProfile, type SampleArray, type SampledColumn } from './kernels.js';
import { sampleBatch, type BatchSample } from './rowSample.js';

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

/** Which rows of which input file a batch holds: tensor row i is file row `rowNumbers[i]` when rows were left out, else `rowStart + i`. */
export interface BatchRows {
  rows: number;
  file: number;
  rowStart: number;
  rowNumbers?: BigInt64Array;
}

/** Numbers kept per column in `BatchProfile.stats`, at these offsets. */
export const STATS = 8;
export const NULLS = 0;
export const NAN = 1;
export const INF = 2;
export const COUNT = 3;
export const MEAN = 4;
export const M2 = 5;
export const MIN = 6;
export const MAX = 7;

export interface BatchProfile {
  rows: number;
  /** The batch's sampled rows (the prediction columns take the same). */
  sample: BatchSample;
  /** Column c's nulls, NaN, infinities, count, mean, M2, min and max (values read back through its affine map) from c * STATS. */
  stats: Float64Array;
  /**
   * The sampled values, column after column: column c's weight-1 values end at ends[2c], its
   * weight-2^SAMPLE_LEVEL ones follow them and end at ends[2c + 1] (finite values only).
   * Float32 when every numeric column is a float32 tensor's value as it is (`narrowSample`).
   */
  values: SampleArray;
  ends: Int32Array;
  /** Per column its category counts, values in the order met (categorical and integer columns); else null. */
  categories: (CategoryCounts | null)[];
}

/** The profile of a batch of `batch.rows` rows of `columns` from their tensors. */
export function profileBatch(columns: readonly TensorColumn[], feeds: Record<string, { data: TensorArray }>, batch: BatchRows): BatchProfile {
  const { rows } = batch;
  const sample = sampleBatch(batch.file, batch.rowStart, rows, batch.rowNumbers);
  const stats = new Float64Array(columns.length * STATS);
  const numericColumns = columns.filter((c) => c.kind !== 'categorical').length;
  const narrow = narrowSample(columns, feeds);
  // Every numeric column in one float32 tensor (the usual case): the kernel's regions are joined
  // where they are and copied out at once; else each column's values are placed here.
  const joined = oneKernelFeed(columns, feeds, rows);
  const values = joined ? EMPTY : new (sampleArrayType(narrow))(numericColumns * sample.rows.length);
  const ends = new Int32Array(columns.length * 2);
  const categories: (CategoryCounts | null)[] = [];
  // Per feed, on first use: its values as numbers, the kernel's scan of all its columns and,
  // for a float32 tensor, its numeric columns' sampled values gathered by the kernel in the same pass.
  const seen = new Map<string, FeedPass>();
  let live: string | null = null;
  let end = 0;
  columns.forEach((column, c) => {
    const data = feeds[column.feed]!.data;
    if (column.kind === 'categorical') {
      ends[2 * c] = ends[2 * c + 1] = end;
      categories.push(countCategories(data, rows, column.position, column.width, column.vocab));
      return;
    }
    let feed = seen.get(column.feed);
    if (!feed) {
      // The kernels' next pass takes the linear memory the last one's sampled values are in.
      const earlier = live === null ? undefined : seen.get(live);
      if (earlier?.gathered) earlier.gathered = { ...earlier.gathered, values: earlier.gathered.values.slice() };
      seen.set(column.feed, (feed = feedPass(columns, column.feed, data, rows, column.width, sample, narrow)));
      live = column.feed;
    }
    const numeric = feed.numbers;
    addNumbers(stats, c * STATS, numeric, rows, column.position, column.width, column, feed.gathered?.scan ?? null);
    const { a, b } = column.affine ?? IDENTITY;
    if (feed.gathered && joined) {
      end = placeEnds(feed.gathered, feed.index.get(c)!, ends, c, end);
    } else if (feed.gathered) {
      end = placeRegion(feed.gathered, feed.index.get(c)!, { values, ends }, c, end);
    } else {
      end = ends[2 * c] = gather(values, end, numeric, sample.rows, 0, sample.exact, column.position, column.width, a, b);
      end = ends[2 * c + 1] = gather(values, end, numeric, sample.rows, sample.exact, sample.rows.length, column.position, column.width, a, b);
    }
    categories.push(column.countValues ? countValues(numeric, rows, column.position, column.width, a, b) : null);
  });
  const gathered = joined ? seen.get(joined)?.gathered : null;
  return { rows, sample, stats, values: gathered ? joinedRegions(gathered) : values.subarray(0, end), ends, categories };
}

const EMPTY = new Float64Array(0);

/** The feed holding every numeric column when it is a float32 tensor with rows (the kernels gather its values); else null. */
function oneKernelFeed(columns: readonly TensorColumn[], feeds: Record<string, { data: TensorArray }>, rows: number): string | null {
  const names = new Set(columns.flatMap((c) => (c.kind === 'categorical' ? [] : [c.feed])));
  const [name] = names;
  return names.size === 1 && rows > 0 && feeds[name!]!.data instanceof Float32Array ? name! : null;
}

/** A feed's tensor as the profile takes it: its values as numbers, and (a float32 tensor) the kernels' figures and its numeric columns' sampled values. */
interface FeedPass {
  numbers: ArrayLike<number>;
  /** Its sampled values a view of linear memory until the kernels' next pass (kernels.ts). */
  gathered: Float32FeedProfile | null;
  /** Column index (in `columns`) to its place j in `gathered`. */
  index: Map<number, number>;
}

/**
 * True when every numeric column's values are a float32 tensor's as they are (no affine map):
 * its sampled values are then float32, with nothing rounded.
 */
function narrowSample(columns: readonly TensorColumn[], feeds: Record<string, { data: TensorArray }>): boolean {
  return columns.every((c) => c.kind === 'categorical' || (feeds[c.feed]!.data instanceof Float32Array && (!c.affine || (c.affine.a === 1 && c.affine.b === 0))));
}

/** The kernels' one pass over feed `feed` (a float32 tensor with rows), else its numbers for the passes here. */
function feedPass(columns: readonly TensorColumn[], feed: string, data: TensorArray, rows: number, width: number, sample: BatchSample, narrow: boolean): FeedPass {
  if (!(data instanceof Float32Array) || rows === 0) return { numbers: asNumbers(data), gathered: null, index: new Map() };
  const index = new Map<number, number>();
  const sampled: SampledColumn[] = [];
  columns.forEach((column, c) => {
    if (column.feed !== feed || column.kind === 'categorical') return;
    index.set(c, sampled.length);
    const { a, b } = column.affine ?? IDENTITY;
    sampled.push({ position: column.position, a, b });
  });
  return { numbers: data, gathered: profileFloat32Feed(data, rows, width, sample, sampled, narrow), index };
}

/**
 * Column j of the kernel's gathered values (`profileFloat32Feed`: one region each, exact values
 * first) as column c of `into`, from `at`: its values copied there, its ends set (the layout of
 * `BatchProfile.values`). Returns the end of its values.
 */
function placeRegion(gathered: Float32FeedProfile, j: number, into: { values: SampleArray; ends: Int32Array }, c: number, at: number): number {
  const from = j * gathered.capacity;
  into.values.set(gathered.values.subarray(from, from + gathered.ends[j]!), at);
  return placeEnds(gathered, j, into.ends, c, at);
}

/** `placeRegion`'s ends alone: column j of `gathered` as column c of values placed from `at` (copied there, or joined in place: kernels.ts `joinedRegions`). Returns the end of its values. */
export function placeEnds(gathered: Float32FeedProfile, j: number, ends: Int32Array, c: number, at: number): number {
  ends[2 * c] = at + gathered.exactEnds[j]!;
  return (ends[2 * c + 1] = at + gathered.ends[j]!);
}

/** The kernel's figures of every column of a float32 tensor (kernels.ts scanFloat32Columns), for `addNumbers`; null for other tensors, which it passes over itself. */
export function kernelScan(data: TensorArray | ArrayLike<number>, rows: number, width: number): Float64Array | null {
  return data instanceof Float32Array && rows > 0 ? scanFloat32Columns(data, rows, width) : null;
}

/**
 * The counts and moments of `rows` numbers at data[offset + i stride] into stats[at ..]: the
 * prediction columns take it too. `scan`: the kernel's figures of the float32 tensor `data`
 * (kernels.ts `scanFloat32Columns`), else one pass here.
 */
export function addNumbers(stats: Float64Array, at: number, data: ArrayLike<number>, rows: number, offset: number, stride: number, column: Pick<TensorColumn, 'affine' | 'nanIsNull'>, scan: Float64Array | null = null): void {
  const m = scan ? scannedMoments(scan, data, rows, offset, stride) : scanColumn(data, rows, offset, stride);
  const { a, b } = column.affine ?? IDENTITY;
  stats[at + (column.nanIsNull ? NULLS : NAN)] = m.nan;
  stats[at + INF] = m.inf;
  stats[at + COUNT] = m.n;
  stats[at + MEAN] = m.n > 0 ? a * m.mean + b : 0;
  stats[at + M2] = a * a * m.m2;
  stats[at + MIN] = m.n === 0 ? Infinity : a >= 0 ? a * m.min + b : a * m.max + b;
  stats[at + MAX] = m.n === 0 ? -Infinity : a >= 0 ? a * m.max + b : a * m.min + b;
}

/** Writes a data[offset + rows[k] stride] + b for k in [from, to) into out from `at`, finite values only; returns the end. */
export function gather(out: SampleArray, at: number, data: ArrayLike<number>, rows: Int32Array, from: number, to: number, offset: number, stride: number, a: number, b: number): number {
  let n = at;
  for (let k = from; k < to; k++) {
    const v = data[offset + rows[k]! * stride]!;
    if (v - v === 0) out[n++] = a * v + b;
  }
  return n;
}

/** Category values: vocabulary indices, booleans (0/1) or strings. */
function countCategories(data: TensorArray, rows: number, offset: number, stride: number, vocab: readonly string[] | undefined): CategoryCounts {
  const tally = new CategoryTally();
  if (vocab) {
    const counts = new Float64Array(vocab.length);
    for (let i = 0, j = offset; i < rows; i++, j += stride) {
      const index = Number(data[j]!);
      if (index >= 0 && index < vocab.length) counts[index]!++;
      else tally.other++;
    }
    counts.forEach((n, index) => n > 0 && tally.add(vocab[index]!, n));
  } else if (Array.isArray(data)) {
    for (let i = 0, j = offset; i < rows; i++, j += stride) tally.add(data[j]!, 1);
  } else {
    let yes = 0;
    for (let i = 0, j = offset; i < rows; i++, j += stride) if (Number(data[j]!) !== 0) yes++;
    if (yes > 0) tally.add('true', yes);
    if (rows - yes > 0) tally.add('false', rows - yes);
  }
  return tally.met();
}

/** An integer column's values as categories. */
function countValues(data: ArrayLike<number>, rows: number, offset: number, stride: number, a: number, b: number): CategoryCounts {
  const tally = new CategoryTally();
  for (let i = 0, j = offset; i < rows; i++, j += stride) {
    const v = data[j]!;
    if (v - v === 0) tally.add(a * v + b, 1);
  }
  return tally.met();
}

const IDENTITY = { a: 1, b: 0 };

/** The moments of some rows of one column: finite values, their mean, M2, min and max; NaN and infinities. */
interface ScanMoments {
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
function scanColumn(data: ArrayLike<number>, rows: number, offset: number, stride: number): ScanMoments {
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
  return finiteMoments(rows, shift, sum, squares, min, max);
}

/** Column `offset`'s moments from the kernel's figures of its tensor (sums shifted by its first value), or counted again when it holds NaN or an infinity. */
function scannedMoments(scan: Float64Array, data: ArrayLike<number>, rows: number, offset: number, stride: number): ScanMoments {
  const sum = scan[4 * offset]!;
  const squares = scan[4 * offset + 1]!;
  if (sum - sum !== 0 || squares - squares !== 0) return countNonFinite(data, rows, offset, stride);
  return finiteMoments(rows, data[offset]!, sum, squares, scan[4 * offset + 2]!, scan[4 * offset + 3]!);
}

/** `rows` finite values whose differences from `shift` sum to `sum`, their squares to `squares`. */
function finiteMoments(rows: number, shift: number, sum: number, squares: number, min: number, max: number): ScanMoments {
  const mean = sum / rows;
  return { n: rows, mean: shift + mean, m2: Math.max(0, squares - mean * sum), min, max, nan: 0, inf: 0 };
}

function countNonFinite(data: ArrayLike<number>, rows: number, offset: number, stride: number): ScanMoments {
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

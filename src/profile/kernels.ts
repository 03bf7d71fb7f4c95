/**
 * The profile's WebAssembly kernels (wasm/profileKernels.ts) as functions of typed arrays: each
 * thread instantiates the module on first use and copies a call's arrays into its linear memory,
 * which grows to the largest call and stays (a worker's largest batch, a part's largest
 * sample). Why WebAssembly and what it saves: docs/performance.md, "Profile kernels in WebAssembly".
 *
 * @example
 *   const figures = scanFloat32Columns(tensor, rows, width); // sum, squares, min, max per column
 *   sortFloat64(values); // in place
 *   const sorted = sortedRuns([a, b]); // a and b joined and sorted, in linear memory
 *   const { counts, columns, profile } = twoClassColumns(null, p1, rows, ARGMAX, sample); // a classifier's predictions
 */
import { KERNELS_WASM } from './kernelsWasm.generated.js';
import { BASE, WasmKernels, type WasmMemory } from '../util/wasmKernels.js';

interface Exports {
  memory: WasmMemory;
  sortFloat64(values: number, n: number, scratch: number): void;
  sortFloat32(values: number, n: number, scratch: number): void;
  scanColumns(data: number, rows: number, width: number, out: number, scratch: number, start: boolean): void;
  twoClasses(p0: number, p1: number, rows: number, out: number, counts: number, threshold: number, positive: number, below: number, lo: number, hi: number): void;
  sampleRows(first: number, rows: number, exactRows: number, seed: number, mask: number, out: number): number;
  gatherRows(data: number, pieceStart: number, rows: number, width: number, picked: number, k: number, stop: number, positions: number, count: number, affine: number, cursors: number, regions: number, capacity: number): number;
  gatherRows32(data: number, pieceStart: number, rows: number, width: number, picked: number, k: number, stop: number, positions: number, count: number, affine: number, cursors: number, regions: number, capacity: number): number;
}

/**
 * Sampled values: float32 where every value is a float32 tensor's as it is (no affine map),
 * half the bytes to gather, post, join and sort; else float64.
 */
export type SampleArray = Float32Array | Float64Array;

/** The array type of sampled values: Float32Array when `narrow`, else Float64Array. */
export function sampleArrayType(narrow: boolean): typeof Float32Array | typeof Float64Array {
  return narrow ? Float32Array : Float64Array;
}

/** The sort's digit counts: six passes of 2048 32-bit counters. */
const COUNT_BYTES = 6 * 2048 * 4;
/** The scan's running figures per four columns (wasm/profileKernels.ts GROUP_BYTES). */
const GROUP_BYTES = 7 * 16;
/** A scan's rows go through linear memory in pieces of at most this many bytes (a 16,384-row batch of 60 float32 columns). */
const SCAN_BYTES = 4 << 20;
/** Below this many values V8's typed-array sort is faster than clearing and summing the radix counts. */
const RADIX_MIN = 2048;

const kernels = new WasmKernels<Exports>(KERNELS_WASM);
const withMemory = (bytes: number): Exports => kernels.withMemory(bytes);

const align16 = (n: number): number => Math.ceil(n / 16) * 16;

/**
 * Sorts float64 values in place, ascending, as V8's typed-array sort does (-0 before +0); the
 * caller leaves NaN out. A radix sort of the values' bits in the kernel: three passes when
 * every value is a float32's (a float32 tensor's, the usual case), else six.
 */
export function sortFloat64(values: Float64Array): Float64Array {
  if (values.length < RADIX_MIN) return values.sort();
  values.set(sortedRuns([values]));
  return values;
}

/**
 * The values of `runs` one after the other, sorted as `sortFloat64` sorts: joined straight into
 * this thread's linear memory and sorted there, not copied out. A view of linear memory, valid
 * until this thread's next kernel call (read it at once); a few values, an array of their own.
 * Float32 when every run is (three passes of 32-bit keys, no float64 read or written), else
 * float64.
 */
export function sortedRuns(runs: readonly SampleArray[]): SampleArray {
  let n = 0;
  for (const run of runs) n += run.length;
  const narrow = runs.every((run) => run instanceof Float32Array);
  if (n < RADIX_MIN) return joinRuns(new (sampleArrayType(narrow))(n), runs).sort();
  if (narrow) {
    const k = withMemory(COUNT_BYTES + 12 * n);
    const values = joinRuns(new Float32Array(k.memory.buffer, BASE, n), runs);
    k.sortFloat32(BASE, n, BASE + 4 * n);
    return values;
  }
  const k = withMemory(COUNT_BYTES + 24 * n);
  const values = joinRuns(new Float64Array(k.memory.buffer, BASE, n), runs);
  k.sortFloat64(BASE, n, BASE + 8 * n);
  return values;
}

function joinRuns<T extends SampleArray>(into: T, runs: readonly SampleArray[]): T {
  let at = 0;
  for (const run of runs) {
    into.set(run, at);
    at += run.length;
  }
  return into;
}

/**
 * Per column of the first `rows` rows of a row-major float32 tensor `width` columns wide, four
 * float64 from 4 c: the sum of its values and of their squares, each shifted by the column's
 * first value (data[c]), its minimum and maximum. A column with NaN or an infinity has
 * non-finite sums (and no meaningful minimum or maximum): the caller counts it again.
 */
export function scanFloat32Columns(data: Float32Array, rows: number, width: number): Float64Array {
  return profileFloat32Feed(data, rows, width, NO_SAMPLE, []).scan;
}

/** The sampled rows of a batch: tensor row indices, ascending, the first `exact` of them at weight 1 (rowSample.ts). */
export interface RowSample {
  rows: Int32Array;
  exact: number;
}

/** A column of a float32 tensor that a profile samples: its position, and its value x = a t + b of the tensor's t. */
export interface SampledColumn {
  position: number;
  a: number;
  b: number;
}

export interface Float32FeedProfile {
  /** `scanFloat32Columns` of the tensor. */
  scan: Float64Array;
  /**
   * Column j's finite sampled values (a t + b, in sample order) from j * capacity: the first
   * exactEnds[j] from the sample's exact rows, ends[j] in all. A view of this thread's linear
   * memory, valid until its next kernel call: the callers copy each column's values to where
   * they keep them, and a copy here first cost as much again (docs/performance.md). Float32
   * when the pass was asked for narrow values.
   */
  values: SampleArray;
  capacity: number;
  exactEnds: Int32Array;
  ends: Int32Array;
}

const NO_SAMPLE: RowSample = { rows: new Int32Array(0), exact: 0 };

/**
 * The gathered columns' values one after the other (column j's ends[j] values, its exact ones
 * first), in an array of their own: moved together in linear memory, then copied out at once,
 * not a copy per column. The regions are left joined (`gathered.values` holds them no longer).
 */
export function joinedRegions(gathered: Float32FeedProfile): SampleArray {
  const { values, capacity, ends } = gathered;
  let at = 0;
  for (let j = 0; j < ends.length; j++) {
    values.copyWithin(at, j * capacity, j * capacity + ends[j]!);
    at += ends[j]!;
  }
  return values.slice(0, at);
}

/**
 * One pass of the kernels over a float32 tensor: its columns' figures (`scanFloat32Columns`)
 * and the sampled rows' finite values of `columns`, gathered as each piece of rows is in linear
 * memory. The rows go through linear memory SCAN_BYTES at a time: a wide tensor's batch is not
 * copied whole. `narrow`: the values gathered as float32 (every column's a t + b is t).
 */
export function profileFloat32Feed(data: Float32Array, rows: number, width: number, sample: RowSample, columns: readonly SampledColumn[], narrow = false): Float32FeedProfile {
  const layout = gatherLayout(BASE, width, sample.rows.length, columns.length, narrow);
  const piece = Math.max(1, Math.min(rows, Math.floor(SCAN_BYTES / (4 * width))));
  const k = withMemory(layout.end - BASE + 4 * piece * width);
  const tensor = layout.end;
  const fill = (from: number, n: number): void => new Float32Array(k.memory.buffer, tensor, n * width).set(data.subarray(from * width, (from + n) * width));
  return gatherPass(k, layout, tensor, rows, width, sample, columns, fill, piece);
}

/** Where a scan's figures and a sample's gathering live in linear memory, from `start`; `end`: the first byte past them. */
interface GatherLayout {
  out: number;
  scratch: number;
  picked: number;
  positions: number;
  affine: number;
  cursors: number;
  regions: number;
  /** The regions hold float32 values. */
  narrow: boolean;
  end: number;
}

function gatherLayout(start: number, width: number, capacity: number, count: number, narrow: boolean): GatherLayout {
  const out = align16(start);
  const scratch = out + align16(32 * width);
  const picked = scratch + align16(GROUP_BYTES * Math.ceil(width / 4) + 8 * 4);
  const positions = picked + align16(4 * capacity);
  const affine = positions + align16(4 * count);
  const cursors = affine + 16 * count;
  const regions = cursors + align16(4 * count);
  return { out, scratch, picked, positions, affine, cursors, regions, narrow, end: align16(regions + (narrow ? 4 : 8) * count * capacity) };
}

/**
 * The column scan and the sample's gathering of a row-major float32 tensor at `tensor` in
 * linear memory, `piece` rows at a time, each piece put there by `fill` (absent: the tensor is
 * there whole).
 */
function gatherPass(k: Exports, at: GatherLayout, tensor: number, rows: number, width: number, sample: RowSample, columns: readonly SampledColumn[], fill?: (from: number, n: number) => void, piece = rows): Float32FeedProfile {
  const count = columns.length;
  const capacity = sample.rows.length;
  if (rows === 0) return { scan: new Float64Array(4 * width), values: new (sampleArrayType(at.narrow))(0), capacity, exactEnds: new Int32Array(count), ends: new Int32Array(count) };
  const memory = k.memory.buffer;
  new Int32Array(memory, at.picked, capacity).set(sample.rows);
  const positions = new Int32Array(memory, at.positions, count);
  const pairs = new Float64Array(memory, at.affine, 2 * count);
  for (let j = 0; j < count; j++) {
    positions[j] = columns[j]!.position;
    pairs[2 * j] = columns[j]!.a;
    pairs[2 * j + 1] = columns[j]!.b;
  }
  new Int32Array(memory, at.cursors, count).fill(0);
  let next = 0;
  let exactEnds: Int32Array | null = sample.exact === 0 ? new Int32Array(count) : null;
  const gather = (from: number, n: number, stop: number): void => {
    next = (at.narrow ? k.gatherRows32 : k.gatherRows)(tensor, from, n, width, at.picked, next, stop, at.positions, count, at.affine, at.cursors, at.regions, capacity);
  };
  for (let from = 0; from < rows; from += piece) {
    const n = Math.min(piece, rows - from);
    fill?.(from, n);
    k.scanColumns(tensor, n, width, at.out, at.scratch, from === 0);
    if (count === 0) continue;
    if (!exactEnds) {
      gather(from, n, sample.exact);
      if (next === sample.exact) exactEnds = new Int32Array(memory, at.cursors, count).slice();
    }
    if (exactEnds) gather(from, n, capacity);
  }
  return {
    scan: new Float64Array(memory, at.out, 4 * width).slice(),
    values: new (sampleArrayType(at.narrow))(memory, at.regions, count * capacity),
    capacity,
    exactEnds: exactEnds ?? new Int32Array(count),
    ends: new Int32Array(memory, at.cursors, count).slice(),
  };
}

/**
 * The sample's rows of a batch of `rows` rows whose file rows run on from one with low 32 bits
 * `first` and the same high bits throughout (rowSample.ts `sampleBatch`): the first `exactRows`,
 * then those whose low bits hash under `seed` to 0 in `mask`.
 */
export function sampleRowsOf(first: number, rows: number, exactRows: number, seed: number, mask: number): Int32Array {
  const k = withMemory(4 * rows);
  const n = k.sampleRows(first, rows, exactRows, seed, mask, BASE);
  return new Int32Array(k.memory.buffer, BASE, n).slice();
}

/**
 * How a two-class classifier's rows get their class and review flag (wasm/profileKernels.ts
 * `twoClasses`): `threshold` NaN for the argmax, `below` NaN for no review_below, `low` and
 * `high` NaN for no review band; `positive` is the class the threshold and band are on.
 */
export interface TwoClassRule {
  threshold: number;
  positive: number;
  below: number;
  low: number;
  high: number;
}

/** The argmax, no review flags. */
export const ARGMAX: TwoClassRule = { threshold: NaN, positive: 1, below: NaN, low: NaN, high: NaN };

export interface TwoClassColumns {
  /** Rows of class 0, of class 1, and of those rows the ones to review. */
  counts: [number, number, number];
  /**
   * Per row confidence, p0, p1 and a 0, row-major: a view of this thread's linear memory,
   * valid until its next kernel call (read it at once).
   */
  columns: Float32Array;
  /** The figures of `columns` (`scan`) and the finite values of its first three columns at the sample's rows, as `profileFloat32Feed` gives a tensor's. */
  profile: Float32FeedProfile;
}

/** The three prediction columns of `twoClassColumns`: confidence, p0 and p1, as they are. */
const PREDICTED: readonly SampledColumn[] = [0, 1, 2].map((position) => ({ position, a: 1, b: 0 }));

/**
 * The prediction columns of `rows` rows of a two-class classifier from its float32
 * probabilities (p0 null: 1 - p1 in float32), decided by `rule` as its part files' SQL
 * decides them, with their class counts, figures and the values of `sample`'s rows: one pass
 * here for what took four allocations and three passes in JavaScript.
 */
export function twoClassColumns(p0: Float32Array | null, p1: Float32Array, rows: number, rule: TwoClassRule, sample: RowSample = NO_SAMPLE): TwoClassColumns {
  // The kernel takes four rows at a time: the last ones are padded with NaN, which counts nowhere.
  const padded = Math.ceil(rows / 4) * 4;
  const counts = BASE;
  const input = counts + 16;
  const second = input + align16(4 * padded);
  const columns = second + align16(4 * padded);
  // The columns are float32 values as they are: gathered narrow.
  const gathering = gatherLayout(columns + 16 * padded, 4, sample.rows.length, PREDICTED.length, true);
  const k = withMemory(gathering.end - BASE);
  const load = (at: number, values: Float32Array): void => {
    const into = new Float32Array(k.memory.buffer, at, padded);
    into.set(values.subarray(0, rows));
    into.fill(NaN, rows);
  };
  load(input, p1);
  if (p0) load(second, p0);
  k.twoClasses(p0 ? second : 0, input, padded, columns, counts, rule.threshold, rule.positive, rule.below, rule.low, rule.high);
  const profile = gatherPass(k, gathering, columns, rows, 4, sample, PREDICTED);
  const [zero, one, review] = new Uint32Array(k.memory.buffer, counts, 3);
  return { counts: [zero!, one!, review!], columns: new Float32Array(k.memory.buffer, columns, 4 * rows), profile };
}

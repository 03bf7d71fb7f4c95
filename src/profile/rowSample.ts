/**
 * The rows a run's quantile sketches take: every row of the first EXACT_ROWS rows of each
 * input file at weight 1, and past them the rows a hash of (file index, file row) selects, one
 * in 2^SAMPLE_LEVEL, each standing for 2^SAMPLE_LEVEL values (quantileSketch.ts `ofSorted`).
 * The choice is a function of the file row alone, so a resumed run, the shards of a run and
 * one process sample the same rows, and the profiles of parts merge into the profile of the
 * whole. Why a sample, and its accuracy and cost: docs/drift.md.
 */
import { sampleRowsOf, sortedRuns, type RowSample, type SampleArray } from './kernels.js';
import { sketchJsonOfSorted, type SketchJson } from './quantileSketch.js';

/** Rows of each file the sketches take whole. */
export const EXACT_ROWS = 16_384;
/** Past EXACT_ROWS, one row in 2^SAMPLE_LEVEL is taken, at that level of the sketch. */
export const SAMPLE_LEVEL = 4;
const MASK = 2 ** SAMPLE_LEVEL - 1;

/** The rows of a batch the sketches take: tensor row indices, the first `exact` of them at weight 1. */
export type BatchSample = RowSample;

/** murmur3's 32-bit finaliser: every input bit moves every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The hash's seed for the rows of input file `file` whose high 32 bits are `high`. */
function seedOf(file: number, high: number): number {
  return fmix(high ^ Math.imul(file + 1, 0x9e3779b1));
}

/** True when file row `row` of input file `file` is in the sample (past its first EXACT_ROWS rows). */
export function sampled(file: number, row: number): boolean {
  return inSample(row, seedOf(file, Math.floor(row / 4294967296)));
}

/** The hash's verdict on `row` under its file's `seed` (`seedOf`). */
function inSample(row: number, seed: number): boolean {
  return (fmix((row >>> 0) ^ seed) & MASK) === 0;
}

/**
 * The sample of a batch of `rows` tensor rows of input file `file`: tensor row i is file row
 * `rowNumbers[i]` when rows were left out, else `rowStart + i`. `sampled` of each row: in the
 * kernel (kernels.ts `sampleRowsOf`) for a batch of consecutive rows, the usual case; here, the
 * seed hashed once per run of rows with the same high 32 bits, for one with rows left out.
 */
export function sampleBatch(file: number, rowStart: number, rows: number, rowNumbers?: BigInt64Array): BatchSample {
  const exact = Math.max(0, Math.min(rows, EXACT_ROWS - rowStart));
  const high = Math.floor((rowStart + exact) / 4294967296);
  if (!rowNumbers && rows > 0 && Math.floor((rowStart + rows - 1) / 4294967296) === high) {
    return { rows: sampleRowsOf(rowStart >>> 0, rows, exact, seedOf(file, high), MASK), exact };
  }
  return sampleRowByRow(file, rowStart, rows, rowNumbers);
}

/** `sampleBatch` a row at a time (rows left out, or file rows crossing a multiple of 2^32). */
function sampleRowByRow(file: number, rowStart: number, rows: number, rowNumbers?: BigInt64Array): BatchSample {
  const picked = new Int32Array(rows);
  let n = 0;
  let exact = 0;
  let high = -1;
  let seed = 0;
  for (let i = 0; i < rows; i++) {
    const row = rowNumbers ? Number(rowNumbers[i]!) : rowStart + i;
    if (row < EXACT_ROWS) {
      picked[n++] = i;
      exact++;
      continue;
    }
    const h = Math.floor(row / 4294967296);
    if (h !== high) seed = seedOf(file, (high = h));
    if (inSample(row, seed)) picked[n++] = i;
  }
  // A copy of its own: it is posted with the batch profile, and a view would take the whole buffer.
  return { rows: picked.slice(0, n), exact };
}

/**
 * Sampled values of several columns, column after column (batchProfile.ts): column c's weight-1
 * values end at ends[2c], its weight-2^SAMPLE_LEVEL ones follow them and end at ends[2c + 1].
 */
export interface SampledValues {
  values: SampleArray;
  ends: Int32Array;
}

/**
 * A part's sample as its batches left it, not joined: per group of columns (a run's inputs, its
 * predictions) each batch's sampled values in order, and per column to sketch its group and its
 * place in the group (columns[2j], columns[2j + 1]). Each column's values are joined only where
 * its sketch is built, straight into the sorting kernel's memory (often on another thread).
 */
export interface PartSample {
  groups: SampledValues[][];
  columns: Int32Array;
}

/** The quantile sketches of a part's sampled columns, in order; the batches' arrays are left as they were. */
export function sketchPart(part: PartSample): SketchJson[] {
  const sketches: SketchJson[] = [];
  for (let j = 0; j < part.columns.length; j += 2) {
    const batches = part.groups[part.columns[j]!]!;
    const c = part.columns[j + 1]!;
    const exact = runsOf(batches, c, false);
    const weighted = runsOf(batches, c, true);
    const pieces = [{ runs: exact, level: 0 }, ...(weighted.some((run) => run.length > 0) ? [{ runs: weighted, level: SAMPLE_LEVEL }] : [])];
    const counts = pieces.map(({ runs, level }) => ({ n: runs.reduce((n, run) => n + run.length, 0), level }));
    sketches.push(sketchJsonOfSorted(counts, (i) => sortedRuns(pieces[i]!.runs)));
  }
  return sketches;
}

/** Column c's values in each batch at weight 1 (`weighted` false) or 2^SAMPLE_LEVEL: views, not copies. */
function runsOf(batches: readonly SampledValues[], c: number, weighted: boolean): SampleArray[] {
  const first = weighted ? 2 * c : 2 * c - 1;
  const last = first + 1;
  const runs: SampleArray[] = [];
  for (const { values, ends } of batches) runs.push(values.subarray(first >= 0 ? ends[first]! : 0, ends[last]!));
  return runs;
}

/** The distinct buffers of a part's sample, to transfer it to another thread without copying. */
export function sampleBuffers(part: PartSample): ArrayBuffer[] {
  return [...new Set(part.groups.flatMap((batches) => batches.map((b) => b.values.buffer as ArrayBuffer)))];
}

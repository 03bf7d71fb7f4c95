/**
 * The profile a run records while it scores, from the tensors it builds and the predictions it
 * gets back: no second read of the input. Per batch, every row counts exactly (rows, NULLs,
 * NaN/Inf, min, max, mean, M2, categories: batchProfile.ts, computed by the inference worker
 * that scores the batch, or here); the quantile sketch takes the sample of rowSample.ts, built
 * when a part's profile is taken (on other threads with `takePartWith`).
 *
 * Batches are added in submission order (`addBatch` from their feeds, or `addProfile` with a
 * worker's profile), their predictions in the same order (`addPredictions`), and
 * `takePart(rows)` gives the profile of the next `rows` scored rows: each journaled part keeps
 * its own, and a run's profile is the merge of its parts' (profile.ts mergeProfiles). A
 * pending batch is a few typed arrays (its exact figures, its sampled values), not objects per
 * column: a part of many batches leaves little for the garbage collector to promote and trace.
 *
 * @example
 *   const profiler = new RunProfiler(columns, { classes: ['legit', 'fraud'], review: false, numeric: ['confidence'] });
 *   profiler.addBatch(batch.feeds, batch.rowCount, fileIndex, batch.rowStart, batch.rowNumbers);
 *   profiler.addPredictions(rows, predictions);
 *   const partProfile = profiler.takePart(rowsOfThePart);
 */
import { addNumbers, COUNT, gather, kernelScan, INF, M2, MAX, MEAN, MIN, NAN, NULLS, placeEnds, profileBatch, STATS, type BatchProfile, type TensorArray, type TensorColumn } from './batchProfile.js';
import { CategoryTally, type CategoryCounts } from './categoryTally.js';
import type { ColumnKind, ColumnProfile } from './columnProfile.js';
import { mergeMoments } from './moments.js';
import { PROFILE_VERSION, type Profile } from './profile.js';
import type { SketchJson } from './quantileSketch.js';
import { sketchPart, type BatchSample, type PartSample, type SampledValues } from './rowSample.js';
import { joinedRegions, twoClassColumns, type Float32FeedProfile, type TwoClassRule } from './kernels.js';

export type { TensorArray, TensorColumn } from './batchProfile.js';

/** The prediction columns a run profiles. */
export interface PredictionLayout {
  /** Class names (a classifier); null for a regression. */
  classes: string[] | null;
  /** The output has a `needs_review` column. */
  review: boolean;
  /** Numeric prediction columns (`confidence`, `prob_<label>`, a regression's `prediction`), in the order `addPredictions` gets them. */
  numeric: string[];
}

/**
 * One batch's predictions: decided (postprocess/predictionValues.ts), or a two-class
 * classifier's probabilities and its rule, decided here by the kernel (kernels.ts `twoClassColumns`).
 */
export type BatchPredictions =
  | {
      kind: 'decided';
      /** Predicted class per row (-1: none); null for a regression. */
      classIndex: Int32Array | null;
      review: Uint8Array | null;
      /** The numeric prediction columns, in the layout's order. */
      numeric: (Float32Array | Float64Array)[];
    }
  | { kind: 'two-class'; p0: Float32Array | null; p1: Float32Array; rule: TwoClassRule };

/** Builds the sketches of a part's numeric columns from its sample, in order (rowSample.ts `sketchPart`, e.g. on the inference workers). */
export type Sketcher = (sample: PartSample) => Promise<SketchJson[]>;

/** A batch's predictions as a part adds them up: `rows` scored, `classified` of them with a class, `review` of those to review. */
interface Predicted {
  rows: number;
  stats: Float64Array;
  sampled: SampledValues;
  classes: Float64Array | null;
  classified: number;
  review: number;
}

/** The figures and sampled values of a batch's numeric prediction columns, `rows` rows each. */
function numericFigures(rows: number, sample: BatchSample, numeric: readonly (Float32Array | Float64Array)[]): Pick<Predicted, 'stats' | 'sampled'> {
  const stats = new Float64Array(numeric.length * STATS);
  const { rows: sampleRows, exact } = sample;
  const sampled = { values: new Float64Array(numeric.length * sampleRows.length), ends: new Int32Array(2 * numeric.length) };
  let end = 0;
  numeric.forEach((values, i) => {
    addNumbers(stats, i * STATS, values, rows, 0, 1, { nanIsNull: false }, kernelScan(values, rows, 1));
    end = sampled.ends[2 * i] = gather(sampled.values, end, values, sampleRows, 0, exact, 0, 1, 1, 0);
    end = sampled.ends[2 * i + 1] = gather(sampled.values, end, values, sampleRows, exact, sampleRows.length, 0, 1, 1, 0);
  });
  return { stats, sampled };
}

/** Predictions decided by the postprocessor: each numeric column scanned on its own, the classes counted row by row. */
function decidedPredicted(rows: number, sample: BatchSample, p: Extract<BatchPredictions, { kind: 'decided' }>, classCount: number): Predicted {
  const predicted: Predicted = { rows, ...numericFigures(rows, sample, p.numeric), classes: p.classIndex ? new Float64Array(classCount) : null, classified: 0, review: 0 };
  if (p.classIndex && predicted.classes) {
    for (let r = 0; r < rows; r++) {
      const c = p.classIndex[r]!;
      if (c < 0) continue;
      predicted.classes[c]!++;
      predicted.classified++;
      if (p.review && p.review[r]) predicted.review++;
    }
  }
  return predicted;
}

/** A two-class classifier's predictions, decided, counted, scanned and sampled by the kernel; its columns (confidence, p0, p1) read from linear memory at once. */
function twoClassPredicted(rows: number, sample: BatchSample, p: Extract<BatchPredictions, { kind: 'two-class' }>): Predicted {
  const { counts, columns, profile } = twoClassColumns(p.p0, p.p1, rows, p.rule, sample);
  const stats = new Float64Array(3 * STATS);
  for (let i = 0; i < 3; i++) addNumbers(stats, i * STATS, columns, rows, i, 4, { nanIsNull: false }, profile.scan);
  return { rows, stats, sampled: joinRegions(profile), classes: Float64Array.of(counts[0], counts[1]), classified: counts[0] + counts[1], review: counts[2] };
}

/** A kernel's gathered columns (one region each) as a batch's sampled values: column after column, its exact values then the rest. */
function joinRegions(gathered: Float32FeedProfile): SampledValues {
  const ends = new Int32Array(2 * gathered.ends.length);
  let at = 0;
  for (let j = 0; j < gathered.ends.length; j++) at = placeEnds(gathered, j, ends, j, at);
  return { values: joinedRegions(gathered), ends };
}

/** A batch added and not yet taken into a part: its exact figures; its sampled values are in the columns' buffers. */
interface PendingBatch {
  rows: number;
  sample: BatchSample;
  stats: Float64Array;
  /** The input columns' sampled values. */
  sampled: SampledValues;
  categories: (CategoryCounts | null)[];
  /** Its predictions (null: not back yet). */
  predicted: Predicted | null;
}

/** A column's exact figures over the batches of a part. */
class ColumnTotals {
  rows = 0;
  nulls = 0;
  nan = 0;
  inf = 0;
  count = 0;
  mean = 0;
  m2 = 0;
  min = Infinity;
  max = -Infinity;
  readonly categories: CategoryTally | null;

  constructor(counted: boolean) {
    this.categories = counted ? new CategoryTally() : null;
  }

  /** Adds a batch of `rows` rows whose figures are stats[at ..] (batchProfile.ts). */
  add(rows: number, stats: Float64Array, at: number, categories: CategoryCounts | null): void {
    this.rows += rows;
    this.nulls += stats[at + NULLS]!;
    this.nan += stats[at + NAN]!;
    this.inf += stats[at + INF]!;
    const n = stats[at + COUNT]!;
    if (n > 0) mergeMoments(this, n, stats[at + MEAN]!, stats[at + M2]!, stats[at + MIN]!, stats[at + MAX]!);
    if (categories) this.categories?.absorb(categories);
  }

  toJSON(column: { name: string; type: string; kind: ColumnKind }, sketch: SketchJson | null): ColumnProfile {
    const base = { name: column.name, type: column.type, kind: column.kind, rows: this.rows, nulls: this.nulls, nan: this.nan, inf: this.inf };
    const categories = this.categories ? this.categories.toJSON() : null;
    if (column.kind === 'categorical' || !sketch) return { ...base, numeric: null, categories };
    const some = this.count > 0;
    const numeric = { count: this.count, min: some ? this.min : null, max: some ? this.max : null, mean: some ? this.mean : null, m2: this.m2, std: this.count > 1 ? Math.sqrt(this.m2 / (this.count - 1)) : null, sketch };
    return { ...base, numeric, categories };
  }
}

/** A part's batches taken off the queue: their exact figures added up, and the numeric columns' samples. */
interface PartCut {
  rows: number;
  columns: ColumnTotals[];
  classes: Float64Array | null;
  predictedRows: number;
  review: number;
  sample: PartSample;
}

export class RunProfiler {
  /** Batches added and not yet taken into a part, in order; the first `predicted` have their predictions. */
  private readonly pending: PendingBatch[] = [];
  private predicted = 0;
  /** Every profiled column: the inputs, then the numeric predictions. */
  private readonly all: { name: string; type: string; kind: ColumnKind; counted: boolean }[];

  constructor(
    readonly columns: readonly TensorColumn[],
    readonly predictions: PredictionLayout | null,
  ) {
    this.all = [
      ...columns.map((c) => ({ name: c.name, type: c.type, kind: c.kind, counted: c.kind === 'categorical' || c.countValues })),
      ...(predictions?.numeric ?? []).map((name) => ({ name, type: 'FLOAT', kind: 'numeric' as const, counted: false })),
    ];
  }

  /** Profiles a batch of `rows` scored rows of input file `file` from its feeds (before they go to the workers, which take their buffers). */
  addBatch(feeds: Record<string, { data: TensorArray }>, rows: number, file: number, rowStart: number, rowNumbers?: BigInt64Array): void {
    if (rows === 0) return;
    this.addProfile(profileBatch(this.columns, feeds, { rows, file, rowStart, ...(rowNumbers ? { rowNumbers } : {}) }));
  }

  /** A batch's profile made by `profileBatch` of this profiler's columns (on an inference worker). */
  addProfile(batch: BatchProfile): void {
    if (batch.rows === 0) return;
    this.pending.push({ rows: batch.rows, sample: batch.sample, stats: batch.stats, sampled: { values: batch.values, ends: batch.ends }, categories: batch.categories, predicted: null });
  }

  /** The predictions of the oldest batch added without them. */
  addPredictions(rows: number, p: BatchPredictions): void {
    const batch = this.pending[this.predicted++];
    if (!batch || !this.predictions) return;
    batch.predicted = p.kind === 'two-class' ? twoClassPredicted(rows, batch.sample, p) : decidedPredicted(rows, batch.sample, p, this.predictions.classes?.length ?? 0);
  }

  /**
   * The profile of the next `rows` scored rows: whole batches (parts hold whole batches; one a
   * boundary would split counts in the first part). Zero rows: every column with no row.
   */
  takePart(rows: number, source: string): Profile {
    const cut = this.cut(rows);
    return this.profileOf(cut, sketchPart(cut.sample), source);
  }

  /** `takePart`, the sketches built by `sketcher` (the batches are taken at once: later ones may be added meanwhile). */
  async takePartWith(rows: number, source: string, sketcher: Sketcher): Promise<Profile> {
    const cut = this.cut(rows);
    return this.profileOf(cut, await sketcher(cut.sample), source);
  }

  private cut(rows: number): PartCut {
    let taken = 0;
    for (let sum = 0; sum < rows && taken < this.pending.length; taken++) sum += this.pending[taken]!.rows;
    const batches = this.pending.splice(0, taken);
    this.predicted = Math.max(0, this.predicted - taken);
    const inputs = this.columns.length;
    const columns = this.all.map((c) => new ColumnTotals(c.counted));
    const part: PartCut = { rows: 0, columns, classes: this.predictions?.classes ? new Float64Array(this.predictions.classes.length) : null, predictedRows: 0, review: 0, sample: this.sampleOf(batches) };
    for (const batch of batches) {
      part.rows += batch.rows;
      for (let c = 0; c < inputs; c++) columns[c]!.add(batch.rows, batch.stats, c * STATS, batch.categories[c]!);
      const p = batch.predicted;
      if (!p) continue;
      for (let c = inputs; c < columns.length; c++) columns[c]!.add(p.rows, p.stats, (c - inputs) * STATS, null);
      if (part.classes && p.classes) p.classes.forEach((n, i) => (part.classes![i]! += n));
      part.predictedRows += p.classified;
      part.review += p.review;
    }
    return part;
  }

  /** The sample of a part's batches: their sampled values as they are (not joined), and where each numeric column's are. */
  private sampleOf(batches: readonly PendingBatch[]): PartSample {
    const inputs = this.columns.length;
    const columns = this.all.flatMap((column, c) => (column.kind === 'categorical' ? [] : c < inputs ? [0, c] : [1, c - inputs]));
    const groups: SampledValues[][] = [batches.map((b) => b.sampled), batches.flatMap((b) => (b.predicted ? [b.predicted.sampled] : []))];
    return { groups, columns: Int32Array.from(columns) };
  }

  private profileOf(part: PartCut, sketches: SketchJson[], source: string): Profile {
    let next = 0;
    const columns = this.all.map((column, c) => part.columns[c]!.toJSON(column, column.kind === 'categorical' ? null : sketches[next++]!));
    const p = this.predictions;
    const prediction =
      p?.classes && part.classes
        ? { rows: part.predictedRows, classes: Object.fromEntries(p.classes.map((c, i) => [c, part.classes![i]!])), review: p.review ? part.review : null, review_rate: p.review && part.predictedRows > 0 ? part.review / part.predictedRows : null }
        : null;
    return { profile_version: PROFILE_VERSION, source, rows: part.rows, columns, prediction };
  }
}

/**
 * A profile: what a dataset's columns (and a scored output's predictions) looked like, as one
 * versioned JSON document (`profile_version` 1, docs/drift.md). Profiles of parts merge into
 * the profile of their union (`mergeProfiles`).
 *
 * @example
 *   const profiler = new Profiler('train.parquet');
 *   profiler.column('amount', 'DOUBLE').addNumbers(values, rows);
 *   const profile = profiler.profile();
 */
import { BatchinferError } from '../errors.js';
import { ColumnProfiler, type ColumnKind, type ColumnProfile, type NumberArray } from './columnProfile.js';

export const PROFILE_VERSION = 1;

export interface PredictionProfile {
  /** Rows with a prediction (NULL predictions left out). */
  rows: number;
  /** Rows per predicted class. */
  classes: Record<string, number>;
  /** Rows flagged for review (`needs_review`); null when the output has no such column. */
  review: number | null;
  review_rate: number | null;
}

export interface Profile {
  profile_version: typeof PROFILE_VERSION;
  /** What was profiled: the dataset's path, or the paths of merged profiles. */
  source: string;
  rows: number;
  columns: ColumnProfile[];
  prediction: PredictionProfile | null;
}

/** Columns of a scored output that describe its predictions rather than its inputs. */
export function isPredictionColumn(name: string): boolean {
  return name === 'prediction' || name === 'confidence' || name === 'needs_review' || name.startsWith('prob_');
}

/** Integer types: profiled as numbers and counted as categories too (integer-coded columns). */
const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const NUMBER = /^(FLOAT|DOUBLE|DECIMAL.*|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const CATEGORY = /^(VARCHAR|BOOLEAN|ENUM.*|UUID)$/;

/** How a column of this DuckDB type is profiled; null when it is not (dates, lists, blobs). */
export function kindOfType(type: string): ColumnKind | null {
  if (NUMBER.test(type)) return 'numeric';
  if (CATEGORY.test(type)) return 'categorical';
  return null;
}

export function isIntegerType(type: string): boolean {
  return INTEGER.test(type);
}

/** Builds a profile from chunks of columns; `addColumn` is the call a scoring run makes per batch. */
export class Profiler {
  private readonly columns = new Map<string, ColumnProfiler>();
  private rows = 0;
  private predictions: { classes: Map<string, number>; rows: number; review: number | null } | null = null;

  constructor(private readonly source: string) {}

  /** The profiler of column `name` (created on first use, as a column of DuckDB type `type`). */
  column(name: string, type: string): ColumnProfiler {
    let column = this.columns.get(name);
    if (!column) {
      const kind = kindOfType(type);
      if (!kind) throw new BatchinferError('USAGE', `column ${name} of type ${type} cannot be profiled`, { expected: 'a number, string or boolean column', actual: type });
      column = new ColumnProfiler(name, type, kind, isIntegerType(type));
      this.columns.set(name, column);
    }
    return column;
  }

  /** Adds `rows` values of a numeric column (a float array is read as FLOAT/DOUBLE). */
  addColumn(name: string, values: NumberArray, rows = values.length): void {
    this.column(name, values instanceof Float32Array ? 'FLOAT' : 'DOUBLE').addNumbers(values, rows);
  }

  /** Counts rows read: the profile's `rows` (a column's own rows include its NULLs). */
  addRows(rows: number): void {
    this.rows += rows;
  }

  /** Adds predicted classes by index into `classes` (-1 or NULL: no prediction), and the review flags when the output has them. */
  addPredictions(classIndex: Int32Array | readonly (number | null)[], classes: readonly string[], rows: number, review?: Uint8Array | readonly (boolean | null)[]): void {
    const p = (this.predictions ??= { classes: new Map(classes.map((c) => [c, 0])), rows: 0, review: review ? 0 : null });
    const counts = new Array<number>(classes.length).fill(0);
    for (let i = 0; i < rows; i++) {
      const c = classIndex[i];
      if (c === null || c === undefined || c < 0) continue;
      counts[c]!++;
      p.rows++;
      if (review && review[i] && p.review !== null) p.review++;
    }
    classes.forEach((c, i) => p.classes.set(c, (p.classes.get(c) ?? 0) + counts[i]!));
  }

  profile(): Profile {
    const p = this.predictions;
    const prediction = p ? { rows: p.rows, classes: Object.fromEntries(p.classes), review: p.review, review_rate: p.review === null || p.rows === 0 ? null : p.review / p.rows } : null;
    return { profile_version: PROFILE_VERSION, source: this.source, rows: this.rows, columns: [...this.columns.values()].map((c) => c.toJSON()), prediction };
  }
}

/**
 * The profile of the union of the rows the profiles describe: counts and category counts
 * add, moments merge exactly (up to rounding), sketches merge (quantileSketch.ts). Columns
 * are those of the first profile, then any new ones in order; a column two profiles give
 * different kinds is an error.
 */
export function mergeProfiles(profiles: readonly Profile[], source = profiles.map((p) => p.source).join(' + ')): Profile {
  const merger = new ProfileMerger();
  for (const profile of profiles) merger.add(profile);
  return merger.result(source);
}

/** `mergeProfiles` one profile at a time (a run merges each part's as it is journaled): the same result for the same profiles in the same order. */
export class ProfileMerger {
  private readonly columns = new Map<string, ColumnProfiler>();
  private rows = 0;
  private prediction: PredictionProfile | null = null;

  add(profile: Profile): void {
    this.rows += profile.rows;
    for (const c of profile.columns) {
      let column = this.columns.get(c.name);
      if (!column) this.columns.set(c.name, (column = new ColumnProfiler(c.name, c.type, c.kind, c.kind === 'numeric' && c.categories !== null)));
      if (column.kind !== c.kind) throw new BatchinferError('INPUT_INVALID', `profiles disagree on column ${c.name}: ${column.kind} (${column.type}) in one, ${c.kind} (${c.type}) in ${profile.source}`, { expected: column.kind, actual: c.kind });
      column.merge(c);
    }
    if (profile.prediction) this.prediction = mergePredictions(this.prediction, profile.prediction);
  }

  result(source: string): Profile {
    return { profile_version: PROFILE_VERSION, source, rows: this.rows, columns: [...this.columns.values()].map((c) => c.toJSON()), prediction: this.prediction };
  }
}

function mergePredictions(a: PredictionProfile | null, b: PredictionProfile): PredictionProfile {
  if (!a) return structuredClone(b);
  const classes = { ...a.classes };
  for (const [c, n] of Object.entries(b.classes)) classes[c] = (classes[c] ?? 0) + n;
  const rows = a.rows + b.rows;
  const review = a.review === null || b.review === null ? null : a.review + b.review;
  return { rows, classes, review, review_rate: review === null || rows === 0 ? null : review / rows };
}

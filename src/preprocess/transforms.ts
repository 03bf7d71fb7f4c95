/**
 * Column transforms of a `columns:` input, in the fixed order of a scikit-learn pipeline:
 * fill_null -> clip -> log/log1p -> bucketize -> scale/min_max. The input-level keys apply to
 * every column; `per_column` replaces a key for one column (scale and min_max are one stage: a
 * column's own either replaces the input's). Each stage is an SQL expression over the previous
 * one, in DOUBLE; every value is bound (Params), never pasted.
 *
 * Also `one_hot`: one float position per category (`oneHotSql`).
 */
import type { Problem } from '../errors.js';
import type { FillNull, InputSpec, LogKind } from '../spec/jobSpec.js';
import type { Params } from '../util/sql.js';

/** The numeric transforms of one column (fill_null and scale live on ColumnFeed as before). */
export interface ColumnTransforms {
  /** A value outside [LO, HI] becomes the bound (NaN stays NaN, as numpy.clip). */
  clip?: [number, number];
  /** Natural log; a value <= 0 (log) or <= -1 (log1p) rejects the row: OUT_OF_DOMAIN. */
  log?: LogKind;
  /** numpy.digitize(x, bins) with right=False: the count of edges <= x. */
  bucketize?: number[];
  /** (x - min) / (max - min). */
  minMax?: { min: number; max: number };
}

/** One position of a one-hot input: 1 when the value is `categories[position]`, else 0. */
export interface OneHotPosition {
  categories: string[];
  position: number;
  unknown: 'ignore' | 'error';
  /** The first position checks for unknown values (once per row, not per position). */
  checksUnknown: boolean;
}

/** A column's settings after merging the input-level keys and its `per_column` entry. */
export interface ColumnSettings extends ColumnTransforms {
  fillNull?: FillNull;
  scale?: { mean: number; std: number };
  /** The key path each setting came from, for problems: `inputs.x.per_column.amount.clip`. */
  where: Partial<Record<'fillNull' | 'clip' | 'log' | 'bucketize' | 'minMax' | 'scale', string>>;
}

/** The settings of column `i` (`column`) of an input: its per_column entry wins key by key. */
export function columnSettings(s: InputSpec, specWhere: string, column: string, i: number): ColumnSettings {
  const own = s.perColumn?.[column];
  const ownWhere = `${specWhere}.per_column.${column}`;
  const pick = <K extends 'clip' | 'log' | 'bucketize'>(key: K, snake: string): [InputSpec[K] | undefined, string | undefined] =>
    own?.[key] !== undefined ? [own[key] as InputSpec[K], `${ownWhere}.${snake}`] : s[key] !== undefined ? [s[key], `${specWhere}.${snake}`] : [undefined, undefined];
  const [clip, clipWhere] = pick('clip', 'clip');
  // A column's `log: false` (null here) switches off the input's log for it.
  const [log, logWhere] = own?.log === null ? [undefined, undefined] : pick('log', own?.log ?? s.log ?? 'log');
  const [bucketize, bucketWhere] = pick('bucketize', 'bucketize');
  const fillWhere = own?.fillNull !== undefined ? `${ownWhere}.fill_null` : `${specWhere}.fill_null`;
  const settings: ColumnSettings = { fillNull: own?.fillNull ?? s.fillNull, clip, log: log ?? undefined, bucketize, where: { fillNull: fillWhere, clip: clipWhere, log: logWhere, bucketize: bucketWhere } };
  if (own?.scale || own?.minMax) {
    settings.scale = own.scale;
    settings.minMax = own.minMax;
    settings.where.scale = `${ownWhere}.scale`;
    settings.where.minMax = `${ownWhere}.min_max`;
  } else {
    settings.scale = s.scale ? { mean: s.scale.mean[i]!, std: s.scale.std[i]! } : undefined;
    settings.minMax = s.minMax ? { min: s.minMax.min[i]!, max: s.minMax.max[i]! } : undefined;
    settings.where.scale = `${specWhere}.scale`;
    settings.where.minMax = `${specWhere}.min_max`;
  }
  return settings;
}

/** True when a column has a transform beyond fill_null and scale (it is then computed in DOUBLE). */
export function hasTransforms(t: ColumnTransforms): boolean {
  return t.clip !== undefined || t.log !== undefined || t.bucketize !== undefined || t.minMax !== undefined;
}

/**
 * Problems of a column's transforms against its type and the model input's dtype: they need
 * a number (an integer, float or boolean column; text only where it is parsed, a CSV) and a
 * float input, except bucketize, whose index may also feed an integer input.
 */
export function transformProblems(t: ColumnSettings, column: string, numberColumn: boolean, dtype: string): Problem[] {
  const keys = (['clip', 'log', 'bucketize', 'minMax', 'scale'] as const).filter((k) => t[k] !== undefined);
  if (!hasTransforms(t)) return [];
  const problems: Problem[] = [];
  const float = dtype === 'float32' || dtype === 'float64';
  const integer = dtype === 'int64' || dtype === 'int32';
  for (const key of keys) {
    const where = t.where[key]!;
    // Into an integer input: bucketize's index, after what comes before it; scale and min_max give floats.
    const fitsInteger = integer && t.bucketize !== undefined && key !== 'scale' && key !== 'minMax';
    if (!numberColumn) {
      problems.push({ code: 'SPEC_INVALID', where, message: `needs a numeric column; '${column}' is not one`, expected: 'an integer, float or boolean column', actual: column });
    } else if (!float && !fitsInteger) {
      problems.push({ code: 'SPEC_INVALID', where, message: `gives a float, and the model input is ${dtype}`, expected: integer ? 'a float32 or float64 model input, or bucketize as the last transform' : 'a float32 or float64 model input', actual: dtype });
    }
  }
  return problems;
}

/** `CAST($n AS DOUBLE)`: bound numbers typed, so DuckDB never guesses a CASE's type. */
function num(params: Params, value: number): string {
  return `CAST(${params.bind(value)} AS DOUBLE)`;
}

/** clip: `x` a DOUBLE expression after fill_null. */
export function clipSql(x: string, t: ColumnTransforms, params: Params): string {
  if (!t.clip) return x;
  const [lo, hi] = t.clip;
  // DuckDB orders NaN above every number: without `isnan` it would become HI.
  return `(CASE WHEN ${x} < ${num(params, lo)} THEN ${num(params, lo)} WHEN ${x} > ${num(params, hi)} AND NOT isnan(${x}) THEN ${num(params, hi)} ELSE ${x} END)`;
}

/** The lowest value log/log1p takes: a value at or below it is OUT_OF_DOMAIN. */
export function logBound(kind: LogKind): number {
  return kind === 'log' ? 0 : -1;
}

/**
 * log or log1p of `x` (after clip). Values outside the domain give NULL (DuckDB's `ln` would
 * fail the whole query); the row check rejects their rows. DuckDB has no log1p: near 0 its
 * series keeps the precision that ln(1 + x) loses.
 */
export function logSql(x: string, t: ColumnTransforms, params: Params): string {
  if (!t.log) return x;
  if (t.log === 'log') return `(CASE WHEN ${x} > 0 THEN ln(${x}) END)`;
  return `(CASE WHEN abs(${x}) < 1e-4 THEN ${x} * (1 - ${x} * (0.5 - ${x} / 3)) WHEN ${x} > -1 THEN ln(1 + ${x}) END)`;
}

/** numpy.digitize(x, bins) (right=False): 0 below bins[0], i where bins[i-1] <= x < bins[i], n from bins[n-1] on; NaN gives n, as there. */
export function bucketizeSql(x: string, t: ColumnTransforms, params: Params): string {
  if (!t.bucketize) return x;
  const whens = t.bucketize.map((edge, i) => `WHEN ${x} < ${num(params, edge)} THEN ${i}`);
  return `(CASE ${whens.join(' ')} WHEN ${x} IS NOT NULL THEN ${t.bucketize.length} END)`;
}

/** min_max: (x - min) / (max - min). */
export function minMaxSql(x: string, t: ColumnTransforms, params: Params): string {
  if (!t.minMax) return x;
  return `((${x} - ${num(params, t.minMax.min)}) / ${num(params, t.minMax.max - t.minMax.min)})`;
}

/**
 * One one-hot position from `value`, the column as VARCHAR after fill_null: 1 for its category,
 * 0 for the others (an unknown value with `ignore`: all zeros), NULL when the value is NULL.
 */
export function oneHotSql(value: string, oneHot: OneHotPosition, target: string, params: Params): string {
  return `CAST((${value} = ${params.bind(oneHot.categories[oneHot.position]!)}) AS ${target})`;
}

/** A column's steps in the order they apply, as `inspect --job` shows them: `clip [0, 1000]`, `log1p`, ... */
export function describeSteps(col: ColumnTransforms & { nulls: { kind: string; value?: unknown; stat?: string }; scale?: { mean: number; std: number }; vocab?: { values: string[] }; oneHot?: OneHotPosition }): string[] {
  const steps: string[] = [];
  if (col.nulls.kind === 'fill') steps.push(`fill_null ${String(col.nulls.value)}${col.nulls.stat ? ` (reference ${col.nulls.stat})` : ''}`);
  if (col.vocab) steps.push(`vocab index (${col.vocab.values.length} values)`);
  if (col.oneHot) steps.push(`one_hot = ${col.oneHot.categories[col.oneHot.position]}`);
  if (col.clip) steps.push(`clip [${col.clip.join(', ')}]`);
  if (col.log) steps.push(col.log);
  if (col.bucketize) steps.push(`bucketize [${col.bucketize.join(', ')}]`);
  if (col.scale) steps.push(`scale (x - ${col.scale.mean}) / ${col.scale.std}`);
  if (col.minMax) steps.push(`min_max [${col.minMax.min}, ${col.minMax.max}]`);
  return steps;
}

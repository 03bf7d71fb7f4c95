/**
 * Decides how each model input is built from dataset columns: which columns, in which
 * order, through which SQL expression (cast, null fill, scaling, vocabulary lookup).
 * Every problem in spec x model x dataset is collected before failing.
 */
import type { Problem } from '../errors.js';
import { isReferenceFill, type InputSpec, type JobSpec } from '../spec/jobSpec.js';
import type { ColumnInfo } from '../source/dataset.js';
import type { ValueInfo } from '../model/onnxFile.js';
import { quoteIdent, type Params } from '../util/sql.js';
import { referenceFillValue, type ReferenceValues } from './referenceFill.js';
import { bucketizeSql, clipSql, columnSettings, hasTransforms, logSql, minMaxSql, oneHotSql, transformProblems, type ColumnSettings, type ColumnTransforms, type OneHotPosition } from './transforms.js';

/** Feature dtypes we can build. */
export const FEED_DTYPES = ['float32', 'float64', 'int64', 'int32', 'string', 'bool'] as const;
export type FeedDtype = (typeof FEED_DTYPES)[number];

/** How NULLs in a column reach the tensor (`stat`: the value is the reference profile's mean or median of the column). */
export type NullPolicy = { kind: 'fill'; value: number | string; stat?: 'mean' | 'median' } | { kind: 'error' } | { kind: 'nan' };

export interface ColumnFeed extends ColumnTransforms {
  column: string;
  columnType: string;
  nulls: NullPolicy;
  /** NaN and Infinity pass to a float input instead of rejecting the row. */
  allowNan: boolean;
  /** Values outside [min, max] reject the row. */
  range?: [number, number];
  /** The value comes from text (a CSV): parse per row, rejecting what does not parse. */
  parsed: boolean;
  scale?: { mean: number; std: number };
  vocab?: { values: string[]; unknown: number | 'error' };
  oneHot?: OneHotPosition;
}

export interface FeedPlan {
  /** Model input name. */
  input: string;
  dtype: FeedDtype;
  /** `[N]`, `[N,1]` or `[N,K]`: the tensor rank (1 or 2). */
  rank: 1 | 2;
  /** Columns, one per position of the last axis. */
  columns: ColumnFeed[];
  /** `redact: true`: reject messages name no value (set only then, so other runs' identities stay as they were). */
  redact?: true;
}


const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'UHUGEINT']);
const FLOAT_TYPES = new Set(['FLOAT', 'DOUBLE']);

function typeClass(type: string): 'int' | 'float' | 'bool' | 'string' | 'other' {
  if (INTEGER_TYPES.has(type)) return 'int';
  if (FLOAT_TYPES.has(type) || type.startsWith('DECIMAL')) return 'float';
  if (type === 'BOOLEAN') return 'bool';
  if (type === 'VARCHAR') return 'string';
  return 'other';
}

/** Which column types can feed which tensor dtype without guessing. */
function castable(columnType: string, dtype: FeedDtype, hasVocab: boolean, textNumbers: boolean): boolean {
  const cls = typeClass(columnType);
  // Vocabulary lookups compare text; a float's text is ambiguous (1.0 never matches 1).
  if (hasVocab) return cls === 'string' || cls === 'int' || cls === 'bool';
  // A CSV column's type is DuckDB's guess: text there is parsed row by row, bad rows rejected.
  const text = textNumbers && cls === 'string';
  switch (dtype) {
    case 'float32':
    case 'float64':
      return cls === 'int' || cls === 'float' || cls === 'bool' || text;
    case 'int64':
    case 'int32':
      return cls === 'int' || cls === 'bool' || text;
    case 'bool':
      return cls === 'int' || cls === 'bool';
    case 'string':
      // A float's text form is ambiguous (1 vs 1.0), so floats never feed strings.
      return cls === 'string' || cls === 'int' || cls === 'bool';
  }
}

const SQL_TYPE: Record<FeedDtype, string> = {
  float32: 'FLOAT',
  float64: 'DOUBLE',
  int64: 'BIGINT',
  int32: 'INTEGER',
  string: 'VARCHAR',
  bool: 'BOOLEAN',
};

/**
 * Builds the feed plan for every model input. Returns the plans and every problem found.
 */
export interface PlanOptions {
  /** The dataset's column types are unknown (a header-only CSV reads as all VARCHAR). */
  untypedColumns?: boolean;
  /** Text columns may feed numeric inputs, parsed per row (CSV: types are sniffed guesses). */
  textNumbers?: boolean;
  /** The job's reference profile's values, for `fill_null: mean|median` (referenceFill.ts). */
  reference?: ReferenceValues;
}

export function planFeeds(spec: JobSpec, modelInputs: readonly ValueInfo[], columns: readonly ColumnInfo[], options: PlanOptions = {}): { feeds: FeedPlan[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const byName = new Map(columns.map((c) => [c.name, c]));
  const inputNames = new Set(modelInputs.map((i) => i.name));
  const numericColumns = columns.filter((c) => typeClass(c.type) === 'int' || typeClass(c.type) === 'float').map((c) => c.name);

  for (const name of Object.keys(spec.inputs)) {
    if (!inputNames.has(name)) {
      problems.push({ code: 'MODEL_MISMATCH', where: `inputs.${name}`, message: 'the model has no input with this name', expected: [...inputNames], actual: name });
    }
  }
  if (spec.features && modelInputs.length !== 1) {
    problems.push({ code: 'MODEL_MISMATCH', where: 'features', message: 'applies to a model with one input; name each input under `inputs`', expected: '1 model input', actual: modelInputs.map((i) => i.name) });
  }

  const feeds: FeedPlan[] = [];
  for (const info of modelInputs) {
    const where = `model input '${info.name}'`;
    const dtype = info.elemType as FeedDtype;
    if (!(FEED_DTYPES as readonly string[]).includes(info.elemType)) {
      problems.push({ code: 'MODEL_MISMATCH', where, message: 'has a type batchinfer cannot build', expected: FEED_DTYPES.join('|'), actual: info.elemType });
      continue;
    }
    const shape = info.shape;
    if (!shape || shape.length < 1 || shape.length > 2) {
      problems.push({ code: 'MODEL_MISMATCH', where, message: 'must have shape [N] or [N,K]', expected: '[N] or [N,K]', actual: shape ? `[${shape.join(',')}]` : 'unknown rank' });
      continue;
    }
    // A fixed first dimension (older converters) is fine: rows go in groups of that size (fixedBatchOf).
    const rank = shape.length as 1 | 2;
    const width = rank === 1 ? 1 : shape[1];
    if (rank === 2 && (typeof width !== 'number' || width < 1)) {
      problems.push({ code: 'MODEL_MISMATCH', where, message: 'needs a fixed feature axis', expected: '[N,K] with a number K', actual: `[${shape.join(',')}]` });
      continue;
    }
    const k = width as number;
    const inputSpec = resolveInputSpec(spec, info.name, modelInputs.length, byName, k);
    if (!inputSpec) {
      const columnsHint = numericColumns.length > 0 ? numericColumns.join(', ') : '(none)';
      problems.push({
        code: 'MODEL_MISMATCH',
        where,
        message: `needs ${k} column${k > 1 ? 's' : ''} (positions 0..${k - 1}) and nothing says which; set inputs.${info.name}.${k > 1 ? 'columns' : 'column'}${modelInputs.length === 1 ? ' or --features' : ''}. Numeric columns available: ${columnsHint}`,
        expected: `${k} column${k > 1 ? 's' : ''}`,
        actual: 'none given',
      });
      continue;
    }
    // Mapped by name alone (no `inputs` entry, no `features`): the scikit-learn per-column layout.
    const byNameOnly = !spec.inputs[info.name] && !(spec.features && modelInputs.length === 1);
    const specWhere = spec.inputs[info.name] ? `inputs.${info.name}` : spec.features ? 'features' : where;
    const oneHot = inputSpec.oneHot;
    // A one-hot input reads its column once per position (category, minus the first with drop_first).
    const names = oneHot ? Array<string>(oneHot.categories.length - (oneHot.dropFirst ? 1 : 0)).fill(oneHot.column) : (inputSpec.columns ?? [inputSpec.column!]);
    const countMismatch = names.length !== k;
    if (countMismatch) {
      const what = oneHot ? `; one_hot gives one position per category${oneHot.dropFirst ? ' but the first' : ''}` : '';
      problems.push({ code: 'MODEL_MISMATCH', where: oneHot ? `${specWhere}.one_hot` : specWhere, message: `model input '${info.name}' takes ${k} feature${k > 1 ? 's' : ''} per row [${shape.join(',')}]${what}`, expected: k, actual: names.length });
    }
    if (oneHot && dtype !== 'float32' && dtype !== 'float64') {
      problems.push({ code: 'MODEL_MISMATCH', where: `${specWhere}.one_hot`, message: 'builds float positions', expected: 'a float32 or float64 model input', actual: dtype });
      continue;
    }
    if (oneHot && !oneHotColumnFits(oneHot.column, `${specWhere}.one_hot.column`, byName, options, problems)) continue;
    const plan: FeedPlan = { input: info.name, dtype, rank, columns: [], ...(spec.redact ? { redact: true as const } : {}) };
    names.forEach((column, i) => {
      const col = byName.get(column);
      if (!col) {
        problems.push({ code: 'SCHEMA_MISMATCH', where: specWhere, message: `column '${column}' is not in the dataset`, expected: columns.map((c) => c.name), actual: column });
        return;
      }
      const settings = columnSettings(inputSpec, specWhere, column, i);
      if (hasTransforms(settings)) {
        const cls = typeClass(col.type);
        const numberColumn = options.untypedColumns || cls === 'int' || cls === 'float' || cls === 'bool' || (cls === 'string' && (options.textNumbers ?? false));
        const found = transformProblems(settings, column, numberColumn, dtype);
        problems.push(...found);
        if (found.length > 0) return;
      } else if (!options.untypedColumns && !castable(col.type, dtype, !!inputSpec.vocab || !!oneHot, options.textNumbers ?? false)) {
        problems.push({ code: 'SCHEMA_MISMATCH', where: specWhere, message: `column '${column}' cannot feed ${dtype} input '${info.name}'`, expected: `a column castable to ${dtype}`, actual: col.type });
        return;
      }
      if (inputSpec.vocab && dtype !== 'int64' && dtype !== 'int32') {
        problems.push({ code: 'MODEL_MISMATCH', where: specWhere, message: '`vocab` builds integer indices', expected: 'an int64 or int32 model input', actual: dtype });
        return;
      }
      if (settings.scale && dtype !== 'float32' && dtype !== 'float64') {
        problems.push({ code: 'SPEC_INVALID', where: settings.where.scale!, message: 'only applies to float inputs', expected: 'a float32 or float64 model input', actual: dtype });
        return;
      }
      const nulls = nullPolicy(settings, spec.fillNull, byNameOnly && (dtype === 'float32' || dtype === 'float64'), column, options.reference);
      if ('problem' in nulls) {
        problems.push(nulls.problem);
        return;
      }
      if (nulls.kind === 'fill' && nulls.stat && dtype !== 'float32' && dtype !== 'float64') {
        problems.push({ code: 'SPEC_INVALID', where: settings.where.fillNull!, message: `\`${nulls.stat}\` fills column '${column}' with a float (${nulls.value}), and the model input is ${dtype}`, expected: 'a float32 or float64 model input, or a given value', actual: dtype });
        return;
      }
      const fill = settings.fillNull ?? spec.fillNull;
      if (inputSpec.vocab && typeof fill === 'number' && !(Number.isInteger(fill) && fill >= 0 && fill < inputSpec.vocab.length)) {
        problems.push({ code: 'SPEC_INVALID', where: `${specWhere}.fill_null`, message: 'with `vocab`, fill_null is the index given to NULLs', expected: `0..${inputSpec.vocab.length - 1}`, actual: fill });
        return;
      }
      plan.columns.push({
        column,
        columnType: col.type,
        nulls,
        allowNan: spec.allowNan ?? false,
        range: inputSpec.range,
        parsed: (options.textNumbers ?? false) && !inputSpec.vocab && !oneHot && dtype !== 'string' && dtype !== 'bool',
        scale: settings.scale,
        vocab: inputSpec.vocab ? { values: inputSpec.vocab.map(String), unknown: inputSpec.unknown ?? 'error' } : undefined,
        clip: settings.clip,
        log: settings.log,
        bucketize: settings.bucketize,
        minMax: settings.minMax,
        oneHot: oneHot ? { categories: oneHot.categories.map(String), position: i + (oneHot.dropFirst ? 1 : 0), unknown: oneHot.unknown, checksUnknown: i === 0 } : undefined,
      });
    });
    if (!countMismatch) feeds.push(plan);
  }
  return { feeds, problems };
}

/** One-hot compares the column's text: a string, integer or boolean column (a float's text is ambiguous). Reported once, not per position. */
function oneHotColumnFits(column: string, where: string, byName: Map<string, ColumnInfo>, options: PlanOptions, problems: Problem[]): boolean {
  const col = byName.get(column);
  if (!col) {
    problems.push({ code: 'SCHEMA_MISMATCH', where, message: `column '${column}' is not in the dataset`, expected: [...byName.keys()], actual: column });
    return false;
  }
  if (options.untypedColumns || castable(col.type, 'float32', true, false)) return true;
  problems.push({ code: 'SCHEMA_MISMATCH', where, message: `column '${column}' cannot be one-hot encoded (categories are compared as text)`, expected: 'a string, integer or boolean column', actual: col.type });
  return false;
}

/**
 * The model's fixed batch dimension: rows go to it in groups of this size (see
 * infer/fixedBatch.ts). Null when the first dimension is symbolic; inputs fixed at different
 * sizes cannot be fed together.
 */
export function fixedBatchOf(inputs: readonly ValueInfo[]): { size: number | null; problem?: Problem } {
  const fixed = inputs.map((i) => ({ name: i.name, first: i.shape?.[0] })).filter((i): i is { name: string; first: number } => typeof i.first === 'number' && i.first > 0);
  const sizes = [...new Set(fixed.map((i) => i.first))];
  if (sizes.length <= 1) return { size: sizes[0] ?? null };
  return {
    size: null,
    problem: { code: 'MODEL_MISMATCH', where: 'model inputs', message: 'have different fixed batch dimensions', expected: 'one batch size for every input', actual: fixed.map((i) => `${i.name}: ${i.first}`).join(', ') },
  };
}

function resolveInputSpec(spec: JobSpec, input: string, inputCount: number, columns: Map<string, ColumnInfo>, width: number): InputSpec | undefined {
  const explicit = spec.inputs[input];
  if (explicit) return explicit;
  if (spec.features && inputCount === 1) return { columns: spec.features };
  // The scikit-learn layout: an input named like a column, one value per row.
  if (width === 1 && columns.has(input)) return { column: input };
  return undefined;
}

/**
 * With no fill_null anywhere, a float input mapped by name alone gets NaN for NULL: that is
 * how scikit-learn pipelines mark a missing value, and the Imputer inside the graph replaces
 * it. Everything else refuses NULLs (a bad row) unless fill_null gives a value, or names the
 * reference profile's mean or median of the column (resolved here, so the plan holds the value).
 */
function nullPolicy(settings: ColumnSettings, jobDefault: JobSpec['fillNull'], nanForMissing: boolean, column: string, reference: ReferenceValues | undefined): NullPolicy | { problem: Problem } {
  const fill = settings.fillNull ?? jobDefault;
  if (fill === undefined && nanForMissing) return { kind: 'nan' };
  if (fill === undefined || fill === 'error') return { kind: 'error' };
  if (!isReferenceFill(fill)) return { kind: 'fill', value: fill };
  const resolved = referenceFillValue(fill, column, settings.where.fillNull!, reference);
  return 'problem' in resolved ? resolved : { kind: 'fill', value: resolved.value, stat: fill.stat };
}

/**
 * A DOUBLE column into a float32 input with nothing to scale or parse is read as DOUBLE (NULLs
 * filled in SQL) and narrowed by the reader (a Float32Array takes the values, rounding as
 * DuckDB's cast does), which also finds the values float32 cannot hold (`narrow` in
 * rowChecks.ts), cheaper than that cast and its range check per value in SQL.
 */
export function narrowsInReader(feed: ColumnFeed, dtype: FeedDtype): boolean {
  return dtype === 'float32' && feed.columnType === 'DOUBLE' && !feed.vocab && !feed.oneHot && !feed.scale && !hasTransforms(feed) && !feed.parsed;
}

/**
 * The feeds reading a CSV's staged Parquet copy. DuckDB's CSV reader has parsed every column it
 * typed as a number, so a float feature whose staged column is FLOAT or DOUBLE is read like a
 * Parquet one: no TRY_CAST and parse check per value (`parsed` is for columns still text).
 */
export function stagedFeeds(feeds: readonly FeedPlan[], staged: readonly ColumnInfo[]): FeedPlan[] {
  const types = new Map(staged.map((c) => [c.name, c.type]));
  return feeds.map((feed) => ({
    ...feed,
    columns: feed.columns.map((col) => {
      const type = types.get(col.column);
      return col.parsed && type !== undefined && FLOAT_TYPES.has(type) && (feed.dtype === 'float32' || feed.dtype === 'float64') ? { ...col, parsed: false, columnType: type } : col;
    }),
  }));
}

/**
 * The feature columns a CSV's staged copy may hold as FLOAT (half the bytes to write and read,
 * nothing to narrow): every use is a float32 input taking the value as it is, with no scaling
 * or range to judge in DOUBLE first, and the column does not pass through to the output.
 */
export function floatStagedColumns(feeds: readonly FeedPlan[], passthrough: readonly string[]): Set<string> {
  const yes = new Set<string>();
  const no = new Set<string>(passthrough);
  for (const feed of feeds) {
    for (const col of feed.columns) {
      // Transforms judge the DOUBLE (a log of the float32 rounding differs); one_hot compares text.
      const plain = feed.dtype === 'float32' && !col.scale && !col.vocab && !col.range && !col.oneHot && !hasTransforms(col);
      (plain ? yes : no).add(col.column);
    }
  }
  for (const column of no) yes.delete(column);
  return yes;
}

/**
 * The SQL expression producing one feature column, of the tensor's SQL type (or DOUBLE where
 * the reader narrows it: `narrowsInReader`). NULLs are filled with the raw value before
 * scaling (impute, then standardise, as a scikit-learn pipeline does); with a vocabulary,
 * `fill_null` is the index for NULLs.
 */
export function featureSql(feed: ColumnFeed, dtype: FeedDtype, params: Params): string {
  const col = quoteIdent(feed.column);
  const target = SQL_TYPE[dtype];
  const fill = feed.nulls.kind === 'fill' ? feed.nulls.value : undefined;
  if (feed.vocab) {
    // Unknown values with `unknown: error` become NULL here; the row check rejects the row.
    const list = params.bind(feed.vocab.values);
    const missing = feed.vocab.unknown === 'error' ? 'NULL' : params.bind(feed.vocab.unknown);
    const onNull = fill === undefined ? 'NULL' : params.bind(fill);
    return `CAST(CASE WHEN ${col} IS NULL THEN ${onNull} ELSE coalesce(list_position(${list}::VARCHAR[], CAST(${col} AS VARCHAR)) - 1, ${missing}) END AS ${target})`;
  }
  if (feed.oneHot) return oneHotSql(categorySql(feed, params), feed.oneHot, target, params);
  // Already the tensor's type, nothing to fill or scale: DuckDB only decodes (a cast to the
  // working type and back cost as much as the decoding itself).
  if (fill === undefined && !feed.scale && !hasTransforms(feed) && !feed.parsed && feed.columnType === target) return col;
  if (narrowsInReader(feed, dtype)) return fill === undefined ? col : workingSql(feed, dtype, params);
  const expr = workingSql(feed, dtype, params);
  // float32 and int32 are computed wider; a value that does not fit becomes NULL here instead
  // of failing the whole query, and the row check rejects its row (OUT_OF_RANGE).
  return `${narrowed(dtype) ? 'TRY_CAST' : 'CAST'}(${expr} AS ${target})`;
}

/** Column types whose values may not fit a BIGINT. */
const WIDE_INTEGERS = new Set(['UBIGINT', 'HUGEINT', 'UHUGEINT']);

/** The type a numeric feature is computed in before its final cast: DOUBLE for float32, BIGINT for int32. */
export function workingType(dtype: FeedDtype): string {
  return dtype === 'float32' ? 'DOUBLE' : dtype === 'int32' ? 'BIGINT' : SQL_TYPE[dtype];
}

/** True when the tensor's type is narrower than the type its values are computed in. */
export function narrowed(dtype: FeedDtype): boolean {
  return workingType(dtype) !== SQL_TYPE[dtype];
}

/** True when the first cast (column -> working type) is a TRY_CAST that may leave a value NULL. */
export function triesCast(feed: ColumnFeed, dtype: FeedDtype): boolean {
  // Text (a CSV column) parses per row; a failure rejects the row (PARSE_ERROR).
  if (feed.parsed || (feed.columnType === 'VARCHAR' && dtype !== 'string' && dtype !== 'bool')) return true;
  // Transformed columns are computed in DOUBLE, which holds every integer (rounded).
  if (hasTransforms(feed)) return false;
  // A UBIGINT or HUGEINT beyond the int64 range would fail the query (the row check: OUT_OF_RANGE).
  return (dtype === 'int64' || dtype === 'int32') && WIDE_INTEGERS.has(feed.columnType);
}

/**
 * A non-vocabulary feature before its final cast: the column in the working type, NULLs
 * filled, scaled. The row checks evaluate it too, to find values the tensor type cannot hold.
 */
export function workingSql(feed: ColumnFeed, dtype: FeedDtype, params: Params): string {
  let expr = logSql(clippedSql(feed, dtype, params), feed, params);
  expr = bucketizeSql(expr, feed, params);
  // bucketize's index into an integer input: back to the working type (the only transform they take).
  if (hasTransforms(feed) && workingType(dtype) !== 'DOUBLE') expr = `CAST(${expr} AS ${workingType(dtype)})`;
  if (feed.scale) expr = `((${expr} - ${params.bind(feed.scale.mean)}) / ${params.bind(feed.scale.std)})`;
  return minMaxSql(expr, feed, params);
}

/**
 * The feature up to clip: the column in the working type (DOUBLE when transformed), NULLs
 * filled, clipped. What log judges: its row check (OUT_OF_DOMAIN) evaluates this.
 */
export function clippedSql(feed: ColumnFeed, dtype: FeedDtype, params: Params): string {
  const col = quoteIdent(feed.column);
  const working = hasTransforms(feed) ? 'DOUBLE' : workingType(dtype);
  const fill = feed.nulls.kind === 'fill' ? feed.nulls.value : undefined;
  // A boolean feeds a string input by its decimal text, '1' or '0', as integers do.
  const source = dtype === 'string' && feed.columnType === 'BOOLEAN' ? `CAST(${col} AS INTEGER)` : col;
  let expr = `${triesCast(feed, dtype) ? 'TRY_CAST' : 'CAST'}(${source} AS ${working})`;
  if (fill !== undefined) expr = `coalesce(${expr}, CAST(${params.bind(fill)} AS ${working}))`;
  return clipSql(expr, feed, params);
}

/** A one-hot or vocabulary column's value as text, NULLs filled (fill_null comes first). */
export function categorySql(feed: ColumnFeed, params: Params): string {
  const text = `CAST(${quoteIdent(feed.column)} AS VARCHAR)`;
  return feed.nulls.kind === 'fill' ? `coalesce(${text}, CAST(${params.bind(feed.nulls.value)} AS VARCHAR))` : text;
}

/**
 * Row-level checks, computed by DuckDB next to the features: one SQL expression per query
 * that is NULL for a good row and `REASON|column index|message` for a bad one. The same
 * expression drives the batch reader (which skips, counts or fails on bad rows) and the
 * quarantine COPY (which writes bad rows with their original values), so both always agree.
 *
 * Reasons: NULL_VALUE (fill_null: error), PARSE_ERROR (text in a numeric column of a CSV),
 * NOT_FINITE (NaN or Infinity without allow_nan), UNKNOWN_CATEGORY (unknown: error),
 * OUT_OF_RANGE (outside an input's `range`), OUT_OF_DOMAIN (a value log or log1p is not
 * defined for, after fill_null and clip).
 */
import type { Params } from '../util/sql.js';
import { quoteIdent } from '../util/sql.js';
import { clipValueSql } from '../util/clip.js';
import { REDACTED } from '../util/redact.js';
import { categorySql, clippedSql, narrowed, narrowsInReader, triesCast, workingSql, workingType, type ColumnFeed, type FeedPlan } from './featurePlan.js';
import { hasTransforms, logBound } from './transforms.js';

export const REJECT_REASONS = ['NULL_VALUE', 'PARSE_ERROR', 'NOT_FINITE', 'UNKNOWN_CATEGORY', 'OUT_OF_RANGE', 'OUT_OF_DOMAIN'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Rejection {
  reason: RejectReason;
  /** Index into the flattened feed columns. */
  columnIndex: number;
  message: string;
}

/** Every feed column in query order (the order of `f0, f1, ...` in the batch query). */
export function flatColumns(feeds: readonly FeedPlan[]): { feed: FeedPlan; col: ColumnFeed }[] {
  return feeds.flatMap((feed) => feed.columns.map((col) => ({ feed, col })));
}

/** True when some column can reject rows; otherwise the reject expression is omitted. */
export function canReject(feeds: readonly FeedPlan[]): boolean {
  return flatColumns(feeds).some(({ feed, col }) => checksOf(feed, col).length > 0);
}

/**
 * The reject expression: NULL, or `REASON|index|message`. Null when no column can reject.
 * With `withoutScanned`, the checks the batch reader makes itself on the feature vectors
 * (`scannedChecks`) are left out: DuckDB then only decodes those columns.
 */
export function rejectSql(feeds: readonly FeedPlan[], params: Params, options: { withoutScanned?: boolean } = {}): string | null {
  const cases: string[] = [];
  flatColumns(feeds).forEach(({ feed, col }, index) => {
    for (const check of checksOf(feed, col)) {
      if (options.withoutScanned && check.scan) continue;
      cases.push(`WHEN ${check.when(params)} THEN '${check.reason}|${index}|' || ${check.message(params)}`);
    }
  });
  return cases.length > 0 ? `CASE ${cases.join(' ')} END` : null;
}

/**
 * A check the reader makes on a feature vector in JS instead of in SQL: a NULL feature
 * (`null`), NaN or Infinity (`notFinite`), Infinity alone where NaN marks a missing value
 * (`infinite`), or a finite DOUBLE that float32 cannot hold (`narrow`, see `narrowsInReader`).
 * Evaluating 2 conditions x 30 columns per row in DuckDB doubled its decode time.
 */
export interface ScannedCheck {
  /** Index into the flattened feed columns. */
  columnIndex: number;
  kind: 'null' | 'notFinite' | 'infinite' | 'narrow';
  reason: RejectReason;
}

/**
 * The checks the reader makes itself, in column order. They agree with the SQL checks
 * because they read the feature value, which is NULL or non-finite exactly when the column
 * is (or an SQL check rejects the row on the same column, which then takes precedence: see
 * `readBatches`).
 */
export function scannedChecks(feeds: readonly FeedPlan[]): ScannedCheck[] {
  const found: ScannedCheck[] = [];
  flatColumns(feeds).forEach(({ feed, col }, columnIndex) => {
    for (const check of checksOf(feed, col)) if (check.scan) found.push({ columnIndex, kind: check.scan, reason: check.reason });
  });
  return found;
}

/** Parses `REASON|index|message`. */
export function parseRejection(text: string): Rejection {
  const first = text.indexOf('|');
  const second = text.indexOf('|', first + 1);
  return { reason: text.slice(0, first) as RejectReason, columnIndex: Number(text.slice(first + 1, second)), message: text.slice(second + 1) };
}

interface Check {
  reason: RejectReason;
  when(params: Params): string;
  message(params: Params): string;
  /** The reader can make this check on the feature vector instead (see `scannedChecks`). */
  scan?: ScannedCheck['kind'];
}

const NUMERIC_TARGETS = new Set(['float32', 'float64', 'int64', 'int32']);
const FLOAT_TARGETS = new Set(['float32', 'float64']);

/** The checks that apply to one column, in the order they are reported. */
function checksOf(feed: FeedPlan, col: ColumnFeed): Check[] {
  const c = quoteIdent(col.column);
  const raw = `CAST(${c} AS VARCHAR)`;
  // Values in messages are clipped (util/clip.ts): a bad value may be a secret, or huge; with
  // `redact` they are left out (the reason, row and column still say what is wrong).
  const text = feed.redact ? `'${REDACTED}'` : clipValueSql(raw, false);
  const quotedValue = feed.redact ? `'''${REDACTED}'''` : clipValueSql(raw, true);
  const checks: Check[] = [];
  const name = (params: Params): string => params.bind(col.column);
  if (col.nulls.kind === 'error') {
    // The feature is NULL when the column is; when a cast or a vocabulary lookup leaves it
    // NULL instead, that column's SQL check rejects the row and wins over this one.
    checks.push({ reason: 'NULL_VALUE', when: () => `${c} IS NULL`, message: (p) => `'NULL in column ' || ${name(p)} || ' and fill_null is error'`, scan: 'null' });
  }
  if (col.vocab) {
    if (col.vocab.unknown === 'error') {
      checks.push({
        reason: 'UNKNOWN_CATEGORY',
        when: (p) => `${c} IS NOT NULL AND list_position(${p.bind(col.vocab!.values)}::VARCHAR[], ${raw}) IS NULL`,
        message: (p) => `${quotedValue} || ' in column ' || ${name(p)} || ' is not in vocab and unknown is error'`,
      });
    }
    return checks;
  }
  if (col.oneHot) {
    // Once per row, on the input's first position; the value after fill_null is judged.
    const { categories, unknown, checksUnknown } = col.oneHot;
    if (unknown === 'error' && checksUnknown) {
      checks.push({
        reason: 'UNKNOWN_CATEGORY',
        when: (p) => `${categorySql(col, p)} IS NOT NULL AND list_position(${p.bind(categories)}::VARCHAR[], ${categorySql(col, p)}) IS NULL`,
        message: (p) => `coalesce(${quotedValue}, 'NULL (filled)') || ' in column ' || ${name(p)} || ' is not in one_hot.categories and unknown is error'`,
      });
    }
    return checks;
  }
  const transformed = hasTransforms(col);
  const numeric = NUMERIC_TARGETS.has(feed.dtype);
  if (numeric && (col.parsed || col.columnType === 'VARCHAR')) {
    const parsed = FLOAT_TARGETS.has(feed.dtype) || transformed ? 'DOUBLE' : 'BIGINT';
    checks.push({ reason: 'PARSE_ERROR', when: () => `${c} IS NOT NULL AND TRY_CAST(${c} AS ${parsed}) IS NULL`, message: (p) => `${quotedValue} || ' in column ' || ${name(p)} || ' is not a number'` });
  }
  const asDouble = `TRY_CAST(${c} AS DOUBLE)`;
  const mayBeNonFinite = col.parsed || col.columnType === 'FLOAT' || col.columnType === 'DOUBLE' || col.columnType === 'VARCHAR';
  if (numeric && mayBeNonFinite && (!col.allowNan || !FLOAT_TARGETS.has(feed.dtype))) {
    // A float column into a float tensor: the feature holds the same NaN or Infinity (scaling
    // keeps them; a finite value scaled past the range is OUT_OF_RANGE on this column).
    // (float64 has no such overflow check, so a scaled float64 feature stays with SQL.)
    // Not a transformed one: clip makes Infinity finite, log makes a finite value NULL.
    const scannable = FLOAT_TARGETS.has(feed.dtype) && !col.parsed && !transformed && (col.columnType === 'FLOAT' || col.columnType === 'DOUBLE') && !(col.scale && !narrowed(feed.dtype));
    if (col.nulls.kind === 'nan' && FLOAT_TARGETS.has(feed.dtype)) {
      // NaN marks a missing value here (as NULL does): only infinities are bad.
      checks.push({ reason: 'NOT_FINITE', when: () => `isinf(${asDouble})`, message: (p) => `${text} || ' in column ' || ${name(p)} || ' is infinite (set allow_nan to pass it)'`, ...(scannable ? { scan: 'infinite' as const } : {}) });
    } else {
      checks.push({ reason: 'NOT_FINITE', when: () => `NOT isfinite(${asDouble})`, message: (p) => `${text} || ' in column ' || ${name(p)} || ' is not finite (set allow_nan to pass NaN/Infinity)'`, ...(scannable ? { scan: 'notFinite' as const } : {}) });
    }
  }
  if (numeric && col.parsed && !FLOAT_TARGETS.has(feed.dtype) && !transformed) {
    // TRY_CAST('2.5' AS BIGINT) rounds to 3: a fraction is no integer (as a DOUBLE column is refused for int inputs).
    checks.push({
      reason: 'PARSE_ERROR',
      when: () => `TRY_CAST(${c} AS BIGINT) <> TRY_CAST(${c} AS DOUBLE)`,
      message: (p) => `${quotedValue} || ' in column ' || ${name(p)} || ' is not an integer'`,
    });
  }
  if (numeric && !col.parsed && col.columnType !== 'VARCHAR' && triesCast(col, feed.dtype)) {
    // A UBIGINT or HUGEINT beyond the int64 range (featureSql leaves it NULL).
    checks.push({
      reason: 'OUT_OF_RANGE',
      when: () => `${c} IS NOT NULL AND TRY_CAST(${c} AS ${workingType(feed.dtype)}) IS NULL`,
      message: (p) => `${text} || ' in column ' || ${name(p)} || ' does not fit ${feed.dtype} model input ' || ${p.bind(`'${feed.input}'`)}`,
    });
  }
  if (col.range) {
    const [min, max] = col.range;
    // Finite values only: NaN compares above every number in DuckDB, and NaN/Infinity are
    // NOT_FINITE's to judge (allow_nan lets them through, a range must not then reject them).
    checks.push({
      reason: 'OUT_OF_RANGE',
      when: (p) => `(isfinite(${asDouble}) AND (${asDouble} < ${p.bind(min)} OR ${asDouble} > ${p.bind(max)}))`,
      message: (p) => `${text} || ' in column ' || ${name(p)} || ' is outside range [' || ${p.bind(String(min))} || ', ' || ${p.bind(String(max))} || ']'`,
    });
  }
  if (col.log) {
    // After fill_null and clip, as log sees it; NaN (allow_nan) compares above 0 and passes.
    const kind = col.log;
    checks.push({
      reason: 'OUT_OF_DOMAIN',
      when: (p) => `${clippedSql(col, feed.dtype, p)} <= ${logBound(kind)}`,
      message: (p) => `coalesce(${text}, 'NULL (filled)') || ' in column ' || ${name(p)} || ' is outside the domain of ${kind}' || ${p.bind(col.clip ? ' (after clip)' : '')} || ': it must be > ${logBound(kind)}'`,
    });
  }
  if (numeric && narrowed(feed.dtype) && mayNotFit(col, feed.dtype)) {
    // A DOUBLE beyond float32's range (1e300), or an integer beyond int32's, after fill and
    // scale: featureSql leaves it NULL (a plain CAST failed the whole run).
    checks.push({
      reason: 'OUT_OF_RANGE',
      ...(narrowsInReader(col, feed.dtype) ? { scan: 'narrow' as const } : {}),
      when: (p) => {
        const value = workingSql(col, feed.dtype, p);
        // Scaling can also overflow DOUBLE itself: a finite value must stay finite.
        const overflow = col.scale || col.minMax ? ` OR (NOT isfinite(${value}) AND isfinite(${asDouble}))` : '';
        return `(${value} IS NOT NULL AND (TRY_CAST(${value} AS ${TENSOR_SQL[feed.dtype]}) IS NULL${overflow}))`;
      },
      message: (p) => `${text} || ' in column ' || ${name(p)} || ' does not fit ${feed.dtype} model input ' || ${p.bind(`'${feed.input}'`)}${col.scale || transformed ? ` || ' (after ${transformed ? 'transforms' : 'scaling'})'` : ''}`,
    });
  }
  return checks;
}

const TENSOR_SQL: Record<string, string> = { float32: 'FLOAT', int32: 'INTEGER' };
/** The largest float32. */
export const FLT_MAX = 3.4028234663852886e38;
const INT32 = 2 ** 31;
/** Column types whose every value fits float32 / int32. */
const FITS: Record<string, Set<string>> = {
  float32: new Set(['FLOAT', 'BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT']),
  int32: new Set(['BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'UTINYINT', 'USMALLINT']),
};

/** Whether a column's values (filled, scaled) can fall outside a narrowed tensor type. */
function mayNotFit(col: ColumnFeed, dtype: string): boolean {
  if (col.scale || col.parsed || col.minMax) return true;
  const limit = dtype === 'float32' ? FLT_MAX : INT32 - 1;
  // A bucket index and a log are small; a clipped value is within its bounds.
  if (col.bucketize || col.log) return false;
  if (col.clip) return Math.max(Math.abs(col.clip[0]), Math.abs(col.clip[1])) > limit;
  const fill = col.nulls.kind === 'fill' && typeof col.nulls.value === 'number' ? Math.abs(col.nulls.value) : 0;
  if (fill > limit) return true;
  const fits = FITS[dtype]?.has(col.columnType) ?? false;
  return !fits && !(dtype === 'float32' && col.columnType.startsWith('DECIMAL'));
}

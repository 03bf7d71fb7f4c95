/**
 * How `compare` decides that two values of a column differ, as SQL over the joined table
 * (`a{i}` actual, `b{i}` expected):
 * - a float or decimal on either side (numbers on both): equal when both are NULL, or the
 *   same (NaN equals NaN, Infinity equals Infinity), or |a - b| <= atol + rtol x |b| (numpy's
 *   isclose, b the expected value); the largest |a - b| is reported;
 * - other types: exactly equal (NULL equals NULL); columns of different types compare as text.
 * Tolerances are bound parameters (`atol`, `rtol` are their placeholders).
 */
import type { ColumnInfo } from '../source/dataset.js';

const INTEGER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT)$/;
const FRACTIONAL = /^(FLOAT|DOUBLE|REAL|DECIMAL)/;

export interface ColumnPair {
  name: string;
  actual: ColumnInfo;
  expected: ColumnInfo;
}

/** True when the column compares within a tolerance (a float or decimal, numbers on both sides). */
export function isTolerant(pair: ColumnPair): boolean {
  const numeric = (t: string): boolean => INTEGER.test(t) || FRACTIONAL.test(t);
  return numeric(pair.actual.type) && numeric(pair.expected.type) && (FRACTIONAL.test(pair.actual.type) || FRACTIONAL.test(pair.expected.type));
}

/** SQL that is true when row values `a{i}` and `b{i}` differ (both rows present). */
export function diffSql(pair: ColumnPair, i: number, atol: string, rtol: string): string {
  const a = `a${i}`;
  const b = `b${i}`;
  if (isTolerant(pair)) {
    const close = `abs(CAST(${a} AS DOUBLE) - CAST(${b} AS DOUBLE)) <= ${atol} + ${rtol} * abs(CAST(${b} AS DOUBLE))`;
    return `coalesce(NOT (CAST(${a} AS DOUBLE) IS NOT DISTINCT FROM CAST(${b} AS DOUBLE) OR ${close}), true)`;
  }
  if (pair.actual.type === pair.expected.type) return `${a} IS DISTINCT FROM ${b}`;
  return `CAST(${a} AS VARCHAR) IS DISTINCT FROM CAST(${b} AS VARCHAR)`;
}

/** SQL for |a - b| of a tolerant column (null for the others: no size of a difference). */
export function absDiffSql(pair: ColumnPair, i: number): string | null {
  return isTolerant(pair) ? `abs(CAST(a${i} AS DOUBLE) - CAST(b${i} AS DOUBLE))` : null;
}

/** DuckDB values (as `Db.query` returns them) made fit for a JSON report. */

/** Bigints as numbers when exact (else text), dates as ISO text, NaN and infinities as their names, other objects as text. */
export function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== 'object') return value;
  return String(value);
}

/**
 * The reader's own NULL / NaN / Infinity checks combined with DuckDB's check column: the
 * first failing column decides, DuckDB's verdict wins on the same column.
 */
import { describe, expect, it } from 'vitest';
import type { ColumnChunk, ColumnVector } from '../../src/db/duckdb.js';
import { ChunkChecks } from '../../src/source/chunkChecks.js';
import type { ScannedCheck } from '../../src/preprocess/rowChecks.js';

function floats(values: (number | null)[]): ColumnVector {
  const items = Float32Array.from(values.map((v) => (v === null ? 12345 : v)));
  const hasNulls = values.some((v) => v === null);
  return { typeName: 'FLOAT', items, hasNulls, hasValues: values.some((v) => v !== null), isValid: (r) => values[r] !== null, value: (r) => values[r] };
}

function texts(values: (string | null)[]): ColumnVector {
  return { typeName: 'VARCHAR', items: null, hasNulls: values.some((v) => v === null), hasValues: values.some((v) => v !== null), isValid: (r) => values[r] !== null, value: (r) => values[r] };
}

const chunk = (...columns: ColumnVector[]): ColumnChunk => ({ rowCount: columns[0]!.value(0) === undefined ? 0 : 5, columns });

const SCANNED: ScannedCheck[] = [
  { columnIndex: 0, kind: 'null', reason: 'NULL_VALUE' },
  { columnIndex: 0, kind: 'notFinite', reason: 'NOT_FINITE' },
  { columnIndex: 1, kind: 'null', reason: 'NULL_VALUE' },
  { columnIndex: 1, kind: 'infinite', reason: 'NOT_FINITE' },
];

describe('ChunkChecks', () => {
  it('finds NULLs, NaN and Infinity in feed order; NaN passes where it marks a missing value', () => {
    const checks = new ChunkChecks(SCANNED, -1, ['a', 'b']);
    const ok = checks.load(chunk(floats([1, null, NaN, 2, 3]), floats([NaN, 1, 1, -Infinity, null])));
    expect(ok).toBe(true);
    expect([0, 1, 2, 3, 4].map((r) => checks.isBad(r))).toEqual([false, true, true, true, true]);
    expect(checks.rejection(1)).toEqual({ reason: 'NULL_VALUE', columnIndex: 0, message: 'NULL in column a and fill_null is error' });
    expect(checks.rejection(2)).toEqual({ reason: 'NOT_FINITE', columnIndex: 0, message: null });
    expect(checks.rejection(3)).toEqual({ reason: 'NOT_FINITE', columnIndex: 1, message: null });
    expect(checks.rejection(4)).toMatchObject({ reason: 'NULL_VALUE', columnIndex: 1 });
  });

  it('a clean chunk loads as all good, and the NULL slots of a nullable column are not read as values', () => {
    const checks = new ChunkChecks([{ columnIndex: 0, kind: 'notFinite', reason: 'NOT_FINITE' }], -1, ['a']);
    // NULL slots hold garbage (here NaN); only fill_null: error makes a NULL bad.
    const vector = floats([1, null, 3, 4, 5]);
    (vector.items as Float32Array)[1] = NaN;
    expect(checks.load(chunk(vector))).toBe(false);
  });

  it("DuckDB's verdict wins on the same or an earlier column; the scan's on an earlier column", () => {
    const sql = texts(['OUT_OF_RANGE|0|1e300 in column a does not fit', 'UNKNOWN_CATEGORY|2|x', null, 'PARSE_ERROR|1|y', null]);
    const checks = new ChunkChecks(SCANNED, 2, ['a', 'b', 'c']);
    // Row 0: a's cast left NULL (scan: NULL_VALUE on a), DuckDB: OUT_OF_RANGE on a -> DuckDB.
    // Row 1: scan NaN on a, DuckDB on c -> scan. Row 3: scan -inf on b, DuckDB PARSE_ERROR on b -> DuckDB.
    expect(checks.load(chunk(floats([null, NaN, 1, 1, 1]), floats([1, 1, 1, -Infinity, 1]), sql))).toBe(true);
    expect(checks.rejection(0)).toMatchObject({ reason: 'OUT_OF_RANGE', columnIndex: 0, message: '1e300 in column a does not fit' });
    expect(checks.rejection(1)).toMatchObject({ reason: 'NOT_FINITE', columnIndex: 0 });
    expect(checks.isBad(2)).toBe(false);
    expect(checks.rejection(3)).toMatchObject({ reason: 'PARSE_ERROR', columnIndex: 1 });
    expect(checks.isBad(4)).toBe(false);
  });

  it('leaves NaN and Infinity to the caller with finite false, still finding NULLs and DuckDB verdicts; finiteColumns names the columns checked', () => {
    const checks = new ChunkChecks(SCANNED, -1, ['a', 'b']);
    expect(checks.checksFinite).toBe(true);
    expect([...checks.finiteColumns]).toEqual([1, 1]);
    const data = chunk(floats([1, null, NaN, 2, 3]), floats([NaN, 1, 1, -Infinity, null]));
    expect(checks.load(data, false)).toBe(true);
    expect([0, 1, 2, 3, 4].map((r) => checks.isBad(r))).toEqual([false, true, false, false, true]);
    expect(checks.load(data, true)).toBe(true);
    expect([0, 1, 2, 3, 4].map((r) => checks.isBad(r))).toEqual([false, true, true, true, true]);
    const nullsOnly = new ChunkChecks([{ columnIndex: 1, kind: 'null', reason: 'NULL_VALUE' }], -1, ['a', 'b']);
    expect(nullsOnly.checksFinite).toBe(false);
    expect([...nullsOnly.finiteColumns]).toEqual([0, 0]);
  });
});

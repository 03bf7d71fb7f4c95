/**
 * The row-check expression evaluated by DuckDB: which rows each reason rejects, in which
 * order the checks apply, and how allow_nan and range combine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { featureSql, type ColumnFeed, type FeedDtype, type FeedPlan } from '../../src/preprocess/featurePlan.js';
import { parseRejection, rejectSql, scannedChecks } from '../../src/preprocess/rowChecks.js';
import { Params } from '../../src/util/sql.js';

describe('rejectSql through DuckDB', () => {
  let db: Db;

  beforeAll(async () => {
    db = await Db.open({ threads: 1 });
    await db.exec(`CREATE TABLE t (i INTEGER, d DOUBLE, s VARCHAR)`);
    await db.exec(`INSERT INTO t VALUES
      (1, 1.5, '2.5'),
      (2, NULL, 'abc'),
      (3, 'NaN'::DOUBLE, 'nan'),
      (4, 'Infinity'::DOUBLE, '-inf'),
      (5, 5000, '5000'),
      (6, -5000, NULL)`);
  });

  afterAll(() => db?.close());

  const column = (name: string, columnType: string, extra: Partial<ColumnFeed> = {}): ColumnFeed => ({
    column: name,
    columnType,
    nulls: { kind: 'fill', value: 0 },
    allowNan: false,
    parsed: false,
    ...extra,
  });

  /** The reason each row of t is rejected for (null: kept), in row order. */
  async function reasons(col: ColumnFeed, dtype: FeedDtype = 'float32'): Promise<(string | null)[]> {
    const feeds: FeedPlan[] = [{ input: 'x', dtype, rank: 2, columns: [col] }];
    const params = new Params();
    const sql = rejectSql(feeds, params);
    if (!sql) return Array.from({ length: 6 }, () => null);
    const rows = await db.query<{ r: string | null }>(`SELECT ${sql} AS r FROM t ORDER BY i`, params.values);
    return rows.map((row) => (row.r === null ? null : parseRejection(row.r).reason));
  }

  it('NULL with fill_null error, NaN and Infinity, and a range', async () => {
    expect(await reasons(column('d', 'DOUBLE', { nulls: { kind: 'error' }, range: [-1000, 1000] }))).toEqual([null, 'NULL_VALUE', 'NOT_FINITE', 'NOT_FINITE', 'OUT_OF_RANGE', 'OUT_OF_RANGE']);
  });

  it('text parsed per row: not a number, not finite, out of range', async () => {
    expect(await reasons(column('s', 'VARCHAR', { parsed: true, range: [-1000, 1000] }))).toEqual([null, 'PARSE_ERROR', 'NOT_FINITE', 'NOT_FINITE', 'OUT_OF_RANGE', null]);
  });

  // Regression: NaN compares above every number in DuckDB, so with a range NaN and
  // Infinity were rejected as OUT_OF_RANGE although allow_nan says they pass.
  it('allow_nan lets NaN and Infinity through a range; finite values outside it are still rejected', async () => {
    expect(await reasons(column('d', 'DOUBLE', { allowNan: true, range: [-1000, 1000] }))).toEqual([null, null, null, null, 'OUT_OF_RANGE', 'OUT_OF_RANGE']);
    expect(await reasons(column('s', 'VARCHAR', { parsed: true, allowNan: true, range: [-1000, 1000] }))).toEqual([null, 'PARSE_ERROR', null, null, 'OUT_OF_RANGE', null]);
  });

  it('allow_nan does not apply to integer inputs; text with a fraction is no integer', async () => {
    expect(await reasons(column('s', 'VARCHAR', { parsed: true, allowNan: true }), 'int64')).toEqual(['PARSE_ERROR', 'PARSE_ERROR', 'PARSE_ERROR', 'PARSE_ERROR', null, null]);
  });
});

// Regression: CAST(1e300 AS FLOAT) (and BIGINT -> INTEGER, UBIGINT -> BIGINT beyond range)
// fails the whole query in DuckDB, so one such value crashed the run with INTERNAL (exit 70).
describe('values the tensor type cannot hold', () => {
  let db: Db;

  beforeAll(async () => {
    db = await Db.open({ threads: 1 });
    await db.exec(`CREATE TABLE w (i INTEGER, d DOUBLE, b BIGINT, u UBIGINT, s VARCHAR)`);
    await db.exec(`INSERT INTO w VALUES
      (1, 1.5, 7, 7, '7'),
      (2, 1e300, 3000000000, 18446744073709551615, '3000000000'),
      (3, -1e39, -3000000000, 9223372036854775807, '1e300'),
      (4, 'NaN'::DOUBLE, NULL, NULL, NULL),
      (5, 1e30, 2147483647, 9223372036854775808, '2147483647')`);
  });

  afterAll(() => db?.close());

  const column = (name: string, columnType: string, extra: Partial<ColumnFeed> = {}): ColumnFeed => ({ column: name, columnType, nulls: { kind: 'fill', value: 0 }, allowNan: false, parsed: false, ...extra });

  /** Each row's reject reason, and the feature values (the query must not fail). */
  async function evaluate(col: ColumnFeed, dtype: FeedDtype): Promise<{ reasons: (string | null)[]; values: unknown[] }> {
    const feeds: FeedPlan[] = [{ input: 'x', dtype, rank: 2, columns: [col] }];
    const params = new Params();
    const feature = featureSql(col, dtype, params);
    const check = rejectSql(feeds, params) ?? 'NULL';
    const rows = await db.query<{ v: unknown; r: string | null }>(`SELECT ${feature} AS v, ${check} AS r FROM w ORDER BY i`, params.values);
    return { reasons: rows.map((row) => (row.r === null ? null : parseRejection(row.r).reason)), values: rows.map((row) => row.v) };
  }

  it('a DOUBLE beyond float32 range is OUT_OF_RANGE; NaN stays NOT_FINITE (or passes with allow_nan)', async () => {
    const strict = await evaluate(column('d', 'DOUBLE'), 'float32');
    expect(strict.reasons).toEqual([null, 'OUT_OF_RANGE', 'OUT_OF_RANGE', 'NOT_FINITE', null]);
    expect(strict.values[0]).toBe(1.5);
    // Read as DOUBLE: the reader narrows it to float32 (its \`narrow\` scan rejects 1e300).
    expect(strict.values[1]).toBe(1e300);
    expect(scannedChecks([{ input: 'x', dtype: 'float32', rank: 2, columns: [column('d', 'DOUBLE')] }]).map((c) => c.kind)).toEqual(['notFinite', 'narrow']);
    const lenient = await evaluate(column('d', 'DOUBLE', { allowNan: true }), 'float32');
    expect(lenient.reasons).toEqual([null, 'OUT_OF_RANGE', 'OUT_OF_RANGE', null, null]);
    expect(lenient.values[3]).toBeNaN();
  });

  it('scaling can overflow float32: checked after the scale', async () => {
    const { reasons } = await evaluate(column('d', 'DOUBLE', { allowNan: true, scale: { mean: 0, std: 1e-10 } }), 'float32');
    expect(reasons).toEqual([null, 'OUT_OF_RANGE', 'OUT_OF_RANGE', null, 'OUT_OF_RANGE']);
  });

  it('text beyond float32 range is OUT_OF_RANGE', async () => {
    const { reasons } = await evaluate(column('s', 'VARCHAR', { parsed: true }), 'float32');
    expect(reasons).toEqual([null, null, 'OUT_OF_RANGE', null, null]);
  });

  it('a BIGINT beyond int32 is OUT_OF_RANGE for an int32 input', async () => {
    const { reasons, values } = await evaluate(column('b', 'BIGINT'), 'int32');
    expect(reasons).toEqual([null, 'OUT_OF_RANGE', 'OUT_OF_RANGE', null, null]);
    expect(values).toEqual([7, null, null, 0, 2147483647]);
  });

  it('a UBIGINT beyond int64 is OUT_OF_RANGE for an int64 input', async () => {
    const { reasons, values } = await evaluate(column('u', 'UBIGINT'), 'int64');
    expect(reasons).toEqual([null, 'OUT_OF_RANGE', null, null, 'OUT_OF_RANGE']);
    expect(values[2]).toBe(9223372036854775807n);
  });

  it('text beyond int32 for an int32 input', async () => {
    const { reasons } = await evaluate(column('s', 'VARCHAR', { parsed: true }), 'int32');
    expect(reasons).toEqual([null, 'OUT_OF_RANGE', 'PARSE_ERROR', null, null]);
  });
});

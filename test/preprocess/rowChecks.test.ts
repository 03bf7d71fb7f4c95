/**
 * The row-check expression evaluated by DuckDB: which rows each reason rejects, in which
 * order the checks apply, and how allow_nan and range combine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import type { ColumnFeed, FeedDtype, FeedPlan } from '../../src/preprocess/featurePlan.js';
import { parseRejection, rejectSql } from '../../src/preprocess/rowChecks.js';
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

  it('allow_nan does not apply to integer inputs', async () => {
    expect(await reasons(column('s', 'VARCHAR', { parsed: true, allowNan: true }), 'int64')).toEqual([null, 'PARSE_ERROR', 'PARSE_ERROR', 'PARSE_ERROR', null, null]);
  });
});

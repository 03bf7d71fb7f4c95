/** compareOutputs on small files: keys, positions, tolerances, columns and duplicate keys. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { compareOutputs } from '../../src/evaluate/compare.js';
import { writeTable, type Cell } from '../helpers/scoredFiles.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-compare-');
let db: Db;
beforeAll(async () => {
  db = await Db.open({ threads: 1 });
});
afterAll(() => db.close());

const COLUMNS: [string, string][] = [['id', 'INTEGER'], ['prediction', 'VARCHAR'], ['prob_a', 'FLOAT']];
const GOLDEN: Cell[][] = [[1, 'a', 0.75], [2, 'b', 0.25], [3, 'a', 0.5], [4, 'b', 0.125]];

async function files(actual: Cell[][], expected: Cell[][] = GOLDEN, actualColumns = COLUMNS, expectedColumns = COLUMNS): Promise<[string, string]> {
  const dir = await tmp.make();
  return [await writeTable(join(dir, 'actual.parquet'), actualColumns, actual), await writeTable(join(dir, 'expected.parquet'), expectedColumns, expected)];
}

describe('compare on a key', () => {
  it('equal files, rows in another order: equal, every shared column compared', async () => {
    const [a, e] = await files([...GOLDEN].reverse());
    const r = await compareOutputs(db, a, e, { key: ['id'] });
    expect(r).toMatchObject({ equal: true, key: ['id'], tolerance: { absolute: 1e-6, relative: 0 }, rows: { actual: 4, expected: 4, matched: 4, missing: 0, extra: 0, differing: 0 }, differences: [], examples: [] });
    expect(r.columns.compared).toEqual(['prediction', 'prob_a']);
  });

  it('missing, extra and differing rows; per column the count and the largest difference; examples in key order', async () => {
    const [a, e] = await files([[1, 'a', 0.75], [2, 'a', 0.375], [3, 'a', 0.5625], [5, 'b', 0.5]]);
    const r = await compareOutputs(db, a, e, { key: ['id'] });
    expect(r.equal).toBe(false);
    expect(r.rows).toEqual({ actual: 4, expected: 4, matched: 3, missing: 1, extra: 1, differing: 2 });
    expect(r.differences).toEqual([{ column: 'prediction', rows: 1, max_abs_diff: null }, { column: 'prob_a', rows: 2, max_abs_diff: 0.125 }]);
    expect(r.examples).toEqual([
      { key: { id: 2 }, columns: { prediction: { actual: 'a', expected: 'b' }, prob_a: { actual: 0.375, expected: 0.25 } } },
      { key: { id: 3 }, columns: { prob_a: { actual: 0.5625, expected: 0.5 } } },
    ]);
    expect(r.missing_examples).toEqual([{ id: 4 }]);
    expect(r.extra_examples).toEqual([{ id: 5 }]);
  });

  it('floats within --tolerance are equal; --rtol adds a share of the expected value', async () => {
    const [a, e] = await files([[1, 'a', 0.75 + 2 ** -12], [2, 'b', 0.25], [3, 'a', 0.5], [4, 'b', 0.125]]);
    expect((await compareOutputs(db, a, e, { key: ['id'] })).rows.differing).toBe(1);
    expect((await compareOutputs(db, a, e, { key: ['id'], tolerance: 2 ** -12 })).equal).toBe(true);
    expect((await compareOutputs(db, a, e, { key: ['id'], tolerance: 0, rtol: 2 ** -11 })).equal).toBe(true); // 2^-12 <= 2^-11 x 0.75
    expect((await compareOutputs(db, a, e, { key: ['id'], tolerance: 0, rtol: 2 ** -13 })).equal).toBe(false);
  });

  it('tolerance 0 tells apart values one float32 step apart', async () => {
    const [a, e] = await files([[1, 'a', Math.fround(0.75) + 2 ** -24], ...GOLDEN.slice(1)]);
    const r = await compareOutputs(db, a, e, { key: ['id'], tolerance: 0 });
    expect(r.differences).toEqual([{ column: 'prob_a', rows: 1, max_abs_diff: 2 ** -24 }]);
  });

  it('NULL equals NULL and NaN equals NaN; NULL against a value differs', async () => {
    const [a, e] = await files([[1, null, NaN], [2, 'b', null], [3, 'a', 0.5], [4, 'b', 0.125]], [[1, null, NaN], [2, 'b', 0.25], [3, 'a', 0.5], [4, 'b', 0.125]]);
    const r = await compareOutputs(db, a, e, { key: ['id'] });
    expect(r.rows.differing).toBe(1);
    expect(r.examples).toEqual([{ key: { id: 2 }, columns: { prob_a: { actual: null, expected: 0.25 } } }]);
  });

  it('columns in one file only and a changed column type are reported and make the files differ', async () => {
    const [a, e] = await files(GOLDEN.map((r) => [...r, 1]), GOLDEN.map((r) => [r[0]!, r[1]!, r[2]!, 'x']), [...COLUMNS, ['extra', 'INTEGER']], [['id', 'INTEGER'], ['prediction', 'VARCHAR'], ['prob_a', 'DOUBLE'], ['gone', 'VARCHAR']]);
    const r = await compareOutputs(db, a, e, { key: ['id'] });
    expect(r.equal).toBe(false);
    expect(r.rows.differing).toBe(0);
    expect(r.columns).toEqual({ compared: ['prediction', 'prob_a'], only_in_actual: ['extra'], only_in_expected: ['gone'], type_differences: [{ column: 'prob_a', actual: 'FLOAT', expected: 'DOUBLE' }] });
  });

  it('a composite key', async () => {
    const cols: [string, string][] = [['day', 'VARCHAR'], ['id', 'INTEGER'], ['v', 'DOUBLE']];
    const [a, e] = await files([['d1', 1, 1], ['d2', 1, 2.5]], [['d2', 1, 2], ['d1', 1, 1]], cols, cols);
    const r = await compareOutputs(db, a, e, { key: ['day', 'id'] });
    expect(r.examples).toEqual([{ key: { day: 'd2', id: 1 }, columns: { v: { actual: 2.5, expected: 2 } } }]);
  });

  it('a key that is not unique is INPUT_INVALID naming the file and the key values', async () => {
    const [a, e] = await files([...GOLDEN, [2, 'b', 0.25]]);
    await expect(compareOutputs(db, a, e, { key: ['id'] })).rejects.toMatchObject({ code: 'INPUT_INVALID', message: `key id is not unique in ${a}: id=2 (2 rows)` });
  });

  it('key columns of other types: numbers of any width join, text against a number is SCHEMA_MISMATCH', async () => {
    const [a, e] = await files(GOLDEN, GOLDEN, COLUMNS, [['id', 'BIGINT'], ['prediction', 'VARCHAR'], ['prob_a', 'FLOAT']]);
    expect((await compareOutputs(db, a, e, { key: ['id'] })).equal).toBe(false); // the key's type changed
    expect((await compareOutputs(db, a, e, { key: ['id'] })).rows).toMatchObject({ matched: 4, differing: 0 });
    const [a2, e2] = await files(GOLDEN, GOLDEN.map((r) => [String(r[0]), r[1]!, r[2]!]), COLUMNS, [['id', 'VARCHAR'], ['prediction', 'VARCHAR'], ['prob_a', 'FLOAT']]);
    await expect(compareOutputs(db, a2, e2, { key: ['id'] })).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH', message: `key column id is INTEGER in ${a2} but VARCHAR in ${e2}` });
  });

  it('a key column missing from a file is SCHEMA_MISMATCH', async () => {
    const [a, e] = await files(GOLDEN);
    await expect(compareOutputs(db, a, e, { key: ['txn_id'] })).rejects.toMatchObject({ code: 'SCHEMA_MISMATCH', actual: ['txn_id'] });
  });
});

describe('compare by position', () => {
  it('rows in another order differ; the examples name row numbers from 1; extra rows at the end', async () => {
    const [a, e] = await files([GOLDEN[1]!, GOLDEN[0]!, GOLDEN[2]!, GOLDEN[3]!, [5, 'a', 1]]);
    const r = await compareOutputs(db, a, e, { byPosition: true });
    expect(r.key).toBeNull();
    expect(r.rows).toMatchObject({ matched: 4, extra: 1, missing: 0, differing: 2 });
    expect(r.columns.compared).toEqual(['id', 'prediction', 'prob_a']);
    expect(r.examples.map((x) => x.key)).toEqual([{ row: 1 }, { row: 2 }]);
    expect(r.extra_examples).toEqual([{ row: 5 }]);
  });

  it('CSV against Parquet, equal by position', async () => {
    const dir = await tmp.make();
    const csv = await writeTable(join(dir, 'a.csv'), COLUMNS, GOLDEN);
    const parquet = await writeTable(join(dir, 'e.parquet'), [['id', 'BIGINT'], ['prediction', 'VARCHAR'], ['prob_a', 'DOUBLE']], GOLDEN);
    const r = await compareOutputs(db, csv, parquet, { byPosition: true });
    expect(r.rows.differing).toBe(0);
    expect(r.equal).toBe(true);
  });
});

describe('usage', () => {
  it('needs --key or --by-position, not both; tolerances are numbers >= 0', async () => {
    const [a, e] = await files(GOLDEN);
    await expect(compareOutputs(db, a, e, {})).rejects.toMatchObject({ code: 'USAGE', message: 'compare needs --key COL[,COL] (unique in both files) or --by-position' });
    await expect(compareOutputs(db, a, e, { key: ['id'], byPosition: true })).rejects.toMatchObject({ code: 'USAGE', message: 'give --key or --by-position, not both' });
    await expect(compareOutputs(db, a, e, { key: ['id'], tolerance: -1 })).rejects.toMatchObject({ code: 'USAGE', message: '--tolerance takes a number >= 0' });
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { BatchinferError } from '../../src/errors.js';
import type { ColumnFeed, FeedPlan } from '../../src/preprocess/featurePlan.js';
import type { DatasetFile } from '../../src/source/dataset.js';
import { batchQuery, readBatches, type Batch, type ReadOptions } from '../../src/source/readBatches.js';
import { buildFeatureFeeds, FIXTURES_DIR, loadSidecar, readFixtureRows, type TransactionRow } from '../helpers/reference.js';
import { rejection } from '../helpers/rejection.js';

const PARQUET: DatasetFile = { path: join(FIXTURES_DIR, 'data', 'transactions.parquet'), format: 'parquet' };
const CSV: DatasetFile = { path: join(FIXTURES_DIR, 'data', 'transactions.csv'), format: 'csv' };
const X_COLUMNS = ['amount', 'f0', 'f1', 'risk score'];
const VOCAB = ['grocery', 'travel', 'fuel'];

let db: Db;
let rows: TransactionRow[];

beforeAll(async () => {
  db = await Db.open({ threads: 2 });
  rows = await readFixtureRows();
});

afterAll(() => db?.close());

const col = (column: string, extra: Partial<ColumnFeed> = {}): ColumnFeed => ({ column, columnType: 'DOUBLE', nulls: { kind: 'fill', value: 0 }, allowNan: false, parsed: false, ...extra });

/** The `x` input of logreg/mlp: four columns, null amount -> 0. */
const X_FEED: FeedPlan = { input: 'x', dtype: 'float32', rank: 2, columns: X_COLUMNS.map((c) => col(c)) };

const merchantFeed = (unknown: number | 'error'): FeedPlan => ({
  input: 'merchant',
  dtype: 'int64',
  rank: 1,
  columns: [{ column: 'merchant_category', columnType: 'VARCHAR', nulls: { kind: 'error' }, allowNan: false, parsed: false, vocab: { values: VOCAB, unknown } }],
});

async function readAll(file: DatasetFile, feeds: FeedPlan[], options: ReadOptions): Promise<Batch[]> {
  const batches: Batch[] = [];
  for await (const batch of readBatches(db, file, feeds, options)) batches.push(batch);
  return batches;
}


/** The fixture's x values, row-major, as float32 (null amount -> 0). */
function expectedX(): Float32Array {
  return Float32Array.from(buildFeatureFeeds(loadSidecar('mlp'), rows).x!.data);
}

describe('readBatches: batch boundaries', () => {
  it('cutAfter: a batch ends at the row it names, then the next fills to the batch size again; values in order', async () => {
    const batches = await readAll(PARQUET, [X_FEED], { batchSize: 700, cutAfter: (row) => (Math.floor(row / 1000) + 1) * 1000 });
    expect(batches.map((b) => [b.rowStart, b.rowEnd, b.rowCount])).toEqual([
      [0, 700, 700],
      [700, 1000, 300],
      [1000, 1700, 700],
      [1700, 2000, 300],
      [2000, 2700, 700],
      [2700, 3000, 300],
    ]);
    const x = new Float32Array(3000 * 4);
    for (const b of batches) x.set(b.feeds['x']!.data as Float32Array, b.rowStart * 4);
    expect(x).toEqual(expectedX());
  });

  it.each([3000, 7, 5000, 1000, 999, 2048, 1])('batch size %i: exact batches whose values are the source, row-major', async (batchSize) => {
    const batches = await readAll(PARQUET, [X_FEED], { batchSize });
    const expectedCount = Math.ceil(3000 / batchSize);
    expect(batches).toHaveLength(expectedCount);
    let next = 0;
    for (const [i, batch] of batches.entries()) {
      const size = i < expectedCount - 1 ? batchSize : 3000 - batchSize * (expectedCount - 1);
      expect(batch.rowStart).toBe(next);
      expect(batch.rowCount).toBe(size);
      const x = batch.feeds.x!;
      expect(x.type).toBe('float32');
      expect(x.dims).toEqual([size, 4]);
      expect(x.data).toBeInstanceOf(Float32Array);
      // Exact-size buffers: what is transferred to a worker is only this batch.
      expect((x.data as Float32Array).length).toBe(size * 4);
      expect((x.data as Float32Array).buffer.byteLength).toBe(size * 4 * 4);
      next += size;
    }
    expect(next).toBe(3000);
    const all = new Float32Array(3000 * 4);
    let offset = 0;
    for (const b of batches) {
      all.set(b.feeds.x!.data as Float32Array, offset);
      offset += b.feeds.x!.data.length;
    }
    expect(all).toEqual(expectedX());
  });

  it('the last partial batch of a 7-row batching has 4 rows with a 64-byte buffer', async () => {
    const batches = await readAll(PARQUET, [X_FEED], { batchSize: 7 });
    const last = batches.at(-1)!;
    expect(last.rowStart).toBe(2996);
    expect(last.rowCount).toBe(4);
    expect((last.feeds.x!.data as Float32Array).buffer.byteLength).toBe(64);
    expect([...(last.feeds.x!.data as Float32Array)]).toEqual([...expectedX().subarray(2996 * 4)]);
  });

  it('batches of different feeds do not share buffers', async () => {
    const [batch] = await readAll(PARQUET, [X_FEED, merchantFeed(0)], { batchSize: 10 });
    expect((batch!.feeds.x!.data as Float32Array).buffer).not.toBe((batch!.feeds.merchant!.data as BigInt64Array).buffer);
  });

  it('reads CSV the same as Parquet', async () => {
    const fromCsv = await readAll(CSV, [X_FEED], { batchSize: 1500 });
    expect(fromCsv.map((b) => b.rowCount)).toEqual([1500, 1500]);
    const joined = new Float32Array(12000);
    joined.set(fromCsv[0]!.feeds.x!.data as Float32Array, 0);
    joined.set(fromCsv[1]!.feeds.x!.data as Float32Array, 6000);
    expect(joined).toEqual(expectedX());
  });

  it('an empty file yields no batch', async () => {
    const empty: DatasetFile = { path: join(FIXTURES_DIR, 'data', 'empty.csv'), format: 'csv' };
    const feed: FeedPlan = { input: 'id', dtype: 'string', rank: 1, columns: [{ column: 'txn_id', columnType: 'VARCHAR', nulls: { kind: 'error' }, allowNan: false, parsed: false }] };
    expect(await readAll(empty, [feed], { batchSize: 8 })).toEqual([]);
  });

  it('reports time spent reading and preprocessing, and each batch its longest wait for a chunk', async () => {
    let calls = 0;
    let total = 0;
    const reads: number[] = [];
    const batches = await readAll(PARQUET, [X_FEED], {
      batchSize: 500,
      onTiming(readMs, preprocessMs) {
        calls++;
        expect(readMs).toBeGreaterThanOrEqual(0);
        expect(preprocessMs).toBeGreaterThanOrEqual(0);
        total += readMs + preprocessMs;
        reads.push(readMs);
      },
    });
    expect(calls).toBeGreaterThanOrEqual(6);
    expect(Number.isFinite(total)).toBe(true);
    // A batch's timing is reported just before it is yielded: its longest wait is one of the waits summed there.
    batches.forEach((batch, i) => {
      expect(batch.longestWaitMs).toBeGreaterThanOrEqual(0);
      expect(batch.longestWaitMs).toBeLessThanOrEqual(reads[i]!);
    });
    // The first batch waited for the query to start: the longest wait is that one.
    expect(batches[0]!.longestWaitMs).toBeGreaterThan(0);
  });
});

describe('readBatches: dtypes and ranks', () => {
  it('int64 vocab feed: indices per row, unknown categories to the unknown index', async () => {
    const batches = await readAll(PARQUET, [X_FEED, merchantFeed(0)], { batchSize: 1200 });
    expect(batches.map((b) => b.feeds.merchant!.dims)).toEqual([[1200], [1200], [600]]);
    const merchant = batches.flatMap((b) => [...(b.feeds.merchant!.data as BigInt64Array)]);
    expect(batches[0]!.feeds.merchant!.type).toBe('int64');
    expect(batches[0]!.feeds.merchant!.data).toBeInstanceOf(BigInt64Array);
    const expected = rows.map((r) => BigInt(Math.max(0, VOCAB.indexOf(r.merchant_category))));
    expect(merchant).toEqual(expected);
    // The electronics rows really went through the unknown index.
    expect(rows.filter((r) => r.merchant_category === 'electronics').length).toBeGreaterThan(0);
  });

  it('int64 vocab feed matches the reference feeds of the mixed model', async () => {
    const sidecar = loadSidecar('mixed');
    const reference = buildFeatureFeeds(sidecar, rows);
    const x3: FeedPlan = { input: 'x', dtype: 'float32', rank: 2, columns: ['amount', 'f0', 'f1'].map((c) => col(c)) };
    const [batch] = await readAll(PARQUET, [x3, merchantFeed(0)], { batchSize: 3000 });
    expect([...(batch!.feeds.x!.data as Float32Array)]).toEqual(reference.x!.data);
    expect([...(batch!.feeds.merchant!.data as BigInt64Array)].map(Number)).toEqual(reference.merchant!.data);
  });

  it('rank-1 float, float64, int32, bool and string feeds', async () => {
    const feeds: FeedPlan[] = [
      { input: 'f0', dtype: 'float32', rank: 1, columns: [col('f0')] },
      { input: 'f2', dtype: 'float64', rank: 2, columns: [col('f2')] },
      { input: 'n', dtype: 'int32', rank: 1, columns: [col('n_items', { columnType: 'INTEGER' })] },
      { input: 'big', dtype: 'bool', rank: 1, columns: [col('n_items', { columnType: 'INTEGER' })] },
      { input: 'id', dtype: 'string', rank: 1, columns: [col('txn_id', { columnType: 'VARCHAR' })] },
    ];
    const batches = await readAll(PARQUET, feeds, { batchSize: 2500 });
    expect(batches.map((b) => b.rowCount)).toEqual([2500, 500]);
    const last = batches[1]!;
    expect(last.feeds.f0!.dims).toEqual([500]);
    expect(last.feeds.f2!.dims).toEqual([500, 1]);
    expect(last.feeds.f2!.data).toBeInstanceOf(Float64Array);
    expect(last.feeds.n!.data).toBeInstanceOf(Int32Array);
    expect(last.feeds.big!.data).toBeInstanceOf(Uint8Array);
    expect(Array.isArray(last.feeds.id!.data)).toBe(true);
    expect(last.feeds.id!.data.length).toBe(500);
    const tail = rows.slice(2500);
    expect([...(last.feeds.f0!.data as Float32Array)]).toEqual(tail.map((r) => Math.fround(r.f0)));
    expect([...(last.feeds.f2!.data as Float64Array)]).toEqual(tail.map((r) => r.f2));
    expect([...(last.feeds.n!.data as Int32Array)]).toEqual(tail.map((r) => r.n_items));
    expect([...(last.feeds.big!.data as Uint8Array)]).toEqual(tail.map((r) => (r.n_items !== 0 ? 1 : 0)));
    expect(last.feeds.id!.data).toEqual(tail.map((r) => r.txn_id));
  });

  it('NULLs read without a fill become NaN in float tensors', async () => {
    const feed: FeedPlan = { input: 'a', dtype: 'float32', rank: 1, columns: [col('amount', { nulls: { kind: 'nan' } })] };
    const [batch] = await readAll(PARQUET, [feed], { batchSize: 3000 });
    const data = batch!.feeds.a!.data as Float32Array;
    rows.forEach((r, i) => {
      if (r.amount === null) expect(data[i]).toBeNaN();
      else expect(data[i]).toBe(Math.fround(r.amount));
    });
  });
});

describe('readBatches: bad data', () => {
  const firstIndex = (pred: (r: TransactionRow) => boolean) => rows.findIndex(pred);

  it.each([3000, 7, 1000, 1001])('NULL with fill_null error throws BAD_DATA naming the 1-based row and the column (batch %i)', async (batchSize) => {
    const feed: FeedPlan = { ...X_FEED, columns: X_COLUMNS.map((c) => col(c, { nulls: { kind: 'error' } })) };
    const row = firstIndex((r) => r.amount === null) + 1;
    const err = await rejection(readAll(PARQUET, [feed], { batchSize }));
    expect(err.code).toBe('BAD_DATA');
    expect(err.exitCode).toBe(65);
    expect(err.message).toBe(`${PARQUET.path} row ${row}: NULL in column amount and fill_null is error`);
    expect(err.expected).toBe("a valid value for model input 'x' (or on_error: skip | quarantine)");
    expect(err.actual).toBe('NULL_VALUE');
  });

  it('a NULL after several DuckDB chunks is numbered from the start of the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'batchinfer-readbatches-'));
    try {
      const path = join(dir, 'late-null.parquet');
      await db.exec(`COPY (SELECT CASE WHEN i = 4500 THEN NULL ELSE i END::DOUBLE AS v FROM range(5000) t(i)) TO '${path}' (FORMAT parquet)`);
      const feed: FeedPlan = { input: 'v', dtype: 'float32', rank: 1, columns: [col('v', { nulls: { kind: 'error' } })] };
      for (const batchSize of [5000, 7, 2048, 4500, 4501]) {
        const err = await rejection(readAll({ path, format: 'parquet' }, [feed], { batchSize, display: { path: 'late.parquet' } }));
        expect(err.message).toBe('late.parquet row 4501: NULL in column v and fill_null is error');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rows of a later part file are numbered within that file', async () => {
    const later = rows.findIndex((r, i) => i >= 1000 && r.amount === null);
    expect(later).toBeGreaterThanOrEqual(1000);
    const part: DatasetFile = { path: join(FIXTURES_DIR, 'data', 'parts', 'part-1.parquet'), format: 'parquet' };
    const feed: FeedPlan = { input: 'a', dtype: 'float32', rank: 1, columns: [col('amount', { nulls: { kind: 'error' } })] };
    const err = await rejection(readAll(part, [feed], { batchSize: 13, display: { path: 'part-1.parquet' } }));
    expect(err.message).toBe(`part-1.parquet row ${later - 1000 + 1}: NULL in column amount and fill_null is error`);
  });

  it('a category not in the vocab with unknown: error names row, column and value', async () => {
    const row = firstIndex((r) => !VOCAB.includes(r.merchant_category)) + 1;
    for (const batchSize of [3000, 7]) {
      const err = await rejection(readAll(PARQUET, [X_FEED, merchantFeed('error')], { batchSize, display: { path: 'tx.parquet' } }));
      expect(err.code).toBe('BAD_DATA');
      expect(err.message).toBe(`tx.parquet row ${row}: 'electronics' in column merchant_category is not in vocab and unknown is error`);
      expect(err.actual).toBe('UNKNOWN_CATEGORY');
      expect(err.expected).toBe("a valid value for model input 'merchant' (or on_error: skip | quarantine)");
    }
  });

  it('batchQuery selects the row check after the features (NULL for good rows), and nothing extra when no column can reject', () => {
    const { sql, params, rejectIndex } = batchQuery(PARQUET, [X_FEED, merchantFeed('error')]);
    expect(rejectIndex).toBe(5);
    expect(sql).toMatch(/CASE WHEN .*'UNKNOWN_CATEGORY\|4\|'.* END AS f5 FROM read_parquet\(\$1, hive_partitioning = false\)$/);
    expect(params.values[0]).toBe(PARQUET.path);
    expect(batchQuery(PARQUET, []).sql).toBe('SELECT 1 AS f0 FROM read_parquet($1, hive_partitioning = false)');
    expect(batchQuery(PARQUET, []).rejectIndex).toBe(-1);
  });
});

describe('readBatches: a DOUBLE column narrowed to float32 by the reader', () => {
  /** Around float32's largest value: below, at, and past the point where rounding gives Infinity. */
  const EDGES = [1.5, 3.4028234663852886e38, 3.4028235e38, 3.4028235677973362e38, 3.4028235677973366e38, 1e39, -1e39, 1e300, -3.4028235677973366e38, 0, -0.1];
  const feed: FeedPlan = { input: 'x', dtype: 'float32', rank: 2, columns: [{ column: 'd', columnType: 'DOUBLE', nulls: { kind: 'error' }, allowNan: false, parsed: false }] };
  let file: DatasetFile;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'batchinfer-narrow-'));
    file = { path: join(dir, 'edges.parquet'), format: 'parquet' };
    await db.exec(`COPY (SELECT unnest($1::DOUBLE[]) AS d) TO $2 (FORMAT parquet)`, [EDGES, file.path]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('selects the DOUBLE as is (no cast in SQL)', () => {
    expect(batchQuery(file, [feed]).sql).toMatch(/^SELECT "d" AS f0 FROM/);
  });

  it('rejects exactly the values DuckDB cannot cast to FLOAT, and rounds the rest as DuckDB does', async () => {
    const truth = await db.query<{ f: number | null }>('SELECT TRY_CAST(d AS FLOAT) AS f FROM read_parquet($1)', [file.path]);
    const fits = truth.map((r) => r.f !== null);
    expect(fits.filter((f) => !f).length).toBeGreaterThan(0);
    const [batch] = await readAll(file, [feed], { batchSize: 64, onError: 'skip', trackRows: true });
    expect([...batch!.rowNumbers!].map(Number)).toEqual(fits.flatMap((f, i) => (f ? [i] : [])));
    expect(batch!.rejected).toEqual({ OUT_OF_RANGE: fits.filter((f) => !f).length });
    expect([...(batch!.feeds['x']!.data as Float32Array)]).toEqual(truth.filter((r) => r.f !== null).map((r) => Math.fround(r.f!)));
  });

  it('with fill_null too: NULLs filled in SQL, the same values rejected', async () => {
    const filled: FeedPlan = { ...feed, columns: [{ ...feed.columns[0]!, nulls: { kind: 'fill', value: 7 } }] };
    expect(batchQuery(file, [filled]).sql).toMatch(/^SELECT coalesce\(CAST\("d" AS DOUBLE\), CAST\(\$2 AS DOUBLE\)\) AS f0 FROM/);
    const [plain] = await readAll(file, [feed], { batchSize: 64, onError: 'skip', trackRows: true });
    const [batch] = await readAll(file, [filled], { batchSize: 64, onError: 'skip', trackRows: true });
    expect(batch!.rejected).toEqual(plain!.rejected);
    expect([...batch!.rowNumbers!]).toEqual([...plain!.rowNumbers!]);
  });

  it('fails on the first value out of range with the SQL check\'s words', async () => {
    const first = EDGES.findIndex((v) => Math.fround(v) === Infinity || Math.fround(v) === -Infinity);
    const err = await readAll(file, [feed], { batchSize: 64 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchinferError);
    expect((err as BatchinferError).message).toBe(`${file.path} row ${first + 1}: 3.4028235677973366e+38 in column d does not fit float32 model input 'x'`);
  });
});

describe('readBatches: a span of the file rows (a shard)', () => {
  it.each([
    [1000, 2500, 512],
    [0, 700, 1024],
    [2999, 3000, 8],
    [1200, 1200, 64],
  ])('rows [%i, %i) in batches of %i: exactly those rows, numbered from the span start', async (fromRow, toRow, batchSize) => {
    const batches = await readAll(PARQUET, [X_FEED], { batchSize, fromRow, toRow });
    const x = new Float32Array(batches.reduce((n, b) => n + b.rowCount, 0) * 4);
    let offset = 0;
    let next = fromRow;
    for (const b of batches) {
      expect(b.rowStart).toBe(next);
      x.set(b.feeds.x!.data as Float32Array, offset);
      offset += b.feeds.x!.data.length;
      next = b.rowEnd;
    }
    expect(next).toBe(toRow);
    expect(x).toEqual(expectedX().slice(fromRow * 4, toRow * 4));
  });

  it('a span of a CSV file (read whole by the plan) is a bug, not a silent full read', () => {
    expect(() => batchQuery(CSV, [X_FEED], 0, 100)).toThrow(/reading a span of a file's rows needs a Parquet source/);
  });
});

describe('readBatches: NaN and Infinity found while copying', () => {
  // 5000 rows (three DuckDB chunks): a clean; b NaN at row 2100 and -Infinity at 4000;
  // c NaN (a missing value: NULLs pass as NaN) at 100 and 4000, +Infinity at 3000.
  let dir: string;
  let file: DatasetFile;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'batchinfer-finite-'));
    const path = join(dir, 'finite.parquet');
    await db.exec(
      `COPY (SELECT i::DOUBLE AS a, CASE WHEN i = 2100 THEN 'NaN'::DOUBLE WHEN i = 4000 THEN '-Infinity'::DOUBLE ELSE i * 0.5 END AS b,
        CASE WHEN i IN (100, 4000) THEN 'NaN'::DOUBLE WHEN i = 3000 THEN 'Infinity'::DOUBLE ELSE -i END AS c FROM range(5000) t(i)) TO $1 (FORMAT parquet)`,
      [path],
    );
    file = { path, format: 'parquet' };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const feed: FeedPlan = { input: 'x', dtype: 'float32', rank: 2, columns: [col('a'), col('b'), col('c', { nulls: { kind: 'nan' } })] };
  const rowsOf = (batches: Batch[]): number[] => batches.flatMap((b) => [...b.rowNumbers!].map(Number));

  it.each([5000, 7, 2048, 2101])('skips exactly the rows whose checked values are not finite, the others copied in order (batch %i)', async (batchSize) => {
    const batches = await readAll(file, [feed], { batchSize, onError: 'skip' });
    const kept = rowsOf(batches);
    expect(kept).toEqual([...Array(5000).keys()].filter((i) => ![2100, 3000, 4000].includes(i)));
    const values = batches.flatMap((b) => [...(b.feeds.x!.data as Float32Array)]);
    kept.forEach((i, k) => {
      expect(values.slice(3 * k, 3 * k + 2)).toEqual([i, Math.fround(i * 0.5)]);
      if (i === 100) expect(values[3 * k + 2]).toBeNaN();
      else expect(values[3 * k + 2]).toBe(0 - i);
    });
    expect(batches.reduce((n, b) => n + (b.rejected.NOT_FINITE ?? 0), 0)).toBe(3);
  });

  it('fails on the first one with on_error fail, naming its row and value', async () => {
    const err = await rejection(readAll(file, [feed], { batchSize: 1024, display: { path: 'finite.parquet' } }));
    expect(err.code).toBe('BAD_DATA');
    expect(err.message).toBe('finite.parquet row 2101: nan in column b is not finite (set allow_nan to pass NaN/Infinity)');
  });

  it('a NaN where it marks a missing value is kept (the full check of its chunk passes it)', async () => {
    const onlyC: FeedPlan = { ...feed, columns: [col('a'), col('c', { nulls: { kind: 'nan' } })] };
    const batches = await readAll(file, [onlyC], { batchSize: 4096, onError: 'skip' });
    expect(rowsOf(batches)).toEqual([...Array(5000).keys()].filter((i) => i !== 3000));
  });
});

describe('readBatches: a feed of four columns or more (copied by the kernel, rowMajor.ts)', () => {
  // 5000 rows of six columns: a clean; b NaN at 2100, -Infinity at 4000; c NaN (a missing
  // value) at 100, +Infinity at 3000; d NULL at 50 and 4990 (filled with 7 in SQL); e past
  // float32's range at 4500 (DOUBLE only); f NULL at 60 and 2047 (a missing value: NaN).
  let dir: string;
  const files: Record<string, DatasetFile> = {};
  const ROWS = 5000;
  const source = (i: number, type: string): (number | null)[] => [
    i,
    i === 2100 ? NaN : i === 4000 ? -Infinity : i * 0.5,
    i === 100 ? NaN : i === 3000 ? Infinity : 0 - i, // DuckDB's -0 of an integer is 0
    i === 50 || i === 4990 ? null : i / 3,
    i === 4500 && type === 'DOUBLE' ? 1e39 : i * 3 + 0.1,
    i === 60 || i === 2047 ? null : 1 - i / 7,
  ];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'batchinfer-wide-'));
    for (const type of ['DOUBLE', 'FLOAT']) {
      const path = join(dir, `${type}.parquet`);
      const columns = [
        'i',
        `CASE WHEN i = 2100 THEN 'NaN'::DOUBLE WHEN i = 4000 THEN '-Infinity'::DOUBLE ELSE i * 0.5 END`,
        `CASE WHEN i = 100 THEN 'NaN'::DOUBLE WHEN i = 3000 THEN 'Infinity'::DOUBLE ELSE -i END`,
        'CASE WHEN i IN (50, 4990) THEN NULL ELSE i::DOUBLE / 3 END',
        `CASE WHEN i = 4500 AND '${type}' = 'DOUBLE' THEN 1e39 ELSE i * 3 + 0.1 END`,
        'CASE WHEN i IN (60, 2047) THEN NULL ELSE 1 - i::DOUBLE / 7 END',
      ];
      await db.exec(`COPY (SELECT ${columns.map((c, k) => `CAST(${c} AS ${type}) AS ${'abcdef'[k]}`).join(', ')} FROM range(${ROWS}) t(i)) TO $1 (FORMAT parquet)`, [path]);
      files[type] = { path, format: 'parquet' };
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const feedOf = (type: string): FeedPlan => ({
    input: 'x',
    dtype: 'float32',
    rank: 2,
    columns: [col('a'), col('b'), col('c', { nulls: { kind: 'nan' } }), col('d', { nulls: { kind: 'fill', value: 7 } }), col('e'), col('f', { nulls: { kind: 'nan' } })].map((c) => ({ ...c, columnType: type })),
  });

  it.each([
    ['DOUBLE', 5000],
    ['DOUBLE', 7],
    ['DOUBLE', 2048],
    ['FLOAT', 2101],
    ['FLOAT', 1000],
  ])('%s columns in batches of %i: the rows whose values fail a check left out, the others rounded to float32, NULLs NaN', async (type, batchSize) => {
    const batches = await readAll(files[type]!, [feedOf(type)], { batchSize, onError: 'skip' });
    const bad = type === 'DOUBLE' ? [2100, 3000, 4000, 4500] : [2100, 3000, 4000];
    const kept = batches.flatMap((b) => [...b.rowNumbers!].map(Number));
    expect(kept).toEqual([...Array(ROWS).keys()].filter((i) => !bad.includes(i)));
    const values = Float32Array.from(batches.flatMap((b) => [...(b.feeds.x!.data as Float32Array)]));
    // Each value as its file holds it (a FLOAT file's are float32 already), then as the tensor takes it.
    const expected = Float32Array.from(
      kept.flatMap((i) => source(i, type).map((v, j) => (v === null ? (j === 3 ? 7 : NaN) : Math.fround(type === 'FLOAT' ? Math.fround(v) : v)))),
    );
    expect(values).toEqual(expected);
    const rejected = batches.reduce<Record<string, number>>((sum, b) => {
      for (const [reason, n] of Object.entries(b.rejected)) sum[reason] = (sum[reason] ?? 0) + (n ?? 0);
      return sum;
    }, {});
    expect(rejected).toEqual(type === 'DOUBLE' ? { NOT_FINITE: 3, OUT_OF_RANGE: 1 } : { NOT_FINITE: 3 });
  });

  it('fails on the first bad row with on_error fail, naming it', async () => {
    const err = await rejection(readAll(files.DOUBLE!, [feedOf('DOUBLE')], { batchSize: 1024, display: { path: 'wide.parquet' } }));
    expect(err.code).toBe('BAD_DATA');
    expect(err.message).toBe('wide.parquet row 2101: nan in column b is not finite (set allow_nan to pass NaN/Infinity)');
  });
});

import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { stageSource } from '../../src/core/stageSource.js';
import { floatStagedColumns, stagedFeeds, type ColumnFeed, type FeedPlan } from '../../src/preprocess/featurePlan.js';
import { batchQuery, readBatches, type Batch } from '../../src/source/readBatches.js';
import { describeFile, type DatasetFile } from '../../src/source/dataset.js';
import { Journal } from '../../src/sink/journal.js';

// A CSV's staged copy: number columns stay numbers (plain float32 features as FLOAT), and the
// features read from it must be exactly what parsing every value from its text gives: the
// same values, the same rows rejected for the same reasons.

let db: Db;
let dir: string;
let seq = 0;

beforeAll(async () => {
  db = await Db.open({ threads: 2 });
  dir = await mkdtemp(join(tmpdir(), 'batchinfer-stage-'));
});
afterAll(async () => {
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Past DuckDB's type-sniffing sample (20,480 rows): a value there cannot change a column's type. */
const ROWS = 24_000;
const EDGES = ['nan', 'inf', '-inf', '', '1e-50', '3.4028235e38', '-3.4028235e38', '0.1', '-0.1', '7', ' 1.5 '];

/** id, a, b, c: seeded decimals, the edge values from row 21,000 on, then `extra` cells. */
async function writeCsv(extra: Record<number, Partial<Record<'a' | 'b' | 'c', string>>> = {}): Promise<DatasetFile> {
  let state = 12345;
  const next = (): string => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return ((state / 2 ** 31) * 2 - 1).toFixed(6);
  };
  const lines = ['id,a,b,c'];
  for (let r = 0; r < ROWS; r++) {
    const cells: Record<string, string> = { a: next(), b: next(), c: next() };
    if (r >= 21_000 && r % 97 === 0) cells['abc'[r % 3]!] = EDGES[(r / 97) % EDGES.length | 0]!;
    Object.assign(cells, extra[r] ?? {});
    lines.push(`id${r},${cells['a']},${cells['b']},${cells['c']}`);
  }
  const path = join(dir, `in-${seq++}.csv`);
  await writeFile(path, lines.join('\n') + '\n');
  return { path, format: 'csv' };
}

const col = (column: string, extra: Partial<ColumnFeed> = {}): ColumnFeed => ({ column, columnType: 'DOUBLE', nulls: { kind: 'error' }, allowNan: false, parsed: true, ...extra });
/** As prepare plans a CSV: every numeric feature parsed from text. */
const feedOf = (columns: ColumnFeed[]): FeedPlan => ({ input: 'x', dtype: 'float32', rank: 2, columns });

interface Read {
  rows: number[];
  values: number[];
  rejected: Batch['rejected'];
}

async function readAll(file: DatasetFile, feeds: FeedPlan[]): Promise<Read> {
  const out: Read = { rows: [], values: [], rejected: {} };
  for await (const batch of readBatches(db, file, feeds, { batchSize: 4096, onError: 'skip', trackRows: true })) {
    out.rows.push(...[...batch.rowNumbers!].map(Number));
    out.values.push(...(batch.feeds['x']!.data as Float32Array));
    for (const [k, v] of Object.entries(batch.rejected)) out.rejected[k as keyof Batch['rejected']] = (out.rejected[k as keyof Batch['rejected']] ?? 0) + v!;
  }
  return out;
}

/** The reference: every column copied as text and every feature parsed row by row. */
async function parsedFromText(csv: DatasetFile, feeds: FeedPlan[]): Promise<Read> {
  const path = join(dir, `ref-${seq++}.parquet`);
  await db.exec(`COPY (SELECT * FROM read_csv($1, header = true, all_varchar = true)) TO $2 (FORMAT parquet)`, [csv.path, path]);
  const asText = feeds.map((f) => ({ ...f, columns: f.columns.map((c) => ({ ...c, columnType: 'VARCHAR' })) }));
  return readAll({ path, format: 'parquet' }, asText);
}

/** A fresh staging directory with its journal. */
async function newStaging(): Promise<{ staging: string; journal: Journal }> {
  const staging = join(dir, `staging-${seq++}`);
  await mkdir(staging);
  return { staging, journal: (await Journal.open(staging, 'test')).journal };
}

async function stage(csv: DatasetFile, feeds: FeedPlan[], passthrough: string[] = ['id']): Promise<{ file: DatasetFile; feeds: FeedPlan[]; types: Record<string, string> }> {
  const { staging, journal } = await newStaging();
  const staged = await stageSource(db, csv, 0, { target: join(staging, 'source-0.parquet'), journal, feeds, passthrough, allColumns: false });
  const types = Object.fromEntries((await describeFile(db, staged.file)).map((c) => [c.name, c.type]));
  return { ...staged, types };
}

describe('stageSource: a CSV staged as numbers', () => {
  const plain = [feedOf([col('a'), col('b'), col('c')])];

  it('plain float32 features are staged as FLOAT and read without a per-value parse, exactly as parsed from text', async () => {
    const csv = await writeCsv();
    const staged = await stage(csv, plain);
    expect(staged.types).toEqual({ id: 'VARCHAR', a: 'FLOAT', b: 'FLOAT', c: 'FLOAT' });
    expect(staged.feeds[0]!.columns.map((c) => [c.columnType, c.parsed])).toEqual([['FLOAT', false], ['FLOAT', false], ['FLOAT', false]]);
    expect(batchQuery(staged.file, staged.feeds).sql).not.toMatch(/TRY_CAST/);
    const got = await readAll(staged.file, staged.feeds);
    const want = await parsedFromText(csv, plain);
    expect(want.rejected).toMatchObject({ NULL_VALUE: expect.any(Number), NOT_FINITE: expect.any(Number) });
    expect(got).toEqual(want);
  });

  it.each([
    ['a number float32 cannot hold: the copy is made again with the numbers as DOUBLE', { 23_000: { b: '1e39' } }, 'OUT_OF_RANGE', 'DOUBLE'],
    ['text in a number column: the copy is made again with the features as text', { 23_500: { c: 'abc' } }, 'PARSE_ERROR', 'VARCHAR'],
    ['both: DOUBLE fails too, so text', { 22_000: { b: '1e39' }, 23_500: { c: 'abc' } }, 'PARSE_ERROR', 'VARCHAR'],
  ])('%s past the sniffed sample, rows judged the same', async (_what, extra, reason, type) => {
    const csv = await writeCsv(extra);
    const staged = await stage(csv, plain);
    expect(staged.types).toEqual({ id: 'VARCHAR', a: type, b: type, c: type });
    const got = await readAll(staged.file, staged.feeds);
    const want = await parsedFromText(csv, plain);
    expect(want.rejected[reason as keyof Batch['rejected']]).toBe(1);
    expect(got).toEqual(want);
  });

  it('a column sniffed as text stays text (parsed per row); the others are FLOAT', async () => {
    const csv = await writeCsv({ 5: { a: 'abc' } });
    const staged = await stage(csv, plain);
    expect(staged.types).toEqual({ id: 'VARCHAR', a: 'VARCHAR', b: 'FLOAT', c: 'FLOAT' });
    expect(staged.feeds[0]!.columns.map((c) => c.parsed)).toEqual([true, false, false]);
    expect(await readAll(staged.file, staged.feeds)).toEqual(await parsedFromText(csv, plain));
  });

  it('takes the column types validation read instead of sniffing the file again', async () => {
    const csv = await writeCsv();
    const { staging, journal } = await newStaging();
    // As if validation had read 'a' as text: it is not cast, so it keeps the type the copy reads.
    const columns = [{ name: 'id', type: 'VARCHAR' }, { name: 'a', type: 'VARCHAR' }, { name: 'b', type: 'DOUBLE' }, { name: 'c', type: 'DOUBLE' }];
    const staged = await stageSource(db, csv, 0, { target: join(staging, 'source-0.parquet'), journal, feeds: plain, passthrough: ['id'], allColumns: false, columns });
    const types = Object.fromEntries((await describeFile(db, staged.file)).map((c) => [c.name, c.type]));
    expect(types).toEqual({ id: 'VARCHAR', a: 'DOUBLE', b: 'FLOAT', c: 'FLOAT' });
  });

  it('a passed-through, range-checked or scaled column stays DOUBLE (judged and scaled before rounding), NULLs filled alike', async () => {
    const feeds = [feedOf([col('a', { nulls: { kind: 'fill', value: 0.25 } }), col('b', { range: [-0.5, 0.1] }), col('c', { scale: { mean: 0.1, std: 3 } })])];
    const csv = await writeCsv();
    const staged = await stage(csv, feeds, ['id', 'a']);
    expect(staged.types).toEqual({ id: 'VARCHAR', a: 'DOUBLE', b: 'DOUBLE', c: 'DOUBLE' });
    const got = await readAll(staged.file, staged.feeds);
    const want = await parsedFromText(csv, feeds);
    // 0.1 is inside [-0.5, 0.1] as a DOUBLE; as a FLOAT (0.100000001) it would not be.
    expect(want.rejected['OUT_OF_RANGE']).toBeGreaterThan(0);
    expect(got).toEqual(want);
  });

  it('a staged copy already journaled is not made again; its feeds come from its own schema', async () => {
    const csv = await writeCsv();
    const { staging, journal } = await newStaging();
    const options = { target: join(staging, 'source-0.parquet'), journal, feeds: plain, passthrough: ['id'], allColumns: false };
    const first = await stageSource(db, csv, 0, options);
    const before = await stat(first.file.path);
    const again = await stageSource(db, csv, 0, options);
    expect((await stat(again.file.path)).mtimeMs).toBe(before.mtimeMs);
    expect(again).toEqual(first);
  });

  it('with every column kept (quarantine), nothing is narrowed: the rejects file shows the values as they were', async () => {
    const csv = await writeCsv();
    const { staging, journal } = await newStaging();
    const staged = await stageSource(db, csv, 0, { target: join(staging, 'source-0.parquet'), journal, feeds: plain, passthrough: [], allColumns: true });
    const types = Object.fromEntries((await describeFile(db, staged.file)).map((c) => [c.name, c.type]));
    expect(types).toEqual({ id: 'VARCHAR', a: 'DOUBLE', b: 'DOUBLE', c: 'DOUBLE' });
    expect(await readAll(staged.file, staged.feeds)).toEqual(await parsedFromText(csv, plain));
  });
});

describe('floatStagedColumns / stagedFeeds', () => {
  it('stages as FLOAT only the columns every use of which is a plain float32 feature, and none that passes through', () => {
    const feeds: FeedPlan[] = [
      feedOf([col('a'), col('b', { range: [0, 1] }), col('c', { scale: { mean: 0, std: 1 } }), col('d'), col('e'), col('f', { nulls: { kind: 'fill', value: 1 } })]),
      { input: 'y', dtype: 'float64', rank: 1, columns: [col('e')] },
    ];
    expect([...floatStagedColumns(feeds, ['d'])].sort()).toEqual(['a', 'f']);
  });

  it('takes the parse out of float features whose staged column is a number; text, and integer inputs, keep it', () => {
    const feeds: FeedPlan[] = [feedOf([col('a'), col('b'), col('c')]), { input: 'n', dtype: 'int64', rank: 1, columns: [col('d', { columnType: 'BIGINT' })] }];
    const staged = stagedFeeds(feeds, [{ name: 'a', type: 'FLOAT' }, { name: 'b', type: 'DOUBLE' }, { name: 'c', type: 'VARCHAR' }, { name: 'd', type: 'BIGINT' }]);
    expect(staged.flatMap((f) => f.columns.map((c) => [c.column, c.columnType, c.parsed]))).toEqual([
      ['a', 'FLOAT', false],
      ['b', 'DOUBLE', false],
      ['c', 'DOUBLE', true],
      ['d', 'BIGINT', true],
    ]);
  });
});

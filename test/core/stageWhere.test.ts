import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { filteredRows, rowsToStage, stageSource } from '../../src/core/stageSource.js';
import { countRows, type DatasetFile } from '../../src/source/dataset.js';
import { Journal } from '../../src/sink/journal.js';

// A file with a `where` is staged through it: the staged copy holds the rows kept, and the
// journal records how many the filter left out (of a window's rows, with a window filter too).

let db: Db;
let dir: string;
let seq = 0;

beforeAll(async () => {
  db = await Db.open({ threads: 2 });
  dir = await mkdtemp(join(tmpdir(), 'batchinfer-stagewhere-'));
});
afterAll(async () => {
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

/** 120 rows, one a minute from 00:00 UTC: amount = the row number, ts its minute. */
async function parquet(): Promise<string> {
  const path = join(dir, `in-${seq++}.parquet`);
  await db.exec(`COPY (SELECT i::INTEGER AS amount, TIMESTAMPTZ '2026-11-29 00:00:00+00' + to_minutes(i) AS ts FROM range(120) t(i)) TO '${path}' (FORMAT parquet)`);
  return path;
}

async function stage(file: DatasetFile, filter?: { column: string; window: { start: Date; end: Date } }) {
  const staging = join(dir, `staging-${seq++}`);
  await mkdir(staging);
  const { journal } = await Journal.open(staging, 'test');
  const window = filter ? { filter: { column: filter.column, start: filter.window.start.toISOString(), end: filter.window.end.toISOString() } } : {};
  const staged = await stageSource(db, file, 0, { target: join(staging, 'source-0.parquet'), journal, feeds: [], passthrough: ['amount', 'twice'], allColumns: false, ...window });
  return { rows: await countRows(db, staged.file), filtered: filteredRows(journal, 'set'), staged: staged.file };
}

describe('staging through a where', () => {
  it('keeps the rows the where keeps, computed columns written into the copy, and journals the rest as filtered', async () => {
    const file: DatasetFile = { path: await parquet(), format: 'parquet', computed: [{ name: 'twice', sql: '("amount" * 2)' }], where: '(("amount" % 3) = 0)' };
    const { rows, filtered, staged } = await stage(file);
    expect([rows, filtered]).toEqual([40, 80]);
    const values = await db.query<{ amount: number; twice: number }>(`SELECT amount, twice FROM read_parquet('${staged.path}')`);
    expect(values.slice(0, 3)).toEqual([{ amount: 0, twice: 0 }, { amount: 3, twice: 6 }, { amount: 6, twice: 12 }]);
  });

  it('with a window: filtered counts only the window rows the where left out', async () => {
    const file: DatasetFile = { path: await parquet(), format: 'parquet', computed: [{ name: 'twice', sql: '("amount" * 2)' }], where: '(("amount" % 3) = 0)' };
    // 00:30 to 01:00: rows 30..59, of which 10 are multiples of 3.
    const window = { start: new Date('2026-11-29T00:30:00Z'), end: new Date('2026-11-29T01:00:00Z') };
    const { rows, filtered } = await stage(file, { column: 'ts', window });
    expect([rows, filtered]).toEqual([10, 20]);
  });

  it('no where: nothing is counted as filtered', async () => {
    const staging = join(dir, `staging-${seq++}`);
    await mkdir(staging);
    const { journal } = await Journal.open(staging, 'test');
    expect(filteredRows(journal, undefined)).toBeUndefined();
  });
});

describe('rowsToStage (the unit of a filtered file in a shard plan)', () => {
  it("counts the rows the staged copy will hold, before staging it: the where's, the window's, both's", async () => {
    const path = await parquet();
    const where: DatasetFile = { path, format: 'parquet', computed: [{ name: 'twice', sql: '("amount" * 2)' }], where: '(("twice" % 6) = 0)' };
    const window = { start: new Date('2026-11-29T00:30:00Z'), end: new Date('2026-11-29T01:00:00Z') };
    const filter = { column: 'ts', start: window.start.toISOString(), end: window.end.toISOString() };
    // Multiples of 3 among 0..119: 40; rows 30..59: 30; both: 10. Nothing filtered: 120.
    expect(await rowsToStage(db, where, null)).toBe(40);
    expect(await rowsToStage(db, { path, format: 'parquet' }, filter)).toBe(30);
    expect(await rowsToStage(db, where, filter)).toBe(10);
    expect(await rowsToStage(db, { path, format: 'parquet' }, null)).toBe(120);
    expect(await rowsToStage(db, where, filter)).toBe((await stage(where, { column: 'ts', window })).rows);
  });
});

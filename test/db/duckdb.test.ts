/**
 * Pins the parts of @duckdb/node-api that `Db` relies on beyond its public types
 * (`vector.items`, `dataView`, `validity`), so a version bump that changes them fails here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db, duckdbLibraryVersion, type AppendColumn, type ColumnChunk } from '../../src/db/duckdb.js';
import { FIXTURES_DIR } from '../helpers/reference.js';

let db: Db;
let dir: string;

beforeAll(async () => {
  db = await Db.open({ threads: 2 });
  dir = await mkdtemp(join(tmpdir(), 'batchinfer-duckdb-'));
});

afterAll(async () => {
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

async function collect(stream: AsyncGenerator<ColumnChunk>): Promise<ColumnChunk[]> {
  const chunks: ColumnChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

describe('Db.stream', () => {
  it('exposes typed items of the right class and length per column type', async () => {
    const chunks = await collect(
      db.stream(`
        SELECT i::FLOAT AS f, (i * 0.5)::DOUBLE AS d, i::INTEGER AS n, (i * 1000000000000)::BIGINT AS b, (i % 2 = 0) AS flag
        FROM range(5) t(i)`),
    );
    expect(chunks).toHaveLength(1);
    const [chunk] = chunks;
    expect(chunk!.rowCount).toBe(5);
    const [f, d, n, b, flag] = chunk!.columns;
    expect(f!.typeName).toBe('FLOAT');
    expect(d!.typeName).toBe('DOUBLE');
    expect(n!.typeName).toBe('INTEGER');
    expect(b!.typeName).toBe('BIGINT');
    expect(flag!.typeName).toBe('BOOLEAN');
    expect(f!.items).toBeInstanceOf(Float32Array);
    expect(d!.items).toBeInstanceOf(Float64Array);
    expect(n!.items).toBeInstanceOf(Int32Array);
    expect(b!.items).toBeInstanceOf(BigInt64Array);
    expect(flag!.items).toBeInstanceOf(Uint8Array);
    // One item per row of the chunk (a view of exactly rowCount values).
    for (const col of chunk!.columns) expect(col.items!.length).toBe(5);
    expect([...(f!.items as Float32Array).subarray(0, 5)]).toEqual([0, 1, 2, 3, 4]);
    expect([...(d!.items as Float64Array).subarray(0, 5)]).toEqual([0, 0.5, 1, 1.5, 2]);
    expect([...(n!.items as Int32Array).subarray(0, 5)]).toEqual([0, 1, 2, 3, 4]);
    expect([...(b!.items as BigInt64Array).subarray(0, 5)]).toEqual([0n, 1000000000000n, 2000000000000n, 3000000000000n, 4000000000000n]);
    expect([...(flag!.items as Uint8Array)]).toEqual([1, 0, 1, 0, 1]);
    for (const col of chunk!.columns) expect(col.hasNulls).toBe(false);
    expect(f!.value(3)).toBe(3);
    expect(b!.value(1)).toBe(1000000000000n);
    expect(flag!.value(1)).toBe(false);
  });

  it('reports NULLs through hasNulls and isValid, per column', async () => {
    const [chunk] = await collect(
      db.stream(`
        SELECT CASE WHEN i % 3 = 1 THEN NULL ELSE i::FLOAT END AS f,
               CASE WHEN i = 4 THEN NULL ELSE i::BIGINT END AS b,
               i::DOUBLE AS full
        FROM range(6) t(i)`),
    );
    const [f, b, full] = chunk!.columns;
    expect(f!.hasNulls).toBe(true);
    expect([0, 1, 2, 3, 4, 5].map((r) => f!.isValid(r))).toEqual([true, false, true, true, false, true]);
    expect(f!.value(1)).toBeNull();
    expect(b!.hasNulls).toBe(true);
    expect([0, 1, 2, 3, 4, 5].map((r) => b!.isValid(r))).toEqual([true, true, true, true, false, true]);
    expect(full!.hasNulls).toBe(false);
    expect(full!.isValid(4)).toBe(true);
  });

  it.each([
    [131, 130],
    [131, 64],
    [131, 63],
    [128, 127],
    [2048, 2047],
    [3, 0],
  ])('hasNulls finds a single NULL anywhere in the validity words (%i rows, NULL at %i)', async (rows, at) => {
    const chunks = await collect(db.stream(`SELECT CASE WHEN i = ${at} THEN NULL ELSE i END::DOUBLE AS v FROM range(${rows}) t(i)`));
    const withNull = chunks.filter((c) => c.columns[0]!.hasNulls);
    expect(withNull).toHaveLength(1);
    let base = 0;
    for (const c of chunks) {
      for (let r = 0; r < c.rowCount; r++) expect(c.columns[0]!.isValid(r)).toBe(base + r !== at);
      base += c.rowCount;
    }
  });

  it('hasNulls is false for partial validity words without NULLs', async () => {
    // A filter leaves a validity mask allocated on some vectors; rows past rowCount must not count.
    for (const rows of [1, 63, 65, 131]) {
      const chunks = await collect(db.stream(`SELECT v FROM (SELECT CASE WHEN i >= ${rows} THEN NULL ELSE i END::DOUBLE AS v FROM range(${rows + 5}) t(i)) WHERE v IS NOT NULL`));
      expect(chunks.reduce((n, c) => n + c.rowCount, 0)).toBe(rows);
      for (const c of chunks) expect(c.columns[0]!.hasNulls).toBe(false);
    }
  });

  it('gives VARCHAR through value(), with no typed view', async () => {
    const [chunk] = await collect(db.stream(`SELECT * FROM (VALUES ('a'), (NULL), ('a much longer string than twelve bytes'), ('café')) t(s)`));
    const [s] = chunk!.columns;
    expect(s!.typeName).toBe('VARCHAR');
    expect(s!.items).toBeNull();
    expect(s!.hasNulls).toBe(true);
    expect([0, 1, 2, 3].map((r) => s!.value(r))).toEqual(['a', null, 'a much longer string than twelve bytes', 'café']);
  });

  it('streams in chunks of at most 2048 rows, in order', async () => {
    const chunks = await collect(db.stream('SELECT i::INTEGER AS i FROM range(5000) t(i)'));
    expect(chunks.every((c) => c.rowCount <= 2048)).toBe(true);
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks.reduce((n, c) => n + c.rowCount, 0)).toBe(5000);
    for (const c of chunks) expect(c.columns[0]!.items!.length).toBe(c.rowCount);
    const values = chunks.flatMap((c) => [...(c.columns[0]!.items as Int32Array).subarray(0, c.rowCount)]);
    expect(values).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });

  it('yields nothing for an empty result', async () => {
    expect(await collect(db.stream('SELECT 1 AS x WHERE false'))).toEqual([]);
  });
});

describe('Db parameters', () => {
  it('binds scalars and lists', async () => {
    expect(await db.exec('SELECT $1 || $2', ['ab', 'cd'])).toBe('abcd');
    expect(await db.exec('SELECT list_position($1::VARCHAR[], $2)', [['grocery', 'travel', 'fuel'], 'fuel'])).toBe(3);
    expect(await db.exec('SELECT len($1::VARCHAR[])', [['a', null, 'c']])).toBe(3n);
    expect(await db.exec('SELECT list_sum($1::DOUBLE[])', [[1.5, 2.5]])).toBe(4);
    expect(await db.exec('SELECT $1::BIGINT + 1', [9007199254740993n])).toBe(9007199254740994n);
  });

  it('query returns row objects', async () => {
    const rows = await db.query<{ a: number; b: string }>('SELECT i::INTEGER AS a, $1 AS b FROM range(2) t(i) ORDER BY a', ['x']);
    expect(rows).toEqual([
      { a: 0, b: 'x' },
      { a: 1, b: 'x' },
    ]);
  });

  it('exec returns undefined for a statement without rows', async () => {
    expect(await db.exec('CREATE TEMP TABLE no_rows (a INTEGER)')).toBeUndefined();
  });
});

/** Appends through one appender, as a part writer does, and flushes. */
async function appendColumns(table: string, columns: AppendColumn[], rowCount: number): Promise<void> {
  const appender = await db.appender(table);
  try {
    appender.append(columns, rowCount);
  } finally {
    appender.close();
  }
}

describe('Db.appender', () => {
  it('round-trips typed arrays across several 2048-row chunks', async () => {
    const n = 5000;
    const f32 = Float32Array.from({ length: n }, (_, i) => Math.fround(i * 0.25 - 100.1));
    const i32 = Int32Array.from({ length: n }, (_, i) => i * 7 - 3);
    const f64 = Float64Array.from({ length: n }, (_, i) => i / 3);
    const i64 = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 10_000_000_000n - 1n);
    const bools = Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : i % 3 === 1 ? 0 : 7));
    await db.exec('CREATE TABLE appended (f FLOAT, i INTEGER, d DOUBLE, b BIGINT, flag BOOLEAN)');
    await appendColumns(
      'appended',
      [
        { type: 'FLOAT', data: f32 },
        { type: 'INTEGER', data: i32 },
        { type: 'DOUBLE', data: f64 },
        { type: 'BIGINT', data: i64 },
        { type: 'BOOLEAN', data: bools },
      ],
      n,
    );
    expect(await db.exec('SELECT count(*) FROM appended')).toBe(BigInt(n));
    expect(await db.exec('SELECT count(*) FROM appended WHERE f IS NULL OR i IS NULL OR d IS NULL OR b IS NULL OR flag IS NULL')).toBe(0n);
    const rows = await db.query<{ f: number; i: number; d: number; b: bigint; flag: boolean }>('SELECT * FROM appended');
    expect(rows).toHaveLength(n);
    for (const r of [0, 1, 2, 2047, 2048, 2049, 4095, 4096, 4999]) {
      expect(rows[r]).toEqual({ f: f32[r], i: i32[r], d: f64[r], b: i64[r], flag: bools[r] !== 0 });
    }
    // Every row, not just the boundaries.
    expect(rows.map((r) => r.i)).toEqual([...i32]);
    expect(rows.map((r) => r.f)).toEqual([...f32]);
    expect(rows.map((r) => r.flag)).toEqual([...bools].map((v) => v !== 0));
  });

  it('appends only the first rowCount rows', async () => {
    await db.exec('CREATE TABLE partial (v DOUBLE)');
    await appendColumns('partial', [{ type: 'DOUBLE', data: new Float64Array([1, 2, 3, 4]) }], 3);
    expect(await db.query('SELECT v FROM partial')).toEqual([{ v: 1 }, { v: 2 }, { v: 3 }]);
  });

  it('appends exactly one full chunk', async () => {
    await db.exec('CREATE TABLE full_chunk (v INTEGER)');
    await appendColumns('full_chunk', [{ type: 'INTEGER', data: Int32Array.from({ length: 2048 }, (_, i) => i) }], 2048);
    expect(await db.query('SELECT count(*) AS n, sum(v) AS s FROM full_chunk')).toEqual([{ n: 2048n, s: 2047n * 1024n }]);
  });
});

describe('Db.exec of COPY', () => {
  it('returns the row count written, and the file reads back', async () => {
    const path = join(dir, 'copy.parquet');
    const count = await db.exec(`COPY (SELECT i FROM range(1234) t(i)) TO '${path.replace(/'/g, "''")}' (FORMAT parquet)`);
    expect(count).toBe(1234n);
    expect(await db.exec('SELECT count(*) FROM read_parquet($1)', [path])).toBe(1234n);
  });
});

describe('Db.fork', () => {
  it('gives a second connection usable while a stream is open on the first', async () => {
    const writer = await db.fork();
    try {
      await writer.exec('CREATE TABLE forked (v INTEGER)');
      let total = 0;
      for await (const chunk of db.stream('SELECT i::INTEGER AS i FROM range(6000) t(i)')) {
        const values = (chunk.columns[0]!.items as Int32Array).slice(0, chunk.rowCount);
        const appender = await writer.appender('forked');
        appender.append([{ type: 'INTEGER', data: values }], chunk.rowCount);
        appender.close();
        total += chunk.rowCount;
        // The writer can query too, mid-stream.
        expect(await writer.exec('SELECT count(*) FROM forked')).toBe(BigInt(total));
      }
      expect(total).toBe(6000);
      // Both connections see the same database.
      expect(await db.exec('SELECT sum(v) FROM forked')).toBe(BigInt((5999 * 6000) / 2));
    } finally {
      writer.close();
    }
    // Closing the fork leaves the owner open.
    expect(await db.exec('SELECT 42')).toBe(42);
  });

  it('reads fixture Parquet in file order', async () => {
    const path = join(FIXTURES_DIR, 'data', 'transactions.parquet');
    const ids: string[] = [];
    for await (const chunk of db.stream('SELECT txn_id FROM read_parquet($1)', [path])) {
      for (let r = 0; r < chunk.rowCount; r++) ids.push(chunk.columns[0]!.value(r) as string);
    }
    expect(ids).toHaveLength(3000);
    expect(ids.every((id, i) => id === `t${String(i).padStart(5, '0')}`)).toBe(true);
  });
});

describe('duckdbLibraryVersion', () => {
  it('is a v-prefixed version', () => {
    expect(duckdbLibraryVersion()).toMatch(/^v\d+\.\d+\.\d+/);
  });
});

describe('Db threads', () => {
  it('withThreads runs at the given count and puts the previous one back, also when the work fails', async () => {
    const other = await db.fork();
    try {
      expect(await db.threads()).toBe(2);
      // A setting of the database: another connection sees it while the work runs.
      expect(await db.withThreads(1, () => other.threads())).toBe(1);
      expect(await db.threads()).toBe(2);
      await expect(db.withThreads(1, () => db.exec('SELECT no_such_column'))).rejects.toThrow();
      expect(await other.threads()).toBe(2);
    } finally {
      other.close();
    }
  });
});

/**
 * Joining Parquet parts by copying their row groups: DuckDB must read the joined file as the
 * parts in order, with every type, NULL, dictionary page and row group intact.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetReadObjects } from 'hyparquet';
import { Db } from '../../src/db/duckdb.js';
import { concatParquet } from '../../src/sink/parquetConcat.js';
import { decodeStruct, encodeStruct } from '../../src/util/thriftCompact.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-concat-');
let db: Db;
let dir: string;

/** Rows [from, to) of a table with strings (some repeating: dictionary pages), NULLs, decimals, times, lists. */
const PART_SQL = `SELECT i AS id, 'row ' || i AS label, CASE WHEN i % 7 = 0 THEN NULL ELSE i * 0.5 END AS score,
  (['a', 'b', 'c'])[i % 3 + 1] AS category, CAST(i AS DECIMAL(12, 2)) / 3 AS price,
  TIMESTAMP '2026-11-29 00:00:00' + to_seconds(i) AS ts, [i, i + 1] AS pair, i % 2 = 0 AS even
  FROM range($1, $2) t(i)`;

async function writePart(name: string, from: number, to: number, options = 'COMPRESSION zstd, ROW_GROUP_SIZE 2048'): Promise<string> {
  const path = join(dir, name);
  await db.exec(`COPY (${PART_SQL}) TO $3 (FORMAT parquet, ${options})`, [from, to, path]);
  return path;
}

beforeAll(async () => {
  db = await Db.open({ threads: 1 });
  dir = await tmp.make();
});
afterAll(() => db?.close());

describe('concatParquet', () => {
  it('joins parts (several row groups each) into a file DuckDB reads as the parts in order', async () => {
    const parts = [await writePart('a.parquet', 0, 5000), await writePart('b.parquet', 5000, 5001), await writePart('c.parquet', 5001, 12000, 'COMPRESSION snappy, ROW_GROUP_SIZE 4096')];
    // Compression differs per part (it is per column chunk); the schema is what must match.
    const out = join(dir, 'joined.parquet');
    expect(await concatParquet(parts, out)).toMatch(/^[0-9a-f]{64}$/);
    const expected = await db.query(`SELECT * FROM read_parquet($1::VARCHAR[]) ORDER BY id`, [parts]);
    const actual = await db.query(`SELECT * FROM read_parquet($1)`, [out]);
    expect(actual).toHaveLength(12000);
    expect(actual).toEqual(expected);
    // Filters are pushed into the scan through the moved row-group offsets and statistics.
    const slice = await db.query(`SELECT id, label, score FROM read_parquet($1) WHERE id BETWEEN 4999 AND 5002 ORDER BY id`, [out]);
    expect(slice).toEqual(expected.filter((r) => Number(r['id']) >= 4999 && Number(r['id']) <= 5002).map((r) => ({ id: r['id'], label: r['label'], score: r['score'] })));
    const groups = await db.query<{ n: bigint }>(`SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata($1)`, [out]);
    const partGroups = await db.query<{ n: bigint }>(`SELECT count(DISTINCT (file_name, row_group_id)) AS n FROM parquet_metadata($1::VARCHAR[])`, [parts]);
    expect(groups[0]!.n).toBe(partGroups[0]!.n);
    const rows = await db.query<{ n: bigint }>(`SELECT num_rows AS n FROM parquet_file_metadata($1)`, [out]);
    expect(rows[0]!.n).toBe(12000n);
  });

  it('an independent reader (hyparquet) reads the joined file as the parts in order', async () => {
    const parts = [await writePart('h1.parquet', 0, 3000, 'COMPRESSION snappy, ROW_GROUP_SIZE 2048'), await writePart('h2.parquet', 3000, 7000, 'COMPRESSION uncompressed, ROW_GROUP_SIZE 2048')];
    const out = join(dir, 'hy.parquet');
    expect(await concatParquet(parts, out)).toMatch(/^[0-9a-f]{64}$/);
    const bytes = await readFile(out);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const rows = (await parquetReadObjects({ file, columns: ['id', 'label', 'score', 'even'] })) as { id: bigint; label: string; score: number | null; even: boolean }[];
    expect(rows).toHaveLength(7000);
    const expected = await db.query<{ id: bigint; label: string; score: number | null; even: boolean }>(`SELECT id, label, score, even FROM read_parquet($1::VARCHAR[]) ORDER BY id`, [parts]);
    expect(rows.map((r) => [r.id, r.label, r.score, r.even])).toEqual(expected.map((r) => [r.id, r.label, r.score, r.even]));
  });

  it('keeps each row group\'s statistics and bloom filters usable: the moved offsets point at them', async () => {
    const parts = [await writePart('s1.parquet', 0, 3000), await writePart('s2.parquet', 3000, 9000)];
    const out = join(dir, 'stats.parquet');
    expect(await concatParquet(parts, out)).toMatch(/^[0-9a-f]{64}$/);
    const stats = (sql: string, files: string | string[]) =>
      db.query<Record<string, unknown>>(`SELECT path_in_schema, stats_min_value, stats_max_value, stats_null_count, bloom_filter_offset IS NOT NULL AS has_bloom FROM parquet_metadata(${sql}) ORDER BY file_name, row_group_id, column_id`, [files]);
    const joined = await stats('$1', out);
    const separate = await stats('$1::VARCHAR[]', parts);
    expect(joined).toEqual(separate);
    expect(joined.some((r) => r['has_bloom'] === true)).toBe(true);
    // A bloom filter probe reads the filter at its moved offset: it must rule out a value no row
    // group holds, and never a value a row group does hold.
    const probe = async (value: string) => db.query<{ row_group_id: bigint; bloom_filter_excludes: boolean }>(`SELECT row_group_id, bloom_filter_excludes FROM parquet_bloom_probe($1, 'category', $2) ORDER BY row_group_id`, [out, value]);
    expect((await probe('b')).every((r) => r.bloom_filter_excludes === false)).toBe(true);
    expect((await probe('zzz')).every((r) => r.bloom_filter_excludes === true)).toBe(true);
  });

  it('refuses parts whose schemas differ (the caller then merges through DuckDB) and writes nothing', async () => {
    const a = await writePart('s1.parquet', 0, 10);
    const b = join(dir, 's2.parquet');
    await db.exec(`COPY (SELECT i AS id FROM range(3) t(i)) TO $1 (FORMAT parquet)`, [b]);
    const out = join(dir, 'refused.parquet');
    expect(await concatParquet([a, b], out)).toBeNull();
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('returns the sha256 of the file it wrote: the hash of its bytes read back', async () => {
    // Parts larger than one copy chunk (8 MiB) are copied in several chunks: each is hashed in file order.
    await db.exec(`COPY (SELECT i AS id, md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS label, CASE WHEN i % 7 = 0 THEN NULL ELSE i * 0.5 END AS score, (['a', 'b', 'c'])[i % 3 + 1] AS category, CAST(i AS DECIMAL(12, 2)) / 3 AS price, TIMESTAMP '2026-11-29 00:00:00' + to_seconds(i) AS ts, [i, i + 1] AS pair, i % 2 = 0 AS even FROM range(0, 300000) t(i)) TO $1 (FORMAT parquet, COMPRESSION uncompressed)`, [join(dir, 'big.parquet')]);
    const parts = [await writePart('x1.parquet', 0, 4000), join(dir, 'big.parquet'), await writePart('x2.parquet', 4000, 4001), await writePart('x3.parquet', 4001, 9000, 'COMPRESSION snappy, ROW_GROUP_SIZE 1024')];
    expect((await readFile(parts[1]!)).length).toBeGreaterThan(8 << 20);
    const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
    for (const [n, inputs] of [[parts[0]!], parts, parts.slice(2)].entries()) {
      const out = join(dir, `hashed-${n}.parquet`);
      const hash = await concatParquet(inputs, out);
      expect(hash).toBe(sha256(await readFile(out)));
    }
    const b = join(dir, 'other-schema.parquet');
    await db.exec(`COPY (SELECT i AS id FROM range(3) t(i)) TO $1 (FORMAT parquet)`, [b]);
    expect(await concatParquet([parts[0]!, b], join(dir, 'hashed-refused.parquet'))).toBeNull();
  });

  it('a file that is not Parquet is an error', async () => {
    const bad = join(dir, 'bad.parquet');
    await writeFile(bad, 'not parquet at all');
    await expect(concatParquet([bad], join(dir, 'x.parquet'))).rejects.toThrow(/not a Parquet file/);
  });

  it('the thrift codec gives back the footer bytes it read', async () => {
    const path = await writePart('f.parquet', 0, 3000);
    const bytes = await readFile(path);
    const length = bytes.readUInt32LE(bytes.length - 8);
    const footer = bytes.subarray(bytes.length - 8 - length, bytes.length - 8);
    expect(Buffer.from(encodeStruct(decodeStruct(footer))).equals(footer)).toBe(true);
  });
});

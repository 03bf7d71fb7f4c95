/**
 * Merging encrypted parts (partsRelation.ts): without union_by_name (DuckDB 1.5's internal
 * error with encryption_config), in part order, widening types when the parts disagree.
 * Encrypted writes use DuckDB's force_mbedtls_unsafe (unsafeTestCrypto): TEST ONLY.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { registerParquetKeys, writeKeyOption } from '../../src/db/parquetKeys.js';
import { partsRelation } from '../../src/sink/partsRelation.js';
import { Params } from '../../src/util/sql.js';

let dir: string;
let db: Db;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'batchinfer-parts-'));
  db = await Db.open();
  await registerParquetKeys(db, { output: { name: 'out', bytes: randomBytes(32) } }, { unsafeTestCrypto: true });
});
afterAll(async () => {
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

async function part(name: string, sql: string): Promise<string> {
  const path = join(dir, name);
  await db.exec(`COPY (${sql}) TO $1 (FORMAT parquet${writeKeyOption(db)})`, [path]);
  return path;
}

async function rows(files: string[]): Promise<Record<string, unknown>[]> {
  const params = new Params();
  const from = await partsRelation(db, files, params);
  return db.query(`SELECT * FROM ${from}`, params.values);
}

describe('partsRelation with encrypted parts', () => {
  it('parts of one schema: their rows in order', async () => {
    const a = await part('a.parquet', 'SELECT range AS id, range * 2 AS v FROM range(0, 3000)');
    const b = await part('b.parquet', 'SELECT range AS id, range * 2 AS v FROM range(3000, 5000)');
    const got = await rows([b, a]);
    expect(got.map((r) => Number(r['id']))).toEqual([...[...Array(2000).keys()].map((i) => i + 3000), ...Array(3000).keys()]);
  });

  it('parts that disagree (a number column read as text in one, a column only one has): by name, widened, in order', async () => {
    const a = await part('c.parquet', "SELECT range AS id, range * 1.5 AS amount FROM range(0, 3)");
    const b = await part('d.parquet', "SELECT range AS id, 'x' || range AS amount, true AS extra FROM range(3, 5)");
    const got = await rows([a, b]);
    expect(got).toEqual([
      { id: 0n, amount: '0.0', extra: null },
      { id: 1n, amount: '1.5', extra: null },
      { id: 2n, amount: '3.0', extra: null },
      { id: 3n, amount: 'x3', extra: true },
      { id: 4n, amount: 'x4', extra: true },
    ]);
  });
});

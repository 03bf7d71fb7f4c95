/**
 * Seeded benchmark datasets, generated once by DuckDB into bench/.cache (not committed):
 * an id string, a timestamp, a string category, `amount` with ~1% NULLs and 30 float
 * features. Parquet in row groups of 100k rows; CSV too where asked.
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

export interface BenchDataset {
  rows: number;
  parquet: string;
  csv?: string;
}

const FEATURES = Array.from({ length: 30 }, (_, i) => `((hash(i, ${i + 100}) % 2000001)::DOUBLE / 1000000.0 - 1.0)::FLOAT AS f${i}`).join(',\n  ');

const SELECT = `SELECT
  printf('id%010d', i) AS id,
  TIMESTAMP '2026-01-01 00:00:00' + to_seconds(i) AS ts,
  (['grocery', 'travel', 'fuel', 'electronics'])[1 + (hash(i, 1) % 4)::INTEGER] AS category,
  CASE WHEN hash(i, 2) % 100 = 0 THEN NULL ELSE round((hash(i, 3) % 100000)::DOUBLE / 100.0, 2) END AS amount,
  ${FEATURES}
FROM range($1::BIGINT) t(i)`;

/** Returns the dataset of `rows` rows, generating missing files (written to a temp name, then renamed). */
export async function benchDataset(cacheDir: string, rows: number, withCsv: boolean): Promise<BenchDataset> {
  mkdirSync(cacheDir, { recursive: true });
  const parquet = join(cacheDir, `bench-${rows}.parquet`);
  const csv = join(cacheDir, `bench-${rows}.csv`);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    if (!existsSync(parquet)) {
      await conn.run(`COPY (${SELECT}) TO $2 (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`, [rows, parquet + '.tmp']);
      renameSync(parquet + '.tmp', parquet);
    }
    if (withCsv && !existsSync(csv)) {
      await conn.run('COPY (SELECT * FROM read_parquet($1)) TO $2 (FORMAT csv, HEADER true)', [parquet, csv + '.tmp']);
      renameSync(csv + '.tmp', csv);
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return { rows, parquet, ...(withCsv ? { csv } : {}) };
}

/** The main example's dataset (fixtures/data/transactions.parquet) repeated to `rows` rows, in order. */
export async function transactionsCopy(cacheDir: string, fixture: string, rows: number): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, `transactions-${rows}.parquet`);
  if (existsSync(path)) return path;
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    await conn.run(
      `COPY (SELECT t.* FROM range(CAST(ceil($3::DOUBLE / 3000) AS BIGINT)) r(k), read_parquet($1) t ORDER BY k, txn_id LIMIT $3)
       TO $2 (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 100000)`,
      [fixture, path + '.tmp', rows],
    );
    renameSync(path + '.tmp', path);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  return path;
}

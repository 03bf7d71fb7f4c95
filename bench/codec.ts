/**
 * The Parquet writer's codec for a run's output, in isolation: 1M rows shaped like the bench's
 * output (id, predicted label, confidence and two probabilities, from the bench's input)
 * written with DuckDB's COPY under each codec, on 2 threads; wall, CPU and size, the last 3 of
 * 8 rounds (docs/performance.md, "The part COPY's codec").
 *
 *   npx tsx bench/codec.ts [bench/.cache/bench-1000000.parquet]
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const input = process.argv[2] ?? 'bench/.cache/bench-1000000.parquet';
const CODECS = ['COMPRESSION zstd', 'COMPRESSION zstd, COMPRESSION_LEVEL 1', 'COMPRESSION snappy', 'COMPRESSION lz4', 'COMPRESSION uncompressed'];

const dir = await mkdtemp(join(tmpdir(), 'bi-codec-'));
const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
const conn = await instance.connect();
await conn.run(
  `CREATE TABLE t AS SELECT id, CASE WHEN p > 0.5 THEN 'fraud' ELSE 'legit' END AS prediction, greatest(p, 1 - p)::FLOAT AS confidence, (1 - p)::FLOAT AS prob_legit, p::FLOAT AS prob_fraud
   FROM (SELECT id, (1 / (1 + exp(-(f0 * 3 + f1 * 2 - f2))))::FLOAT AS p FROM read_parquet($1))`,
  [input],
);
const path = join(dir, 'out.parquet');
for (let round = 0; round < 8; round++) {
  for (const codec of CODECS) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await conn.run(`COPY t TO $1 (FORMAT parquet, ${codec})`, [path]);
    const used = process.cpuUsage(cpu);
    if (round >= 5) console.log(`${codec.padEnd(40)} wall ${(performance.now() - started).toFixed(0)} ms  cpu ${((used.user + used.system) / 1000).toFixed(0)} ms  ${(statSync(path).size / 1e6).toFixed(2)} MB`);
  }
}
conn.closeSync();
await rm(dir, { recursive: true, force: true });

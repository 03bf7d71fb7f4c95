// What a data engineer would do without batchinfer for a linear model: DuckDB scores the
// logistic regression in SQL, Parquet to Parquet. Weights come as JSON on argv[4].
// Usage: node sqlScore.mjs FILE.parquet OUT.parquet WEIGHTS_JSON -> {"seconds": ..., "cpuSeconds": ..., "rows": ...}
import { DuckDBInstance } from '@duckdb/node-api';
import { cpuSince } from './cpu.mjs';

const [file, out, weightsJson] = process.argv.slice(2);
const { w, b } = JSON.parse(weightsJson);
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const started = performance.now();
const cpuStart = process.cpuUsage();
const params = [file, out, ...w, b];
const dot = w.map((_, i) => `f${i} * $${i + 3}`).join(' + ');
const reader = await conn.runAndReadAll(
  `COPY (SELECT id, (1 / (1 + exp(-(${dot} + $${w.length + 3}))))::FLOAT AS probability FROM read_parquet($1)) TO $2 (FORMAT parquet, COMPRESSION zstd)`,
  params,
);
const rows = Number(reader.getRowsJS()[0][0]);
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSince(cpuStart), rows }));

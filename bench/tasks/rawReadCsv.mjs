// Raw CSV read: DuckDB's own read_csv of the whole file (every column, types sniffed), its
// rows streamed and dropped; the time DuckDB alone needs to read the file (target F4).
// Usage: node rawReadCsv.mjs FILE.csv -> {"seconds": ..., "cpuSeconds": ..., "rows": ...}
import { DuckDBInstance } from '@duckdb/node-api';
import { cpuSince } from './cpu.mjs';

const [file] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const started = performance.now();
const cpuStart = process.cpuUsage();
const result = await conn.stream('SELECT * FROM read_csv($1)', [file]);
let rows = 0;
for (;;) {
  const chunk = await result.fetchChunk();
  if (!chunk || chunk.rowCount === 0) break;
  rows += chunk.rowCount;
}
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSince(cpuStart), rows }));

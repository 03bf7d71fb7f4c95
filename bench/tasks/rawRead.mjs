// Raw read: DuckDB streams the 30 feature columns of a Parquet file into Float32Array columns.
// Usage: node rawRead.mjs FILE.parquet  -> prints {"seconds": ..., "cpuSeconds": ..., "rows": ...}
import { DuckDBInstance } from '@duckdb/node-api';
import { cpuSince } from './cpu.mjs';

const [file] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
// Count first: a second query on the connection would end the stream.
const total = Number((await (await conn.runAndReadAll('SELECT count(*) FROM read_parquet($1)', [file])).getRowsJS())[0][0]);
const columns = Array.from({ length: 30 }, () => new Float32Array(total));
const started = performance.now();
const cpuStart = process.cpuUsage();
const cols = Array.from({ length: 30 }, (_, i) => `f${i}::FLOAT AS f${i}`).join(', ');
const result = await conn.stream(`SELECT ${cols} FROM read_parquet($1)`, [file]);
let rows = 0;
for (;;) {
  const chunk = await result.fetchChunk();
  if (!chunk || chunk.rowCount === 0) break;
  for (let c = 0; c < 30; c++) columns[c].set(chunk.getColumnVector(c).items, rows);
  rows += chunk.rowCount;
}
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSince(cpuStart), rows }));

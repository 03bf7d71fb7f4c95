// Raw write: DuckDB writes id + prediction + confidence + 2 probabilities to Parquet, the
// predictions appended from typed arrays and the ids read straight from the source file.
// Usage: node rawWrite.mjs FILE.parquet OUT.parquet -> {"seconds": ..., "cpuSeconds": ..., "rows": ...}
import { DuckDBInstance, DuckDBDataChunk, FLOAT, INTEGER } from '@duckdb/node-api';
import { cpuSince } from './cpu.mjs';

const [file, out] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const rows = Number((await (await conn.runAndReadAll('SELECT count(*) FROM read_parquet($1)', [file])).getRowsJS())[0][0]);
const pred = new Int32Array(rows).map((_, i) => i & 1);
const p1 = new Float32Array(rows).map((_, i) => (i % 1000) / 1000);
const p0 = p1.map((p) => 1 - p);
const conf = p1.map((p, i) => Math.max(p, p0[i]));
const started = performance.now();
const cpuStart = process.cpuUsage();
await conn.run('CREATE TABLE preds (pred INTEGER, confidence FLOAT, p0 FLOAT, p1 FLOAT)');
const appender = await conn.createAppender('preds');
for (let off = 0; off < rows; off += 2048) {
  const n = Math.min(2048, rows - off);
  const chunk = DuckDBDataChunk.create([INTEGER, FLOAT, FLOAT, FLOAT], n);
  [pred, conf, p0, p1].forEach((a, c) => {
    const v = chunk.getColumnVector(c);
    v.items.set(a.subarray(off, off + n));
    v.flush();
  });
  appender.appendDataChunk(chunk);
}
appender.flushSync();
appender.closeSync();
await conn.run(
  `COPY (SELECT s.id, ['legit','fraud'][p.pred + 1] AS prediction, p.confidence, p.p0 AS prob_legit, p.p1 AS prob_fraud
         FROM (SELECT id FROM read_parquet($1)) s POSITIONAL JOIN preds p) TO $2 (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)`,
  [file, out],
);
console.log(JSON.stringify({ seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSince(cpuStart), rows }));

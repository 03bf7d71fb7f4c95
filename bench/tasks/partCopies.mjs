// The cost of writing a run's predictions as parts: one COPY per part joining the part's
// predictions with the `id` column read from the source over the part's rows (as
// sink/partWriter.ts writes a part), DuckDB on one thread. Compares part sizes.
// Usage: node partCopies.mjs FILE.parquet PART_ROWS OUTDIR [metadata-cache]
//   -> {"parts": ..., "seconds": ..., "cpuSeconds": ..., "rows": ...}
import { DuckDBInstance } from '@duckdb/node-api';
import { cpuSince } from './cpu.mjs';

const [file, partRowsText, outDir, cache] = process.argv.slice(2);
const partRows = Number(partRowsText);
const db = await DuckDBInstance.create(':memory:', { threads: '1', preserve_insertion_order: 'true' });
const conn = await db.connect();
if (cache === 'metadata-cache') await conn.run('SET parquet_metadata_cache = true');
const rows = Number((await (await conn.runAndReadAll('SELECT count(*) FROM read_parquet($1)', [file])).getRowsJS())[0][0]);
const started = performance.now();
const cpuStart = process.cpuUsage();
let parts = 0;
for (let start = 0; start < rows; start += partRows, parts++) {
  const end = Math.min(rows, start + partRows);
  const source = 'SELECT id FROM read_parquet($1, file_row_number = true) WHERE file_row_number >= $2 AND file_row_number < $3';
  const predictions = 'SELECT (range % 7)::FLOAT AS p0, (range % 5)::FLOAT AS p1 FROM range($4)';
  await conn.run(`COPY (SELECT src.id, p.p0, p.p1 FROM (${source}) AS src POSITIONAL JOIN (${predictions}) AS p) TO $5 (FORMAT parquet, COMPRESSION zstd)`, [file, start, end, end - start, `${outDir}/part-${parts}.parquet`]);
}
console.log(JSON.stringify({ parts, seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSince(cpuStart), rows }));

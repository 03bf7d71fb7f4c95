/**
 * The rows of a run's Parquet part files, in order, as one relation for the COPY that merges
 * them (the output, the rejects file): columns matched by name, each of the widest type
 * (`union_by_name`). A CSV re-read as text has text passthrough columns where the other
 * files' parts have numbers, and the files of a glob may differ in columns the job does not use.
 *
 * Encrypted parts (the job's output key) cannot be read with `union_by_name`: DuckDB 1.5
 * fails with an internal error that invalidates the database (duckdb/duckdb#21508). They are
 * read as one list when their schemas agree (the usual case), else each file on its own,
 * joined with UNION ALL BY NAME (which widens types alike) and put back in order by part and
 * row number.
 */
import type { Db } from '../db/duckdb.js';
import { readKeyOption } from '../db/parquetKeys.js';
import { literalPath } from '../source/dataset.js';
import type { Params } from '../util/sql.js';

export async function partsRelation(db: Db, files: readonly string[], params: Params): Promise<string> {
  const key = db.parquetKeys.output;
  if (!key) return `read_parquet(${params.bind(files.map(literalPath))}::VARCHAR[], hive_partitioning = false, union_by_name = true)`;
  const keyed = readKeyOption(key);
  if (await sameSchemas(db, files, keyed)) return `read_parquet(${params.bind(files.map(literalPath))}::VARCHAR[], hive_partitioning = false${keyed})`;
  const each = files.map((file, i) => `SELECT * EXCLUDE (file_row_number), ${i} AS batchinfer_part, file_row_number AS batchinfer_row FROM read_parquet(${params.bind(literalPath(file))}, hive_partitioning = false, file_row_number = true${keyed})`);
  return `(SELECT * EXCLUDE (batchinfer_part, batchinfer_row) FROM (${each.join(' UNION ALL BY NAME ')}) ORDER BY batchinfer_part, batchinfer_row)`;
}

/** True when every file has the first one's column names and types (read from the footers). */
async function sameSchemas(db: Db, files: readonly string[], keyed: string): Promise<boolean> {
  let first: string | undefined;
  for (const file of files) {
    const rows = await db.query<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet($1, hive_partitioning = false${keyed})`, [literalPath(file)]);
    const schema = JSON.stringify(rows.map((r) => [r.column_name, r.column_type]));
    first ??= schema;
    if (schema !== first) return false;
  }
  return true;
}

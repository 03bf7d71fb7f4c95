/**
 * The quarantine file (on_error: quarantine): every rejected row with its original values,
 * row number, source file, column, reason and message. The per-part files are concatenated
 * in order and renamed into place just before the output itself is committed.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../db/duckdb.js';
import type { Part } from '../core/scoreFiles.js';
import { literalPath } from '../source/dataset.js';
import { commitRename } from './atomicFile.js';
import { outputTarget } from './outputPaths.js';

/** `<output>.rejects.parquet` unless the job names the file. */
export function rejectsPathFor(output: string, configured?: string): string {
  return configured ?? outputTarget(output) + '.rejects.parquet';
}

/**
 * Writes the rejects file from the parts' quarantine files; with no rejected row at all it
 * still writes one, empty, with the input's columns (`empty` writes that file).
 */
export async function commitRejects(db: Db, parts: Part[][], staging: string, target: string, empty: (path: string) => Promise<unknown>): Promise<number> {
  const files = parts.flat().flatMap((p) => (p.rejects ? [p.rejects] : []));
  const merged = join(staging, 'rejects.parquet');
  await rm(merged, { force: true });
  let rows = 0;
  if (files.length === 0) {
    await empty(merged);
  } else {
    rows = Number(await db.exec('COPY (SELECT * FROM read_parquet($1::VARCHAR[], hive_partitioning = false)) TO $2 (FORMAT parquet, COMPRESSION zstd)', [files.map(literalPath), merged]));
  }
  await commitRename(merged, target);
  return rows;
}

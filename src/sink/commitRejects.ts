/**
 * The quarantine file (on_error: quarantine): every rejected row with its original values,
 * row number, source file, column, reason and message. The per-part files are concatenated
 * in order and renamed into place just before the output itself is committed.
 */
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BatchinferError } from '../errors.js';
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
export async function commitRejects(db: Db, parts: Part[][], _staging: string, target: string, empty: (path: string) => Promise<unknown>): Promise<number> {
  const files = parts.flat().flatMap((p) => (p.rejects ? [p.rejects] : []));
  // Merged beside the target, not in the output's staging directory: `rejects:` may name a
  // directory that does not exist yet or another file system, where a rename from staging
  // fails (ENOENT, EXDEV) after the whole input was scored.
  const parent = dirname(target);
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    throw new BatchinferError('OUTPUT_UNWRITABLE', `cannot create the rejects file ${target}: ${(err as Error).message}`, { expected: 'a writable directory', actual: parent });
  }
  const merged = join(parent, `.${basename(target)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  let rows = 0;
  try {
    if (files.length === 0) {
      await empty(merged);
    } else {
      // By name, to the widest type: the files of a glob may differ in columns the job does not
      // use, and a CSV re-read as text (a value past DuckDB's type sample) quarantines text
      // where another file's rows are DOUBLE; casting 'abc' to the first file's type failed.
      rows = Number(await db.exec('COPY (SELECT * FROM read_parquet($1::VARCHAR[], hive_partitioning = false, union_by_name = true)) TO $2 (FORMAT parquet, COMPRESSION zstd)', [files.map(literalPath), merged]));
    }
  } catch (err) {
    await rm(merged, { force: true });
    if (err instanceof BatchinferError) throw err;
    throw new BatchinferError('OUTPUT_UNWRITABLE', `cannot write the rejects file ${target}: ${(err as Error).message.split('\n')[0]}`, { expected: 'a writable path', actual: target });
  }
  try {
    await commitRename(merged, target);
  } finally {
    await rm(merged, { force: true });
  }
  return rows;
}

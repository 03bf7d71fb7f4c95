/**
 * The quarantine file (on_error: quarantine): every rejected row with its original values,
 * row number, source file, column, reason and message. The per-part files are concatenated
 * in order beside the target (`stageRejects`), and renamed into place by the output's commit
 * just before its own rename, once everything else is written: a run that fails or dies
 * before that leaves no rejects file of its own.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BatchinferError } from '../errors.js';
import type { Db } from '../db/duckdb.js';
import type { Part } from './part.js';
import { writeKeyOption } from '../db/parquetKeys.js';
import { PARQUET_OPTIONS } from './outputFormat.js';
import { partsRelation } from './partsRelation.js';
import { Params } from '../util/sql.js';
import { applyMode, commitRename } from './atomicFile.js';
import { outputTarget, rejectsTempPath, summaryPath, WINDOW_REJECTS } from './outputPaths.js';
import { writeFailure } from '../util/writeFailure.js';
import { PathIdentity } from '../util/pathIdentity.js';

/** `<output>.rejects.parquet` unless the job names the file. */
export function rejectsPathFor(output: string, configured?: string, windowed = false): string {
  return configured ?? (windowed ? join(outputTarget(output), WINDOW_REJECTS) : outputTarget(output) + '.rejects.parquet');
}

/** A rejects file written under a temp name beside its target. */
export interface StagedRejects {
  /** Renames it into place: its target, or `at` (a window's, inside the staged window directory). */
  commit(at?: string): Promise<void>;
  /** Removes the temp file if it was not committed. */
  discard(): Promise<void>;
}

/**
 * Writes the rejects file from the parts' quarantine files under a temp name beside `target`;
 * with no rejected row at all it still writes one, empty, with the input's columns (`empty`
 * writes that file).
 */
export async function stageRejects(db: Db, parts: Part[][], target: string, empty: (path: string) => Promise<unknown>, options: { temp?: string; fileMode: number }): Promise<StagedRejects> {
  const temp = options.temp ?? rejectsTempPath(target);
  const files = parts.flat().flatMap((p) => (p.rejects ? [p.rejects] : []));
  // Merged beside the target, not in the output's staging directory: `rejects:` may name a
  // directory that does not exist yet or another file system, where a rename from staging
  // fails (ENOENT, EXDEV) after the whole input was scored. A window's own rejects file is
  // merged in its staging directory instead (`temp`), and committed with the window.
  const parent = dirname(temp);
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    throw writeFailure(parent, err) ?? new BatchinferError('OUTPUT_UNWRITABLE', `cannot create the rejects file ${target}: ${(err as Error).message}`, { expected: 'a writable directory', actual: parent });
  }
  // A fixed name (the output's lock keeps runs apart): one a crash left is written over by
  // the next run, which then renames or removes it.
  const merged = temp;
  await rm(merged, { force: true });
  try {
    // Created empty with its mode first, and DuckDB told to write into it (USE_TMP_FILE false:
    // by default it writes a new file beside an existing one and renames it over, with the
    // umask's mode), so the raw rows never sit under a wider mode; set again at the commit.
    await writeFile(merged, '', { mode: options.fileMode });
    await applyMode(merged, options.fileMode);
    if (files.length === 0) {
      await empty(merged);
    } else {
      // By name, to the widest type (partsRelation.ts): the files of a glob may differ in
      // columns the job does not use, and a CSV re-read as text (a value past DuckDB's type
      // sample) quarantines text where another file's rows are DOUBLE; casting 'abc' to the
      // first file's type failed. Encrypted with the output key when the job has one, as every
      // part they come from.
      const params = new Params();
      const from = await partsRelation(db, files, params);
      await db.exec(`COPY (SELECT * FROM ${from}) TO ${params.bind(merged)} (${PARQUET_OPTIONS}, USE_TMP_FILE false${writeKeyOption(db)})`, params.values);
    }
  } catch (err) {
    await rm(merged, { force: true });
    if (err instanceof BatchinferError) throw err;
    throw writeFailure(target, err) ?? new BatchinferError('OUTPUT_UNWRITABLE', `cannot write the rejects file ${target}: ${(err as Error).message.split('\n')[0]}`, { expected: 'a writable path', actual: target });
  }
  const discard = (): Promise<void> => rm(merged, { force: true });
  return {
    commit: async (at = target) => {
      try {
        await mkdir(dirname(at), { recursive: true });
        await commitRename(merged, at, false, options.fileMode);
      } finally {
        await discard();
      }
    },
    discard,
  };
}

async function someAsync<T>(items: readonly T[], test: (item: T) => Promise<boolean>): Promise<boolean> {
  for (const item of items) if (await test(item)) return true;
  return false;
}

/**
 * Removes the rejects file an earlier run left beside `output` when this run writes none, or
 * writes it elsewhere: a committed output never sits beside the rejected rows of another run.
 * The earlier run's summary names its rejects file; the default name is checked too.
 */
export async function removeStaleRejects(output: string, current: string | undefined, keep: readonly string[]): Promise<void> {
  const ids = new PathIdentity();
  const named = await readFile(summaryPath(output), 'utf8').then(
    (text) => (JSON.parse(text) as { rejects?: unknown }).rejects,
    () => undefined,
  );
  const stale = new Set([rejectsPathFor(output), ...(typeof named === 'string' ? [named] : [])]);
  for (const path of stale) {
    if (current !== undefined && resolve(path) === resolve(current)) continue;
    // A path the earlier run wrote its rejects to may hold an input or the model now.
    if (await someAsync(keep, async (k) => ids.sameEntry(path, await ids.real(k)))) continue;
    await rm(path, { force: true }).catch((err: unknown) => {
      throw writeFailure(path, err) ?? err;
    });
  }
}

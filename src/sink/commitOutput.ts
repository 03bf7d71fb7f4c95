/**
 * Commit: part files become the output in one rename. A file output is the single part, or
 * the parts merged in order; a directory output holds one file per input file. Until the
 * rename nothing exists at the output path, so a failed run leaves nothing behind.
 */
import { copyFile, link, mkdir, rename, rm } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { Db } from '../db/duckdb.js';
import { BatchinferError } from '../errors.js';
import { commitRename } from './atomicFile.js';
import { concatParquet } from './parquetConcat.js';
import { copyOptions, PARQUET_OPTIONS, type OutputFormat } from './outputFormat.js';
import { writeKeyOption } from '../db/parquetKeys.js';
import { partsRelation } from './partsRelation.js';
import { Params } from '../util/sql.js';
import { failpoint } from '../util/failpoint.js';
import { writeFailure } from '../util/writeFailure.js';

/** What the commit writes: the output path, a file (in its format) or a directory of one Parquet file per input. */
export interface OutputSpec {
  path: string;
  mode: 'file' | 'directory';
  format: OutputFormat;
  /** The input files, in order: a directory output names its files after them. */
  inputs: string[];
  /** Mode of the committed files (a directory's: `directoryModeOf`); default: the umask's. */
  fileMode?: number;
}

/**
 * Runs once the output is complete, before its rename: the files it will commit, where they are
 * until then, and the sha256 of the staged files this commit hashed as it wrote them (joined
 * parts), by staged path, for `describeOutputs` not to read them back.
 */
export type BeforeRename = (files: string[], staged: string[], hashes: ReadonlyMap<string, string>) => Promise<void>;

/** A merged file and, when the merge hashed it as it wrote it, its sha256. */
interface Merged {
  path: string;
  sha256?: string;
}

/**
 * Returns the committed output files. `parts[i]` are the part files of input file i, in order.
 * `beforeRename` runs once the output is complete, just before the rename that commits it,
 * with the files it will commit.
 */
export async function commitOutput(db: Db, output: OutputSpec, parts: string[][], staging: string, beforeRename: BeforeRename = async () => undefined): Promise<string[]> {
  const target = output.path.replace(/[\\/]+$/, '');
  // Only this commit's own staged files, hashed as it wrote them: nothing writes them again before the rename.
  const hashes = new Map<string, string>();
  if (output.mode === 'file') {
    const merged = output.format === 'parquet' ? await mergeParts(db, parts.flat(), join(staging, 'output.parquet')) : { path: await writeAs(db, output.format, parts.flat(), join(staging, `output.${output.format}`)) };
    if (merged.sha256 !== undefined) hashes.set(merged.path, merged.sha256);
    failpoint('commit-merged');
    await beforeRename([target], [merged.path], hashes);
    await commitRename(merged.path, target, false, output.fileMode);
    failpoint('commit-renamed');
    return [target];
  }
  const outDir = join(staging, 'output');
  // Left by a commit that failed (a full disk): its parts are still journaled, this one starts afresh.
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir);
  const names = uniqueNames(output.inputs.map((path) => basename(path, extname(path))));
  for (const [i, fileParts] of parts.entries()) {
    const merged = await mergeParts(db, fileParts, join(staging, `merged-${i}.parquet`));
    const dest = join(outDir, `${names[i]}.parquet`);
    // A lone part stays under its journaled name (linked, not moved), for a retry should the commit fail.
    if (fileParts.length === 1) await link(merged.path, dest).catch(() => copyFile(merged.path, dest));
    else await rename(merged.path, dest);
    if (merged.sha256 !== undefined) hashes.set(dest, merged.sha256);
  }
  failpoint('commit-merged');
  const files = names.map((n) => join(target, `${n}.parquet`));
  await beforeRename(files, names.map((n) => join(outDir, `${n}.parquet`)), hashes);
  await commitRename(outDir, target, true, output.fileMode);
  failpoint('commit-renamed');
  return files;
}

/**
 * One part is used as is; several are joined in order: row groups copied as they are when the
 * parts share one schema, else re-encoded by DuckDB. Hive partitioning is
 * off: under an output like `dt=2026-11-29/scores.parquet` DuckDB would add a `dt` column.
 */
async function mergeParts(db: Db, parts: string[], path: string): Promise<Merged> {
  if (parts.length === 1) return { path: parts[0]! };
  let sha256: string | undefined;
  await writeMerged(path, async () => {
    sha256 = await joinParts(db, parts, path);
  });
  return { path, sha256 };
}

/** Returns the joined file's sha256 when the row groups were copied (hashed as written); a DuckDB re-encode is not hashed. */
async function joinParts(db: Db, parts: string[], path: string): Promise<string | undefined> {
  // Parts of one schema (the usual case) are joined by copying their row groups; encrypted
  // ones cannot be: each module's AES-GCM tag covers its row group's ordinal and its file's
  // own id, so DuckDB decrypts them and encrypts the output afresh.
  const keyed = db.parquetKeys.output !== undefined;
  if (!keyed) {
    const sha256 = await concatParquet(parts, path);
    if (sha256 !== null) return sha256;
  }
  // One thread: an ordered parallel COPY buffers out-of-order row groups (memory growing with
  // the output), and the merge is a straight concatenation that one core keeps up with.
  await db.withThreads(1, () =>
    // By name, to the widest type (partsRelation.ts): a CSV re-read as text (a value past
    // DuckDB's type sample) has text passthrough columns where the other files' parts have
    // numbers, and casting to the first part's type failed on the first value that is not a number.
    copyParts(db, parts, path, `${PARQUET_OPTIONS}${writeKeyOption(db)}`),
  );
  return undefined;
}

/** COPY of the parts' rows, in order (partsRelation.ts), to `path` with `options`. */
async function copyParts(db: Db, parts: readonly string[], path: string, options: string): Promise<void> {
  const params = new Params();
  const from = await partsRelation(db, parts, params);
  await db.exec(`COPY (SELECT * FROM ${from}) TO ${params.bind(path)} (${options})`, params.values);
}

/** The parts, in order, written as one CSV or JSON Lines file (one thread keeps the order cheap). */
async function writeAs(db: Db, format: OutputFormat, parts: string[], path: string): Promise<string> {
  return writeMerged(path, async () => {
    await db.withThreads(1, () => copyParts(db, parts, path, copyOptions(format)));
  });
}

/**
 * Writes the file at `path` from the run's parts. The parts are this run's own files, so a
 * failure is the disk's (full, read-only) or the open-files limit: OUTPUT_UNWRITABLE naming
 * the path, with the half-written file removed (it would hold the space the next run needs).
 */
async function writeMerged(path: string, write: () => Promise<void>): Promise<string> {
  try {
    await write();
    return path;
  } catch (err) {
    await rm(path, { force: true });
    if (err instanceof BatchinferError) throw err;
    throw writeFailure(path, err) ?? new BatchinferError('OUTPUT_UNWRITABLE', `cannot write ${path}: ${(err as Error).message.split('\n')[0]}`, { expected: 'a writable output directory with free space', actual: path, cause: err });
  }
}

/** `a, a, a-1` -> `a, a-1, a-1-1`: two inputs with one stem must not overwrite each other. */
export function uniqueNames(stems: string[]): string[] {
  const used = new Set<string>();
  return stems.map((stem) => {
    let name = stem;
    for (let n = 1; used.has(name.toLowerCase()); n++) name = `${stem}-${n}`;
    used.add(name.toLowerCase());
    return name;
  });
}

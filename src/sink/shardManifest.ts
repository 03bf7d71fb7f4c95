/**
 * A shard's manifest: what one shard of a sharded run scored and wrote, written last and
 * atomically into its staging directory (`shard-I/manifest.json`, shardPaths.ts). Its presence
 * means the shard is done: a later attempt of that shard exits 0 without work, and `commit`
 * joins the parts it lists. It names the plan (by hash) and the plan units it covers, the rows
 * in, out and rejected, each part with its span of input rows, row count, size and sha256, the
 * stamp (size and mtime) of each input file it read, the model's sha256, which attempt wrote
 * it, and the profile of its rows when the run keeps one. No shard hashes an input: the commit
 * checks the shards' stamps agree with the plan's and hashes a window's inputs once, as a
 * single run's commit does.
 *
 * A shard that fails leaves a failure record beside its staging directory instead
 * (`shard-I.failed.json`), for `verify`; the attempt that succeeds removes it.
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchinferError } from '../errors.js';
import { writeFileAtomic } from './atomicFile.js';
import { sha256File } from './manifest.js';
import { shardAttemptPath, shardDir, shardFailurePath, shardManifestPath } from './shardPaths.js';
import { readOptional } from '../util/fs.js';
import { guardWrite } from '../util/writeFailure.js';

export const SHARD_MANIFEST_FORMAT = 'batchinfer-shard-manifest/2';
/** Manifests of earlier batchinfer versions (/1 held each input's sha256): their shards are stale, to be rerun. */
const OUTDATED_FORMATS: readonly string[] = ['batchinfer-shard-manifest/1'];

/** A file in the shard's staging directory, by name, with what it holds. */
export interface ShardFileEntry {
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** One part file: the scored rows of a span of one input file's rows. */
export interface ShardPartEntry extends ShardFileEntry {
  /** Index of the input file (in the plan's inputs). */
  input: number;
  /** The span of input file rows, [rowStart, rowEnd), rejected rows included. */
  rowStart: number;
  rowEnd: number;
  /** The span's rejected rows (on_error: quarantine), when there were any. */
  rejects?: ShardFileEntry;
}

/** An input file a shard read, stamped as it was when the shard finished reading it. */
export interface ShardInputStamp {
  /** Index of the input file (in the plan's inputs). */
  file: number;
  bytes: number;
  mtime: string;
}

export interface ShardManifest {
  format: typeof SHARD_MANIFEST_FORMAT;
  job: string;
  window: { start: string; end: string } | null;
  shard: { index: number; count: number };
  /** The hash of the plan the shard scored (planRecord.ts). */
  planHash: string;
  /** The plan's unit indexes the shard covered, in order. */
  units: number[];
  /** 1 for the first attempt of this shard. */
  attempt: number;
  /** The input files the shard read, stamped: the commit checks they are the plan's. */
  inputs: ShardInputStamp[];
  /** in = out (in the parts) + rejected; `filtered`: rows the job's `where` left out (in no other count), with a `where`. */
  rows: { in: number; out: number; rejected: number; filtered?: number };
  /** The rejected rows by reason (the commit's summary adds them up). */
  rejectedByReason?: Record<string, number>;
  parts: ShardPartEntry[];
  /** The profile of the shard's rows (its parts' merged), when the run keeps one: the commit merges the shards'. */
  profile?: ShardFileEntry;
  model: { path: string; sha256: string };
  /** A digest of each setting that decides the output (core/fingerprint.ts `outputSettings`): the shards of one run agree on all. */
  settings: Record<string, string>;
  versions: Record<string, string>;
  startedAt: string;
  finishedAt: string;
}

/** What a failed attempt leaves for `verify`. */
export interface ShardFailure {
  shard: number;
  attempt: number;
  code: string;
  exitCode: number;
  message: string;
  at: string;
}

/** A part file as the run finished it, before it is described for the manifest. */
export interface FinishedPart {
  /** Name in the shard's staging directory. */
  file: string;
  input: number;
  rowStart: number;
  rowEnd: number;
  rows: number;
  rejects?: { file: string; rows: number };
}

/**
 * The stamps (size, mtime) of the input files a shard reads (`shardInputs` of its plan), each
 * of which must still be the planned one: a file resized, touched or gone since the plan was
 * recorded is INPUTS_CHANGED (65). Without a content hash a touch cannot be told from a
 * rewrite of the same size, so both are a change, as they are for a run's journal.
 */
export async function stampShardInputs(files: readonly { file: number; path: string; bytes: number; mtime: string }[]): Promise<ShardInputStamp[]> {
  const stamps: ShardInputStamp[] = [];
  for (const f of files) {
    const now = await stat(f.path).then((st) => ({ bytes: st.size, mtime: st.mtime.toISOString() }), () => null);
    if (now === null) throw new BatchinferError('INPUTS_CHANGED', `input file ${f.path} is gone since the shards' plan was recorded`, { expected: `${f.bytes} bytes`, actual: 'no file' });
    if (now.bytes !== f.bytes) {
      throw new BatchinferError('INPUTS_CHANGED', `input file ${f.path} changed since the shards' plan was recorded (${f.bytes} -> ${now.bytes} bytes); shards of one run must score the same inputs`, { expected: `${f.bytes} bytes`, actual: `${now.bytes} bytes` });
    }
    if (now.mtime !== f.mtime) throw touched(f.path, f.mtime, now.mtime);
    stamps.push({ file: f.file, ...now });
  }
  return stamps;
}

/** A file of the plan's size whose mtime moved: the shards cannot tell it from a rewrite. */
export function touched(path: string, planned: string, now: string): BatchinferError {
  return new BatchinferError(
    'INPUTS_CHANGED',
    `input file ${path} was modified since the shards' plan was recorded (same size, mtime ${planned} -> ${now}); shards do not hash their inputs, so a touch counts as a change: restore the file, or remove the shards' directory and rerun every shard`,
    { expected: `mtime ${planned}`, actual: `mtime ${now}` },
  );
}

/** A file of shard `index`'s staging directory with its size and sha256. */
export async function describeShardFile(shardsDir: string, index: number, file: string, rows: number): Promise<ShardFileEntry> {
  const path = join(shardDir(shardsDir, index), file);
  return { file, rows, bytes: (await stat(path)).size, sha256: await sha256File(path) };
}

/** Adds size and sha256 to each part (and its rejects file), read from the shard's staging directory. */
export async function describeShardParts(shardsDir: string, index: number, parts: readonly FinishedPart[]): Promise<ShardPartEntry[]> {
  const describe = (file: string, rows: number): Promise<ShardFileEntry> => describeShardFile(shardsDir, index, file, rows);
  return Promise.all(
    parts.map(async (p) => ({
      ...(await describe(p.file, p.rows)),
      input: p.input,
      rowStart: p.rowStart,
      rowEnd: p.rowEnd,
      ...(p.rejects ? { rejects: await describe(p.rejects.file, p.rejects.rows) } : {}),
    })),
  );
}

/** Writes the manifest last and atomically: from then on the shard is done. */
export async function writeShardManifest(shardsDir: string, manifest: ShardManifest, fileMode?: number): Promise<void> {
  await writeFileAtomic(shardManifestPath(shardsDir, manifest.shard.index), JSON.stringify(manifest, null, 2) + '\n', fileMode);
}

/** Shard `index`'s manifest, or null when it has none. One that is not a shard manifest of this format is an error naming it. */
export async function readShardManifest(shardsDir: string, index: number): Promise<ShardManifest | null> {
  const read = await shardManifestOf(shardsDir, index);
  if (read === 'outdated') {
    const path = shardManifestPath(shardsDir, index);
    throw new BatchinferError('INPUT_INVALID', `the shard manifest ${path} was written by an earlier batchinfer: rerun that shard`, { expected: SHARD_MANIFEST_FORMAT, actual: 'an earlier format' });
  }
  return read;
}

/**
 * Shard `index`'s manifest as `verify` sees it: the manifest, 'outdated' (written in an
 * earlier format: the shard is stale, to be rerun), or null when it has none. A damaged one is
 * an error naming it.
 */
export async function shardManifestOf(shardsDir: string, index: number): Promise<ShardManifest | 'outdated' | null> {
  const path = shardManifestPath(shardsDir, index);
  const text = await readOptional(path);
  if (text === null) return null;
  let parsed: ShardManifest;
  try {
    parsed = JSON.parse(text) as ShardManifest;
  } catch {
    throw damaged(path, 'not JSON');
  }
  if (OUTDATED_FORMATS.includes(parsed?.format)) return 'outdated';
  if (parsed?.format !== SHARD_MANIFEST_FORMAT) throw damaged(path, `format ${JSON.stringify(parsed?.format ?? null)}`);
  return parsed;
}

export async function writeShardFailure(shardsDir: string, failure: ShardFailure): Promise<void> {
  await writeFileAtomic(shardFailurePath(shardsDir, failure.shard), JSON.stringify(failure, null, 2) + '\n');
}

/** Shard `index`'s failure record, or null when it has none (or an unreadable one: it only informs `verify`). */
export async function readShardFailure(shardsDir: string, index: number): Promise<ShardFailure | null> {
  const text = await readOptional(shardFailurePath(shardsDir, index));
  if (text === null) return null;
  try {
    return JSON.parse(text) as ShardFailure;
  } catch {
    return null;
  }
}

/**
 * Counts a new attempt of shard `index` and returns its number (1 for the first). Call it while
 * holding the shard's lock: the count is read, then written whole. Engines count retries each
 * their own way (SLURM_RESTART_COUNT, AWS_BATCH_JOB_ATTEMPT, none for a Kubernetes index); this
 * counts them the same on all, hand-started reruns included.
 */
export async function nextAttempt(shardsDir: string, index: number): Promise<number> {
  const path = shardAttemptPath(shardsDir, index);
  const before = Number((await readOptional(path)) ?? '0');
  const attempt = (Number.isSafeInteger(before) && before > 0 ? before : 0) + 1;
  await writeFileAtomic(path, `${attempt}\n`);
  return attempt;
}

/** Removes shard `index`'s failure record (its successful attempt does). */
export async function clearShardFailure(shardsDir: string, index: number): Promise<void> {
  const path = shardFailurePath(shardsDir, index);
  await guardWrite(path, () => rm(path, { force: true }));
}

function damaged(path: string, actual: string): BatchinferError {
  return new BatchinferError('INPUT_INVALID', `the shard manifest ${path} is damaged: remove it and rerun that shard`, { expected: SHARD_MANIFEST_FORMAT, actual });
}

/**
 * A shard's manifest: what one shard of a sharded run scored and wrote, written last and
 * atomically into its staging directory (`shard-I/manifest.json`, shardPaths.ts). Its presence
 * means the shard is done: a later attempt of that shard exits 0 without work, and `commit`
 * joins the parts it lists. It names the plan (by hash) and the plan units it covers, the rows
 * in, out and rejected, each part with its span of input rows, row count, size and sha256, the
 * content (size and sha256) of each input file it read, the model's sha256 and which attempt
 * wrote it.
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

export const SHARD_MANIFEST_FORMAT = 'batchinfer-shard-manifest/1';

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

/** An input file a shard read, as it was when the shard read it. */
export interface ShardInputHash {
  /** Index of the input file (in the plan's inputs). */
  file: number;
  bytes: number;
  sha256: string;
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
  /** The input files the shard read, with their content: the commit checks shards reading one file agree. */
  inputs: ShardInputHash[];
  /** in = out (in the parts) + rejected. */
  rows: { in: number; out: number; rejected: number };
  /** The rejected rows by reason (the commit's summary adds them up). */
  rejectedByReason?: Record<string, number>;
  parts: ShardPartEntry[];
  model: { path: string; sha256: string };
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
 * The content of the input files a shard reads (`shardInputs` of its plan): each file's size,
 * which must still be the planned one (else INPUTS_CHANGED, 65), and its sha256.
 */
export async function hashShardInputs(files: readonly { file: number; path: string; bytes: number }[]): Promise<ShardInputHash[]> {
  const hashes: ShardInputHash[] = [];
  for (const f of files) {
    const bytes = await stat(f.path).then((st) => st.size, () => null);
    if (bytes === null) throw new BatchinferError('INPUTS_CHANGED', `input file ${f.path} is gone since the shards' plan was recorded`, { expected: `${f.bytes} bytes`, actual: 'no file' });
    if (bytes !== f.bytes) {
      throw new BatchinferError('INPUTS_CHANGED', `input file ${f.path} changed since the shards' plan was recorded (${f.bytes} -> ${bytes} bytes); shards of one run must score the same inputs`, { expected: `${f.bytes} bytes`, actual: `${bytes} bytes` });
    }
    hashes.push({ file: f.file, bytes, sha256: await sha256File(f.path) });
  }
  return hashes;
}

/** Adds size and sha256 to each part (and its rejects file), read from the shard's staging directory. */
export async function describeShardParts(shardsDir: string, index: number, parts: readonly FinishedPart[]): Promise<ShardPartEntry[]> {
  const dir = shardDir(shardsDir, index);
  const describe = async (file: string, rows: number): Promise<ShardFileEntry> => ({ file, rows, bytes: (await stat(join(dir, file))).size, sha256: await sha256File(join(dir, file)) });
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

/** Shard `index`'s manifest, or null when it has none. One that is not a shard manifest is an error naming it. */
export async function readShardManifest(shardsDir: string, index: number): Promise<ShardManifest | null> {
  const path = shardManifestPath(shardsDir, index);
  const text = await readOptional(path);
  if (text === null) return null;
  let parsed: ShardManifest;
  try {
    parsed = JSON.parse(text) as ShardManifest;
  } catch {
    throw damaged(path, 'not JSON');
  }
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

/**
 * The `_SUCCESS` manifest of a committed output directory, written last: what was scored
 * (job, window, each input file with size and mtime), what came out (each file with its row
 * count and sha256), with which model and versions. Its presence means "complete"; its input
 * list lets a re-run tell whether the inputs changed since the commit.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const MANIFEST_NAME = '_SUCCESS';

export interface InputFileStamp {
  path: string;
  bytes: number;
  mtime: string;
  /** The content's sha256 (a window's manifest): a file touched but not changed is the same input. */
  sha256?: string;
}

export interface Manifest {
  format: 'batchinfer-manifest/1';
  job: string;
  window: { start: string; end: string } | null;
  inputs: InputFileStamp[];
  rows: { in: number; out: number; rejected: number };
  outputs: { file: string; rows: number; sha256: string }[];
  model: { path: string; sha256: string };
  versions: Record<string, string>;
  startedAt: string;
  finishedAt: string;
}

/** Size and mtime of each input file, in order. */
export async function stampInputs(paths: readonly string[]): Promise<InputFileStamp[]> {
  return Promise.all(
    paths.map(async (path) => {
      const s = await stat(path);
      return { path, bytes: s.size, mtime: s.mtime.toISOString() };
    }),
  );
}

/** The stamps with each file's sha256 added (for a window's manifest). */
export async function withContentHashes(stamps: readonly InputFileStamp[]): Promise<InputFileStamp[]> {
  return Promise.all(stamps.map(async (f) => ({ ...f, sha256: await sha256File(f.path) })));
}

/**
 * True when the inputs now are those committed: the same files with the same sizes and
 * mtimes, or, for a file whose mtime alone moved (`touch`, a copy that kept the bytes), the
 * same content by the sha256 the manifest holds.
 */
export async function sameInputContent(committed: readonly InputFileStamp[], now: readonly InputFileStamp[]): Promise<boolean> {
  if (committed.length !== now.length) return false;
  for (const [i, was] of committed.entries()) {
    const is = now[i]!;
    if (was.path !== is.path || was.bytes !== is.bytes) return false;
    if (was.mtime === is.mtime) continue;
    if (!was.sha256 || (await sha256File(is.path)) !== was.sha256) return false;
  }
  return true;
}

/** Describes how two input lists differ, for the "inputs changed" message. */
export function describeInputChange(committed: readonly InputFileStamp[], now: readonly InputFileStamp[]): string {
  const before = new Map(committed.map((f) => [f.path, f]));
  const after = new Map(now.map((f) => [f.path, f]));
  const changes: string[] = [];
  for (const f of now) {
    const old = before.get(f.path);
    if (!old) changes.push(`new file ${f.path}`);
    else if (old.bytes !== f.bytes) changes.push(`${f.path} changed (${old.bytes} -> ${f.bytes} bytes, mtime ${old.mtime} -> ${f.mtime})`);
    else if (old.mtime !== f.mtime) changes.push(`${f.path} changed (same size, mtime ${old.mtime} -> ${f.mtime}, ${old.sha256 ? 'other content' : 'no content hash to compare'})`);
  }
  for (const f of committed) if (!after.has(f.path)) changes.push(`${f.path} is gone`);
  return changes.join('; ') || 'file order changed';
}

/** Reads `<dir>/_SUCCESS`, or null when the directory holds no (readable) manifest. */
export async function readManifest(dir: string): Promise<Manifest | null> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, MANIFEST_NAME), 'utf8')) as Manifest;
    return parsed.format === 'batchinfer-manifest/1' ? parsed : null;
  } catch {
    return null;
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** One committed output file as a summary lists it, for readers to verify what they read. */
export interface OutputFileEntry {
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/**
 * `files` (where they will be) described from `staged` (where they are before the commit's
 * rename). `hashes` holds the sha256 of staged files the commit hashed as it wrote them (by
 * staged path); any other file is read and hashed here.
 */
export async function describeOutputs(files: readonly string[], staged: readonly string[], rows: readonly number[], hashes: ReadonlyMap<string, string> = new Map()): Promise<OutputFileEntry[]> {
  return Promise.all(files.map(async (file, i) => ({ file, rows: rows[i] ?? 0, bytes: (await stat(staged[i]!)).size, sha256: hashes.get(staged[i]!) ?? (await sha256File(staged[i]!)) })));
}

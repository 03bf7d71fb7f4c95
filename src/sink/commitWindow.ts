/**
 * Commits a window's output directory: the part files in order, then the `_SUCCESS` manifest
 * (written atomically), the summary and the window's own rejects file, all inside the staging
 * directory, which then takes the output's place: a first window in one rename; a window
 * scored again (--force) in two, the old directory moved aside first (rename(2) cannot
 * replace a non-empty directory), so for that moment the path is empty, never mixed.
 * Parts are hard-linked, not moved, so a crash during the commit leaves the journal's parts
 * intact for the next run.
 */
import { copyFile, link, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Db } from '../db/duckdb.js';
import type { Part } from './part.js';
import type { Window } from '../schedule/window.js';
import { commitRename, writeFileAtomic } from './atomicFile.js';
import { describeOutputs, MANIFEST_NAME, withContentHashes, type InputFileStamp, type Manifest, type OutputFileEntry } from './manifest.js';
import { outputTarget } from './outputPaths.js';
import { failpoint } from '../util/failpoint.js';

export interface WindowCommit {
  db: Db;
  /** The job's name, its (window's) output, and the model it scored with. */
  job: { name: string; output: string; model: { path: string; sha256: string } };
  versions: Record<string, string>;
  parts: Part[][];
  staging: string;
  window: Window;
  inputs: InputFileStamp[];
  startedAt: Date;
  rows: { in: number; out: number; rejected: number };
  /** Mode of the committed files (the directory's: `directoryModeOf`); default: the umask's. */
  fileMode?: number;
  /**
   * Runs once the directory and its manifest are complete, just before the rename that commits
   * them: the files it will commit (where they will be, with their rows, size and sha256) and the
   * staged directory, for run files committed with it.
   */
  beforeRename?(files: OutputFileEntry[], stagedDir: string): Promise<void>;
}

/** Returns the committed part files. */
export async function commitWindow(c: WindowCommit): Promise<string[]> {
  const target = outputTarget(c.job.output);
  const outDir = join(c.staging, 'output');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir);
  const parts = c.parts.flat();
  const names = parts.map((_, n) => `part-${String(n).padStart(5, '0')}.parquet`);
  for (const [n, part] of parts.entries()) await link(part.path, join(outDir, names[n]!)).catch(() => copyFile(part.path, join(outDir, names[n]!)));
  const entries = await describeOutputs(names.map((name) => join(target, name)), names.map((name) => join(outDir, name)), parts.map((p) => p.rows));
  const outputs: Manifest['outputs'] = entries.map((e, n) => ({ file: names[n]!, rows: e.rows, sha256: e.sha256 }));
  const manifest: Manifest = {
    format: 'batchinfer-manifest/1',
    job: c.job.name,
    window: { start: c.window.start.toISOString(), end: c.window.end.toISOString() },
    inputs: await withContentHashes(c.inputs),
    rows: c.rows,
    outputs,
    model: c.job.model,
    versions: { ...c.versions },
    startedAt: c.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
  };
  failpoint('commit-linked');
  await writeFileAtomic(join(outDir, MANIFEST_NAME), JSON.stringify(manifest, null, 2) + '\n', c.fileMode);
  failpoint('commit-manifest');
  await c.beforeRename?.(entries, outDir);
  await commitRename(outDir, target, true, c.fileMode);
  failpoint('commit-renamed');
  return entries.map((e) => e.file);
}

/**
 * A run's summary is written into its staging directory just before the commit's rename (so a
 * full disk fails the run before its output is committed), and moved beside the output just
 * after (a rename, which needs no free space). A run killed between the two leaves a committed
 * output without `<output>.summary.json`; for a window (its `_SUCCESS` manifest), the next run,
 * which skips it as committed, puts the staged summary in place (the manifest and the summary
 * name the same start time: they are of the same run).
 */
import { readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RunSummary } from '../core/summary.js';
import { fsyncPath, writeFileAtomic } from './atomicFile.js';
import type { Manifest } from './manifest.js';
import { guardWrite } from '../util/writeFailure.js';
import { stagingPathFor, summaryPath } from './outputPaths.js';

const STAGED_SUMMARY = 'summary.json';

/** Writes `summary` beside `output` as `<output>.summary.json`. */
export async function writeSummary(output: string, summary: RunSummary): Promise<void> {
  await writeJson(summaryPath(output), summary);
}

/** Keeps `summary` in the staging directory, for `recoverSummary`. */
export async function stageSummary(stagingDir: string, summary: RunSummary): Promise<void> {
  await writeJson(join(stagingDir, STAGED_SUMMARY), summary);
}

/** Moves the summary `stageSummary` kept in `stagingDir` beside `output`. */
export async function placeStagedSummary(stagingDir: string, output: string): Promise<void> {
  const target = summaryPath(output);
  await guardWrite(target, async () => {
    await rename(join(stagingDir, STAGED_SUMMARY), target);
    await fsyncPath(dirname(target));
  });
}

/**
 * Writes the summary of the run that committed `manifest` beside `output` when that run
 * stopped before writing it. Returns true when it did.
 */
export async function recoverSummary(output: string, manifest: Manifest): Promise<boolean> {
  const beside = await readSummary(summaryPath(output));
  if (beside?.startedAt === manifest.startedAt) return false;
  const staged = await readSummary(join(stagingPathFor(output), STAGED_SUMMARY));
  if (!staged || staged.startedAt !== manifest.startedAt || staged.window?.start !== manifest.window?.start) return false;
  const note = `written by a later run from the staging directory: the run that committed this window stopped before writing its summary (finishedAt is the commit's)`;
  const summary: RunSummary = { ...staged, finishedAt: manifest.finishedAt, warnings: [...staged.warnings, note] };
  await writeSummary(output, summary);
  return true;
}

function writeJson(path: string, summary: RunSummary): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(summary, null, 2) + '\n');
}

async function readSummary(path: string): Promise<RunSummary | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as RunSummary;
  } catch {
    return null;
  }
}

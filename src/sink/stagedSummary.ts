/**
 * A run's summary is written into its staging directory just before the commit's rename (so a
 * full disk fails the run before its output is committed), and moved beside the output just
 * after (a rename, which needs no free space). A window's is written inside its staged
 * directory instead, and committed with it.
 */
import { rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fsyncPath, writeFileAtomic } from './atomicFile.js';
import { guardWrite } from '../util/writeFailure.js';
import { profilePath, summaryPath } from './outputPaths.js';
import type { Profile } from '../profile/profile.js';
import { writeProfile } from '../profile/profileFile.js';

const STAGED_SUMMARY = 'summary.json';
const STAGED_PROFILE = 'profile.json';

/** Writes `summary` at `path` (a window's, inside its staged directory). */
export async function writeSummary(path: string, summary: object, fileMode?: number): Promise<void> {
  await writeJson(path, summary, fileMode);
}

/** Keeps `summary` in the staging directory, for `placeStagedSummary` after the commit. */
export async function stageSummary(stagingDir: string, summary: object, fileMode?: number): Promise<void> {
  await writeJson(join(stagingDir, STAGED_SUMMARY), summary, fileMode);
}

/** Moves the summary `stageSummary` kept in `stagingDir` beside `output`. */
export async function placeStagedSummary(stagingDir: string, output: string): Promise<void> {
  const target = summaryPath(output);
  await guardWrite(target, async () => {
    await rename(join(stagingDir, STAGED_SUMMARY), target);
    await fsyncPath(dirname(target));
  });
}

/** Keeps the run's profile in the staging directory, for `placeStagedProfile` after the commit (compact JSON: its sketches are long). */
export async function stageProfile(stagingDir: string, profile: Profile, fileMode?: number): Promise<void> {
  await writeProfile(join(stagingDir, STAGED_PROFILE), profile, fileMode);
}

/** Moves the profile `stageProfile` kept in `stagingDir` beside `output`; with none staged, removes an earlier run's. */
export async function placeStagedProfile(stagingDir: string, output: string, staged: boolean): Promise<void> {
  const target = profilePath(output);
  await guardWrite(target, async () => {
    if (!staged) return rm(target, { force: true });
    await rename(join(stagingDir, STAGED_PROFILE), target);
    await fsyncPath(dirname(target));
  });
}

function writeJson(path: string, summary: object, fileMode?: number): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(summary, null, 2) + '\n', fileMode);
}

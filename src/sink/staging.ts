/**
 * The staging directory of an output: `.<name>.staging` beside it, on the same file system so
 * the commit is a rename. Its name is fixed (not random) so that a run after a crash finds
 * the journal of the run before; the lock guarantees one run uses it at a time.
 */
import { chmod, mkdir } from 'node:fs/promises';
import { PRIVATE_DIR_MODE } from './atomicFile.js';
import { dirname } from 'node:path';
import { BatchinferError } from '../errors.js';
import { outputTarget, stagingPathFor } from './outputPaths.js';
import { writeFailure } from '../util/writeFailure.js';

export interface Staging {
  dir: string;
}

/** Creates the output's parent directories; returns the topmost one created, if any. */
export async function ensureOutputParent(output: string): Promise<string | undefined> {
  const parent = dirname(outputTarget(output));
  try {
    return await mkdir(parent, { recursive: true });
  } catch (err) {
    throw writeFailure(parent, err) ?? new BatchinferError('OUTPUT_UNWRITABLE', `cannot create output ${output}: ${(err as Error).message}`, {
      expected: 'a writable directory',
      actual: parent,
    });
  }
}

/** Creates `dir` (and its parents) if missing, and makes it its owner's alone (0700). */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * Creates the staging directory beside the output (if missing), its owner's alone (0700): its
 * part files, quarantined rows and journal hold the data. One a run before this one left is
 * made private too.
 */
export async function openStaging(output: string, dir: string = stagingPathFor(output)): Promise<Staging> {
  try {
    await ensurePrivateDir(dir);
    return { dir };
  } catch (err) {
    throw writeFailure(dir, err) ?? new BatchinferError('OUTPUT_UNWRITABLE', `cannot create output ${output}: ${(err as Error).message}`, {
      expected: 'a writable directory',
      actual: dirname(dir),
    });
  }
}

/**
 * The files a run writes must never be its inputs, nor replace an input or the model, however
 * the paths are spelled: symlinks, `..`, a symlinked or bind-mounted directory all lead to the
 * same directory entry (util/pathIdentity.ts compares real directories and names).
 *
 * A glob or directory input may match run files: a `**` glob over the output's directory
 * finds the staging directory's part files after a crash, and the previous run's output.
 * Those are left out of the input by what they are (a path of this output's runs), never by a
 * name pattern alone.
 */
import { join } from 'node:path';
import { pathExists } from '../util/fs.js';
import { PathIdentity } from '../util/pathIdentity.js';
import { MANIFEST_NAME } from './manifest.js';
import { outputTarget, runPaths, summaryPath, type RunPath } from './outputPaths.js';

export interface RunFileOptions {
  /** A directory output (replaced wholesale). */
  directory: boolean;
  /** The rejects file, with on_error: quarantine. */
  rejects?: string;
  /** A scheduled window's run: its summary is inside the output directory. */
  windowed?: boolean;
}

/** A run path that would write over (or clear) `file`. */
export interface Collision {
  runPath: RunPath;
  file: string;
}

/** Each pair of a run path and a file of `files` it would replace, remove or write over. */
export async function findCollisions(output: string, options: RunFileOptions, files: readonly string[]): Promise<Collision[]> {
  const ids = new PathIdentity();
  const collisions: Collision[] = [];
  const reals = await Promise.all(files.map((f) => ids.real(f)));
  for (const runPath of runPaths(output, options)) {
    for (const [i, file] of files.entries()) {
      const hit = runPath.tree ? await ids.inside(file, runPath.path) : await ids.sameEntry(runPath.path, reals[i]!);
      if (hit) collisions.push({ runPath, file });
    }
  }
  return collisions;
}

/**
 * A test for files a glob or directory input matched: true for this output's run files (its
 * staging directory, lock, summary, failure marker, the rejects temp file), and for the output
 * and rejects file when batchinfer wrote them (a summary beside the output, or a window's
 * `_SUCCESS` manifest in it). Another file at the output path stays an input, for the
 * output-is-input check to refuse.
 */
export async function runFileTest(output: string, options: RunFileOptions): Promise<(file: string) => Promise<boolean>> {
  const ids = new PathIdentity();
  const ours = (await pathExists(summaryPath(output, options.windowed))) || (options.directory && (await pathExists(join(outputTarget(output), MANIFEST_NAME))));
  const paths = runPaths(output, options).filter((p) => ours || (p.kind !== 'output' && p.kind !== 'rejects'));
  return async (file) => {
    const real = await ids.real(file);
    for (const p of paths) if (p.tree ? await ids.inside(real, p.path) : await ids.sameEntry(p.path, real)) return true;
    return false;
  };
}

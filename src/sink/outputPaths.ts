/** Names of the files a run keeps beside its output. All start with `.` or sit beside it, so readers ignore them. */
import { basename, dirname, join } from 'node:path';

/** The output path without a trailing separator. */
export function outputTarget(output: string): string {
  return output.replace(/[\\/]+$/, '');
}

/**
 * `<output>.summary.json` beside a file or directory output. A scheduled window's is inside
 * its directory as `_summary.json`: beside it, in a partition tree (`dt=.../hour=00.summary.json`
 * next to the `hour=` directories), it tripped readers of the parent directory, and inside it is
 * committed with the window in the same rename.
 */
export function summaryPath(output: string, windowed = false): string {
  return windowed ? join(outputTarget(output), WINDOW_SUMMARY) : outputTarget(output) + '.summary.json';
}

export const WINDOW_SUMMARY = '_summary.json';

/** `<output>.profile.json` beside a one-off run's output; a window's `_profile.json` inside it, like its summary. */
export function profilePath(output: string, windowed = false): string {
  return windowed ? join(outputTarget(output), WINDOW_PROFILE) : outputTarget(output) + '.profile.json';
}

export const WINDOW_PROFILE = '_profile.json';
/** A window's rejects file, in a directory of its own inside the window, out of reach of the window's `*.parquet` globs. */
export const WINDOW_REJECTS = join('_rejects', 'rejects.parquet');

/** `.<name>.lock` beside the output. */
export function lockPathFor(output: string): string {
  const target = outputTarget(output);
  return join(dirname(target), `.${basename(target)}.lock`);
}

/** `.<name>.staging` beside the output: part files and the journal of the run in progress. */
export function stagingPathFor(output: string): string {
  const target = outputTarget(output);
  return join(dirname(target), `.${basename(target)}.staging`);
}

/** `.<name>.failed.json` beside a window's output: the last failure, for `status`. */
export function failureMarkerPath(output: string): string {
  const target = outputTarget(output);
  return join(dirname(target), `.${basename(target)}.failed.json`);
}

/** `.<name>.tmp` beside a rejects file: it is merged there, then renamed into place. */
export function rejectsTempPath(rejects: string): string {
  return join(dirname(rejects), `.${basename(rejects)}.tmp`);
}

/** A path a run writes, replaces or clears; `tree` when everything below it is the run's too. */
export interface RunPath {
  kind: 'output' | 'summary' | 'profile' | 'staging' | 'shards' | 'lock' | 'failure-marker' | 'rejects' | 'rejects-temp';
  path: string;
  /** What it is, for messages: `the output`, `the staging directory`, ... */
  what: string;
  tree: boolean;
}

/**
 * Every path a run of `output` writes: the output (a directory output wholesale), its summary,
 * profile, lock, staging directory, shard directory (sharded runs) and failure marker, and the rejects file with its temp name.
 */
export function runPaths(output: string, options: { directory: boolean; rejects?: string; windowed?: boolean }): RunPath[] {
  const paths: RunPath[] = [
    { kind: 'output', path: outputTarget(output), what: 'the output', tree: options.directory },
    { kind: 'summary', path: summaryPath(output, options.windowed), what: "the output's summary", tree: false },
    { kind: 'profile', path: profilePath(output, options.windowed), what: "the output's profile", tree: false },
    { kind: 'staging', path: stagingPathFor(output), what: "the output's staging directory", tree: true },
    { kind: 'shards', path: shardsPathFor(output), what: "the output's shard directory", tree: true },
    { kind: 'lock', path: lockPathFor(output), what: "the output's lock", tree: false },
    { kind: 'failure-marker', path: failureMarkerPath(output), what: "the output's failure marker", tree: false },
  ];
  if (options.rejects) {
    paths.push({ kind: 'rejects', path: options.rejects, what: 'the rejects file', tree: false });
    paths.push({ kind: 'rejects-temp', path: rejectsTempPath(options.rejects), what: "the rejects file's temp file", tree: false });
  }
  return paths;
}

/** `.<name>.shards` beside the output: a sharded run's plan and each shard's staging directory and manifest. */
export function shardsPathFor(output: string): string {
  const target = outputTarget(output);
  return join(dirname(target), `.${basename(target)}.shards`);
}

/** Names of the files a run keeps beside its output. All start with `.` or sit beside it, so readers ignore them. */
import { basename, dirname, join } from 'node:path';

/** The output path without a trailing separator. */
export function outputTarget(output: string): string {
  return output.replace(/[\\/]+$/, '');
}

/** `<output>.summary.json`, beside a file output or beside an output directory. */
export function summaryPath(output: string): string {
  return outputTarget(output) + '.summary.json';
}

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
  kind: 'output' | 'summary' | 'staging' | 'lock' | 'failure-marker' | 'rejects' | 'rejects-temp';
  path: string;
  /** What it is, for messages: `the output`, `the staging directory`, ... */
  what: string;
  tree: boolean;
}

/**
 * Every path a run of `output` writes: the output (a directory output wholesale), its summary,
 * lock, staging directory and failure marker, and the rejects file with its temp name.
 */
export function runPaths(output: string, options: { directory: boolean; rejects?: string }): RunPath[] {
  const paths: RunPath[] = [
    { kind: 'output', path: outputTarget(output), what: 'the output', tree: options.directory },
    { kind: 'summary', path: summaryPath(output), what: "the output's summary", tree: false },
    { kind: 'staging', path: stagingPathFor(output), what: "the output's staging directory", tree: true },
    { kind: 'lock', path: lockPathFor(output), what: "the output's lock", tree: false },
    { kind: 'failure-marker', path: failureMarkerPath(output), what: "the output's failure marker", tree: false },
  ];
  if (options.rejects) {
    paths.push({ kind: 'rejects', path: options.rejects, what: 'the rejects file', tree: false });
    paths.push({ kind: 'rejects-temp', path: rejectsTempPath(options.rejects), what: "the rejects file's temp file", tree: false });
  }
  return paths;
}

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

/**
 * The identity of a run, for resuming: a journal is only reused by a run with the same
 * inputs (paths, sizes, mtimes), model, feature and output plans, batch and checkpoint sizes,
 * window and batchinfer version. Anything else starts over.
 */
import { createHash } from 'node:crypto';
import type { PreparedJob } from './prepare.js';
import type { InputFileStamp } from '../sink/manifest.js';
import type { Window } from '../schedule/window.js';
import { batchinferVersion } from '../version.js';

export function runFingerprint(job: PreparedJob, inputs: readonly InputFileStamp[], window: Window | null): string {
  const identity = {
    version: batchinferVersion(),
    inputs,
    model: job.model.sha256,
    feeds: job.feeds,
    output: job.output,
    outputMode: job.outputMode,
    passthrough: job.spec.passthrough,
    batchSize: job.spec.batchSize,
    checkpointRows: job.spec.checkpointRows,
    window: window ? [window.start.toISOString(), window.end.toISOString()] : null,
    windowColumn: job.spec.windowColumn ?? null,
    csvDelimiter: job.spec.csvDelimiter ?? null,
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

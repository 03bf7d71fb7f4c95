/**
 * The identity of a run, for resuming: a journal is only reused by a run whose settings are
 * all the same. Every setting that changes which rows are written, what they hold, or where
 * they go is one of them: the inputs (paths, sizes, mtimes), the model, the feature plans
 * (fills, ranges, scales, vocabularies, allow_nan), the output plan (task, labels, scores,
 * review_below, extra outputs), on_error and the rejects file, passthrough, batch and
 * checkpoint sizes, the window and its column and time zone, the CSV delimiter, the computed
 * columns and the `where` filter, the rejects file's columns, redaction (in the feed plans: it
 * words the reject messages), the encryption keys' fingerprints (never their values) and the
 * batchinfer version. File modes and the device are not: a mode is set at the commit, and a
 * device changes how fast, not what (within float tolerance). Settings that only change how fast or under what name a run goes
 * (workers, threads, name, max_errors, the model's path when its bytes are the same) are not.
 */
import { createHash } from 'node:crypto';
import type { PreparedJob } from './prepare.js';
import type { InputFileStamp } from '../sink/manifest.js';
import type { Window } from '../schedule/window.js';
import { batchinferVersion } from '../version.js';
import type { KeyFingerprints } from './jobKeys.js';

export interface RunIdentity {
  /** sha256 of `settings`. */
  fingerprint: string;
  /** The settings by the names users know them by, so a changed one can be named. */
  settings: Record<string, unknown>;
}

export function runIdentity(job: PreparedJob, inputs: readonly InputFileStamp[], window: Window | null, keys: KeyFingerprints | null = null): RunIdentity {
  const { spec } = job;
  const settings: Record<string, unknown> = {
    version: batchinferVersion(),
    'input files': inputs,
    model: job.model.sha256,
    inputs: job.feeds,
    predictions: job.output,
    output: job.outputMode,
    passthrough: spec.passthrough,
    on_error: spec.onError,
    rejects: spec.onError === 'quarantine' ? (spec.rejects ?? null) : null,
    batch_size: spec.batchSize,
    checkpoint_rows: spec.checkpointRows,
    window: window ? [window.start.toISOString(), window.end.toISOString()] : null,
    window_column: spec.windowColumn ?? null,
    timezone: spec.timezone,
    csv_delimiter: spec.csvDelimiter ?? null,
    // Only when set: the identities of runs without it (and their journals) stay as they were.
    ...(spec.rejectsColumns ? { rejects_columns: spec.rejectsColumns } : {}),
    // Only when set: fingerprints of jobs without it stay as they were.
    ...(spec.partitionTypes ? { partition_types: spec.partitionTypes } : {}),
    // Only when set. The job's text: the feed plans name computed columns, not how they are made.
    ...(spec.computed ? { computed: spec.computed } : {}),
    ...(spec.where !== undefined ? { where: spec.where } : {}),
    // Only when set: a run keeping a profile does not resume parts profiled by none (their rows would be missing).
    ...(spec.profile ? {} : { profile: false }),
    // Only when set: its parts are cut at other rows.
    ...(spec.writeBehind ? { write_behind: true } : {}),
    // Only when set: parts encrypted under one key are not resumed under another.
    ...(keys ? { encryption: keys } : {}),
  };
  return { fingerprint: createHash('sha256').update(JSON.stringify(settings)).digest('hex'), settings };
}

/** The identity with `extra` settings added (a shard's plan and index): another fingerprint. */
export function withSettings(identity: RunIdentity, extra: Record<string, unknown>): RunIdentity {
  const settings = { ...identity.settings, ...extra };
  return { fingerprint: createHash('sha256').update(JSON.stringify(settings)).digest('hex'), settings };
}

/**
 * Settings that change no output row: part boundaries (batch and checkpoint sizes, parts
 * written behind), whether a profile is kept, and what a shard's own identity adds (its files, index and plan, which the
 * shard plan checks on its own).
 */
const NOT_OUTPUT: ReadonlySet<string> = new Set(['input files', 'batch_size', 'checkpoint_rows', 'profile', 'write_behind', 'shard']);

/**
 * A digest of each setting that decides what a run writes: the shards of one run must all have
 * run with the same (the commit compares them, naming the settings that differ).
 */
export function outputSettings(identity: RunIdentity): Record<string, string> {
  const digests: Record<string, string> = {};
  for (const [name, value] of Object.entries(identity.settings)) {
    if (!NOT_OUTPUT.has(name)) digests[name] = createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
  }
  return digests;
}

/** The settings whose values differ between two identities (a setting missing from one counts). */
export function changedSettings(before: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(now)]);
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]));
}

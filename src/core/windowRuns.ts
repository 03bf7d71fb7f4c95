/**
 * Scheduled jobs: which window a run scores, the job with its path templates filled in for
 * that window, and backfills over a range of windows.
 *
 * @example
 *   const { spec: concrete, window } = resolveWindow(spec, parseTime('2026-11-29T08:00:00Z', '--at'));
 *   await runJob(concrete, { window });
 */
import { BatchinferError, isBatchinferError } from '../errors.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { lastCompleteWindow, parseSchedule, windowAt, windowsBetween, type Window } from '../schedule/window.js';
import { renderTemplate } from '../schedule/template.js';
import { runJob, type RunOptions } from './runJob.js';
export { releaseRunsSync } from './runJob.js';
import type { RunSummary, SkippedRun } from './summary.js';

/** The job as it runs for one window: templates filled, the output a directory. */
export function specForWindow(spec: JobSpec, window: Window): JobSpec {
  const output = renderTemplate(spec.output, window, spec.timezone);
  const inputList = spec.inputList?.map((entry) => renderTemplate(entry, window, spec.timezone));
  return {
    ...spec,
    input: inputList ? inputList.join(', ') : renderTemplate(spec.input, window, spec.timezone),
    ...(inputList ? { inputList } : {}),
    output: /[\\/]$/.test(output) ? output : output + '/',
    // A fixed rejects path would be overwritten by every window: it may use the templates too.
    ...(spec.rejects ? { rejects: renderTemplate(spec.rejects, window, spec.timezone) } : {}),
  };
}

/** The window to score: the one starting `at`, else the last complete one before `now`. */
export function resolveWindow(spec: JobSpec, at: Date | undefined, now = new Date()): { spec: JobSpec; window: Window } {
  if (!spec.schedule) {
    if (at) throw new BatchinferError('USAGE', '--at needs a job with a `schedule`', { expected: 'a scheduled job', actual: 'no schedule' });
    throw new BatchinferError('INTERNAL', 'resolveWindow called for a job without a schedule');
  }
  const schedule = parseSchedule(spec.schedule, spec.timezone);
  const window = at ? windowAt(schedule, at) : lastCompleteWindow(schedule, now);
  return { spec: specForWindow(spec, window), window };
}

/** Every window of the job's schedule starting in [from, to). */
export function windowsInRange(spec: JobSpec, from: Date, to: Date): Window[] {
  if (!spec.schedule) throw new BatchinferError('USAGE', 'this command needs a job with a `schedule`', { expected: 'a scheduled job', actual: 'no schedule' });
  if (from.getTime() >= to.getTime()) throw new BatchinferError('USAGE', '--from must be before --to', { expected: `before ${to.toISOString()}`, actual: from.toISOString() });
  return windowsBetween(parseSchedule(spec.schedule, spec.timezone), from, to);
}

export interface WindowOutcome {
  window: Window;
  status: 'committed' | 'skipped' | 'failed' | 'not run';
  rows?: number;
  seconds?: number;
  error?: BatchinferError;
  /** A committed window whose summary file could not be written (`RunSummary.summaryError`). */
  summaryError?: string;
  /** The drift the job's `drift.fail_on` names that this window's run found (its output is committed). */
  driftFailed?: string[];
}

export interface BackfillOptions extends Omit<RunOptions, 'window'> {
  continueOnError?: boolean;
  /** Called when a window finishes (for a running log). */
  onWindow?(outcome: WindowOutcome): void;
}

/**
 * Runs every window in [from, to) in order; committed windows are skipped (unless `force`).
 * Stops at the first failure unless `continueOnError`; an interrupt always stops.
 */
export async function backfill(spec: JobSpec, from: Date, to: Date, options: BackfillOptions = {}): Promise<WindowOutcome[]> {
  const windows = windowsInRange(spec, from, to);
  const outcomes: WindowOutcome[] = windows.map((window) => ({ window, status: 'not run' }));
  for (const outcome of outcomes) {
    const started = performance.now();
    try {
      const result: RunSummary | SkippedRun = await runJob(specForWindow(spec, outcome.window), { ...options, window: outcome.window });
      outcome.status = result.status === 'skipped' ? 'skipped' : 'committed';
      outcome.rows = result.rows.out;
      if (result.status === 'ok' && result.summaryError) outcome.summaryError = result.summaryError;
      if (result.status === 'ok' && result.drift && result.drift.failed.length > 0) outcome.driftFailed = result.drift.failed;
    } catch (err) {
      if (!isBatchinferError(err)) throw err;
      outcome.status = 'failed';
      outcome.error = err;
      if (err.code === 'INTERRUPTED' || !options.continueOnError) {
        outcome.seconds = (performance.now() - started) / 1000;
        options.onWindow?.(outcome);
        break;
      }
    }
    outcome.seconds = (performance.now() - started) / 1000;
    options.onWindow?.(outcome);
  }
  return outcomes;
}

/**
 * What a run says in its summary's warnings (sentences, kept as data), and the checks on its
 * rows once every part is scored, before anything is committed.
 */
import { BatchinferError } from '../errors.js';
import { fallbackWarning } from '../infer/device.js';
import type { WorkerPool } from '../infer/workerPool.js';
import type { Window } from '../schedule/window.js';
import type { Lock } from '../sink/lock.js';
import type { OpenedJournal } from '../sink/journal.js';
import { contentionWarning, type ExecutionPlan } from './executionPlan.js';
import { changedSettings, type RunIdentity } from './fingerprint.js';
import type { PreparedJob } from './prepare.js';
import type { ScoreResult } from './scoreFiles.js';

/** What the run knows before it scores a row: the plan, the workers, the lock and the journal it found. */
export interface OpenedRun {
  job: PreparedJob;
  plan: ExecutionPlan;
  pool: Pick<WorkerPool, 'fallback'>;
  lock: Lock;
  journal: Pick<OpenedJournal, 'discarded'>;
  identity: RunIdentity;
}

/** The warnings a run has before it scores: its threads, device, validation notes, files left out, lock and journal. */
export function notesBeforeScoring({ job, plan, pool, lock, journal, identity }: OpenedRun): string[] {
  const { spec } = job;
  const warnings: string[] = [];
  const contention = contentionWarning(plan.threads);
  if (contention) warnings.push(contention);
  if (pool.fallback !== undefined) warnings.push(fallbackWarning(pool.fallback));
  warnings.push(...(spec.notes ?? []), ...job.notes);
  if (job.dataset.skipped.length > 0) warnings.push(skippedNote(job.dataset.skipped));
  const asText = job.textColumns.filter((c) => spec.passthrough.includes(c));
  if (asText.length > 0) warnings.push(`passthrough column${asText.length === 1 ? '' : 's'} ${asText.join(', ')}: the CSV files type ${asText.length === 1 ? 'it' : 'them'} differently, so ${asText.length === 1 ? 'it is' : 'they are'} written as the text the files hold (VARCHAR), with no value rounded`);
  if (lock.takenOver) warnings.push(takeoverWarning(lock.takenOver));
  if (journal.discarded) warnings.push(startedOverNote(journal.discarded.settings, identity.settings));
  return warnings;
}

/**
 * The scored rows, checked before anything is committed: `min_rows`, and every row read is
 * either scored or rejected. Adds what the scoring has to say to `warnings`.
 */
export function checkScored(job: PreparedJob, window: Window | null, result: ScoreResult, resumed: boolean, warnings: string[]): void {
  const { spec } = job;
  if (resumed) warnings.push(`resumed an interrupted run: ${result.resumedRows} rows came from its finished parts`);
  if (job.fixedBatch) {
    warnings.push(`the model has a fixed batch dimension of ${job.fixedBatch}: rows went to it ${job.fixedBatch} at a time, ${result.paddedRows} padding rows were added to fill the last groups and dropped from the output`);
  }
  const labelCheck = result.labelCheck;
  if (labelCheck && labelCheck.disagreements > 0) {
    warnings.push(`model label output '${labelCheck.output}' differs from the highest-scoring class in ${labelCheck.disagreements} of ${labelCheck.rows} rows (ties in tree ensembles do this); the output holds the argmax`);
  }
  if (spec.minRows !== undefined && result.rowsIn < spec.minRows) {
    const what = window ? `window ${window.start.toISOString()}` : `input ${spec.input}`;
    throw new BatchinferError('TOO_FEW_ROWS', `${what} holds ${result.rowsIn} rows, fewer than min_rows ${spec.minRows}; nothing is committed`, { expected: `at least ${spec.minRows} row${spec.minRows === 1 ? '' : 's'}`, actual: result.rowsIn });
  }
  if (result.rowsIn === 0) warnings.push(window ? `window ${window.start.toISOString()} has no rows: its output is empty (min_rows makes this an error)` : 'the input has no rows: the output is empty');
  if (result.rowsIn !== result.rowsOut + result.rejectedTotal) {
    throw new BatchinferError('INTERNAL', 'rows read differ from rows scored + rows rejected', { expected: result.rowsIn, actual: `${result.rowsOut} + ${result.rejectedTotal}` });
  }
}

/** Names the files a glob or directory input matched that are this output's run files. */
function skippedNote(files: readonly string[]): string {
  const shown = files.slice(0, 3).join(', ') + (files.length > 3 ? `, ... (${files.length - 3} more)` : '');
  return `left out ${files.length} file${files.length === 1 ? '' : 's'} the input matched that are this output's own (its staging, output or rejects): ${shown}`;
}

/** Says that an interrupted run's finished parts were dropped, and which settings differ from its. */
function startedOverNote(before: Record<string, unknown> | null, now: Record<string, unknown>): string {
  const changed = before ? changedSettings(before, now) : [];
  const why = changed.length > 0 ? `its ${changed.join(', ')} differ${changed.length === 1 ? 's' : ''} from this run's` : 'it was of another job or version';
  return `started over: an interrupted run's finished parts were discarded, as ${why}`;
}

function takeoverWarning(holder: NonNullable<Lock['takenOver']>): string {
  if (holder === 'unreadable') return 'replaced a lock file that was empty or unreadable (no run held it)';
  return `took over a stale lock of pid ${holder.pid} on ${holder.host} (started ${holder.startedAt})`;
}

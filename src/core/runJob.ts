/**
 * Scores a job end to end. Reads like the data flow:
 *
 *   validate -> lock -> source (DuckDB chunks) -> preprocess (tensors) -> infer (worker
 *   threads) -> postprocess (labels, confidence) -> sink (journaled part files) -> commit
 *   (one rename) -> summary
 *
 * Every run takes a lock beside its output and scores into a staging directory beside it
 * (`.<name>.staging`, which readers ignore) whose journal survives a crash or a SIGTERM: the
 * next run with the same inputs, model and job resumes after the last finished part.
 *
 * @example
 *   const summary = await runJob(await loadJob('jobs/transactions-mlp.yaml'));
 */
import { availableParallelism } from 'node:os';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchinferError, isBatchinferError } from '../errors.js';
import type { Db } from '../db/duckdb.js';
import { loadModel } from '../model/loadModel.js';
import { fixedBatchOf } from '../preprocess/featurePlan.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { openJobInput, prepareJob, runFileOptions, type PreparedJob } from './prepare.js';
import { rejectsPathFor, removeStaleRejects, stageRejects, type StagedRejects } from '../sink/commitRejects.js';
import { PartWriter } from '../sink/partWriter.js';
import { flatColumns, rejectSql } from '../preprocess/rowChecks.js';
import { WorkerPool } from '../infer/workerPool.js';
import { fallbackWarning } from '../infer/device.js';
import { planOutput, requestedOutputs } from '../postprocess/outputPlan.js';
import { commitOutput } from '../sink/commitOutput.js';
import { commitWindow } from '../sink/commitWindow.js';
import { DEFAULT_REJECTS_MODE, pruneEmptyDirs, writeFileAtomic } from '../sink/atomicFile.js';
import { failureMarkerPath, lockPathFor, stagingPathFor } from '../sink/outputPaths.js';
import { acquireLock, type Lock } from '../sink/lock.js';
import { ensureOutputParent, openStaging, type Staging } from '../sink/staging.js';
import { Journal } from '../sink/journal.js';
import { placeStagedSummary, stageSummary, writeSummary } from '../sink/stagedSummary.js';
import { WINDOW_REJECTS, WINDOW_SUMMARY } from '../sink/outputPaths.js';
import { writeErrno, writeFailure } from '../util/writeFailure.js';
import { redactError } from '../util/redact.js';
import { describeInputChange, describeOutputs, readManifest, sameInputContent, stampInputs, type OutputFileEntry } from '../sink/manifest.js';
import type { DatasetFile } from '../source/dataset.js';
import { changedSettings, runIdentity } from './fingerprint.js';
import { openJobKeys } from './jobKeys.js';
import { scoreFiles, type PartProgress, type ScoreResult } from './scoreFiles.js';
import type { Window } from '../schedule/window.js';
import { buildSummary, versions, type RunSummary, type SkippedRun } from './summary.js';

export interface RunOptions {
  /** Called after each batch is written with rows done and rows expected in total. */
  onProgress?(rowsDone: number, rowsTotal: number): void;
  /** Called when a part file is durable (journaled), for logs of unattended runs. */
  onPart?(progress: PartProgress): void;
  /** Aborting (SIGTERM, SIGINT) stops taking batches; finished parts stay journaled for a resume. */
  signal?: AbortSignal;
  /** The window of a scheduled job; its output is a directory committed with a `_SUCCESS` manifest. */
  window?: Window;
  /** Re-score a committed window (or one whose inputs changed) and replace it atomically. */
  force?: boolean;
}

export async function runJob(spec: JobSpec, options: RunOptions = {}): Promise<RunSummary | SkippedRun> {
  const startedAt = new Date();
  const wallStart = performance.now();
  const window = options.window ?? null;
  const warnings: string[] = [];
  const { workers, threads } = threadBudget(spec, warnings);
  // The workers load onnxruntime and the model on their own threads while this one loads
  // DuckDB and validates the job: the two start-up costs overlap.
  let early = window ? null : startPoolEarly(spec, workers, threads);
  let db: Db;
  try {
    const { Db } = await import('../db/duckdb.js');
    db = await Db.open({ timezone: spec.timezone, memoryLimit: spec.memoryLimit });
  } catch (err) {
    // Its workers would keep the process alive.
    await (await early)?.pool.close();
    throw err;
  }
  let lock: Lock | null = null;
  let createdParent: string | undefined;
  let staging: Staging | null = null;
  let pool: WorkerPool | null = null;
  let keepStaging = false;
  /** Every part is scored and journaled: from here on a failure is the commit's. */
  let scored = false;
  let committed = false;
  try {
    const keys = await openJobKeys(db, spec);
    if (window) {
      createdParent = await ensureOutputParent(spec.output);
      lock = await acquireLock(lockPathFor(spec.output), { job: spec.name });
      const skipped = await alreadyCommitted(db, spec, window, options.force ?? false);
      if (skipped) return skipped;
      early = startPoolEarly(spec, workers, threads);
    }
    // A window on a partition key: its own partitions are its inputs (windowFiles.ts).
    const job = await prepareJob(db, spec, { windowed: window !== null, ...(window ? { window } : {}) });
    if (!lock) {
      createdParent = await ensureOutputParent(spec.output);
      lock = await acquireLock(lockPathFor(spec.output), { job: spec.name });
    }
    // The workers before the staging directory: one that cannot start (a CUDA device that does
    // not load) leaves an interrupted run's journal as it was, for a run that can.
    const started = early;
    early = null;
    pool = await adoptPool(started, job, workers, threads);
    if (pool.fallback !== undefined) warnings.push(fallbackWarning(pool.fallback));
    warnings.push(...(spec.notes ?? []), ...job.notes);
    if (job.dataset.skipped.length > 0) warnings.push(skippedNote(job.dataset.skipped));
    const asText = job.textColumns.filter((c) => spec.passthrough.includes(c));
    if (asText.length > 0) warnings.push(`passthrough column${asText.length === 1 ? '' : 's'} ${asText.join(', ')}: the CSV files type ${asText.length === 1 ? 'it' : 'them'} differently, so ${asText.length === 1 ? 'it is' : 'they are'} written as the text the files hold (VARCHAR), with no value rounded`);
    if (lock.takenOver) warnings.push(takeoverWarning(lock.takenOver));
    const inputs = await stampInputs(job.dataset.files.map((f) => f.path));
    staging = await openStaging(spec.output);
    const identity = runIdentity(job, inputs, window, keys);
    const { journal, resumed, discarded } = await Journal.open(staging.dir, identity);
    if (discarded) warnings.push(startedOverNote(discarded.settings, identity.settings));
    await db.spillTo(join(staging.dir, `spill-${process.pid}`));
    const allThreads = await db.threads();
    const duckdbThreads = duckdbThreadBudget(availableParallelism(), workers * threads, allThreads);
    const result = await scoreFiles(db, pool, job, staging.dir, journal, {
      duckdbThreads,
      maxInFlight: workers * 2,
      signal: options.signal,
      onProgress: options.onProgress,
      onPart: options.onPart,
      windowFilter: window && spec.windowColumn ? { column: spec.windowColumn, window } : undefined,
    });
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
    // Every row read is either scored or rejected: checked before anything is committed.
    if (result.rowsIn !== result.rowsOut + result.rejectedTotal) {
      throw new BatchinferError('INTERNAL', 'rows read differ from rows scored + rows rejected', { expected: result.rowsIn, actual: `${result.rowsOut} + ${result.rejectedTotal}` });
    }
    scored = true;
    const writeStart = performance.now();
    await db.setThreads(allThreads);
    let rejectsFile: string | undefined;
    let rejects: StagedRejects | null = null;
    const stagingDir = staging.dir;
    if (spec.onError === 'quarantine') {
      rejectsFile = rejectsPathFor(spec.output, spec.rejects, window !== null);
      const first = job.dataset.files[0]!;
      // CSV inputs and window- or where-filtered inputs are read from their staged Parquet copy.
      const source: DatasetFile = first.format === 'parquet' && !(window && spec.windowColumn) && first.where === undefined ? first : { path: join(stagingDir, 'source-0.parquet'), format: 'parquet' };
      // A window's own rejects file is merged in staging and committed inside the window.
      const temp = window && !spec.rejects ? join(stagingDir, 'rejects.parquet.tmp') : undefined;
      rejects = await stageRejects(db, result.parts, rejectsFile, (path) => emptyRejects(db, job, source, first, path), { temp, fileMode: spec.fileMode ?? DEFAULT_REJECTS_MODE });
    }
    const runtimeVersion = pool.runtimeVersion;
    const providers = pool.providers;
    const summarize = (files: string[]): RunSummary =>
      buildSummary({
        spec, job, window, result, files, rejectsFile, resumed, workers, threads, duckdbThreads, warnings, startedAt, providers,
        versions: versions(runtimeVersion, db.libraryVersion),
        wallSeconds: (performance.now() - wallStart) / 1000,
        writeSeconds: (performance.now() - writeStart) / 1000,
      });
    // The summary is written into staging and the rejects file renamed into place last before
    // the output: a failure (a full disk) or a crash before that leaves neither. After the
    // rename the summary only moves beside the output, which needs no space. A window's summary
    // and own rejects file go inside the staged window directory: its rename commits them all.
    let summary: RunSummary | null = null;
    const beforeRename = async (files: string[], staged: string[]): Promise<void> => {
      summary = { ...summarize(files), manifest: await describeOutputs(files, staged, rowsPerFile(job, result)) };
      await stageSummary(stagingDir, summary, spec.fileMode);
      await removeStaleRejects(spec.output, rejectsFile, [...job.dataset.files.map((f) => f.path), job.model.path]);
      await rejects?.commit();
    };
    const beforeWindowRename = async (entries: OutputFileEntry[], stagedDir: string): Promise<void> => {
      summary = { ...summarize(entries.map((e) => e.file)), manifest: entries };
      await writeSummary(join(stagedDir, WINDOW_SUMMARY), summary, spec.fileMode);
      await rejects?.commit(spec.rejects ? undefined : join(stagedDir, WINDOW_REJECTS));
    };
    let files: string[];
    try {
      files = window
        ? await commitWindow({ db, job: { name: spec.name, output: spec.output, model: { path: job.model.path, sha256: job.model.sha256 } }, versions: versions(runtimeVersion, db.libraryVersion), parts: result.parts, staging: staging.dir, window, inputs, startedAt, rows: { in: result.rowsIn, out: result.rowsOut, rejected: result.rejectedTotal }, fileMode: spec.fileMode, beforeRename: beforeWindowRename })
        : await commitOutput(db, { path: spec.output, mode: job.outputMode, format: job.outputFormat, inputs: job.dataset.files.map((f) => f.path), fileMode: spec.fileMode }, result.parts.map((p) => p.map((part) => part.path)), staging.dir, beforeRename);
    } finally {
      await rejects?.discard();
    }
    committed = true;
    return await afterCommit(spec.output, stagingDir, summary ?? summarize(files), window !== null);
  } catch (caught) {
    // Redacted before anything records or prints it (the failure marker, stderr, --json).
    let err = spec.redact ? redactError(asRunError(caught, spec.output)) : asRunError(caught, spec.output);
    // An interrupted run keeps its journal so the next run resumes; so does a commit that ran
    // out of space or open files, which the next run makes without scoring again. Any other
    // failure starts over.
    const interrupted = isBatchinferError(err) && err.code === 'INTERRUPTED';
    if (interrupted) keepStaging = true;
    else if (scored && staging && isRetryableCommitFailure(err)) {
      keepStaging = true;
      err = keptForRetry(err, staging.dir);
    }
    // A refusal (another run holds the lock; a committed window's inputs changed) is not a failed window.
    if (!interrupted && window && lock && isBatchinferError(err) && err.code !== 'LOCKED' && err.code !== 'INPUTS_CHANGED') await recordFailure(spec.output, err, spec.fileMode);
    throw err;
  } finally {
    // A pool started early for a run that failed validation (or was skipped) is not needed.
    if (early) await (await early)?.pool.close();
    await pool?.close();
    db.close();
    // Cleaning up must not turn a committed run (or the failure being reported) into another
    // error: what is left is a staging directory the next run clears, or a lock of a dead pid.
    if (staging && !keepStaging) await rm(staging.dir, { recursive: true, force: true }).catch(() => undefined);
    await lock?.release().catch(() => undefined);
    if (!committed && !keepStaging && createdParent) await pruneEmptyDirs(createdParent);
  }
}

/**
 * After the commit's rename the output is there, so the run succeeds: the staged summary moves
 * beside it, and should that fail the run says so in `summaryError` (shown as a warning)
 * rather than exiting with an error that the output on disk would contradict.
 */
async function afterCommit(output: string, stagingDir: string, summary: RunSummary, window: boolean): Promise<RunSummary> {
  let result = summary;
  try {
    if (!window) await placeStagedSummary(stagingDir, output);
  } catch (err) {
    result = { ...summary, summaryError: `the output is committed, but its summary could not be written: ${(err as Error).message}` };
  }
  if (window) await rm(failureMarkerPath(output), { force: true }).catch(() => undefined);
  return result;
}

/** Node's own file-system errors that escaped a narrower guard are still the output's (exit 73), naming their path. */
function asRunError(err: unknown, output: string): unknown {
  if (isBatchinferError(err)) return err;
  const path = (err as NodeJS.ErrnoException | null)?.path;
  return writeFailure(typeof path === 'string' ? path : output, err) ?? err;
}

/** Out of space or open files: the same commit can succeed once there is room. */
function isRetryableCommitFailure(err: unknown): err is BatchinferError {
  if (!isBatchinferError(err) || err.code !== 'OUTPUT_UNWRITABLE') return false;
  const errno = writeErrno(err.cause);
  return errno === 'ENOSPC' || errno === 'EDQUOT' || errno === 'EMFILE' || errno === 'ENFILE';
}

function keptForRetry(err: BatchinferError, stagingDir: string): BatchinferError {
  const message = `${err.message}; the scored parts are kept in ${stagingDir}: the next run commits them without scoring again`;
  return new BatchinferError(err.code, message, { expected: err.expected, actual: err.actual, cause: err.cause });
}

/**
 * A committed window is not scored again: same inputs -> skipped; changed inputs -> an error
 * unless `force`. Inputs deleted since the commit (retention) count as unchanged history.
 */
async function alreadyCommitted(db: Db, spec: JobSpec, window: Window, force: boolean): Promise<SkippedRun | null> {
  const manifest = await readManifest(spec.output);
  // An output template coarser than the schedule ({date} on an hourly job, or {hour} in the
  // repeated hour of a DST fall-back) renders one path for two windows: never skip or replace
  // another window's output, not even with --force.
  if (manifest?.window && manifest.window.start !== window.start.toISOString()) {
    throw new BatchinferError('SPEC_INVALID', `output ${spec.output} holds window ${manifest.window.start}, and window ${window.start.toISOString()} renders the same path: the output template must tell the windows apart (e.g. {window_start}, or timezone UTC where a local hour repeats)`, {
      expected: `an output path of its own for window ${window.start.toISOString()}`,
      actual: `the output of window ${manifest.window.start}`,
    });
  }
  if (!manifest || force) return null;
  // A crash after the commit's rename leaves the staging directory behind: drop it (we hold the lock).
  await rm(stagingPathFor(spec.output), { recursive: true, force: true });
  let note = 'already committed';
  try {
    const dataset = await openJobInput(db, spec, runFileOptions(spec, 'directory', true), window);
    const now = await stampInputs(dataset.files.map((f) => f.path));
    if (!(await sameInputContent(manifest.inputs, now))) {
      throw new BatchinferError('INPUTS_CHANGED', `window ${window.start.toISOString()} was committed from other inputs: ${describeInputChange(manifest.inputs, now)}; rerun with --force to re-score it`, {
        expected: `${manifest.inputs.length} input files as committed at ${manifest.finishedAt}`,
        actual: `${now.length} input files now`,
      });
    }
  } catch (err) {
    if (!isBatchinferError(err) || err.code !== 'INPUT_MISSING') throw err;
    note = 'already committed (its inputs are gone now)';
  }
  return {
    status: 'skipped',
    reason: note,
    job: spec.name,
    window: { start: window.start.toISOString(), end: window.end.toISOString() },
    output: { path: spec.output },
    rows: manifest.rows,
    committedAt: manifest.finishedAt,
  };
}

/** A zero-row quarantine file with the columns it would have (the input's plus where and why). */
async function emptyRejects(db: Db, job: PreparedJob, source: DatasetFile, display: DatasetFile, path: string): Promise<void> {
  const writer = await PartWriter.create(db, job.output, [], { byRowNumber: true });
  const names = flatColumns(job.feeds).map(({ col }) => col.column);
  await writer.writeRejects({ file: source, rowStart: 0, rowEnd: 0, rowCount: 0 }, display, names, (params) => rejectSql(job.feeds, params) ?? 'NULL', path, job.spec.rejectsColumns);
}

/** Rows of each committed file: the one file, or one per input file (a directory). */
function rowsPerFile(job: PreparedJob, result: ScoreResult): number[] {
  if (job.outputMode === 'file') return [result.rowsOut];
  return result.parts.map((parts) => parts.reduce((n, p) => n + p.rows, 0));
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

/** `.<name>.failed.json` beside a window's output, for `status`; removed by the next success. */
async function recordFailure(output: string, err: BatchinferError, fileMode: number | undefined): Promise<void> {
  const record = { code: err.code, message: err.message, at: new Date().toISOString() };
  await writeFileAtomic(failureMarkerPath(output), JSON.stringify(record) + '\n', fileMode).catch(() => undefined);
}

interface EarlyPool {
  pool: WorkerPool;
  /** What the pool was started for: the model file and the outputs and batch it serves. */
  key: string;
}

function poolKey(sha256: string, outputs: string[], fixedBatch: number | null): string {
  return JSON.stringify([sha256, outputs, fixedBatch]);
}

/**
 * Starts the inference workers from the model alone, before the job is validated. Any
 * failure yields null: validation then reports it with every other problem, or the pool is
 * started again after validation and fails with onnxruntime's own words.
 */
async function startPoolEarly(spec: JobSpec, workers: number, threads: number): Promise<EarlyPool | null> {
  try {
    const model = await loadModel(spec.model);
    const { plan } = planOutput(spec, model.info);
    if (!plan) return null;
    const fixedBatch = fixedBatchOf(model.info.inputs).size;
    const outputNames = requestedOutputs(plan);
    const pool = await WorkerPool.start({ model: model.bytes, workers, intraOpThreads: threads, outputNames, fixedBatch, device: spec.device });
    return { pool, key: poolKey(model.sha256, outputNames, fixedBatch) };
  } catch {
    return null;
  }
}

/** The early pool when it serves the validated job; otherwise (the model file changed in between, ...) a new one. */
async function adoptPool(early: Promise<EarlyPool | null> | null, job: PreparedJob, workers: number, threads: number): Promise<WorkerPool> {
  const outputNames = requestedOutputs(job.output);
  const started = early ? await early : null;
  if (started && started.key === poolKey(job.model.sha256, outputNames, job.fixedBatch)) return started.pool;
  await started?.pool.close();
  return WorkerPool.start({ model: job.model.bytes, workers, intraOpThreads: threads, outputNames, fixedBatch: job.fixedBatch, device: job.spec.device });
}

/**
 * DuckDB's threads. While it reads rows for the workers to infer, it gets the cores they leave
 * (at least one): its threads beside theirs only contended, and one thread decodes the feature
 * columns faster than the reader consumes them (docs/performance.md). The copies it makes
 * alone (staging an input, a part joined on row numbers, the commit) have them all.
 */
export function duckdbThreadBudget(cores: number, inferenceThreads: number, duckdbThreads: number): { reading: number; writing: number } {
  return { reading: Math.max(1, Math.min(duckdbThreads, cores - inferenceThreads)), writing: duckdbThreads };
}

/**
 * Workers x intra-op threads fit the cores unless the user asks otherwise. On CUDA one worker
 * feeds the GPU (its threads run the nodes CUDA does not take); `auto` plans for the CPU it
 * falls back to.
 */
function threadBudget(spec: JobSpec, warnings: string[]): { workers: number; threads: number } {
  const cores = availableParallelism();
  const gpu = spec.device.startsWith('cuda');
  const workers = spec.workers ?? (gpu ? 1 : Math.max(1, Math.floor(cores / (spec.threads ?? 1))));
  const threads = spec.threads ?? Math.max(1, Math.floor(cores / workers));
  if (workers * threads > cores) warnings.push(`${workers} workers x ${threads} threads exceeds ${cores} cores; expect contention`);
  return { workers, threads };
}


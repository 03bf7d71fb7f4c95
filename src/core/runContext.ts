/**
 * What a run holds open: DuckDB, the output's lock, the inference workers, the staging
 * directory and its journal. Each is opened here, when the run needs it, and `close()`
 * releases them all on one path, whatever failed: the run's `finally` calls it.
 *
 * The workers may start before the job is validated (`open` with `startPool`), loading
 * onnxruntime and the model on their own threads while this one loads DuckDB and validates:
 * the two start-up costs overlap. `adoptPool` keeps them when they serve the validated job.
 */
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Db } from '../db/duckdb.js';
import { BatchinferError, isBatchinferError } from '../errors.js';
import { WorkerPool } from '../infer/workerPool.js';
import { loadModel } from '../model/loadModel.js';
import { planOutput, requestedOutputs } from '../postprocess/outputPlan.js';
import { fixedBatchOf } from '../preprocess/featurePlan.js';
import { pruneEmptyDirs } from '../sink/atomicFile.js';
import { Journal, type JournalIdentity, type JournalOptions, type OpenedJournal } from '../sink/journal.js';
import { acquireLock, releaseHeldLocksSync, type Lock } from '../sink/lock.js';
import { lockPathFor } from '../sink/outputPaths.js';
import { ensureOutputParent, ensurePrivateDir, openStaging } from '../sink/staging.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { redactError } from '../util/redact.js';
import { writeErrno, writeFailure } from '../util/writeFailure.js';
import { workerBudget, type ExecutionPlan } from './executionPlan.js';
import type { PreparedJob } from './prepare.js';

interface EarlyPool {
  pool: WorkerPool;
  /** What the pool was started for: the model file and the outputs and batch it serves. */
  key: string;
}

export class RunContext {
  private lock: Lock | null = null;
  private createdParent: string | undefined;
  private pool: WorkerPool | null = null;
  private stagingDir: string | null = null;
  /** Keep the staging directory: an interrupted run's journal, or scored parts a later commit can use. */
  keepStaging = false;
  /** Every part is scored and journaled: from here on a failure is the commit's. */
  scored = false;
  /** The output is in place: nothing of it is pruned. */
  committed = false;

  private constructor(
    readonly spec: JobSpec,
    readonly db: Db,
    private early: Promise<EarlyPool | null> | null,
  ) {}

  /** Opens DuckDB; with `startPool`, the workers start first, from the model alone. */
  static async open(spec: JobSpec, options: { startPool: boolean }): Promise<RunContext> {
    const early = options.startPool ? startPoolEarly(spec) : null;
    try {
      const { Db } = await import('../db/duckdb.js');
      return new RunContext(spec, await Db.open({ timezone: spec.timezone, memoryLimit: spec.memoryLimit }), early);
    } catch (err) {
      // Its workers would keep the process alive.
      await (await early)?.pool.close();
      throw err;
    }
  }

  /** Starts the workers from the model alone, when `open` did not. */
  startPool(): void {
    this.early ??= startPoolEarly(this.spec);
  }

  /**
   * Creates the output's parent directories and takes the lock beside the output (once), or
   * the lock at `path` (a shard's: its directory is created, private).
   */
  async lockOutput(path?: string): Promise<Lock> {
    if (this.lock) return this.lock;
    this.createdParent = await ensureOutputParent(this.spec.output);
    if (path !== undefined) await ensurePrivateDir(dirname(path));
    this.lock = await acquireLock(path ?? lockPathFor(this.spec.output), { job: this.spec.name });
    return this.lock;
  }

  /** The early workers when they serve the validated job; otherwise (the model file changed in between, ...) new ones. */
  async adoptPool(job: PreparedJob, plan: ExecutionPlan): Promise<WorkerPool> {
    const outputNames = requestedOutputs(job.output);
    const early = this.early;
    this.early = null;
    const started = early ? await early : null;
    if (started && started.key === poolKey(job.model.sha256, outputNames, job.fixedBatch)) return (this.pool = started.pool);
    await started?.pool.close();
    this.pool = await WorkerPool.start({ model: job.model.bytes, workers: plan.threads.workers, intraOpThreads: plan.threads.intraOpThreads, outputNames, fixedBatch: job.fixedBatch, device: job.spec.device });
    return this.pool;
  }

  /** The plan's staging directory (beside the output; a shard's) and its journal (resumed when `identity` is the same run's); DuckDB spills there. */
  async openStaging(plan: ExecutionPlan, identity: JournalIdentity, options?: JournalOptions): Promise<OpenedJournal> {
    this.stagingDir = (await openStaging(plan.output.path, plan.output.staging)).dir;
    const opened = await Journal.open(this.stagingDir, identity, options);
    await this.db.spillTo(join(this.stagingDir, `spill-${process.pid}`));
    return opened;
  }

  /** The staging directory, once opened. */
  get staging(): string | null {
    return this.stagingDir;
  }

  /** Whether this run holds the output's lock. */
  get locked(): boolean {
    return this.lock !== null;
  }

  /**
   * The error a failed run reports, redacted before anything records or prints it (the failure
   * marker, stderr, --json). An interrupted run keeps its journal so the next run resumes; so
   * does a commit that ran out of space or open files, which the next run makes without
   * scoring again. Any other failure starts over.
   */
  failure(caught: unknown): unknown {
    const err = this.spec.redact ? redactError(asRunError(caught, this.spec.output)) : asRunError(caught, this.spec.output);
    if (isBatchinferError(err) && err.code === 'INTERRUPTED') {
      this.keepStaging = true;
    } else if (this.scored && this.stagingDir && isRetryableCommitFailure(err)) {
      this.keepStaging = true;
      return keptForRetry(err, this.stagingDir);
    }
    return err;
  }

  /**
   * Releases everything. Cleaning up must not turn a committed run (or the failure being
   * reported) into another error: what is left is a staging directory the next run clears,
   * or a lock of a dead pid.
   */
  async close(): Promise<void> {
    // A pool started early for a run that failed validation (or was skipped) is not needed.
    if (this.early) await (await this.early)?.pool.close();
    await this.pool?.close();
    this.db.close();
    if (this.stagingDir && !this.keepStaging) await rm(this.stagingDir, { recursive: true, force: true }).catch(() => undefined);
    await this.lock?.release().catch(() => undefined);
    if (!this.committed && !this.keepStaging && this.createdParent) await pruneEmptyDirs(this.createdParent);
  }

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
 * Removes what runs of this process hold that must not outlive it (their output locks),
 * synchronously: for a process that ends at once (a second signal, the shutdown deadline)
 * without reaching their `close()`.
 */
export function releaseRunsSync(): void {
  releaseHeldLocksSync();
}

function poolKey(sha256: string, outputs: string[], fixedBatch: number | null): string {
  return JSON.stringify([sha256, outputs, fixedBatch]);
}

/**
 * Starts the inference workers from the model alone, before the job is validated. Any
 * failure yields null: validation then reports it with every other problem, or the pool is
 * started again after validation and fails with onnxruntime's own words.
 */
async function startPoolEarly(spec: JobSpec): Promise<EarlyPool | null> {
  try {
    const model = await loadModel(spec.model);
    const { plan } = planOutput(spec, model.info);
    if (!plan) return null;
    const fixedBatch = fixedBatchOf(model.info.inputs).size;
    const outputNames = requestedOutputs(plan);
    const { workers, intraOpThreads } = workerBudget(spec);
    const pool = await WorkerPool.start({ model: model.bytes, workers, intraOpThreads, outputNames, fixedBatch, device: spec.device });
    return { pool, key: poolKey(model.sha256, outputNames, fixedBatch) };
  } catch {
    return null;
  }
}

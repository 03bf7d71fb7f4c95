/**
 * Scores a job end to end, as the diagram in DEVELOPERS.md draws it:
 *
 *   plan (validate spec x model x dataset, decide) -> open (lock, workers, staging, journal)
 *   -> score (source -> preprocess -> infer -> postprocess -> part files) -> commit -> summarise
 *
 * Every run takes a lock beside its output and scores into a staging directory beside it
 * (`.<name>.staging`, which readers ignore) whose journal survives a crash or a SIGTERM: the
 * next run with the same inputs, model and job resumes after the last finished part. A
 * scheduled window is the same run in a wrapper of its own (windowRun.ts).
 *
 * @example
 *   const summary = await runJob(await loadJob('jobs/transactions-mlp.yaml'));
 */
import type { JobSpec } from '../spec/jobSpec.js';
import type { Window } from '../schedule/window.js';
import { stampInputs } from '../sink/manifest.js';
import { commitRun } from './commitRun.js';
import { planExecution } from './executionPlan.js';
import { runIdentity } from './fingerprint.js';
import { openJobKeys } from './jobKeys.js';
import { prepareJob } from './prepare.js';
import { RunContext } from './runContext.js';
export { releaseRunsSync } from './runContext.js';
import { outputRun } from './runKind.js';
import { checkScored, notesBeforeScoring } from './runNotes.js';
import { scoreFiles, type PartProgress } from './scoreFiles.js';
import type { RunSummary, SkippedRun } from './summary.js';
import { windowRun } from './windowRun.js';
import { shardRun } from './shardRun.js';
import type { ShardIndex } from '../shard/shardIndex.js';

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
  /** Score one shard of a sharded run (`run --shard I/N`), committed later by `commit`. */
  shard?: ShardIndex;
}

export async function runJob(given: JobSpec, options: RunOptions = {}): Promise<RunSummary | SkippedRun> {
  // A shard's rows are part of the run's: `min_rows` is checked on them all, by the commit.
  const spec = options.shard ? { ...given, minRows: undefined } : given;
  const startedAt = new Date();
  const wallStart = performance.now();
  const kind = options.shard ? shardRun(spec, options.shard, options.window ?? null) : options.window ? windowRun(spec, options.window, options.force ?? false) : outputRun(spec);
  const ctx = await RunContext.open(spec, { startPool: kind.window === null });
  try {
    const keys = await openJobKeys(ctx.db, spec);
    const skipped = await kind.begin(ctx);
    if (skipped) return skipped;
    // Plan: the job validated, every decision made before a row is read.
    const job = await prepareJob(ctx.db, spec, kind.prepareOptions);
    const planned = await planExecution(ctx.db, job, { window: kind.window });
    // Open. The workers before the staging directory: ones that cannot start (a CUDA device
    // that does not load) leave an interrupted run's journal as it was, for a run that can.
    const lock = await (kind.lock ? kind.lock(ctx) : ctx.lockOutput());
    const scoped = kind.scope ? await kind.scope(ctx, job, planned) : planned;
    if ('status' in scoped) return scoped;
    const plan = scoped;
    const pool = await ctx.adoptPool(job, plan);
    const inputs = await stampInputs(plan.inputs.map((f) => f.path));
    const ofRun = runIdentity(job, inputs, kind.window, keys);
    const { identity, options: journalOptions } = kind.journal?.(ofRun) ?? { identity: ofRun, options: {} };
    const journal = await ctx.openStaging(plan, identity, journalOptions);
    const warnings = notesBeforeScoring({ job, plan, pool, lock, journal, identity });
    // Score, and check every row is accounted for before anything is committed.
    const result = await scoreFiles(ctx.db, pool, job, plan, journal.journal, options);
    checkScored(job, kind.window, result, journal.resumed, warnings);
    ctx.scored = true;
    // Commit, summarise.
    const summary = await commitRun(kind, { ctx, job, plan, result, journal: journal.journal, inputs, resumed: journal.resumed, warnings, pool, startedAt, wallStart });
    ctx.committed = true;
    return await kind.afterCommit(summary, plan);
  } catch (caught) {
    const err = ctx.failure(caught);
    await kind.failed(err, ctx);
    throw err;
  } finally {
    await ctx.close();
  }
}

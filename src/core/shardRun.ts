/**
 * One shard of a sharded run (`run JOB --shard I/N`), as a kind of run (runKind.ts): it takes
 * its shard's lock (a second live attempt exits 75), agrees on the split with the other shards
 * (shard/planRecord.ts: the first records it, the others check theirs; changed inputs exit 65),
 * is skipped when its manifest of that plan exists, and scores only its units: the execution
 * plan narrowed to its files and row spans, staged and journaled in its own directory
 * (`.<output>.shards/shard-I`), so a retried shard resumes its own journal. It commits by
 * writing its manifest last and atomically; `batchinfer commit` later joins every shard's parts
 * into the output (commitShards.ts). A failed attempt leaves a failure record for `verify`.
 * A shard hashes no input: it checks the stamps (size, mtime) of the files it reads against
 * the plan's when it starts and when it finishes.
 *
 * Quarantined rows stay in the shard's directory beside its parts (listed in its manifest) and
 * are merged at the commit, as is the profile of the shard's rows (when the run keeps one): the
 * commit compares the merged profile with the job's `reference`, so no shard judges drift.
 * `min_rows` is checked there, on the whole run's rows; `max_errors` and `max_error_rate` apply
 * to each shard's own rows.
 */
import { join } from 'node:path';
import type { Db } from '../db/duckdb.js';
import type { Window } from '../schedule/window.js';
import type { DatasetFile } from '../source/dataset.js';
import { BatchinferError, isBatchinferError } from '../errors.js';
import { readRecordedPlan, recordOrCheckPlan } from '../shard/planRecord.js';
import type { ShardIndex } from '../shard/shardIndex.js';
import { buildShardPlan, shardInputs, shardRanges, type ShardPlan } from '../shard/shardPlan.js';
import { shardsPathFor } from '../sink/outputPaths.js';
import {
  SHARD_MANIFEST_FORMAT,
  clearShardFailure,
  describeShardFile,
  describeShardParts,
  nextAttempt,
  readShardManifest,
  stampShardInputs,
  writeShardFailure,
  writeShardManifest,
  type FinishedPart,
  type ShardManifest,
} from '../sink/shardManifest.js';
import { SHARD_PROFILE_NAME, shardDir, shardLockPath } from '../sink/shardPaths.js';
import { writeProfile } from '../profile/profileFile.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { failpoint } from '../util/failpoint.js';
import { stagedSourceName, type ExecutionPlan } from './executionPlan.js';
import { outputSettings, withSettings } from './fingerprint.js';
import { rowsToStage } from './stageSource.js';
import type { PreparedJob } from './prepare.js';
import type { RunKind } from './runKind.js';
import { versions, type SkippedRun } from './summary.js';

export function shardRun(spec: JobSpec, shard: ShardIndex, window: Window | null = null): RunKind {
  const shardsDir = shardsPathFor(spec.output);
  const dir = shardDir(shardsDir, shard.index);
  // Known once the shard holds its lock and agreed on the plan.
  let agreed: ShardPlan | null = null;
  let attempt = 0;
  // The settings that decide the output, recorded in the manifest for the commit to compare.
  let settings: Record<string, string> = {};
  const plan = (): ShardPlan => agreed ?? internal('the shard plan is used before it is agreed');
  return {
    window,
    // A window on a partition key: its own partitions are its inputs (windowFiles.ts).
    prepareOptions: window ? { windowed: true, window } : { windowed: false },
    begin: async () => null,
    lock: (ctx) => ctx.lockOutput(shardLockPath(shardsDir, shard.index)),
    async scope(ctx, job, execution) {
      const recorded = await readRecordedPlan(shardsDir);
      agreed = await recordOrCheckPlan(shardsDir, await shardPlanFor(ctx.db, job, execution, shard.count, recorded), spec.fileMode);
      const done = await readShardManifest(shardsDir, shard.index).catch(() => null);
      if (done?.planHash === agreed.hash) return doneAlready(spec, shard, done);
      // An attempt is counted once it scores (or fails: `failed`); a shard done already, or refused, is none.
      attempt = await nextAttempt(shardsDir, shard.index);
      // Its files as the plan recorded them (a touch since is a change): fail before scoring, not at the commit.
      await stampShardInputs(shardInputs(agreed, shard.index));
      return narrowPlan(execution, agreed, shard.index, dir);
    },
    journal(identity) {
      const ranges = shardRanges(plan(), shard.index);
      settings = outputSettings(identity);
      return {
        // A journal of another plan or shard is never resumed.
        identity: withSettings(identity, { shard: { index: shard.index, count: shard.count, plan: plan().hash } }),
        options: { firstRow: (file) => ranges.find((r) => r.file === file)?.rowStart ?? 0 },
      };
    },
    rejectsTemp: () => undefined,
    async commit({ ctx, job, plan: execution, result, journal, pool, startedAt }, { summarize, profile }) {
      const p = plan();
      // The profile of the shard's rows waits for the commit, which merges the shards' into the run's.
      if (profile) await writeProfile(join(dir, SHARD_PROFILE_NAME), profile, spec.fileMode);
      const finished: FinishedPart[] = execution.inputs.flatMap((input) =>
        journal.parts(input.index).map((e) => ({
          file: e.name,
          input: input.index,
          rowStart: e.rowStart,
          rowEnd: e.rowEnd,
          rows: e.rowCount,
          ...(e.rejects ? { rejects: { file: e.rejects.name, rows: Object.values(e.rejected).reduce((n, k) => n + k, 0) } } : {}),
        })),
      );
      const a = p.assignments[shard.index]!;
      const manifest: ShardManifest = {
        format: SHARD_MANIFEST_FORMAT,
        job: spec.name,
        window: window ? { start: window.start.toISOString(), end: window.end.toISOString() } : null,
        shard: { index: shard.index, count: shard.count },
        planHash: p.hash,
        units: Array.from({ length: a.endUnit - a.firstUnit }, (_, k) => a.firstUnit + k),
        attempt,
        // Stamped again once read: a file changed while the shard read it is no input of this plan.
        inputs: await stampShardInputs(shardInputs(p, shard.index)),
        rows: { in: result.rowsIn, out: result.rowsOut, rejected: result.rejectedTotal, ...(result.rowsFiltered !== undefined ? { filtered: result.rowsFiltered } : {}) },
        rejectedByReason: result.rejected as Record<string, number>,
        parts: await describeShardParts(shardsDir, shard.index, finished),
        ...(profile ? { profile: await describeShardFile(shardsDir, shard.index, SHARD_PROFILE_NAME, profile.rows) } : {}),
        model: { path: job.model.path, sha256: job.model.sha256 },
        settings,
        versions: versions(pool.runtimeVersion, ctx.db.libraryVersion),
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
      };
      failpoint('shard-manifest');
      await writeShardManifest(shardsDir, manifest, spec.fileMode);
      // The parts wait for the commit: the run's close must not remove them.
      ctx.keepStaging = true;
      await clearShardFailure(shardsDir, shard.index).catch(() => undefined);
      // A shard judges no drift (its rows are a part of the run's; the commit judges the whole), so no shard fails a drift gate.
      const { drift: _drift, profile: _profile, ...summary } = summarize([]);
      return { ...summary, ...(profile ? { profile: join(dir, SHARD_PROFILE_NAME) } : {}), shard: { index: shard.index, count: shard.count, attempt, plan: p.hash, dir } };
    },
    afterCommit: async (summary) => summary,
    async failed(err, ctx) {
      // Another live attempt of this shard, or a command line at odds with the plan, is no failure of the shard.
      if (!ctx.locked || (isBatchinferError(err) && (err.code === 'LOCKED' || err.code === 'USAGE'))) return;
      const e = isBatchinferError(err) ? err : new BatchinferError('INTERNAL', err instanceof Error ? err.message : String(err));
      if (attempt === 0) attempt = await nextAttempt(shardsDir, shard.index).catch(() => 0);
      await writeShardFailure(shardsDir, { shard: shard.index, attempt, code: e.code, exitCode: e.exitCode, message: e.message, at: new Date().toISOString() }).catch(() => undefined);
    },
  };
}

/**
 * The split of the job's input its shards agree on. A window's files, and the files of a job
 * with a `where`, are read through staged copies holding only the rows the filters keep
 * (numbered after them), so each is one unit of those rows; otherwise Parquet row groups and
 * whole CSV (and encrypted Parquet) files (shardPlan.ts).
 */
export function shardPlanFor(db: Db, job: PreparedJob, execution: ExecutionPlan, count: number, known: ShardPlan | null): Promise<ShardPlan> {
  const filter = execution.window;
  const filtered = filter !== null || job.spec.where !== undefined;
  return buildShardPlan(db, job.dataset.files, count, { known, ...(filtered ? { wholeFiles: (file: DatasetFile) => rowsToStage(db, file, filter) } : {}) });
}

/**
 * The execution plan of shard `index`: the input files it reads, a Parquet file's span of row
 * groups read directly (`span`), a CSV whole from its staged copy; the shard's directory is its
 * staging. Its quarantined rows stay beside its parts: the commit merges them.
 */
export function narrowPlan(execution: ExecutionPlan, plan: ShardPlan, index: number, dir: string): ExecutionPlan {
  const inputs = shardRanges(plan, index).map((r) => {
    const full = execution.inputs[r.file]!;
    if (full.read === 'staged') return { ...full, staged: join(dir, stagedSourceName(full.index)) };
    return { ...full, rows: { start: r.rowStart, end: r.rowEnd }, span: true as const };
  });
  const { rejects: _rejects, ...output } = execution.output;
  return { ...execution, inputs, output: { ...output, staging: dir } };
}

function doneAlready(spec: JobSpec, shard: ShardIndex, done: ShardManifest): SkippedRun {
  return {
    status: 'skipped',
    reason: `is done already (attempt ${done.attempt}; its manifest waits for the commit)`,
    job: spec.name,
    window: done.window,
    shard: { index: shard.index, count: shard.count },
    output: { path: spec.output },
    rows: { in: done.rows.in, out: done.rows.out, rejected: done.rows.rejected },
    committedAt: done.finishedAt,
  };
}

function internal(message: string): never {
  throw new BatchinferError('INTERNAL', message);
}

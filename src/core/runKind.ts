/**
 * The kinds of run that share `runJob`: a one-off run, committing a file or directory output
 * with its summary and profile beside it (`outputRun`, here), a scheduled window, committing a directory
 * with a `_SUCCESS` manifest (`windowRun`, windowRun.ts), and one shard of a sharded run,
 * scoring its span of the input and committing a shard manifest (`shardRun`, shardRun.ts).
 * Each owns its steps around the same run: what happens before validation, which lock it
 * takes, what part of the plan it scores, the commit, after it, and on failure.
 */
import { removeStaleRejects, type StagedRejects } from '../sink/commitRejects.js';
import { commitOutput } from '../sink/commitOutput.js';
import { describeOutputs, type InputFileStamp } from '../sink/manifest.js';
import { placeStagedProfile, placeStagedSummary, stageProfile, stageSummary } from '../sink/stagedSummary.js';
import type { Profile } from '../profile/profile.js';
import type { Window } from '../schedule/window.js';
import type { JobSpec } from '../spec/jobSpec.js';
import type { JournalOptions, Journal } from '../sink/journal.js';
import type { Lock } from '../sink/lock.js';
import type { ExecutionPlan } from './executionPlan.js';
import type { RunIdentity } from './fingerprint.js';
import type { PrepareOptions, PreparedJob } from './prepare.js';
import type { RunContext } from './runContext.js';
import type { ScoreResult } from './scoreFiles.js';
import type { RunSummary, SkippedRun } from './summary.js';

export interface RunKind {
  window: Window | null;
  prepareOptions: PrepareOptions;
  /** Before the job is validated: a window takes its lock, and is skipped when committed already. */
  begin(ctx: RunContext): Promise<SkippedRun | null>;
  /** Takes the run's lock (default: the output's). */
  lock?(ctx: RunContext): Promise<Lock>;
  /** Under the lock: the part of the plan this run scores (default: all of it), or a skip. */
  scope?(ctx: RunContext, job: PreparedJob, plan: ExecutionPlan): Promise<ExecutionPlan | SkippedRun>;
  /** The journal's identity (default: the run's) and how it checks its parts. */
  journal?(identity: RunIdentity): { identity: RunIdentity; options: JournalOptions };
  /** The temp file the rejects file is merged into (undefined: beside its target). */
  rejectsTemp(staging: string): string | undefined;
  /** Commits the scored parts with the run's summary and rejects file; returns the summary. */
  commit(run: ScoredRun, staged: StagedRun): Promise<RunSummary>;
  /** After the commit's rename: the output is there, so nothing here fails the run. */
  afterCommit(summary: RunSummary, plan: ExecutionPlan): Promise<RunSummary>;
  /** A failed run (`err` as reported). */
  failed(err: unknown, ctx: RunContext): Promise<void>;
}

/** A run whose every part is scored and journaled. */
export interface ScoredRun {
  ctx: RunContext;
  job: PreparedJob;
  plan: ExecutionPlan;
  result: ScoreResult;
  journal: Journal;
  inputs: InputFileStamp[];
  resumed: boolean;
  warnings: string[];
  pool: { runtimeVersion: string; providers: string[] };
  startedAt: Date;
  wallStart: number;
}

/** What the commit stages beside the parts: the rejects file, and the summary of the committed files. */
export interface StagedRun {
  staging: string;
  rejects: StagedRejects | null;
  summarize(files: string[]): RunSummary;
  /** The run's profile (null with `profile: false`), committed with the summary. */
  profile: Profile | null;
}

/** A one-off run: the output is a file or directory, its summary and rejects file beside it. */
export function outputRun(spec: JobSpec): RunKind {
  return {
    window: null,
    prepareOptions: { windowed: false },
    begin: async () => null,
    rejectsTemp: () => undefined,
    async commit({ ctx, job, plan, result }, { staging, rejects, summarize, profile }) {
      // The summary is written into staging and the rejects file renamed into place last before
      // the output: a failure (a full disk) or a crash before that leaves neither. After the
      // rename the summary only moves beside the output, which needs no space.
      let summary: RunSummary | null = null;
      // The profile (a megabyte of sketches for 30 columns) is written while the parts are
      // joined into the output; the rename waits for it, and a failure surfaces there.
      const stagedProfile = profile ? stageProfile(staging, profile, spec.fileMode) : null;
      stagedProfile?.catch(() => undefined);
      const beforeRename = async (files: string[], staged: string[], hashes: ReadonlyMap<string, string>): Promise<void> => {
        summary = { ...summarize(files), manifest: await describeOutputs(files, staged, rowsPerFile(job, result), hashes) };
        await stageSummary(staging, summary, spec.fileMode);
        await stagedProfile;
        await removeStaleRejects(spec.output, plan.output.rejects, [...job.dataset.files.map((f) => f.path), job.model.path]);
        await rejects?.commit();
      };
      const output = { path: plan.output.path, mode: plan.output.mode, format: plan.output.format, inputs: job.dataset.files.map((f) => f.path), fileMode: spec.fileMode };
      const files = await commitOutput(ctx.db, output, result.parts.map((p) => p.map((part) => part.path)), staging, beforeRename);
      return summary ?? summarize(files);
    },
    /**
     * The staged summary moves beside the output; should that fail the run says so in
     * `summaryError` (shown as a warning) rather than exiting with an error that the output
     * on disk would contradict.
     */
    async afterCommit(summary, plan) {
      try {
        await placeStagedSummary(plan.output.staging, spec.output);
      } catch (err) {
        return { ...summary, summaryError: `the output is committed, but its summary could not be written: ${(err as Error).message}` };
      }
      try {
        // With `profile: false`, an earlier run's profile beside the output goes: it described other rows.
        await placeStagedProfile(plan.output.staging, spec.output, summary.profile !== undefined);
        return summary;
      } catch (err) {
        return { ...summary, summaryError: `the output is committed, but its profile could not be written: ${(err as Error).message}` };
      }
    },
    failed: async () => undefined,
  };
}

/** Rows of each committed file: the one file, or one per input file (a directory). */
function rowsPerFile(job: PreparedJob, result: ScoreResult): number[] {
  if (job.outputMode === 'file') return [result.rowsOut];
  return result.parts.map((parts) => parts.reduce((n, p) => n + p.rows, 0));
}

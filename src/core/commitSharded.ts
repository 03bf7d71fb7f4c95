/**
 * `batchinfer commit JOB --shards N`: the output of a sharded run, written once every shard is
 * done. Under the output's lock it checks the inputs still are those the plan recorded
 * (INPUTS_CHANGED, 65), then every shard's manifest (shard/shardCheck.ts: missing, failed or
 * stale shards are INPUT_MISSING, 66; manifests that do not add up INPUT_INVALID, 65), joins the
 * shards' parts into the output exactly as one run would (one file, or a directory of one file
 * per input), with the merged rejects file and a summary beside it, and removes the shards'
 * directory. The shards' profiles merge into the run's profile, compared with the job's
 * `reference` (shardProfile.ts). Nothing is written at the output before that check passes.
 *
 * A commit that finds its output committed from the recorded plan (its summary names the plan)
 * exits 0 without work, and finishes removing the shards' directory a crash may have left.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchinferError } from '../errors.js';
import { checkSamePlan, readRecordedPlan } from '../shard/planRecord.js';
import { checkShards, shardStatus, type CheckedShards, type ShardStatus } from '../shard/shardCheck.js';
import type { ShardPlan } from '../shard/shardPlan.js';
import type { Window } from '../schedule/window.js';
import { DEFAULT_REJECTS_MODE, PRIVATE_DIR_MODE } from '../sink/atomicFile.js';
import { commitWindow } from '../sink/commitWindow.js';
import { removeStaleRejects, stageRejects, type StagedRejects } from '../sink/commitRejects.js';
import { COMMIT_STAGING, commitShards, removeShards } from '../sink/commitShards.js';
import { describeOutputs, readManifest, type InputFileStamp, type OutputFileEntry } from '../sink/manifest.js';
import { outputTarget, profilePath, shardsPathFor, summaryPath, WINDOW_PROFILE, WINDOW_REJECTS, WINDOW_SUMMARY } from '../sink/outputPaths.js';
import { shardDir } from '../sink/shardPaths.js';
import { placeStagedProfile, placeStagedSummary, stageProfile, stageSummary, writeSummary } from '../sink/stagedSummary.js';
import type { Profile } from '../profile/profile.js';
import { writeProfile } from '../profile/profileFile.js';
import { guardWrite } from '../util/writeFailure.js';
import type { DatasetFile } from '../source/dataset.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { emptyRejects } from './commitRun.js';
import { planExecution, stagedSourceName, type ExecutionPlan } from './executionPlan.js';
import { openJobKeys, type KeyFingerprints } from './jobKeys.js';
import { outputSettings, runIdentity } from './fingerprint.js';
import { prepareJob, type PreparedJob } from './prepare.js';
import type { RunDrift } from './referenceDrift.js';
import { RunContext } from './runContext.js';
import { mergeShardProfiles } from './shardProfile.js';
import { shardPlanFor } from './shardRun.js';
import { versions } from './summary.js';

/** The summary of a sharded run's commit, written beside the output as a run's is. */
export interface ShardedSummary {
  status: 'ok';
  job: string;
  model: { path: string; sha256: string };
  output: { path: string; mode: 'file' | 'directory'; files: string[] };
  /** As a run's summary's: `filtered` with a `where`. */
  rows: { in: number; out: number; rejected: number; rejectedByReason: Record<string, number>; filtered?: number };
  rejects?: string;
  /** The shards: how many, the plan they scored, and each one's attempt and rows. */
  shards: { count: number; plan: string; attempts: number[]; rows: number[] };
  /** A scheduled job's window, committed with its `_SUCCESS` manifest. */
  window?: { start: string; end: string };
  /** The input files (size, mtime) as the plan recorded them and every shard read them; a window's `_SUCCESS` adds their sha256. */
  inputs: InputFileStamp[];
  manifest: OutputFileEntry[];
  /** The run's profile, merged from the shards' (`<output>.profile.json`; a window's `_profile.json`), when they kept one. */
  profile?: string;
  /** The merged profile against the job's `reference`: its `drift.fail_on` gates the commit (exit 1, the output committed). */
  drift?: RunDrift;
  versions: Record<string, string>;
  startedAt: string;
  finishedAt: string;
  seconds: { wall: number };
  warnings: string[];
  summaryError?: string;
}

/** A commit with nothing to do: the output was committed from this plan already. */
export interface CommittedAlready {
  status: 'skipped';
  reason: string;
  job: string;
  output: { path: string };
  shards: { count: number; plan: string };
  committedAt: string;
}

export async function commitSharded(spec: JobSpec, count: number, window: Window | null = null): Promise<ShardedSummary | CommittedAlready> {
  const startedAt = new Date();
  const wallStart = performance.now();
  const ctx = await RunContext.open(spec, { startPool: false });
  try {
    const keys = await openJobKeys(ctx.db, spec);
    await ctx.lockOutput();
    const shardsDir = shardsPathFor(spec.output);
    const recorded = await readRecordedPlan(shardsDir);
    const committed = await committedAlready(spec, count, recorded, window);
    if (committed) {
      // A crash after the output's rename may have left the shards' directory.
      await removeShards(shardsDir);
      return committed;
    }
    if (!recorded) {
      throw new BatchinferError('INPUT_MISSING', `cannot commit: no shard of ${spec.output} has started (no plan in ${shardsDir}); run the shards first (run --shard I/${count})`, { expected: `a plan recorded by a shard in ${shardsDir}`, actual: 'none' });
    }
    const { job, plan, checked } = await checkCommit(ctx, spec, count, recorded, window, keys);
    const staging = join(shardsDir, COMMIT_STAGING);
    await guardWrite(staging, async () => {
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging, { mode: PRIVATE_DIR_MODE });
    });
    // A window's own rejects file is merged in the commit's staging and committed inside the window.
    const ownRejects = window !== null && !spec.rejects;
    const rejects = await stageShardRejects(ctx, job, plan, checked, shardsDir, ownRejects ? join(staging, 'rejects.parquet.tmp') : undefined);
    const profiled = await mergeShardProfiles(job, shardsDir, checked.manifests, outputTarget(spec.output));
    const summarize = (files: string[], manifest: OutputFileEntry[]): ShardedSummary => ({
      status: 'ok',
      job: spec.name,
      ...(window ? { window: { start: window.start.toISOString(), end: window.end.toISOString() } } : {}),
      model: { path: spec.model, sha256: job.model.sha256 },
      output: { path: spec.output, mode: job.outputMode, files },
      rows: { in: checked.rows.in, out: checked.rows.out, rejected: checked.rows.rejected, rejectedByReason: rejectedByReason(checked), ...(checked.rows.filtered !== undefined ? { filtered: checked.rows.filtered } : {}) },
      ...(plan.output.rejects ? { rejects: plan.output.rejects } : {}),
      shards: { count, plan: recorded.hash, attempts: checked.manifests.map((m) => m.attempt), rows: checked.manifests.map((m) => m.rows.in) },
      inputs: checked.inputs,
      manifest,
      ...(profiled.profile ? { profile: profilePath(spec.output, window !== null) } : {}),
      ...(profiled.drift ? { drift: profiled.drift } : {}),
      versions: { ...checked.manifests[0]!.versions, duckdb: ctx.db.libraryVersion, node: process.version },
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: { wall: Math.round(performance.now() - wallStart) / 1000 },
      warnings: [...(checked.rows.in === 0 ? ['the input has no rows: the output is empty'] : []), ...(profiled.warning ? [profiled.warning] : [])],
    });
    const commit: ShardCommit = { ctx, spec, job, plan, recorded, checked, shardsDir, staging, rejects, ownRejects, profile: profiled.profile, summarize, startedAt };
    try {
      return window ? await commitWindowOf(commit, window) : await commitOutputOf(commit);
    } finally {
      await rejects?.discard();
    }
  } finally {
    await ctx.close();
  }
}

/** What both commits (a one-off output, a window) work from, once the shards are checked. */
interface ShardCommit {
  ctx: RunContext;
  spec: JobSpec;
  job: PreparedJob;
  plan: ExecutionPlan;
  recorded: ShardPlan;
  checked: CheckedShards;
  shardsDir: string;
  /** Where the commit merges (inside the shards' directory). */
  staging: string;
  rejects: StagedRejects | null;
  /** A window's own rejects file, committed inside it. */
  ownRejects: boolean;
  /** The run's profile merged from the shards', committed with the summary. */
  profile: Profile | null;
  summarize(files: string[], manifest: OutputFileEntry[]): ShardedSummary;
  startedAt: Date;
}

/**
 * The job validated, the inputs still those of the recorded plan (the output's manifest names
 * them), every shard's manifest checked, and `min_rows` on the run's rows: nothing is written before.
 */
async function checkCommit(ctx: RunContext, spec: JobSpec, count: number, recorded: ShardPlan, window: Window | null, keys: KeyFingerprints | null): Promise<{ job: PreparedJob; plan: ExecutionPlan; checked: CheckedShards }> {
  const shardsDir = shardsPathFor(spec.output);
  const job = await prepareJob(ctx.db, spec, window ? { windowed: true, window } : { windowed: false });
  const plan = await planExecution(ctx.db, job, { window });
  checkSamePlan(recorded, await shardPlanFor(ctx.db, job, plan, recorded.shards, recorded), shardsDir);
  // The settings the shards must have run with: this job's (its input files are the plan's, checked above).
  const identity = runIdentity(job, [], window, keys);
  const checked = await checkShards(shardsDir, recorded, count, { model: job.model.sha256, settings: outputSettings(identity) });
  if (spec.minRows !== undefined && checked.rows.in < spec.minRows) {
    throw new BatchinferError('TOO_FEW_ROWS', `input ${spec.input} holds ${checked.rows.in} rows, fewer than min_rows ${spec.minRows}; nothing is committed`, { expected: `at least ${spec.minRows} row${spec.minRows === 1 ? '' : 's'}`, actual: checked.rows.in });
  }
  return { job, plan, checked };
}

/** A one-off output (a file, or a directory of one file per input), its summary and rejects file beside it. */
async function commitOutputOf(c: ShardCommit): Promise<ShardedSummary> {
  const { ctx, spec, job, plan, checked, shardsDir, staging, rejects } = c;
  let summary: ShardedSummary | null = null;
  const files = await commitShards({
    db: ctx.db,
    output: { path: plan.output.path, mode: plan.output.mode, format: plan.output.format, inputs: c.recorded.inputs.map((f) => f.path), fileMode: spec.fileMode },
    parts: checked.parts,
    shardsDir,
    beforeRename: async (files, staged, hashes) => {
      summary = c.summarize(files, await describeOutputs(files, staged, rowsPerFile(job, checked), hashes));
      await stageSummary(staging, summary, spec.fileMode);
      if (c.profile) await stageProfile(staging, c.profile, spec.fileMode);
      await removeStaleRejects(spec.output, plan.output.rejects, [...job.dataset.files.map((f) => f.path), job.model.path]);
      await rejects?.commit();
    },
  });
  ctx.committed = true;
  const done: ShardedSummary = summary ?? c.summarize(files, []);
  // The output is committed: what follows only tidies up, and says so if it cannot.
  try {
    await placeStagedSummary(staging, spec.output);
    // Without a profile, an earlier run's beside the output goes: it described other rows.
    await placeStagedProfile(staging, spec.output, c.profile !== null);
    await removeShards(shardsDir);
    return done;
  } catch (err) {
    return { ...done, summaryError: `the output is committed, but its summary, profile or the shards' directory ${shardsDir} could not be finished: ${(err as Error).message}` };
  }
}

/** A window: its directory of parts with its `_SUCCESS` manifest, summary and own rejects file inside, in one rename. */
async function commitWindowOf(c: ShardCommit, window: Window): Promise<ShardedSummary> {
  const { ctx, spec, job, checked, shardsDir, rejects } = c;
  let summary: ShardedSummary | null = null;
  const files = await commitWindow({
    db: ctx.db,
    job: { name: spec.name, output: spec.output, model: { path: job.model.path, sha256: job.model.sha256 } },
    versions: c.summarize([], []).versions,
    parts: checked.parts,
    staging: c.staging,
    window,
    inputs: c.recorded.inputs,
    startedAt: c.startedAt,
    rows: checked.rows,
    fileMode: spec.fileMode,
    beforeRename: async (entries, stagedDir) => {
      summary = c.summarize(entries.map((e) => e.file), entries);
      await writeSummary(join(stagedDir, WINDOW_SUMMARY), summary, spec.fileMode);
      if (c.profile) await writeProfile(join(stagedDir, WINDOW_PROFILE), c.profile, spec.fileMode);
      await rejects?.commit(c.ownRejects ? join(stagedDir, WINDOW_REJECTS) : undefined);
    },
  });
  ctx.committed = true;
  const done: ShardedSummary = summary ?? c.summarize(files, []);
  try {
    await removeShards(shardsDir);
    return done;
  } catch (err) {
    return { ...done, summaryError: `the window is committed, but the shards' directory ${shardsDir} could not be removed: ${(err as Error).message}` };
  }
}

/** `verify`'s answer, and whether the output is committed (then every shard counts as done). */
export interface VerifyReport extends ShardStatus {
  outputCommitted: boolean;
}

export async function verifySharded(spec: JobSpec, count: number, window: Window | null = null): Promise<VerifyReport> {
  const shardsDir = shardsPathFor(spec.output);
  const recorded = await readRecordedPlan(shardsDir);
  if (await committedAlready(spec, count, recorded, window)) {
    return { complete: true, committed: Array.from({ length: count }, (_, i) => i), missing: [], failed: [], stale: [], failures: [], outputCommitted: true };
  }
  return { ...(await shardStatus(shardsDir, recorded, count)), outputCommitted: false };
}

/**
 * The output committed already: a window's `_SUCCESS` manifest of this window; a one-off
 * output whose summary a sharded commit of the recorded plan (or of any, once the plan is
 * gone) wrote.
 */
async function committedAlready(spec: JobSpec, count: number, recorded: ShardPlan | null, window: Window | null): Promise<CommittedAlready | null> {
  const base = { status: 'skipped' as const, reason: 'already committed', job: spec.name, output: { path: spec.output } };
  if (window) {
    const manifest = await readManifest(spec.output);
    if (manifest?.window?.start !== window.start.toISOString()) return null;
    const summary = await readFile(summaryPath(spec.output, true), 'utf8').then((t) => JSON.parse(t) as Partial<ShardedSummary>, () => null);
    return { ...base, shards: { count, plan: summary?.shards?.plan ?? recorded?.hash ?? 'none (scored by one process)' }, committedAt: manifest.finishedAt };
  }
  const committed = await committedSummary(spec.output);
  if (!committed || (recorded !== null && committed.shards.plan !== recorded.hash)) return null;
  if (committed.shards.count !== count) throw countMismatch(committed.shards.count, count);
  return { ...base, shards: { count, plan: committed.shards.plan }, committedAt: committed.finishedAt };
}

/** The summary beside the output when a sharded commit wrote it (and the output is there). */
async function committedSummary(output: string): Promise<ShardedSummary | null> {
  try {
    const summary = JSON.parse(await readFile(summaryPath(output), 'utf8')) as Partial<ShardedSummary>;
    if (summary.status !== 'ok' || !summary.shards || typeof summary.shards.plan !== 'string') return null;
    await stat(outputTarget(output));
    return summary as ShardedSummary;
  } catch {
    return null;
  }
}

/** on_error quarantine: every shard's rejected rows merged into the rejects file, under a temp name. */
async function stageShardRejects(ctx: RunContext, job: PreparedJob, plan: ExecutionPlan, checked: CheckedShards, shardsDir: string, temp: string | undefined): Promise<StagedRejects | null> {
  const target = plan.output.rejects;
  if (target === undefined || job.dataset.files.length === 0) return null;
  // A rejects file with no row still has the input's columns: read from the first input (a CSV's staged copy).
  const first = job.dataset.files[0]!;
  const reader = checked.manifests.find((m) => m.parts.some((p) => p.input === 0));
  const source: DatasetFile = plan.inputs[0]!.read === 'direct' || !reader ? first : { path: join(shardDir(shardsDir, reader.shard.index), stagedSourceName(0)), format: 'parquet', ...(ctx.db.parquetKeys.output ? { key: ctx.db.parquetKeys.output } : {}) };
  return stageRejects(ctx.db, checked.parts, target, (path) => emptyRejects(ctx.db, job, source, first, path), { temp, fileMode: job.spec.fileMode ?? DEFAULT_REJECTS_MODE });
}

function rejectedByReason(checked: CheckedShards): Record<string, number> {
  const total: Record<string, number> = {};
  for (const m of checked.manifests) for (const [reason, n] of Object.entries(m.rejectedByReason ?? {})) total[reason] = (total[reason] ?? 0) + n;
  return total;
}

function rowsPerFile(job: PreparedJob, checked: CheckedShards): number[] {
  if (job.outputMode === 'file') return [checked.rows.out];
  return checked.parts.map((parts) => parts.reduce((n, p) => n + p.rows, 0));
}

function countMismatch(committed: number, count: number): BatchinferError {
  return new BatchinferError('USAGE', `the output was committed from ${committed} shards, not ${count}: give --shards ${committed}`, { expected: `--shards ${committed}`, actual: `--shards ${count}` });
}

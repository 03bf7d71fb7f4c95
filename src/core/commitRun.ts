/**
 * The commit of a scored run: the rejects file is merged from the parts' quarantine files
 * under a temp name, the run's profile from the parts' profiles (and compared with the job's
 * `reference`), then the run's kind commits the parts with the summary, profile and rejects
 * file; a rejects file that was not committed is removed, whatever failed.
 */
import type { Db } from '../db/duckdb.js';
import { flatColumns, rejectSql } from '../preprocess/rowChecks.js';
import { DEFAULT_REJECTS_MODE } from '../sink/atomicFile.js';
import { stageRejects, type StagedRejects } from '../sink/commitRejects.js';
import { PartWriter } from '../sink/partWriter.js';
import { outputTarget, profilePath } from '../sink/outputPaths.js';
import type { Profile } from '../profile/profile.js';
import { mergeRunProfile } from './runProfile.js';
import { referenceDrift, type RunDrift } from './referenceDrift.js';
import type { DatasetFile } from '../source/dataset.js';
import type { PreparedJob } from './prepare.js';
import type { RunKind, ScoredRun } from './runKind.js';
import { buildSummary, versions, type RunSummary } from './summary.js';

export async function commitRun(kind: RunKind, run: ScoredRun): Promise<RunSummary> {
  const { ctx, job, plan, result } = run;
  const writeStart = performance.now();
  const staging = plan.output.staging;
  const rejects = await stageRunRejects(ctx.db, kind, run);
  const { profile, drift } = await profileRun(kind, run);
  const summarize = (files: string[]): RunSummary => ({
    ...buildSummary({
      spec: job.spec, job, window: kind.window, result, files, rejectsFile: plan.output.rejects, resumed: run.resumed,
      workers: plan.threads.workers, threads: plan.threads.intraOpThreads, duckdbThreads: plan.threads.duckdb, warnings: run.warnings,
      startedAt: run.startedAt, providers: run.pool.providers,
      versions: versions(run.pool.runtimeVersion, ctx.db.libraryVersion),
      wallSeconds: (performance.now() - run.wallStart) / 1000,
      writeSeconds: (performance.now() - writeStart) / 1000,
    }),
    ...(profile ? { profile: profilePath(job.spec.output, kind.window !== null) } : {}),
    ...(drift ? { drift } : {}),
  });
  try {
    return await kind.commit(run, { staging, rejects, summarize, profile });
  } finally {
    await rejects?.discard();
  }
}

/** The run's profile, merged from its parts', and its drift against the job's `reference`. */
async function profileRun(kind: RunKind, { job, result }: ScoredRun): Promise<{ profile: Profile | null; drift?: RunDrift }> {
  const profile = job.spec.profile ? await mergeRunProfile(result.parts, outputTarget(job.spec.output), result.profile) : null;
  if (!profile || !job.reference) return { profile };
  return { profile, drift: referenceDrift(job.reference, job.spec.reference!, profile, job.spec.drift) };
}

/** on_error quarantine: the parts' rejected rows merged into one file under a temp name. */
async function stageRunRejects(db: Db, kind: RunKind, { job, plan, result }: ScoredRun): Promise<StagedRejects | null> {
  const rejectsFile = plan.output.rejects;
  if (rejectsFile === undefined) return null;
  const first = job.dataset.files[0]!;
  const planned = plan.inputs[0]!;
  const source: DatasetFile = planned.read === 'direct' ? first : { path: planned.staged!, format: 'parquet', ...(db.parquetKeys.output ? { key: db.parquetKeys.output } : {}) };
  const temp = kind.rejectsTemp(plan.output.staging);
  return stageRejects(db, result.parts, rejectsFile, (path) => emptyRejects(db, job, source, first, path), { temp, fileMode: job.spec.fileMode ?? DEFAULT_REJECTS_MODE });
}

/** A zero-row quarantine file with the columns it would have (the input's plus where and why). */
export async function emptyRejects(db: Db, job: PreparedJob, source: DatasetFile, display: DatasetFile, path: string): Promise<void> {
  const writer = await PartWriter.create(db, job.output, [], { byRowNumber: true });
  const names = flatColumns(job.feeds).map(({ col }) => col.column);
  await writer.writeRejects({ file: source, rowStart: 0, rowEnd: 0, rowCount: 0 }, display, names, (params) => rejectSql(job.feeds, params) ?? 'NULL', path, job.spec.rejectsColumns);
}

/**
 * A scheduled window's run: the same run as a one-off, wrapped. Before validation it takes
 * the lock and skips a window committed already (or refuses one whose inputs changed); it
 * commits a directory with a `_SUCCESS` manifest, its summary, profile and own rejects file inside;
 * a failure leaves `.<name>.failed.json` beside it for `status`, removed by the next success.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchinferError, isBatchinferError } from '../errors.js';
import type { Db } from '../db/duckdb.js';
import type { Window } from '../schedule/window.js';
import { writeFileAtomic } from '../sink/atomicFile.js';
import { commitWindow } from '../sink/commitWindow.js';
import { describeInputChange, readManifest, sameInputContent, stampInputs, type OutputFileEntry } from '../sink/manifest.js';
import { failureMarkerPath, stagingPathFor, WINDOW_PROFILE, WINDOW_REJECTS, WINDOW_SUMMARY } from '../sink/outputPaths.js';
import { writeProfile } from '../profile/profileFile.js';
import { writeSummary } from '../sink/stagedSummary.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { openJobInput, runFileOptions } from './prepare.js';
import type { RunKind } from './runKind.js';
import { versions, type RunSummary, type SkippedRun } from './summary.js';

export function windowRun(spec: JobSpec, window: Window, force: boolean): RunKind {
  return {
    window,
    // A window on a partition key: its own partitions are its inputs (windowFiles.ts).
    prepareOptions: { windowed: true, window },
    async begin(ctx) {
      await ctx.lockOutput();
      const skipped = await alreadyCommitted(ctx.db, spec, window, force);
      if (!skipped) ctx.startPool();
      return skipped;
    },
    // A window's own rejects file is merged in staging and committed inside the window.
    rejectsTemp: (staging) => (spec.rejects ? undefined : join(staging, 'rejects.parquet.tmp')),
    async commit({ ctx, job, result, inputs, startedAt, pool }, { staging, rejects, summarize, profile }) {
      // The summary and own rejects file go inside the staged window directory: its rename commits them all.
      let summary: RunSummary | null = null;
      const beforeRename = async (entries: OutputFileEntry[], stagedDir: string): Promise<void> => {
        summary = { ...summarize(entries.map((e) => e.file)), manifest: entries };
        await writeSummary(join(stagedDir, WINDOW_SUMMARY), summary, spec.fileMode);
        if (profile) await writeProfile(join(stagedDir, WINDOW_PROFILE), profile, spec.fileMode);
        await rejects?.commit(spec.rejects ? undefined : join(stagedDir, WINDOW_REJECTS));
      };
      const files = await commitWindow({
        db: ctx.db,
        job: { name: spec.name, output: spec.output, model: { path: job.model.path, sha256: job.model.sha256 } },
        versions: versions(pool.runtimeVersion, ctx.db.libraryVersion),
        parts: result.parts,
        staging,
        window,
        inputs,
        startedAt,
        rows: { in: result.rowsIn, out: result.rowsOut, rejected: result.rejectedTotal },
        fileMode: spec.fileMode,
        beforeRename,
      });
      return summary ?? summarize(files);
    },
    async afterCommit(summary) {
      await rm(failureMarkerPath(spec.output), { force: true }).catch(() => undefined);
      return summary;
    },
    async failed(err, ctx) {
      // A refusal (another run holds the lock; a committed window's inputs changed) is not a failed window.
      if (!ctx.locked || !isBatchinferError(err) || ['INTERRUPTED', 'LOCKED', 'INPUTS_CHANGED'].includes(err.code)) return;
      await recordFailure(spec.output, err, spec.fileMode);
    },
  };
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

/** `.<name>.failed.json` beside a window's output, for `status`; removed by the next success. */
async function recordFailure(output: string, err: BatchinferError, fileMode: number | undefined): Promise<void> {
  const record = { code: err.code, message: err.message, at: new Date().toISOString() };
  await writeFileAtomic(failureMarkerPath(output), JSON.stringify(record) + '\n', fileMode).catch(() => undefined);
}

/**
 * What `batchinfer report` shows, gathered from a run's files: its summary
 * (`<output>.summary.json`, a window's `_summary.json`), the metrics of `--evaluate`
 * (`<output>.metrics.json`), the output's profile (`<output>.profile.json` when there is one,
 * else the output profiled now) and, given a reference, the drift against it. Nothing here
 * grows with the rows: the report is built from these documents alone.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Db } from '../db/duckdb.js';
import { compareProfiles, type DriftOptions, type DriftReport } from '../drift/drift.js';
import type { EvaluationReport } from '../evaluate/evaluate.js';
import type { Profile } from '../profile/profile.js';
import { profileOf, readProfile } from '../profile/profileFile.js';
import { outputTarget, summaryPath, WINDOW_PROFILE } from '../sink/outputPaths.js';
import { pathExists } from '../util/fs.js';
import { metricsPath } from './checkRun.js';
import type { RunSummary } from './summary.js';

export interface ReportInputs {
  output: string;
  summary: RunSummary | null;
  evaluation: EvaluationReport | null;
  profile: Profile;
  reference: string | null;
  referenceProfile: Profile | null;
  drift: DriftReport | null;
}

export interface ReportOptions extends DriftOptions {
  reference?: string;
}

/** The first of `paths` that exists, parsed as JSON; null when none does. */
async function firstJson<T>(paths: readonly string[]): Promise<T | null> {
  for (const path of paths) if (await pathExists(path)) return JSON.parse(await readFile(path, 'utf8')) as T;
  return null;
}

export async function reportInputs(output: string, options: ReportOptions = {}): Promise<ReportInputs> {
  const summary = await firstJson<RunSummary>([summaryPath(output), summaryPath(output, true)]);
  const evaluation = await firstJson<EvaluationReport>([metricsPath(output, false), metricsPath(output, true)]);
  let db: Db | undefined;
  const openDb = async (): Promise<Db> => (db ??= await Db.open());
  try {
    // A one-off run's profile beside it, a window's inside it.
    const own = [`${outputTarget(output)}.profile.json`, join(outputTarget(output), WINDOW_PROFILE)];
    const found = (await pathExists(own[0]!)) ? own[0] : (await pathExists(own[1]!)) ? own[1] : undefined;
    const profile = found ? await readProfile(found) : await profileOf(output, openDb);
    const reference = options.reference ? await profileOf(options.reference, openDb) : null;
    return { output, summary, evaluation, profile, reference: options.reference ?? null, referenceProfile: reference, drift: reference ? compareProfiles(reference, profile, options) : null };
  } finally {
    db?.close();
  }
}

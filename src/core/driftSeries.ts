/**
 * `drift JOB --from T1 --to T2`: every window of a scheduled job in the range compared with
 * the reference (`--reference`, else the job's `reference:`), from the `_profile.json` each
 * committed window keeps inside its directory. Windows not committed, or committed without a
 * profile, are listed as missing, not guessed.
 *
 * @example
 *   const series = await driftSeries(spec, { from, to, method: 'psi' });
 *   series.windows.map((w) => w.columns['amount']);
 */
import { join } from 'node:path';
import { Db } from '../db/duckdb.js';
import { checkOptions, compareProfiles, DEFAULT_THRESHOLDS, type DriftOptions } from '../drift/drift.js';
import { windowDrift, type DriftSeries, type MissingWindow, type WindowDrift } from '../drift/windowSeries.js';
import { BatchinferError } from '../errors.js';
import { profileOf, readProfile } from '../profile/profileFile.js';
import { outputTarget } from '../sink/outputPaths.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { pathExists } from '../util/fs.js';
import { jobStatus } from './windowStatus.js';

/** A scheduled window's profile, inside its directory beside `_summary.json`. */
export const WINDOW_PROFILE = '_profile.json';

export function windowProfilePath(windowOutput: string): string {
  return join(outputTarget(windowOutput), WINDOW_PROFILE);
}

export interface DriftSeriesOptions extends DriftOptions {
  /** A profile (.json) or a dataset; default the job's `reference`. */
  reference?: string;
  /** The range [from, to) of window starts; default the last 24 windows, as `status`. */
  from?: Date;
  to?: Date;
}

export async function driftSeries(spec: JobSpec, options: DriftSeriesOptions = {}): Promise<DriftSeries> {
  const method = options.method ?? 'psi';
  const threshold = options.threshold ?? DEFAULT_THRESHOLDS[method];
  checkOptions(threshold, method, options.driftShare);
  const referencePath = options.reference ?? spec.reference;
  if (!referencePath) throw new BatchinferError('USAGE', `job ${spec.name} names no \`reference\`: give --reference REF (a profile or a dataset)`, { expected: '--reference REF, or reference: in the job', actual: 'no reference' });
  const states = await jobStatus(spec, options.from, options.to);
  let db: Db | undefined;
  try {
    const reference = await profileOf(referencePath, async () => (db ??= await Db.open()), options.columns);
    const windows: WindowDrift[] = [];
    const missing: MissingWindow[] = [];
    for (const state of states) {
      const window = { start: state.start, end: state.end };
      if (state.state !== 'committed') {
        missing.push({ ...window, reason: state.state === 'missing' ? 'not run' : state.state });
        continue;
      }
      const path = windowProfilePath(state.output);
      if (!(await pathExists(path))) {
        missing.push({ ...window, reason: 'no profile' });
        continue;
      }
      windows.push(windowDrift(window, compareProfiles(reference, await readProfile(path), options)));
    }
    return { method, threshold, reference: referencePath, windows, missing };
  } finally {
    db?.close();
  }
}

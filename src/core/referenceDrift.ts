/**
 * The job's `reference` profile: read and checked at validation (`readReference`: a missing or
 * invalid file is a problem at key `reference`, with the profile's own code: INPUT_MISSING 66,
 * INPUT_INVALID 65, before anything is scored), and every run's
 * profile compared with it (`referenceDrift`, drift/drift.ts), compact for the run's summary.
 * `drift.fail_on` names the drift that fails the run's gate (exit 1, the output committed).
 */
import { BatchinferError } from '../errors.js';
import { compareProfiles, type DriftReport } from '../drift/drift.js';
import type { Profile } from '../profile/profile.js';
import { readProfile } from '../profile/profileFile.js';
import type { DriftSpec, JobSpec } from '../spec/jobSpec.js';

/** The job's reference profile, read at validation: a missing or invalid file is a problem at key `reference`. */
export async function readReference(spec: JobSpec): Promise<Profile | undefined> {
  if (!spec.reference) return undefined;
  try {
    return await readProfile(spec.reference);
  } catch (err) {
    if (!(err instanceof BatchinferError)) throw err;
    throw BatchinferError.fromProblems([{ code: err.code, where: 'reference', message: err.message, expected: err.expected, actual: err.actual }]);
  }
}

/** The drift a summary records: what was compared, by which rule, and what drifted. */
export interface RunDrift {
  reference: string;
  method: DriftReport['method'];
  threshold: number;
  drifted_columns: string[];
  drifted_share: number;
  dataset_drift: boolean;
  /** Null when neither profile has predictions. */
  prediction_drift: boolean | null;
  /** `drift.fail_on`, and which of them were found (the run exits 1 when any was). */
  fail_on: DriftSpec['failOn'];
  failed: DriftSpec['failOn'];
}

export function referenceDrift(reference: Profile, path: string, current: Profile, drift: DriftSpec | undefined): RunDrift {
  const report = compareProfiles(reference, current, { method: drift?.method, threshold: drift?.threshold, driftShare: drift?.driftShare });
  const found = { column: report.drifted_columns > 0, dataset: report.dataset_drift, prediction: report.prediction?.drifted ?? false };
  const failOn = drift?.failOn ?? [];
  return {
    reference: path,
    method: report.method,
    threshold: report.threshold,
    drifted_columns: report.columns.filter((c) => c.drifted).map((c) => c.column),
    drifted_share: report.drifted_share,
    dataset_drift: report.dataset_drift,
    prediction_drift: report.prediction ? report.prediction.drifted : null,
    fail_on: failOn,
    failed: failOn.filter((what) => found[what]),
  };
}

/**
 * The reference profile a job's `fill_null: mean|median` read their values from, read once
 * before the feed plan is built (prepare, inspect). Jobs without such a fill read nothing.
 */
import { BatchinferError, type Problem } from '../errors.js';
import { centralValues } from '../profile/centralValues.js';
import type { Profile } from '../profile/profile.js';
import { readReference } from './referenceDrift.js';
import type { ReferenceValues } from '../preprocess/referenceFill.js';
import { isReferenceFill, type JobSpec } from '../spec/jobSpec.js';

/** True when some input fills NULLs with the reference's mean or median. */
export function usesReferenceFill(spec: JobSpec): boolean {
  return Object.values(spec.inputs).some((s) => isReferenceFill(s.fillNull) || Object.values(s.perColumn ?? {}).some((c) => isReferenceFill(c.fillNull)));
}

/**
 * The reference's values when a fill needs them (neither field otherwise), or the problem
 * reading it (at key `reference`, with the profile's own code: INPUT_MISSING, INPUT_INVALID).
 */
export async function referenceValuesFor(spec: JobSpec): Promise<{ values?: ReferenceValues; problem?: Problem }> {
  if (!spec.reference || !usesReferenceFill(spec)) return {};
  try {
    return { values: referenceValuesOf(spec, await readReference(spec)) };
  } catch (err) {
    if (!(err instanceof BatchinferError)) throw err;
    return { problem: err.problems[0] ?? { code: err.code, where: 'reference', message: err.message } };
  }
}

/** The values a fill takes from the job's reference profile, already read (none without a fill that needs them). */
export function referenceValuesOf(spec: JobSpec, reference: Profile | undefined): ReferenceValues | undefined {
  if (!spec.reference || !reference || !usesReferenceFill(spec)) return undefined;
  return { path: spec.reference, columns: centralValues(reference) };
}

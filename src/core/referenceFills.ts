/**
 * The reference profile a job's `fill_null: mean|median` read their values from, read once
 * before the feed plan is built (prepare, inspect). Jobs without such a fill read nothing.
 */
import { BatchinferError, type Problem } from '../errors.js';
import { centralValues } from '../profile/centralValues.js';
import { readProfile } from '../profile/profileFile.js';
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
    return { values: { path: spec.reference, columns: centralValues(await readProfile(spec.reference)) } };
  } catch (err) {
    if (!(err instanceof BatchinferError)) throw err;
    return { problem: { code: err.code, where: 'reference', message: err.message, expected: err.expected, actual: err.actual } };
  }
}

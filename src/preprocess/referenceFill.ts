/**
 * `fill_null: mean|median`: the value NULLs of a column take is that column's statistic in
 * the job's reference profile (the training data's), read once before the feed plan is built.
 * The plan holds the value itself, so it is part of the run's identity: a reference whose mean
 * moved gives another plan, and old parts are not resumed.
 */
import type { Problem } from '../errors.js';
import type { ReferenceFill } from '../spec/jobSpec.js';

/** A reference profile's per-column statistics (null: the profile has no finite number in the column). */
export interface ReferenceValues {
  /** The profile file, for messages. */
  path: string;
  columns: ReadonlyMap<string, { mean: number | null; median: number | null }>;
}

/**
 * The value `fill` gives `column`, or the problem that stops it: no reference read, the
 * column missing from it, or no value of it there.
 */
export function referenceFillValue(fill: ReferenceFill, column: string, where: string, reference: ReferenceValues | undefined): { value: number } | { problem: Problem } {
  const stat = fill.stat;
  if (!reference) {
    return { problem: { code: 'SPEC_INVALID', where, message: `\`${stat}\` of column '${column}' comes from the job's reference profile, which was not read`, expected: 'reference: PROFILE', actual: 'no reference' } };
  }
  const values = reference.columns.get(column);
  if (!values) {
    return { problem: { code: 'SPEC_INVALID', where, message: `\`${stat}\` of column '${column}' comes from reference ${reference.path}, which has no column '${column}'`, expected: [...reference.columns.keys()], actual: column } };
  }
  const value = values[stat];
  if (value === null || !Number.isFinite(value)) {
    return { problem: { code: 'SPEC_INVALID', where, message: `\`${stat}\` of column '${column}': reference ${reference.path} holds no number in that column (only NULLs, NaN, infinities or text)`, expected: 'a column with numbers in the reference', actual: 'no value' } };
  }
  return { value };
}

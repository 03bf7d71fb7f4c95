/**
 * A run's profile (docs/drift.md): which columns the scoring loop profiles from its tensors
 * (`runProfiler`), and the run's profile merged from its parts' (`mergeRunProfile`).
 *
 * A column is profiled as the dataset holds it, so a run's profile compares with a profile of
 * the training data: the tensor's value read back through scale and min-max (affine maps), a
 * vocabulary index as its value. Columns whose tensor does not hold the value (clip, log,
 * bucketize, one-hot) and columns the tensor holds in another kind than a profile of the
 * dataset would (a number parsed from CSV text, an integer column fed as strings) are left out.
 * The comparison with the job's `reference`: referenceDrift.ts.
 */
import type { ColumnFeed, FeedPlan } from '../preprocess/featurePlan.js';
import { hasTransforms } from '../preprocess/transforms.js';
import { classNames } from '../postprocess/outputPlan.js';
import { hasReview, numericPredictionNames } from '../postprocess/predictionValues.js';
import { isIntegerType, kindOfType, mergeProfiles, type Profile } from '../profile/profile.js';
import { readProfile } from '../profile/profileFile.js';
import { RunProfiler, type TensorColumn } from '../profile/runProfiler.js';
import type { Part } from '../sink/part.js';
import type { PreparedJob } from './prepare.js';

/** The profiler of a run's batches; null with `profile: false`. */
export function runProfiler(job: PreparedJob): RunProfiler | null {
  if (!job.spec.profile) return null;
  const plan = job.output;
  const predictions = { classes: plan.task === 'classification' ? classNames(plan) : null, review: hasReview(plan), numeric: numericPredictionNames(plan) };
  return new RunProfiler(job.feeds.flatMap(tensorColumns), predictions);
}

function tensorColumns(feed: FeedPlan): TensorColumn[] {
  return feed.columns.flatMap((col, position) => {
    const kind = profiledKind(feed, col);
    if (!kind) return [];
    const column: TensorColumn = { name: col.column, type: col.columnType, kind, feed: feed.input, position, width: feed.columns.length, nanIsNull: col.nulls.kind === 'nan', countValues: kind === 'numeric' && isIntegerType(col.columnType) };
    if (col.vocab) column.vocab = col.vocab.values;
    const affine = affineOf(col);
    if (affine) column.affine = affine;
    return [column];
  });
}

/** The kind a profile of the dataset gives the column, when the tensor holds its values in that kind; null: not profiled. */
function profiledKind(feed: FeedPlan, col: ColumnFeed): 'numeric' | 'categorical' | null {
  const kind = kindOfType(col.columnType);
  if (!kind || col.oneHot || hasTransforms({ ...col, minMax: undefined }) || col.parsed) return null;
  if (col.vocab || feed.dtype === 'string' || feed.dtype === 'bool') return kind === 'categorical' ? kind : null;
  return kind === 'numeric' ? kind : null;
}

/** x = a t + b for the tensor's t = minMax(scale(x)); null when the tensor holds x itself. */
function affineOf(col: ColumnFeed): { a: number; b: number } | null {
  if (!col.scale && !col.minMax) return null;
  const { mean, std } = col.scale ?? { mean: 0, std: 1 };
  const { min, max } = col.minMax ?? { min: 0, max: 1 };
  return { a: (max - min) * std, b: min * std + mean };
}

/** The run's profile: its parts' profiles (resumed ones included) merged in file and part order; null when it keeps none. */
export async function mergeRunProfile(parts: readonly (readonly Part[])[], source: string): Promise<Profile | null> {
  const paths: string[] = [];
  for (const part of parts.flat()) {
    // A part of a run that kept no profile (resumed after `profile: false`): the profile would miss its rows.
    if (!part.profile) return null;
    paths.push(part.profile);
  }
  return paths.length === 0 ? null : profileOfPieces(paths, source);
}

/**
 * The profile of a run from its pieces' profile files (its parts', or a sharded run's shards'),
 * in order, named `source`: a single piece's as it is (a merge would rebuild every sketch to
 * the same items), else their merge.
 */
export async function profileOfPieces(paths: readonly string[], source: string): Promise<Profile> {
  const profiles = await Promise.all(paths.map(readProfile));
  return profiles.length === 1 ? { ...profiles[0]!, source } : mergeProfiles(profiles, source);
}

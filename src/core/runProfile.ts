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
import { isIntegerType, kindOfType, ProfileMerger, type Profile } from '../profile/profile.js';
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

/**
 * The run's profile: its parts' profiles (resumed ones included) merged in file and part order;
 * null when it keeps none. `running`: the parts this process journaled, merged as they were,
 * taken when they are all of the run's parts (no resumed ones): the same profile, without
 * reading every part's back and merging them all at the end of the run.
 */
export async function mergeRunProfile(parts: readonly (readonly Part[])[], source: string, running?: RunningProfile): Promise<Profile | null> {
  const paths: string[] = [];
  for (const part of parts.flat()) {
    // A part of a run that kept no profile (resumed after `profile: false`): the profile would miss its rows.
    if (!part.profile) return null;
    paths.push(part.profile);
  }
  if (paths.length === 0) return null;
  if (running && running.paths.length === paths.length && running.paths.every((p, i) => p === paths[i])) return running.result(source);
  return profileOfPieces(paths, source);
}

/** Part profiles merged as they come (PartSink `onProfile`), in order, named by their files' paths. */
export class RunningProfile {
  readonly paths: string[] = [];
  private first: Profile | null = null;
  private merger: ProfileMerger | null = null;

  add(path: string, profile: Profile): void {
    this.paths.push(path);
    if (!this.first) this.first = profile;
    else {
      if (!this.merger) (this.merger = new ProfileMerger()).add(this.first);
      this.merger.add(profile);
    }
  }

  /** The profile of the pieces added, named `source`: the one piece's as it is (a merge would rebuild every sketch to the same items), else their merge; null before any. */
  result(source: string): Profile | null {
    if (this.merger) return this.merger.result(source);
    return this.first ? { ...this.first, source } : null;
  }
}

/** The profile of a run from its pieces' profile files (its parts', or a sharded run's shards'; at least one), in order, named `source` (RunningProfile `result`). */
export async function profileOfPieces(paths: readonly string[], source: string): Promise<Profile> {
  const pieces = new RunningProfile();
  (await Promise.all(paths.map(readProfile))).forEach((profile, i) => pieces.add(paths[i]!, profile));
  return pieces.result(source)!;
}

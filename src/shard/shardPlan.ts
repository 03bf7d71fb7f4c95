/**
 * The split of a job's input into N shards, decided once as a value: every shard computes it
 * from the inputs, the first to start records it (planRecord.ts) and the others check theirs
 * against it, so changed inputs between shards are an error, not a silently different split.
 *
 * Units: each Parquet row group, and each CSV file whole (a CSV has no row groups to seek to;
 * a run reads it whole), as is each encrypted Parquet file (its row groups are not listed
 * without the key). A file with no rows is one unit of 0 rows, so a directory output
 * still gets its file. Units are in the run's file order (the dataset's: each input entry's
 * files sorted by path), row groups in file order: the concatenation of the shards' outputs in
 * shard order is the output of one run.
 *
 * Assignment (contiguous, balanced by rows): with R rows in all and prefix sums P(0) = 0,
 * P(u) = rows of units 0..u-1, cut k (k = 1..N-1) is the unit boundary u whose P(u) is nearest
 * to k·R/N (the earlier boundary on a tie), never before cut k-1. Shard k scores units
 * [cut k, cut k+1). Each shard's rows then differ from R/N by at most the largest unit's rows;
 * with fewer units than shards (or no rows), some shards get no unit and commit an empty
 * manifest. Deterministic: the same units and N give the same cuts.
 *
 * The plan names its inputs by path, size and mtime and reads only their metadata: no shard
 * reads a file it does not score. Each shard stamps (size, mtime) the files it reads and checks
 * the stamps are the plan's, at its start and in its manifest (sink/shardManifest.ts
 * `stampShardInputs`); the commit checks them again (shardCheck.ts). No shard hashes an input:
 * that would read a file once for each shard that scores part of it.
 *
 * @example
 *   const plan = await buildShardPlan(db, dataset.files, 4);
 *   shardRanges(plan, 2); // [{ file: 1, path: 'b.parquet', rowStart: 0, rowEnd: 250000 }, ...]
 */
import { stat } from 'node:fs/promises';
import type { Db } from '../db/duckdb.js';
import { countRows, parquetRowGroups, type DatasetFile } from '../source/dataset.js';
import type { InputFileStamp } from '../sink/manifest.js';
import { canonicalHash } from '../util/canonicalJson.js';

export const PLAN_FORMAT = 'batchinfer-shard-plan/1';

/** One piece of the input a shard scores whole: a Parquet row group, or a whole CSV (or empty) file. */
export interface ShardUnit {
  /** Index of the input file (in `plan.inputs`, the run's file order). */
  file: number;
  /** The row group's id in its file; null for a whole file. */
  rowGroup: number | null;
  /** The unit's file rows, [rowStart, rowEnd). */
  rowStart: number;
  rowEnd: number;
}

/** The units one shard scores: `plan.units[firstUnit .. endUnit)`. */
export interface ShardAssignment {
  shard: number;
  firstUnit: number;
  endUnit: number;
  rows: number;
}

/** An input file as the plan names it. */
export type PlanInput = Omit<InputFileStamp, 'sha256'>;

export interface ShardPlan {
  format: typeof PLAN_FORMAT;
  shards: number;
  /** The input files in the run's order, with size and mtime. */
  inputs: PlanInput[];
  units: ShardUnit[];
  assignments: ShardAssignment[];
  rows: number;
  /** sha256 of the canonical JSON of everything above but the inputs' mtimes (a file only touched is the same input). */
  hash: string;
}

/** A span of one input file's rows a shard reads: what the reader gets (`fromRow`, up to `rowEnd`). */
export interface ShardRange {
  file: number;
  path: string;
  rowStart: number;
  rowEnd: number;
}

export interface BuildOptions {
  /**
   * A plan recorded before (planRecord.ts): a file with the path, size and mtime it recorded
   * keeps its recorded units, unread (a CSV's row count is a full scan).
   */
  known?: ShardPlan | null;
  /**
   * Each file is one unit of this many rows, whatever its row groups: a scheduled window's
   * files, read through a copy holding only the window's rows (numbered after the filter).
   */
  wholeFiles?(file: DatasetFile): Promise<number>;
}

/** The plan of `files` (the run's input files, in order) over `shards` shards. */
export async function buildShardPlan(db: Db, files: readonly DatasetFile[], shards: number, options: BuildOptions = {}): Promise<ShardPlan> {
  const inputs: PlanInput[] = [];
  const units: ShardUnit[] = [];
  for (const [i, file] of files.entries()) {
    const s = await stat(file.path);
    const stamp = { path: file.path, bytes: s.size, mtime: s.mtime.toISOString() };
    const reused = knownFile(options.known, stamp);
    if (reused) {
      inputs.push(reused.input);
      units.push(...reused.units.map((u) => ({ ...u, file: i })));
      continue;
    }
    inputs.push(stamp);
    units.push(...(options.wholeFiles ? [{ file: i, rowGroup: null, rowStart: 0, rowEnd: await options.wholeFiles(file) }] : await fileUnits(db, file, i)));
  }
  return planOf(shards, inputs, units);
}

/** The plan of already described units (`buildShardPlan` without the files): assignment and hash. */
export function planOf(shards: number, inputs: PlanInput[], units: ShardUnit[]): ShardPlan {
  const assignments = assignUnits(units.map(unitRows), shards);
  const rows = units.reduce((n, u) => n + unitRows(u), 0);
  const body: Omit<ShardPlan, 'hash'> = { format: PLAN_FORMAT, shards, inputs, units, assignments, rows };
  return { ...body, hash: planHash(body) };
}

/** The hash a plan carries: of its canonical JSON, without `hash` and without the inputs' mtimes. */
export function planHash(plan: Omit<ShardPlan, 'hash'> | ShardPlan): string {
  const { hash: _hash, ...body } = plan as ShardPlan;
  return canonicalHash({ ...body, inputs: body.inputs.map(({ mtime: _mtime, ...rest }) => rest) });
}

export function unitRows(unit: ShardUnit): number {
  return unit.rowEnd - unit.rowStart;
}

/**
 * Contiguous ranges of `weights` for `shards` shards, balanced as the module comment says:
 * cut k at the boundary whose prefix sum is nearest to k·total/shards.
 */
export function assignUnits(weights: readonly number[], shards: number): ShardAssignment[] {
  const prefix = [0];
  for (const w of weights) prefix.push(prefix.at(-1)! + w);
  const total = prefix.at(-1)!;
  const cuts = [0];
  for (let k = 1; k < shards; k++) {
    const target = (k * total) / shards;
    let best = cuts[k - 1]!;
    for (let u = best + 1; u <= weights.length; u++) {
      if (Math.abs(prefix[u]! - target) < Math.abs(prefix[best]! - target)) best = u;
      if (prefix[u]! > target) break;
    }
    cuts.push(best);
  }
  cuts.push(weights.length);
  return Array.from({ length: shards }, (_, k) => ({ shard: k, firstUnit: cuts[k]!, endUnit: cuts[k + 1]!, rows: prefix[cuts[k + 1]!]! - prefix[cuts[k]!]! }));
}

/** The row spans shard `index` reads, one per input file it touches (adjacent units of a file joined), in order. */
export function shardRanges(plan: ShardPlan, index: number): ShardRange[] {
  const a = plan.assignments[index];
  if (!a) throw new RangeError(`shard ${index} is not in a plan of ${plan.shards}`);
  const ranges: ShardRange[] = [];
  for (const unit of plan.units.slice(a.firstUnit, a.endUnit)) {
    const last = ranges.at(-1);
    if (last && last.file === unit.file && last.rowEnd === unit.rowStart) last.rowEnd = unit.rowEnd;
    else ranges.push({ file: unit.file, path: plan.inputs[unit.file]!.path, rowStart: unit.rowStart, rowEnd: unit.rowEnd });
  }
  return ranges;
}

/** The input files shard `index` reads (each once, in order), with their planned size and mtime: what it stamps for its manifest. */
export function shardInputs(plan: ShardPlan, index: number): { file: number; path: string; bytes: number; mtime: string }[] {
  const files = [...new Set(shardRanges(plan, index).map((r) => r.file))];
  return files.map((file) => ({ file, path: plan.inputs[file]!.path, bytes: plan.inputs[file]!.bytes, mtime: plan.inputs[file]!.mtime }));
}

/**
 * The units of one file: its row groups (Parquet, in order), or the whole file: a CSV, an
 * encrypted Parquet file (`parquet_metadata` takes no key: its row groups are not listed; its
 * rows are counted with the key), a Parquet file of no row group.
 */
async function fileUnits(db: Db, file: DatasetFile, index: number): Promise<ShardUnit[]> {
  if (file.format !== 'parquet' || file.key !== undefined) return [{ file: index, rowGroup: null, rowStart: 0, rowEnd: await countRows(db, file) }];
  const groups = await parquetRowGroups(db, file.path);
  if (groups.length === 0) return [{ file: index, rowGroup: null, rowStart: 0, rowEnd: 0 }];
  const units: ShardUnit[] = [];
  let row = 0;
  for (const g of groups) {
    units.push({ file: index, rowGroup: g.id, rowStart: row, rowEnd: row + g.rows });
    row += g.rows;
  }
  return units;
}

/** The recorded input and units of a file whose path, size and mtime are those `known` recorded. */
function knownFile(known: ShardPlan | null | undefined, stamp: PlanInput): { input: PlanInput; units: ShardUnit[] } | null {
  if (!known) return null;
  const at = known.inputs.findIndex((f) => f.path === stamp.path);
  const input = known.inputs[at];
  if (!input || input.bytes !== stamp.bytes || input.mtime !== stamp.mtime) return null;
  return { input, units: known.units.filter((u) => u.file === at) };
}

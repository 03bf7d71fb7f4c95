import { stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { assignUnits, buildShardPlan, planHash, shardInputs, shardRanges, type ShardPlan } from '../../src/shard/shardPlan.js';
import type { DatasetFile } from '../../src/source/dataset.js';
import { useTempDirs } from '../helpers/tempDir.js';
import { withDuckDb } from '../helpers/parquet.js';

const tmp = useTempDirs('batchinfer-shardplan-');
let db: Db;
beforeAll(async () => {
  db = await Db.open({ threads: 1 });
});
afterAll(() => db.close());

/** A Parquet file of `rows` rows in row groups of 2048 (DuckDB's vector size; its ROW_GROUP_SIZE rounds up to it). */
async function parquet(dir: string, name: string, rows: number): Promise<DatasetFile> {
  const path = join(dir, name);
  await db.exec(`COPY (SELECT range AS x FROM range(${rows})) TO $1 (FORMAT parquet, ROW_GROUP_SIZE 2048)`, [path]);
  return { path, format: 'parquet' };
}

/** Shards' units checked against the plan's promises: contiguous, in order, every unit once. */
function expectCoversOnce(plan: ShardPlan): void {
  let next = 0;
  for (const [k, a] of plan.assignments.entries()) {
    expect(a.shard).toBe(k);
    expect(a.firstUnit).toBe(next);
    expect(a.endUnit).toBeGreaterThanOrEqual(a.firstUnit);
    next = a.endUnit;
  }
  expect(next).toBe(plan.units.length);
}

describe('assignUnits', () => {
  it('worked examples: even halves, a giant first unit, fewer units than shards, no rows', () => {
    const cuts = (weights: number[], n: number) => assignUnits(weights, n).map((a) => [a.firstUnit, a.endUnit, a.rows]);
    expect(cuts([5, 5, 5, 5], 2)).toEqual([[0, 2, 10], [2, 4, 10]]);
    expect(cuts([10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2)).toEqual([[0, 1, 10], [1, 11, 10]]);
    // R = 103, targets 25.75, 51.5, 77.25 over prefix sums 0, 100, 101, 102, 103.
    expect(cuts([100, 1, 1, 1], 4)).toEqual([[0, 0, 0], [0, 1, 100], [1, 1, 0], [1, 4, 3]]);
    // R = 10, targets 2.5, 5, 7.5 over 0, 7, 10.
    expect(cuts([7, 3], 4)).toEqual([[0, 0, 0], [0, 1, 7], [1, 1, 0], [1, 2, 3]]);
    expect(cuts([0, 0], 3)).toEqual([[0, 0, 0], [0, 0, 0], [0, 2, 0]]);
    expect(cuts([], 2)).toEqual([[0, 0, 0], [0, 0, 0]]);
    expect(cuts([3, 4], 1)).toEqual([[0, 2, 7]]);
  });

  it('random inputs: contiguous, complete, each shard within the largest unit of R/N, the same every time', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 500; trial++) {
      const weights = Array.from({ length: Math.floor(random() * 40) }, () => (random() < 0.1 ? 0 : Math.floor(random() * (random() < 0.1 ? 100_000 : 2048))));
      const n = 1 + Math.floor(random() * 12);
      const assignments = assignUnits(weights, n);
      const total = weights.reduce((a, b) => a + b, 0);
      const largest = Math.max(0, ...weights);
      let next = 0;
      for (const a of assignments) {
        expect(a.firstUnit).toBe(next);
        expect(a.rows).toBe(weights.slice(a.firstUnit, a.endUnit).reduce((x, y) => x + y, 0));
        expect(Math.abs(a.rows - total / n)).toBeLessThanOrEqual(largest);
        next = a.endUnit;
      }
      expect(next).toBe(weights.length);
      expect(assignUnits(weights, n)).toEqual(assignments);
    }
  });
});

describe('buildShardPlan', () => {
  it('row groups as parquet_metadata reports them, CSV and empty files whole, balanced over the shards', async () => {
    const dir = await tmp.make();
    const a = await parquet(dir, 'a.parquet', 10_000);
    const empty = await parquet(dir, 'b-empty.parquet', 0);
    const csvPath = join(dir, 'c.csv');
    await writeFile(csvPath, 'x\n' + Array.from({ length: 3000 }, (_, i) => i).join('\n') + '\n');
    const csv: DatasetFile = { path: csvPath, format: 'csv' };
    const plan = await buildShardPlan(db, [a, empty, csv], 3);

    const groups = await withDuckDb((q) => q('SELECT DISTINCT row_group_id AS id, row_group_num_rows AS n FROM parquet_metadata($1) ORDER BY 1', [a.path]));
    expect(groups.length).toBe(5);
    expect(plan.units.filter((u) => u.file === 0).map((u) => [u.rowGroup, u.rowEnd - u.rowStart])).toEqual(groups.map((g) => [Number(g['id']), Number(g['n'])]));
    expect(plan.units.filter((u) => u.file === 1)).toEqual([{ file: 1, rowGroup: null, rowStart: 0, rowEnd: 0 }]);
    expect(plan.units.filter((u) => u.file === 2)).toEqual([{ file: 2, rowGroup: null, rowStart: 0, rowEnd: 3000 }]);
    expect(plan.rows).toBe(13_000);
    expectCoversOnce(plan);
    // R/3 = 4333.3 over prefix sums 0, 2048, 4096, 6144, 8192, 10000, 10000, 13000.
    expect(plan.assignments.map((x) => x.rows)).toEqual([4096, 4096, 4808]);
    expect(plan.inputs).toEqual(await Promise.all([a.path, empty.path, csvPath].map(async (p) => ({ path: p, bytes: (await stat(p)).size, mtime: (await stat(p)).mtime.toISOString() }))));

    // Shard 2 reads the tail of a.parquet, the empty file and the CSV: adjacent row groups joined.
    expect(shardRanges(plan, 2)).toEqual([
      { file: 0, path: a.path, rowStart: 8192, rowEnd: 10_000 },
      { file: 1, path: empty.path, rowStart: 0, rowEnd: 0 },
      { file: 2, path: csvPath, rowStart: 0, rowEnd: 3000 },
    ]);
    expect(shardRanges(plan, 0)).toEqual([{ file: 0, path: a.path, rowStart: 0, rowEnd: 4096 }]);
    expect(shardInputs(plan, 2)).toEqual([0, 1, 2].map((file) => ({ file, path: plan.inputs[file]!.path, bytes: plan.inputs[file]!.bytes, mtime: plan.inputs[file]!.mtime })));
    expect(shardInputs(plan, 1)).toEqual([{ file: 0, path: a.path, bytes: plan.inputs[0]!.bytes, mtime: plan.inputs[0]!.mtime }]);
  });

  it('one giant row group, and more shards than units: the other shards are empty', async () => {
    const dir = await tmp.make();
    const path = join(dir, 'giant.parquet');
    await db.exec('COPY (SELECT range AS x FROM range(50000)) TO $1 (FORMAT parquet, ROW_GROUP_SIZE 1000000)', [path]);
    const small = await parquet(dir, 'small.parquet', 100);
    const plan = await buildShardPlan(db, [{ path, format: 'parquet' }, small], 4);
    expect(plan.units.map((u) => u.rowEnd - u.rowStart)).toEqual([50_000, 100]);
    expectCoversOnce(plan);
    expect(plan.assignments.map((x) => x.rows)).toEqual([0, 50_000, 0, 100]);
    expect(shardRanges(plan, 0)).toEqual([]);
  });

  it('the same inputs give the same plan and hash; the hash covers files, sizes and split, not mtimes', async () => {
    const dir = await tmp.make();
    const files = [await parquet(dir, 'a.parquet', 5000), await parquet(dir, 'b.parquet', 3000)];
    const first = await buildShardPlan(db, files, 2);
    const again = await buildShardPlan(db, files, 2);
    expect(again).toEqual(first);
    expect(planHash(first)).toBe(first.hash);
    // A touched file: another mtime, the same hash.
    await utimes(files[1]!.path, new Date(), new Date(Date.now() + 60_000));
    const touched = await buildShardPlan(db, files, 2);
    expect(touched.inputs[1]!.mtime).not.toBe(first.inputs[1]!.mtime);
    expect(touched.hash).toBe(first.hash);
    expect((await buildShardPlan(db, files, 3)).hash).not.toBe(first.hash);
    expect((await buildShardPlan(db, [...files].reverse(), 2)).hash).not.toBe(first.hash);
  });

  it('a file the known plan recorded with the same size and mtime is not read again', async () => {
    const dir = await tmp.make();
    const file = await parquet(dir, 'a.parquet', 5000);
    const known = await buildShardPlan(db, [file], 2);
    // Other content of the same size under the same mtime: only a read would tell (the shards' content hashes do, at the commit).
    const before = await stat(file.path);
    await parquet(dir, 'a.parquet', 5000);
    await writeFile(file.path, Buffer.alloc(before.size, 1));
    await utimes(file.path, before.atime, before.mtime);
    expect(await buildShardPlan(db, [file], 2, { known })).toEqual(known);
    await utimes(file.path, before.atime, new Date(before.mtimeMs + 1000));
    await expect(buildShardPlan(db, [file], 2, { known })).rejects.toThrow(/a\.parquet/);
  });
});

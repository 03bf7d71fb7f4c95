/**
 * A shard's execution plan: the run's plan narrowed to the files and row spans the shard plan
 * gives the shard, staged in the shard's directory, its quarantine left to the commit.
 */
import { describe, expect, it } from 'vitest';
import type { ExecutionPlan, PlannedFile } from '../../src/core/executionPlan.js';
import { narrowPlan } from '../../src/core/shardRun.js';
import { planOf } from '../../src/shard/shardPlan.js';

const file = (index: number, read: 'direct' | 'staged', rows: number | null): PlannedFile => ({
  index,
  path: `/in/f${index}.${read === 'direct' ? 'parquet' : 'csv'}`,
  format: read === 'direct' ? 'parquet' : 'csv',
  rows: { start: 0, end: rows },
  read,
  ...(read === 'staged' ? { staged: `/out/.s.parquet.staging/source-${index}.parquet` } : {}),
});

const execution = {
  inputs: [file(0, 'direct', 3000), file(1, 'staged', null), file(2, 'direct', 1000)],
  output: { path: '/out/s.parquet', mode: 'file', format: 'parquet', staging: '/out/.s.parquet.staging', lock: '/out/.s.parquet.lock', summary: '/out/s.parquet.summary.json', rejects: '/out/s.rejects.parquet' },
} as unknown as ExecutionPlan;

// f0: row groups of 1000, 1000, 1000; f1 (CSV): one unit of 500 rows; f2: one row group of 1000.
const inputs = [0, 1, 2].map((i) => ({ path: execution.inputs[i]!.path, bytes: 100, mtime: '2026-12-05T00:00:00.000Z' }));
const units = [
  { file: 0, rowGroup: 0, rowStart: 0, rowEnd: 1000 },
  { file: 0, rowGroup: 1, rowStart: 1000, rowEnd: 2000 },
  { file: 0, rowGroup: 2, rowStart: 2000, rowEnd: 3000 },
  { file: 1, rowGroup: null, rowStart: 0, rowEnd: 500 },
  { file: 2, rowGroup: 0, rowStart: 0, rowEnd: 1000 },
];

describe('narrowPlan', () => {
  const plan = planOf(3, inputs, units);

  it('each shard reads its spans: Parquet row groups as a span of rows, a CSV whole from a copy staged in its own directory', () => {
    // 4500 rows: cut 1 nearest 1500 (1000 and 2000 tie: the earlier), cut 2 at 3000 -> units [0, 1), [1, 3), [3, 5).
    expect(plan.assignments.map((a) => [a.firstUnit, a.endUnit])).toEqual([[0, 1], [1, 3], [3, 5]]);
    const shards = [0, 1, 2].map((i) => narrowPlan(execution, plan, i, `/out/.s.parquet.shards/shard-${i}`));
    const read = shards.map((s) => s.inputs.map((f) => [f.index, f.rows.start, f.rows.end, f.read, f.span ?? false]));
    expect(read).toEqual([
      [[0, 0, 1000, 'direct', true]],
      [[0, 1000, 3000, 'direct', true]],
      [[1, 0, null, 'staged', false], [2, 0, 1000, 'direct', true]],
    ]);
    // Every row of the input is read by exactly one shard.
    const direct = shards.flatMap((s) => s.inputs.filter((f) => f.read === 'direct').map((f) => f.rows.end! - f.rows.start));
    expect(direct.reduce((a, b) => a + b, 0)).toBe(4000);
    expect(shards.flatMap((s) => s.inputs.filter((f) => f.read === 'staged').map((f) => f.index))).toEqual([1]);
  });

  it("stages in the shard's directory and leaves the rejects file to the commit", () => {
    const csvShard = [0, 1, 2].find((i) => shardUnits(plan, i).some((u) => u.file === 1))!;
    const narrowed = narrowPlan(execution, plan, csvShard, '/out/.s.parquet.shards/shard-x');
    expect(narrowed.output.staging).toBe('/out/.s.parquet.shards/shard-x');
    expect(narrowed.inputs.find((f) => f.index === 1)!.staged).toBe('/out/.s.parquet.shards/shard-x/source-1.parquet');
    expect(narrowed.output.rejects).toBeUndefined();
    expect(narrowed.output.path).toBe('/out/s.parquet');
  });
});

function shardUnits(plan: ReturnType<typeof planOf>, i: number) {
  const a = plan.assignments[i]!;
  return plan.units.slice(a.firstUnit, a.endUnit);
}

import { describe, expect, it } from 'vitest';
import { formatShardedCommit, formatShardStatus, indexRanges } from '../../src/cli/shardReport.js';
import type { ShardedSummary } from '../../src/core/commitSharded.js';

describe('formatShardStatus', () => {
  it('names each shard not done and why, with a Slurm array of exactly those indexes and a run per shard', () => {
    const text = formatShardStatus(
      { complete: false, committed: [0, 2, 6], missing: [1, 7], failed: [3], stale: [4, 5], failures: [{ shard: 3, attempt: 2, code: 'BAD_DATA', exitCode: 65, message: 'a.parquet row 7: amount is NaN', at: '2026-12-05T00:00:00.000Z' }] },
      'jobs/big.yaml',
      8,
    );
    expect(text.split('\n')).toEqual([
      'batchinfer: 3 of 8 shards done; 5 not:',
      '  shard 1: missing (not started, running, or killed)',
      '  shard 3: failed: BAD_DATA (exit 65) at attempt 2: a.parquet row 7: amount is NaN',
      '  shard 4: scored another plan (the inputs changed)',
      '  shard 5: scored another plan (the inputs changed)',
      '  shard 7: missing (not started, running, or killed)',
      'rerun them, then commit:',
      '  Slurm:  JOB=jobs/big.yaml SHARDS=8 sbatch --array=1,3-5,7 deploy/slurm/shards.sbatch',
      '          (and the commit again with --dependency=afterok on that array)',
      '  any engine, one job per shard:',
      '    batchinfer run jobs/big.yaml --shard 1/8',
      '    batchinfer run jobs/big.yaml --shard 3/8',
      '    batchinfer run jobs/big.yaml --shard 4/8',
      '    batchinfer run jobs/big.yaml --shard 5/8',
      '    batchinfer run jobs/big.yaml --shard 7/8',
    ]);
  });

  it('complete: the commit command', () => {
    expect(formatShardStatus({ complete: true, committed: [0, 1], missing: [], failed: [], stale: [], failures: [] }, 'j.yaml', 2)).toBe('batchinfer: all 2 shards are done: commit with\n  batchinfer commit j.yaml --shards 2');
  });

  it('index ranges as sbatch --array takes them', () => {
    expect(indexRanges([])).toBe('');
    expect(indexRanges([4])).toBe('4');
    expect(indexRanges([0, 1, 2, 3])).toBe('0-3');
    expect(indexRanges([1, 3, 4, 5, 9, 10])).toBe('1,3-5,9-10');
  });
});

describe('formatShardedCommit', () => {
  const summary: ShardedSummary = {
    status: 'ok', job: 'j', model: { path: 'm.onnx', sha256: 'a'.repeat(64) },
    output: { path: 'out/s.parquet', mode: 'file', files: ['out/s.parquet'] },
    rows: { in: 12_000, out: 11_990, rejected: 10, rejectedByReason: { NULL_VALUE: 7, NOT_FINITE: 3 }, filtered: 3_000 },
    rejects: 'out/s.parquet.rejects.parquet',
    shards: { count: 3, plan: 'b'.repeat(64), attempts: [1, 2, 1], rows: [4000, 4000, 4000] },
    inputs: [], manifest: [], versions: {}, startedAt: '', finishedAt: '', seconds: { wall: 0.5 }, warnings: ['w'],
  };

  it("the output, the plan and the retried shards, the rejected rows by reason and the where's, as a run says them", () => {
    expect(formatShardedCommit(summary).split('\n')).toEqual([
      'batchinfer: committed 11,990 rows from 3 shards in 0.50 s -> out/s.parquet',
      '  plan bbbbbbbbbbbb; retried: shard 1 at attempt 2',
      '  rejected 10 of 12000 rows (NULL_VALUE 7, NOT_FINITE 3) -> out/s.parquet.rejects.parquet',
      '  where left out 3,000 rows (kept 12,000)',
      '  warning: w',
    ]);
  });

  it('no rejected line when no row was rejected, no where line without a where', () => {
    const { filtered: _none, ...rows } = summary.rows;
    const text = formatShardedCommit({ ...summary, rows: { ...rows, rejected: 0, rejectedByReason: {} }, rejects: undefined, warnings: [] });
    expect(text).toBe('batchinfer: committed 11,990 rows from 3 shards in 0.50 s -> out/s.parquet\n  plan bbbbbbbbbbbb; retried: shard 1 at attempt 2');
  });
});

import { describe, expect, it } from 'vitest';
import { formatShardStatus, indexRanges } from '../../src/cli/shardReport.js';

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

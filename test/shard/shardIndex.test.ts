import { describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { resolveShard, type ShardEnv, type ShardFlags } from '../../src/shard/shardIndex.js';
import { ENGINES, engineEnv, engineFlags } from '../helpers/engines.js';

/** The USAGE error `resolveShard` throws, for its message. */
function usageError(flags: ShardFlags, env: ShardEnv = {}): BatchinferError {
  try {
    resolveShard(flags, env);
  } catch (err) {
    expect(err).toBeInstanceOf(BatchinferError);
    expect((err as BatchinferError).code).toBe('USAGE');
    expect((err as BatchinferError).exitCode).toBe(2);
    return err as BatchinferError;
  }
  throw new Error('resolveShard did not throw');
}

describe('resolveShard', () => {
  it('no --shard and no --shards: an unsharded run', () => {
    expect(resolveShard({}, { SLURM_ARRAY_TASK_ID: '3' })).toBeNull();
  });

  it('--shard I/N as given, whatever the environment says', () => {
    expect(resolveShard({ shard: '2/4' }, { SLURM_ARRAY_TASK_ID: '0' })).toEqual({ index: 2, count: 4, source: '--shard 2/4' });
    expect(resolveShard({ shard: '0/1' }, {})).toMatchObject({ index: 0, count: 1 });
    expect(resolveShard({ shard: '3/4', shards: '4' }, {})).toMatchObject({ index: 3, count: 4 });
  });

  it.each([
    ['2/x', /--shard takes I\/N/],
    ['-1/4', /--shard takes I\/N/],
    ['4/4', /shard index 4 is not below the number of shards 4 \(read --shard 4\/4\)/],
    ['0/0', /--shard takes a number of shards from 1/],
  ])('--shard %s is a usage error', (shard, message) => {
    expect(usageError({ shard }).message).toMatch(message);
  });

  it('--shard I/N and --shards M that disagree', () => {
    expect(usageError({ shard: '1/4', shards: '8' }).message).toMatch(/--shard 1\/4 and --shards 8 disagree/);
  });

  it('--shards without --shard', () => {
    expect(usageError({ shards: '4' }).message).toMatch(/--shards needs --shard/);
  });

  it.each([
    ['SLURM_ARRAY_TASK_ID', { SLURM_ARRAY_TASK_ID: '1' }],
    ['JOB_COMPLETION_INDEX', { JOB_COMPLETION_INDEX: '1' }],
    ['AWS_BATCH_JOB_ARRAY_INDEX', { AWS_BATCH_JOB_ARRAY_INDEX: '1' }],
    ['BATCH_TASK_INDEX', { BATCH_TASK_INDEX: '1' }],
  ])('--shard auto --shards 3 takes the index from %s', (name, env) => {
    expect(resolveShard({ shard: 'auto', shards: '3' }, env)).toEqual({ index: 1, count: 3, source: `${name}=1, --shards 3` });
  });

  it('the count from AWS_BATCH_JOB_ARRAY_SIZE or BATCH_TASK_COUNT without --shards', () => {
    expect(resolveShard({ shard: 'auto' }, { AWS_BATCH_JOB_ARRAY_INDEX: '7', AWS_BATCH_JOB_ARRAY_SIZE: '10' })).toEqual({ index: 7, count: 10, source: 'AWS_BATCH_JOB_ARRAY_INDEX=7, AWS_BATCH_JOB_ARRAY_SIZE=10' });
    expect(resolveShard({ shard: 'auto' }, { BATCH_TASK_INDEX: '0', BATCH_TASK_COUNT: '2' })).toMatchObject({ index: 0, count: 2 });
    expect(resolveShard({ shard: 'auto', shards: 10 }, { AWS_BATCH_JOB_ARRAY_INDEX: '7', AWS_BATCH_JOB_ARRAY_SIZE: '10' })).toMatchObject({ index: 7, count: 10 });
  });

  it('never reads SLURM_ARRAY_TASK_COUNT (1 when one index is resubmitted)', () => {
    const err = usageError({ shard: 'auto' }, { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '1' });
    expect(err.message).toMatch(/--shard auto needs --shards N: SLURM_ARRAY_TASK_ID=2 gives the index/);
    expect(err.message).toMatch(/SLURM_ARRAY_TASK_COUNT is never read/);
    expect(resolveShard({ shard: 'auto', shards: '4' }, { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '1' })).toMatchObject({ index: 2, count: 4 });
  });

  it('no index in the environment names every variable it read', () => {
    const err = usageError({ shard: 'auto', shards: '4' }, { SLURM_ARRAY_TASK_COUNT: '4', BATCH_TASK_INDEX: '' });
    expect(err.message).toContain('none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, BATCH_TASK_INDEX is set');
    expect(err.message).toContain('SLURM_ARRAY_TASK_COUNT is set but gives no index');
  });

  it('an index not below N names where it came from; a 1-based Slurm array gets the 0-based hint', () => {
    const err = usageError({ shard: 'auto', shards: '4' }, { SLURM_ARRAY_TASK_ID: '4' });
    expect(err.message).toBe('shard index 4 is not below the number of shards 4 (read SLURM_ARRAY_TASK_ID=4, --shards 4); shard indexes are 0-based: submit --array=0-3');
    expect(usageError({ shard: 'auto' }, { BATCH_TASK_INDEX: '2', BATCH_TASK_COUNT: '2' }).message).toMatch(/read BATCH_TASK_INDEX=2, BATCH_TASK_COUNT=2/);
  });

  it('conflicting values are usage errors naming both', () => {
    expect(usageError({ shard: 'auto', shards: '4' }, { SLURM_ARRAY_TASK_ID: '1', JOB_COMPLETION_INDEX: '2' }).message).toBe('the environment gives two different values for the array index: SLURM_ARRAY_TASK_ID=1 and JOB_COMPLETION_INDEX=2');
    expect(usageError({ shard: 'auto', shards: '4' }, { AWS_BATCH_JOB_ARRAY_INDEX: '1', AWS_BATCH_JOB_ARRAY_SIZE: '8' }).message).toBe('--shards 4 disagrees with AWS_BATCH_JOB_ARRAY_SIZE=8');
    expect(usageError({ shard: 'auto' }, { BATCH_TASK_INDEX: '1', AWS_BATCH_JOB_ARRAY_SIZE: '8', BATCH_TASK_COUNT: '4' }).message).toMatch(/two different values for the array size: AWS_BATCH_JOB_ARRAY_SIZE=8 and BATCH_TASK_COUNT=4/);
    // The same index from two variables is no conflict.
    expect(resolveShard({ shard: 'auto', shards: '4' }, { SLURM_ARRAY_TASK_ID: '1', JOB_COMPLETION_INDEX: '1' })).toMatchObject({ index: 1 });
  });

  it('an index that is not a number', () => {
    expect(usageError({ shard: 'auto', shards: '4' }, { JOB_COMPLETION_INDEX: 'two' }).message).toBe('JOB_COMPLETION_INDEX=two is not an array index');
  });
});

describe('each engine as test/helpers/engines.ts plays it', () => {
  it.each(ENGINES)('%s: every task of an array of 5 resolves to its own index, also when resubmitted or retried', (engine) => {
    for (let i = 0; i < 5; i++) {
      const flags = engineFlags(engine, 5);
      const parsed: ShardFlags = { shard: flags[1], ...(flags[3] ? { shards: flags[3] } : {}) };
      expect(resolveShard(parsed, engineEnv(engine, i, 5))).toMatchObject({ index: i, count: 5 });
      expect(resolveShard(parsed, engineEnv(engine, i, 5, { attempt: 3, resubmitted: true }))).toMatchObject({ index: i, count: 5 });
    }
  });
});

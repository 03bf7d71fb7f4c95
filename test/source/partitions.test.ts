import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { globRoot, partitionSegments, typePartitions as typeRooted } from '../../src/source/partitions.js';

const typePartitions = (root: string, files: string[], given = {}) => typeRooted(files.map((path) => ({ root, path })), given);

const ROOT = '/data/events';
const at = (...dirs: string[]): string => join(ROOT, ...dirs, 'part-0.parquet');

function thrown(f: () => unknown): BatchinferError {
  try {
    f();
  } catch (err) {
    return err as BatchinferError;
  }
  throw new Error('did not throw');
}

describe('partition keys of the key=value directories below the root', () => {
  it('only directories below the root count, not those above it or the file name', () => {
    expect(partitionSegments('/data/region=eu/events', '/data/region=eu/events/dt=2026-11-29/x=1.parquet')).toEqual([{ name: 'dt', value: '2026-11-29' }]);
    expect(partitionSegments(ROOT, join(ROOT, 'raw', 'k=a%2Fb', 'f.parquet'))).toEqual([{ name: 'k', value: 'a/b' }]);
    expect(partitionSegments(ROOT, at('k=__HIVE_DEFAULT_PARTITION__'))).toEqual([{ name: 'k', value: null }]);
  });

  it('a glob roots at its directories before the first glob character', () => {
    expect(globRoot('/data/events/dt=*/hour=0?/*.parquet')).toBe('/data/events');
    expect(globRoot('/data/events/*.parquet')).toBe('/data/events');
    expect(globRoot('/data/e[0-9]/x.parquet')).toBe('/data');
  });

  it('dates are DATE, integers BIGINT (05 is 5), anything else VARCHAR', () => {
    const files = [at('dt=2026-11-29', 'hour=05', 'src=web'), at('dt=2026-11-30', 'hour=23', 'src=7')];
    const typed = typePartitions(ROOT, files);
    expect(typed[0]).toEqual([
      { name: 'dt', type: 'DATE', value: '2026-11-29' },
      { name: 'hour', type: 'BIGINT', value: '05' },
      { name: 'src', type: 'VARCHAR', value: 'web' },
    ]);
    expect(typed[1]!.map((p) => p.type)).toEqual(['DATE', 'BIGINT', 'VARCHAR']);
  });

  it('a value that is not a date under a date key is INPUT_INVALID naming the file', () => {
    for (const bad of ['2026-02-30', 'latest']) {
      const err = thrown(() => typePartitions(ROOT, [at('dt=2026-11-29'), at(`dt=${bad}`)]));
      expect(err.code).toBe('INPUT_INVALID');
      expect(err.exitCode).toBe(65);
      expect(err.message).toBe(`input file ${at(`dt=${bad}`)}: partition dt=${bad} is not a date, while other dt values below ${ROOT} are dates`);
      expect(err.actual).toBe(bad);
    }
  });

  it('partition_types: text keeps dates and anything else as text; integer or date refuses a value that is not one, naming the file', () => {
    const files = [at('dt=2026-11-29', 'shard=007'), at('dt=latest', 'shard=x1')];
    expect(typePartitions(ROOT, files, { dt: 'text', shard: 'text' })[1]).toEqual([
      { name: 'dt', type: 'VARCHAR', value: 'latest' },
      { name: 'shard', type: 'VARCHAR', value: 'x1' },
    ]);
    const err = thrown(() => typePartitions(ROOT, files, { dt: 'text', shard: 'integer' }));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toBe(`input file ${files[1]}: partition shard=x1 is not an integer, while partition_types gives shard as integer`);
    const date = thrown(() => typePartitions(ROOT, [at('dt=20261129')], { dt: 'date' }));
    expect(date.message).toBe(`input file ${at('dt=20261129')}: partition dt=20261129 is not a date, while partition_types gives dt as date`);
    expect(typePartitions(ROOT, [at('dt=20261129')])[0]![0]!.type).toBe('BIGINT');
  });

  it('a NULL partition (Hive default) keeps its key typed', () => {
    expect(typePartitions(ROOT, [at('dt=2026-11-29'), at('dt=__HIVE_DEFAULT_PARTITION__')])[1]).toEqual([{ name: 'dt', type: 'DATE', value: null }]);
  });

  it('files under different keys are INPUT_INVALID naming both', () => {
    const err = thrown(() => typePartitions(ROOT, [at('dt=2026-11-29'), at()]));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toBe(`input file ${at()} sits under no partition keys, but ${at('dt=2026-11-29')} under partition keys dt: every file of ${ROOT} must sit under the same key=value directories below the input's root`);
  });

  it('no key=value directories: no partitions', () => {
    expect(typePartitions(ROOT, [at('a'), at('b')])).toEqual([[], []]);
  });
});

/**
 * What `fill_null: mean|median` take from a reference profile: the mean equals DuckDB's `avg`
 * over the data's finite values, the median DuckDB's `median` while the sketch holds every
 * value (an odd count: one middle value), and on 200,000 values a value whose rank DuckDB
 * finds within the sketch's rank error of one half. Text and all-NULL columns have none.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { centralValues } from '../../src/profile/centralValues.js';
import { profileDataset } from '../../src/profile/profileDataset.js';
import { withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-central-');

describe('centralValues of a profiled dataset', () => {
  let dir: string;
  let db: Db;

  beforeAll(async () => {
    dir = await tmp.make();
    db = await Db.open();
    await withDuckDb(async (q) => {
      // small: 1001 values (every 7th NULL, one NaN) of a skewed column; big: 200,000 lognormal-ish values.
      await q(`COPY (SELECT i, CASE WHEN i % 7 = 0 THEN NULL WHEN i = 500 THEN 'NaN'::DOUBLE ELSE exp(((i * 7919) % 1000) / 250.0) END AS small, 'k' || (i % 3) AS word, NULL::DOUBLE AS empty FROM range(1169) t(i)) TO '${join(dir, 'small.parquet')}' (FORMAT parquet)`);
      await q(`COPY (SELECT exp(sin(i * 12.9898) * 43758.5453 % 2) AS big FROM range(200000) t(i)) TO '${join(dir, 'big.parquet')}' (FORMAT parquet)`);
    });
  });
  afterAll(() => db.close());

  it('mean = DuckDB avg over the finite values; median = DuckDB median while the sketch holds every value', async () => {
    const values = centralValues((await profileDataset(db, join(dir, 'small.parquet'))).profile);
    const [truth] = await withDuckDb((q) => q(`SELECT avg(small) AS mean, median(small) AS median, count(small) AS n FROM read_parquet($1) WHERE NOT isnan(small)`, [join(dir, 'small.parquet')]));
    expect(Number(truth!['n']) % 2).toBe(1);
    const small = values.get('small')!;
    expect(Math.abs(small.mean! - Number(truth!['mean']))).toBeLessThanOrEqual(1e-12 * Math.abs(Number(truth!['mean'])));
    expect(small.median).toBe(Number(truth!['median']));
    expect(values.get('word')).toEqual({ mean: null, median: null });
    expect(values.get('empty')).toEqual({ mean: null, median: null });
  });

  it('on 200,000 values the median is a value of rank 0.5 within the sketch tolerance (0.005)', async () => {
    const big = centralValues((await profileDataset(db, join(dir, 'big.parquet'))).profile).get('big')!;
    const [truth] = await withDuckDb((q) => q(`SELECT avg(big) AS mean, avg((big <= ${big.median})::INTEGER) AS rank, median(big) AS median FROM read_parquet($1)`, [join(dir, 'big.parquet')]));
    expect(Math.abs(big.mean! - Number(truth!['mean']))).toBeLessThanOrEqual(1e-12 * Math.abs(Number(truth!['mean'])));
    expect(Math.abs(Number(truth!['rank']) - 0.5)).toBeLessThanOrEqual(0.005);
    expect(big.median).not.toBe(Number(truth!['median']));
  });
});

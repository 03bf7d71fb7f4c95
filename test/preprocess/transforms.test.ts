/**
 * Transforms evaluated by DuckDB (featureSql and the row checks) against references computed
 * here from each definition: numpy.clip, numpy.log/log1p, numpy.digitize (right=False),
 * min-max scaling, one-hot in category order, and their fixed order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { featureSql, narrowsInReader, planFeeds, type ColumnFeed, type FeedDtype, type FeedPlan } from '../../src/preprocess/featurePlan.js';
import { parseRejection, rejectSql, scannedChecks } from '../../src/preprocess/rowChecks.js';
import type { ColumnInfo } from '../../src/source/dataset.js';
import type { InputSpec, JobSpec } from '../../src/spec/jobSpec.js';
import type { ValueInfo } from '../../src/model/onnxFile.js';
import { Params } from '../../src/util/sql.js';

/** Values around every edge: below, on and above bins, 0 and -1 (log domains), NaN, NULL. */
const VALUES: (number | null)[] = [-5, -1, -0.5, 0, 1e-9, 0.1, 0.3, 0.5, 0.9, 1, 2.5, 10, 1000, 1e6, null];

/** numpy.digitize(x, bins) with right=False, from its definition: bins[i-1] <= x < bins[i]. */
function digitize(x: number, bins: number[]): number {
  if (Number.isNaN(x)) return bins.length;
  let i = 0;
  while (i < bins.length && bins[i]! <= x) i++;
  return i;
}
const clip = (x: number, lo: number, hi: number): number => (Number.isNaN(x) ? x : Math.min(Math.max(x, lo), hi));

describe('transforms through DuckDB', () => {
  let db: Db;

  beforeAll(async () => {
    db = await Db.open({ threads: 1 });
    await db.exec(`CREATE TABLE t (i INTEGER, d DOUBLE, c VARCHAR, n INTEGER)`);
    const rows = VALUES.map((v, i) => `(${i}, ${v === null ? 'NULL' : v}, ${['web', 'store', 'phone', 'fax', null][i % 5] === null ? 'NULL' : `'${['web', 'store', 'phone', 'fax'][i % 5]}'`}, ${i % 4})`);
    await db.exec(`INSERT INTO t VALUES ${rows.join(', ')}`);
  });
  afterAll(() => db?.close());

  const feed = (extra: Partial<ColumnFeed>, column = 'd', columnType = 'DOUBLE'): ColumnFeed => ({ column, columnType, nulls: { kind: 'error' }, allowNan: false, parsed: false, ...extra });

  /** Each row's feature and reject reason. */
  async function run(col: ColumnFeed, dtype: FeedDtype = 'float64'): Promise<{ v: number | null; reason: string | null }[]> {
    const feeds: FeedPlan[] = [{ input: 'x', dtype, rank: 2, columns: [col] }];
    const params = new Params();
    const feature = featureSql(col, dtype, params);
    const reject = rejectSql(feeds, params) ?? 'NULL';
    const rows = await db.query<{ v: number | bigint | null; r: string | null }>(`SELECT ${feature} AS v, ${reject} AS r FROM t ORDER BY i`, params.values);
    return rows.map((row) => ({ v: row.v === null ? null : Number(row.v), reason: row.r === null ? null : parseRejection(row.r).reason }));
  }

  it('clip: a value outside [LO, HI] becomes the bound', async () => {
    const rows = await run(feed({ clip: [0, 2], nulls: { kind: 'fill', value: 7 } }));
    expect(rows.map((r) => r.v)).toEqual(VALUES.map((x) => clip(x ?? 7, 0, 2)));
    expect(rows.every((r) => r.reason === null)).toBe(true);
  });

  it('log and log1p: numpy values; x <= 0 (log) and x <= -1 (log1p) are OUT_OF_DOMAIN', async () => {
    for (const [kind, fn, bound] of [['log', Math.log, 0], ['log1p', Math.log1p, -1]] as const) {
      const rows = await run(feed({ log: kind, nulls: { kind: 'fill', value: 1 } }));
      VALUES.forEach((raw, i) => {
        const x = raw ?? 1;
        if (x <= bound) {
          expect(rows[i]!.reason, `${kind}(${x})`).toBe('OUT_OF_DOMAIN');
        } else {
          expect(rows[i]!.reason).toBeNull();
          // log1p near 0 keeps its precision (ln(1 + 1e-9) alone loses half the digits).
          expect(Math.abs(rows[i]!.v! - fn(x)), `${kind}(${x})`).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(fn(x))));
        }
      });
    }
  });

  it('bucketize is numpy.digitize(x, bins) with right=False, edges included on the right bucket', async () => {
    const bins = [0.1, 0.5, 0.9];
    const rows = await run(feed({ bucketize: bins, nulls: { kind: 'fill', value: 0.5 } }));
    expect(rows.map((r) => r.v)).toEqual(VALUES.map((x) => digitize(x ?? 0.5, bins)));
    expect(digitize(0.5, bins)).toBe(2);
    expect(digitize(0.1, bins)).toBe(1);
    // An integer model input takes the index as an integer.
    const ints = await run(feed({ bucketize: bins, nulls: { kind: 'fill', value: 0 } }), 'int64');
    expect(ints.map((r) => r.v)).toEqual(VALUES.map((x) => digitize(x ?? 0, bins)));
  });

  it('min_max: (x - min) / (max - min), float32 within its rounding', async () => {
    const rows = await run(feed({ minMax: { min: -5, max: 15 }, nulls: { kind: 'fill', value: 0 } }), 'float32');
    VALUES.forEach((x, i) => expect(rows[i]!.v).toBeCloseTo(Math.fround(((x ?? 0) + 5) / 20), 6));
  });

  it('the order is fill_null -> clip -> log1p -> bucketize -> scale', async () => {
    const bins = [1, 2, 5];
    const col = feed({ nulls: { kind: 'fill', value: 500 }, clip: [0, 100], log: 'log1p', bucketize: bins, scale: { mean: 1, std: 2 } });
    const rows = await run(col);
    const reference = VALUES.map((x) => (digitize(Math.log1p(clip(x ?? 500, 0, 100)), bins) - 1) / 2);
    expect(rows.map((r) => r.v)).toEqual(reference);
    // clip before log: -5 is clipped to 0 first, so log1p is defined; without clip it is not.
    expect(rows.every((r) => r.reason === null)).toBe(true);
  });

  it('NULL without fill_null is NULL_VALUE before any transform; NaN is NOT_FINITE, or passes through with allow_nan', async () => {
    await db.exec(`CREATE TEMP TABLE IF NOT EXISTS nanrow AS SELECT 'NaN'::DOUBLE AS d`);
    const rows = await run(feed({ clip: [0, 2], log: 'log' }));
    expect(rows.at(-1)!.reason).toBe('NULL_VALUE');
    expect(rows[0]!.reason).toBe('OUT_OF_DOMAIN');
    const params = new Params();
    const col = feed({ clip: [0, 2], log: 'log', bucketize: [0.5], allowNan: true });
    const [row] = await db.query<{ v: number; r: string | null }>(`SELECT ${featureSql(col, 'float64', params)} AS v, ${rejectSql([{ input: 'x', dtype: 'float64', rank: 1, columns: [col] }], params)} AS r FROM nanrow`, params.values);
    // numpy: clip(NaN) = NaN, log(NaN) = NaN, digitize(NaN) = len(bins).
    expect(row).toEqual({ v: 1, r: null });
  });

  it('one_hot: one float per category in the given order, unknown ignore gives zeros, error rejects', async () => {
    const categories = ['web', 'store', 'phone'];
    const positions = (unknown: 'ignore' | 'error', dropFirst = false): ColumnFeed[] =>
      categories.slice(dropFirst ? 1 : 0).map((_, i) => feed({ oneHot: { categories, position: i + (dropFirst ? 1 : 0), unknown, checksUnknown: i === 0 }, nulls: { kind: 'fill', value: 'phone' } }, 'c', 'VARCHAR'));
    const query = async (cols: ColumnFeed[]): Promise<{ vs: number[]; r: string | null }[]> => {
      const feeds: FeedPlan[] = [{ input: 'x', dtype: 'float32', rank: 2, columns: cols }];
      const params = new Params();
      const select = cols.map((c, i) => `${featureSql(c, 'float32', params)} AS f${i}`).join(', ');
      const rows = await db.query<Record<string, number | string | null>>(`SELECT ${select}, ${rejectSql(feeds, params) ?? 'NULL'} AS r, c FROM t ORDER BY i`, params.values);
      return rows.map((row) => ({ vs: cols.map((_, i) => row[`f${i}`] as number), r: row.r === null ? null : parseRejection(row.r as string).reason }));
    };
    const raw = await db.query<{ c: string | null }>('SELECT c FROM t ORDER BY i');
    const reference = raw.map(({ c }) => categories.map((k) => ((c ?? 'phone') === k ? 1 : 0)));
    const ignore = await query(positions('ignore'));
    expect(ignore.map((r) => r.vs)).toEqual(reference);
    expect(ignore.every((r) => r.r === null)).toBe(true);
    expect(reference.some((v) => v.every((x) => x === 0))).toBe(true);
    const error = await query(positions('error'));
    expect(error.map((r) => r.r)).toEqual(raw.map(({ c }) => (c === 'fax' ? 'UNKNOWN_CATEGORY' : null)));
    const dropped = await query(positions('ignore', true));
    expect(dropped.map((r) => r.vs)).toEqual(reference.map((v) => v.slice(1)));
  });

  it('a transformed column takes no reader fast path: its NaN/Infinity are judged in SQL', () => {
    const plain = feed({});
    expect(narrowsInReader(plain, 'float32')).toBe(true);
    expect(narrowsInReader(feed({ clip: [0, 1] }), 'float32')).toBe(false);
    expect(narrowsInReader(feed({ log: 'log' }), 'float32')).toBe(false);
    const feeds = (col: ColumnFeed): FeedPlan[] => [{ input: 'x', dtype: 'float32', rank: 1, columns: [col] }];
    expect(scannedChecks(feeds(plain)).map((c) => c.kind)).toEqual(['null', 'notFinite', 'narrow']);
    expect(scannedChecks(feeds(feed({ clip: [0, 1] }))).map((c) => c.kind)).toEqual(['null']);
  });
});

describe('planFeeds with transforms', () => {
  const job = (inputs: Record<string, InputSpec>): JobSpec => ({ name: 't', model: '/m.onnx', input: '/in.parquet', output: '/out.parquet', passthrough: [], inputs, batchSize: 8192 }) as unknown as JobSpec;
  const columns: ColumnInfo[] = [
    { name: 'amount', type: 'DOUBLE' },
    { name: 'f1', type: 'DOUBLE' },
    { name: 'f2', type: 'BIGINT' },
    { name: 'channel', type: 'VARCHAR' },
    { name: 'score', type: 'DOUBLE' },
  ];
  const input = (name: string, elemType: string, shape: (number | string)[]): ValueInfo => ({ name, elemType, shape });

  it('input-level transforms apply to every column; per_column replaces them key by key', () => {
    const spec = job({ x: { columns: ['amount', 'f1', 'f2'], clip: [0, 1000], log: 'log1p', perColumn: { amount: { clip: [0, 50000] }, f2: { bucketize: [1, 2], minMax: { min: 0, max: 3 } } }, minMax: { min: [0, 0, 0], max: [10, 10, 10] } } });
    const { feeds, problems } = planFeeds(spec, [input('x', 'float32', ['N', 3])], columns);
    expect(problems).toEqual([]);
    const [amount, f1, f2] = feeds[0]!.columns;
    expect([amount!.clip, amount!.log, amount!.minMax]).toEqual([[0, 50000], 'log1p', { min: 0, max: 10 }]);
    expect([f1!.clip, f1!.log, f1!.bucketize]).toEqual([[0, 1000], 'log1p', undefined]);
    expect([f2!.clip, f2!.bucketize, f2!.minMax]).toEqual([[0, 1000], [1, 2], { min: 0, max: 3 }]);
    // `log: false` under per_column (null in the spec) switches the input's log off for that column.
    const off = planFeeds(job({ x: { columns: ['amount', 'f1'], log: 'log', perColumn: { f1: { log: null } } } }), [input('x', 'float32', ['N', 2])], columns);
    expect(off.feeds[0]!.columns.map((c) => c.log)).toEqual(['log', undefined]);
  });

  it('each transform changes the plan, which the run identity hashes (core/fingerprint.ts: job.feeds)', () => {
    const plan = (extra: Partial<InputSpec>) => JSON.stringify(planFeeds(job({ x: { columns: ['amount', 'f1'], ...extra } }), [input('x', 'float32', ['N', 2])], columns).feeds);
    const variants: Partial<InputSpec>[] = [{}, { clip: [0, 1] }, { clip: [0, 2] }, { log: 'log' }, { log: 'log1p' }, { bucketize: [1] }, { minMax: { min: [0, 0], max: [1, 1] } }, { perColumn: { f1: { clip: [0, 1] } } }, { fillNull: 3.2 }];
    expect(new Set(variants.map(plan)).size).toBe(variants.length);
  });

  it('every transform is checked against the column type and the input dtype, at its key path', () => {
    const spec = job({
      x: { columns: ['amount', 'channel'], perColumn: { channel: { clip: [0, 1] } } },
      n: { column: 'score', log: 'log' },
      b: { column: 'score', clip: [0, 1], bucketize: [0.5] },
      s: { column: 'score', bucketize: [0.5], minMax: { min: [0], max: [2] } },
    });
    const models = ['n', 'b', 's'].map((name) => input(name, 'int64', ['N']));
    const { problems } = planFeeds(spec, [input('x', 'float32', ['N', 2]), ...models], columns);
    // bucketize (and clip before it) feeds an integer input; min_max after it does not.
    expect(problems.map((p) => [p.code, p.where])).toEqual([
      ['SPEC_INVALID', 'inputs.x.per_column.channel.clip'],
      ['SPEC_INVALID', 'inputs.n.log'],
      ['SPEC_INVALID', 'inputs.s.min_max'],
    ]);
  });

  it('one_hot: K positions of its column (K-1 with drop_first), checked against the model shape', () => {
    const oneHot = { column: 'channel', categories: ['web', 'store', 'phone'], unknown: 'ignore' as const, dropFirst: false };
    const ok = planFeeds(job({ c: { oneHot } }), [input('c', 'float32', ['N', 3])], columns);
    expect(ok.problems).toEqual([]);
    expect(ok.feeds[0]!.columns.map((c) => [c.column, c.oneHot!.position])).toEqual([['channel', 0], ['channel', 1], ['channel', 2]]);
    const dropped = planFeeds(job({ c: { oneHot: { ...oneHot, dropFirst: true } } }), [input('c', 'float32', ['N', 2])], columns);
    expect(dropped.feeds[0]!.columns.map((c) => c.oneHot!.position)).toEqual([1, 2]);
    const wrong = planFeeds(job({ c: { oneHot } }), [input('c', 'float32', ['N', 2])], columns);
    expect(wrong.problems).toMatchObject([{ code: 'MODEL_MISMATCH', where: 'inputs.c.one_hot', expected: 2, actual: 3 }]);
    const float = planFeeds(job({ c: { oneHot: { ...oneHot, column: 'score' } } }), [input('c', 'float32', ['N', 3])], columns);
    expect(float.problems).toMatchObject([{ code: 'SCHEMA_MISMATCH', where: 'inputs.c.one_hot.column', actual: 'DOUBLE' }]);
  });
});

/**
 * One job using several transforms at once (issue 19 part 1), scored by a model that returns
 * its features (Concat of x [N,4] and a one-hot [N,3]), so every written value is compared
 * with a reference scorer computing each transform from its definition here: clip, log1p,
 * log, bucketize (numpy.digitize), min_max, one_hot, in the fixed order. Bad values
 * (OUT_OF_DOMAIN for log, UNKNOWN_CATEGORY for one_hot) flow like every other reason:
 * quarantined with their reason, counted in the summary, or failing the run.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../scripts/fixtures/onnxBuilder.js';
import { expectCliError, expectOk, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-transforms-');

const CATEGORIES = ['web', 'store', 'phone'];
const BINS = [0.1, 0.5, 0.9];
const ROWS = 300;

interface DataRow {
  id: number;
  amount: number | null;
  f1: number;
  f2: number;
  n: number;
  channel: string;
}

/** Deterministic rows reaching every edge: negative amounts, f1 <= 0 every 37th row, f2 on the bin edges, an unknown channel every 50th. */
function dataRows(): DataRow[] {
  return Array.from({ length: ROWS }, (_, i) => ({
    id: i,
    amount: i % 23 === 0 ? null : ((i * 7919) % 120000) - 20000 + 0.25,
    f1: i % 37 === 5 ? -(i % 3) : ((i * 13) % 2000) / 7 + 0.5,
    f2: [0.1, 0.5, 0.9, 0.0999, 0.95, -3, 0.3][i % 7]!,
    n: (i * 3) % 40,
    channel: i % 50 === 49 ? 'fax' : CATEGORIES[i % 3]!,
  }));
}

const clip = (x: number, lo: number, hi: number): number => Math.min(Math.max(x, lo), hi);
const digitize = (x: number, bins: number[]): number => bins.filter((b) => b <= x).length;

/** The reference scorer: the 7 features of a good row, or its reject reason. */
function reference(r: DataRow): number[] | 'OUT_OF_DOMAIN' | 'UNKNOWN_CATEGORY' {
  const f1 = clip(r.f1, -10, 1000);
  if (f1 <= 0) return 'OUT_OF_DOMAIN';
  if (!CATEGORIES.includes(r.channel)) return 'UNKNOWN_CATEGORY';
  return [
    Math.log1p(clip(r.amount ?? 0, 0, 50000)),
    Math.log(f1),
    digitize(clip(r.f2, -10, 1000), BINS),
    (clip(r.n, -10, 1000) - 0) / (20 - 0),
    ...CATEGORIES.map((c) => (c === r.channel ? 1 : 0)),
  ];
}

const JOB = {
  task: 'regression',
  inputs: {
    x: {
      columns: ['amount', 'f1', 'f2', 'n'],
      fill_null: 0,
      clip: [-10, 1000],
      per_column: {
        amount: { log1p: true, clip: [0, 50000] },
        f1: { log: true },
        f2: { bucketize: BINS },
        n: { min_max: { min: 0, max: 20 } },
      },
    },
    ch: { one_hot: { column: 'channel', categories: CATEGORIES, unknown: 'error' } },
  },
};

describe('a job with several transforms at once', () => {
  let dir: string;
  const rows = dataRows();

  beforeAll(async () => {
    dir = await tmp.make();
    const feature = (name: string, width: number) => ({ name, elemType: 'float32' as const, shape: ['N', width] });
    const bytes = encodeModel({
      name: 'features',
      description: 'returns its features: Concat(x, ch)',
      inputs: [feature('x', 4), feature('ch', 3)],
      outputs: [feature('value', 7)],
      nodes: [{ op: 'Concat', inputs: ['x', 'ch'], outputs: ['value'], attrs: { axis: 1 } }],
      params: {},
      features: {},
    });
    await writeFile(join(dir, 'features.onnx'), bytes);
    await writeFile(join(dir, 'rows.json'), rows.map((r) => JSON.stringify(r)).join('\n'));
    await withDuckDb(async (q) => {
      await q(`COPY (SELECT id::INTEGER AS id, amount::DOUBLE AS amount, f1::DOUBLE AS f1, f2::DOUBLE AS f2, n::INTEGER AS n, channel::VARCHAR AS channel FROM read_json($1, format = 'newline_delimited') ORDER BY id) TO '${join(dir, 'in.parquet')}' (FORMAT parquet)`, [join(dir, 'rows.json')]);
    });
  });

  async function run(extra: Record<string, unknown>, name: string) {
    const jobPath = join(dir, `${name}.yaml`);
    await writeFile(jobPath, YAML.stringify({ model: 'features.onnx', input: 'in.parquet', output: `${name}.parquet`, passthrough: ['id'], ...JOB, ...extra }));
    return runCli(['run', jobPath, '--quiet', '--json'], { cwd: dir, timeoutMs: 90_000 });
  }

  it('quarantine: every good row equals the reference (float32), every bad row is rejected with its reason', async () => {
    const result = await run({ on_error: 'quarantine' }, 'q');
    expectOk(result);
    const expected = rows.map((r) => ({ id: r.id, ref: reference(r) }));
    const good = expected.filter((e) => Array.isArray(e.ref));
    const bad = expected.filter((e) => !Array.isArray(e.ref));
    expect(bad.filter((e) => e.ref === 'OUT_OF_DOMAIN').length).toBeGreaterThan(0);
    expect(bad.filter((e) => e.ref === 'UNKNOWN_CATEGORY').length).toBeGreaterThan(0);

    const out = await readParquet(join(dir, 'q.parquet'));
    expect(out.rows.map((r) => r['id'])).toEqual(good.map((e) => e.id));
    out.rows.forEach((row, i) => {
      const ref = good[i]!.ref as number[];
      ref.forEach((v, k) => expect(Math.abs(Number(row[`prediction_${k}`]) - v), `row ${row['id']} position ${k}`).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v))));
    });

    const summary = JSON.parse(result.stdout);
    const count = (reason: string) => bad.filter((e) => e.ref === reason).length;
    expect(summary.rows.rejectedByReason).toEqual({ OUT_OF_DOMAIN: count('OUT_OF_DOMAIN'), UNKNOWN_CATEGORY: count('UNKNOWN_CATEGORY') });
    const rejects = await readParquet(join(dir, 'q.parquet.rejects.parquet'));
    expect(rejects.rows.map((r) => [r['id'], r['reject_reason'], r['reject_column']])).toEqual(bad.map((e) => [e.id, e.ref, e.ref === 'OUT_OF_DOMAIN' ? 'f1' : 'channel']));
    // Row 5: f1 = -2, clipped to [-10, 1000] (still -2), then log.
    const domain = rejects.rows.find((r) => r['reject_reason'] === 'OUT_OF_DOMAIN')!;
    expect([domain['id'], domain['reject_message']]).toEqual([5, '-2.0 in column f1 is outside the domain of log (after clip): it must be > 0']);
  });

  it('a CSV of the same rows (text parsed per row, a staged copy) gives the same output and rejects', async () => {
    await withDuckDb(async (q) => {
      await q(`COPY (SELECT * FROM read_parquet('${join(dir, 'in.parquet')}')) TO '${join(dir, 'in.csv')}' (FORMAT csv, HEADER)`);
    });
    const jobPath = join(dir, 'csv.yaml');
    await writeFile(jobPath, YAML.stringify({ model: 'features.onnx', input: 'in.csv', output: 'csv.parquet', passthrough: ['id'], on_error: 'quarantine', ...JOB }));
    expectOk(await runCli(['run', jobPath, '--quiet'], { cwd: dir, timeoutMs: 90_000 }));
    if (!existsSync(join(dir, 'q.parquet'))) expectOk(await run({ on_error: 'quarantine' }, 'q'));
    const [csv, parquet] = [await readParquet(join(dir, 'csv.parquet')), await readParquet(join(dir, 'q.parquet'))];
    // The CSV's id is sniffed as BIGINT; every feature must be the same float32.
    const byId = (rows: Record<string, unknown>[]) => rows.map((r) => ({ ...r, id: Number(r['id']) }));
    expect(byId(csv.rows)).toEqual(byId(parquet.rows));
    const rejects = await readParquet(join(dir, 'csv.parquet.rejects.parquet'));
    expect(rejects.rows.map((r) => [r['reject_row'], r['reject_reason']])).toEqual((await readParquet(join(dir, 'q.parquet.rejects.parquet'))).rows.map((r) => [r['reject_row'], r['reject_reason']]));
  });

  it('skip: the same good rows as quarantine, the bad ones counted by reason and no rejects file', async () => {
    const result = await run({ on_error: 'skip' }, 's');
    expectOk(result);
    const refs = rows.map(reference);
    const summary = JSON.parse(result.stdout);
    expect(summary.rows).toMatchObject({ in: ROWS, out: refs.filter(Array.isArray).length, rejected: refs.filter((r) => !Array.isArray(r)).length });
    expect(Object.keys(summary.rows.rejectedByReason).sort()).toEqual(['OUT_OF_DOMAIN', 'UNKNOWN_CATEGORY']);
    expect(existsSync(join(dir, 's.parquet.rejects.parquet'))).toBe(false);
  });

  it('fail: the first bad row stops the run (65) with its reason', async () => {
    const result = await run({ on_error: 'fail' }, 'f');
    const stderr = expectCliError(result, 65, 'BAD_DATA');
    const first = rows.find((r) => !Array.isArray(reference(r)))!;
    expect(stderr).toContain(`row ${first.id + 1}:`);
    expect(stderr).toContain(String(reference(first)));
  });

  it('validate lists each position with its steps in the order they apply', async () => {
    const jobPath = join(dir, 'valid.yaml');
    await writeFile(jobPath, YAML.stringify({ model: 'features.onnx', input: 'in.parquet', output: 'v.parquet', ...JOB }));
    const result = await runCli(['validate', jobPath], { cwd: dir });
    expectOk(result);
    expect(result.stderr).toContain('x (float32) <- amount (fill_null 0 -> clip [0, 50000] -> log1p), f1 (fill_null 0 -> clip [-10, 1000] -> log), f2 (fill_null 0 -> clip [-10, 1000] -> bucketize [0.1, 0.5, 0.9]), n (fill_null 0 -> clip [-10, 1000] -> min_max [0, 20])');
    expect(result.stderr).toContain('ch (float32) <- channel (one_hot = web), channel (one_hot = store), channel (one_hot = phone)');
  });

  it('validate refuses a transform on a text column and a one-hot wider than the model input, all at once (78)', async () => {
    const jobPath = join(dir, 'bad.yaml');
    const inputs = { x: { ...JOB.inputs.x, per_column: { ...JOB.inputs.x.per_column, n: { clip: [0, 1] } }, columns: ['amount', 'f1', 'f2', 'channel'] }, ch: { one_hot: { column: 'channel', categories: [...CATEGORIES, 'fax'] } } };
    await writeFile(jobPath, YAML.stringify({ model: 'features.onnx', input: 'in.parquet', output: 'bad.parquet', task: 'regression', inputs }));
    const result = await runCli(['validate', jobPath], { cwd: dir });
    const stderr = expectCliError(result, 78, 'SPEC_INVALID');
    expect(stderr).toContain('inputs.x.clip');
    expect(stderr).toContain("'channel' is not one");
    expect(stderr).toContain('inputs.ch.one_hot');
  });

  it('inspect --data --job shows each position with its column, its steps in order and min/mean/max of the good rows of a sample', async () => {
    const jobPath = join(dir, 'inspect.yaml');
    await writeFile(jobPath, YAML.stringify({ model: 'elsewhere.onnx', input: 'elsewhere.parquet', output: 'o.parquet', ...JOB }));
    const result = await runCli(['inspect', 'features.onnx', '--data', 'in.parquet', '--job', 'inspect.yaml'], { cwd: dir });
    expectOk(result);
    const good = rows.map(reference).filter((r): r is number[] => Array.isArray(r));
    const stats = (k: number) => {
      const values = good.map((r) => Math.fround(r[k]!));
      return { min: Math.min(...values), mean: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) };
    };
    const line = (k: number): string => result.stdout.split('\n').find((l) => l.trimStart().startsWith(`[${k}] `))!;
    expect(line(0)).toContain('[0] amount DOUBLE -> fill_null 0 -> clip [0, 50000] -> log1p');
    expect(line(1)).toContain('[1] f1 DOUBLE -> fill_null 0 -> clip [-10, 1000] -> log');
    expect(line(2)).toContain('[2] f2 DOUBLE -> fill_null 0 -> clip [-10, 1000] -> bucketize [0.1, 0.5, 0.9]');
    expect(line(3)).toContain('[3] n INTEGER -> fill_null 0 -> clip [-10, 1000] -> min_max [0, 20]');
    for (let k = 0; k < 4; k++) {
      const m = /min (\S+)  mean (\S+)  max (\S+)/.exec(line(k))!;
      const ref = stats(k);
      [ref.min, ref.mean, ref.max].forEach((v, i) => expect(Math.abs(Number(m[i + 1]) - v), `${line(k)}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
    }
    expect(result.stdout).toContain('one_hot = store');
    const bad = rows.length - good.length;
    expect(result.stdout).toContain(`sample: first ${rows.length} rows of the first file, ${bad} bad`);
  });
});

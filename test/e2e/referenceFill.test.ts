/**
 * `fill_null: mean|median` from the job's `reference:` profile (issue 19), end to end: the
 * reference is profiled with `batchinfer profile` from training data, a model returning its
 * features shows the value each NULL took, and that value is checked against DuckDB over the
 * training data (`avg` exactly; the sketch's median by its rank, within 0.005). validate and
 * inspect show the values; each way the reference fails is refused before anything is written;
 * a reference whose mean moved does not resume an interrupted run.
 */
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../scripts/fixtures/onnxBuilder.js';
import { describeResult, expectCliError, expectOk, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-reffill-');

/** Training rows: 20,001 (more than the sketch keeps exactly); b NULL every 9th row, `gone` always NULL. */
const TRAIN_SQL = `SELECT i, exp(sin(i * 12.9898) * 2) AS a, CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 7919) % 1000 / 7.0 END AS b, cos(i) * 100 AS c, NULL::DOUBLE AS gone FROM range(20001) t(i)`;
/** Rows to score: 60, a NULL every 4th row in a, every 5th in b, every 6th in c. */
const INPUT_SQL = `SELECT i AS id, CASE WHEN i % 4 = 0 THEN NULL ELSE i / 10.0 END AS a, CASE WHEN i % 5 = 0 THEN NULL ELSE i + 0.5 END AS b, CASE WHEN i % 6 = 0 THEN NULL ELSE -i END AS c, 1.0::DOUBLE AS gone FROM range(60) t(i)`;

const JOB = {
  model: 'features.onnx',
  input: 'in.parquet',
  task: 'regression',
  passthrough: ['id'],
  reference: 'train.profile.json',
  inputs: { x: { columns: ['a', 'b', 'c'], fill_null: 'mean', per_column: { c: { fill_null: 'median' } } } },
};

describe('fill_null from the reference profile', () => {
  let dir: string;
  let truth: { meanA: number; meanB: number };

  beforeAll(async () => {
    dir = await tmp.make();
    const feature = { name: 'x', elemType: 'float32' as const, shape: ['N', 3] };
    const bytes = encodeModel({ name: 'features', description: 'returns its features', inputs: [feature], outputs: [{ ...feature, name: 'value' }], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['value'] }], params: {}, features: {} });
    await writeFile(join(dir, 'features.onnx'), bytes);
    await withDuckDb(async (q) => {
      await q(`COPY (${TRAIN_SQL}) TO '${join(dir, 'train.parquet')}' (FORMAT parquet)`);
      await q(`COPY (SELECT i, a + 1000 AS a, b, c, gone FROM (${TRAIN_SQL})) TO '${join(dir, 'moved.parquet')}' (FORMAT parquet)`);
      await q(`COPY (${INPUT_SQL}) TO '${join(dir, 'in.parquet')}' (FORMAT parquet)`);
      const [row] = await q(`SELECT avg(a) AS a, avg(b) AS b FROM read_parquet('${join(dir, 'train.parquet')}')`);
      truth = { meanA: Number(row!['a']), meanB: Number(row!['b']) };
    });
    expectOk(await runCli(['profile', 'train.parquet', '--output', 'train.profile.json'], { cwd: dir }));
  }, 120_000);

  async function writeJob(name: string, extra: Record<string, unknown> = {}): Promise<string> {
    const path = join(dir, `${name}.yaml`);
    await writeFile(path, YAML.stringify({ ...JOB, output: `${name}.parquet`, ...extra }));
    return path;
  }

  /** The share of training values of `column` at or below `value` (DuckDB over the data). */
  async function rankIn(file: string, column: string, value: number): Promise<number> {
    const [row] = await withDuckDb((q) => q(`SELECT avg((${column} <= ${value})::INTEGER) AS r FROM read_parquet('${join(dir, file)}') WHERE ${column} IS NOT NULL`));
    return Number(row!['r']);
  }

  it('NULLs take the training mean (DuckDB avg) and median (rank 0.5 within 0.005); other values pass as they are', async () => {
    const result = await runCli(['run', await writeJob('run'), '--quiet', '--json'], { cwd: dir, timeoutMs: 90_000 });
    expectOk(result);
    const out = await readParquet(join(dir, 'run.parquet'));
    expect(out.rows).toHaveLength(60);
    const medianC = Number(out.rows.find((r) => Number(r['id']) === 0)!['prediction_2']);
    expect(Math.abs((await rankIn('train.parquet', 'c', medianC)) - 0.5)).toBeLessThanOrEqual(0.005);
    for (const r of out.rows) {
      const i = Number(r['id']);
      expect(r['prediction_0'], `row ${i} a`).toBe(Math.fround(i % 4 === 0 ? truth.meanA : i / 10));
      expect(r['prediction_1'], `row ${i} b`).toBe(Math.fround(i % 5 === 0 ? truth.meanB : i + 0.5));
      expect(r['prediction_2'], `row ${i} c`).toBe(i % 6 === 0 ? medianC : -i);
    }
  });

  it('validate --json gives the value each fill took; inspect --job shows it per position', async () => {
    const job = await writeJob('valid');
    const validate = await runCli(['validate', job, '--json'], { cwd: dir });
    expectOk(validate);
    const report = JSON.parse(validate.stdout);
    const fills = report.feeds[0].fills as { column: string; stat: string; value: number; reference: string }[];
    expect(fills.map((f) => [f.column, f.stat, f.reference])).toEqual([
      ['a', 'mean', join(dir, 'train.profile.json')],
      ['b', 'mean', join(dir, 'train.profile.json')],
      ['c', 'median', join(dir, 'train.profile.json')],
    ]);
    expect(Math.abs(fills[0]!.value - truth.meanA)).toBeLessThanOrEqual(1e-12 * Math.abs(truth.meanA));
    expect(Math.abs(fills[1]!.value - truth.meanB)).toBeLessThanOrEqual(1e-12 * Math.abs(truth.meanB));
    expect(report.feeds[0].steps[2]).toEqual([`fill_null ${fills[2]!.value} (reference median)`]);
    const human = await runCli(['validate', job], { cwd: dir });
    expect(human.stderr).toContain(`c (fill_null ${fills[2]!.value} (reference median))`);
    const inspect = await runCli(['inspect', 'features.onnx', '--data', 'in.parquet', '--job', 'valid.yaml', '--json'], { cwd: dir });
    expectOk(inspect);
    const columns = JSON.parse(inspect.stdout).mapping.inputs[0].columns;
    expect(columns.map((c: { nulls: string }) => c.nulls)).toEqual(fills.map((f) => `fill ${f.value} (reference ${f.stat})`));
  });

  it.each([
    ['no reference', 78, 'SPEC_INVALID', { reference: undefined }, ["inputs.x.fill_null: `mean` of column 'a', 'b', 'c' comes from a reference profile, and the job names none", "inputs.x.per_column.c.fill_null: `median` of column 'c'"]],
    ['a reference without the column', 78, 'SPEC_INVALID', { reference: 'ab.profile.json' }, [`inputs.x.per_column.c.fill_null: \`median\` of column 'c' comes from reference ${'DIR'}/ab.profile.json, which has no column 'c'`]],
    ['a column the reference holds no number of', 78, 'SPEC_INVALID', { inputs: { x: { columns: ['a', 'b', 'gone'], fill_null: 'mean' } } }, [`inputs.x.fill_null: \`mean\` of column 'gone': reference ${'DIR'}/train.profile.json holds no number in that column`]],
    ['a reference that does not exist', 66, 'INPUT_MISSING', { reference: 'nowhere.profile.json' }, [`reference: profile ${'DIR'}/nowhere.profile.json does not exist`]],
  ])('%s: refused (exit %i, %s) before anything is written, saying which column or reference', async (name, exit, code, extra, messages) => {
    if (!existsSync(join(dir, 'ab.profile.json'))) expectOk(await runCli(['profile', 'train.parquet', '--columns', 'a,b', '--output', 'ab.profile.json'], { cwd: dir }));
    const job = await writeJob(`bad-${name.replace(/\W+/g, '-')}`, extra);
    const before = await readdir(dir);
    for (const command of ['validate', 'run']) {
      const stderr = expectCliError(await runCli([command, job], { cwd: dir, timeoutMs: 60_000 }), exit, code);
      for (const m of messages) expect(stderr).toContain(m.replace('DIR', dir));
    }
    expect((await readdir(dir)).sort()).toEqual(before.sort());
  });

  it('a reference whose mean moved does not resume an interrupted run: it starts over and fills with the new mean', async () => {
    const extra = { reference: 'resume.profile.json', batch_size: 10, checkpoint_rows: 10 };
    expectOk(await runCli(['profile', 'train.parquet', '--output', 'resume.profile.json'], { cwd: dir }));
    const job = await writeJob('resume', extra);
    const crashed = await runCli(['run', job, '--quiet'], { cwd: dir, env: { BATCHINFER_FAILPOINT: 'part-journaled:2' } });
    expect(crashed.signal, describeResult(crashed)).toBe('SIGKILL');
    expectOk(await runCli(['profile', 'moved.parquet', '--output', 'resume.profile.json'], { cwd: dir }));
    const rerun = await runCli(['run', job, '--quiet', '--json'], { cwd: dir, timeoutMs: 90_000 });
    expectOk(rerun);
    const summary = JSON.parse(rerun.stdout);
    expect(summary.resumedRows).toBeUndefined();
    expect(summary.warnings.join('\n')).toMatch(/started over: an interrupted run's finished parts were discarded, as its inputs differs? from this run's/);
    const out = await readParquet(join(dir, 'resume.parquet'));
    for (const r of out.rows.filter((row) => Number(row['id']) % 4 === 0)) expect(r['prediction_0']).toBe(Math.fround(truth.meanA + 1000));
  });
});

/**
 * Every run's profile through the real CLI: `<output>.profile.json` checked against DuckDB's
 * aggregates of the rows scored and of the committed output, a crashed-and-resumed run's
 * profile against an uninterrupted one's, a window's `_profile.json` inside it, the job's
 * `reference` with its drift in the summary and its gate (exit 1, the output committed), a
 * bad reference (exit 66 or 65 at key reference, nothing written) and `profile: false` / `--no-profile`.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../src/profile/quantileSketch.js';
import { expectCliError, expectOk, runCli } from '../helpers/cli.js';
import { withDuckDb } from '../helpers/parquet.js';
import { dailyJob, expectWindowProfile, PROFILED_ROWS, profiledJob, readJson, writeJob as writeJobFile, writeProfiledInputs } from '../helpers/profiledJob.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-run-profile-');
let dir: string;
const path = (name: string): string => join(dir, name);

const ROWS = PROFILED_ROWS;
const job = (input: string, output: string, extra: Record<string, unknown> = {}): Record<string, unknown> => profiledJob(input, output, extra);
const writeJob = (name: string, spec: Record<string, unknown>): Promise<string> => writeJobFile(dir, name, spec);
const column = (profile: any, name: string): any => profile.columns.find((c: { name: string }) => c.name === name);

beforeAll(async () => {
  dir = await tmp.make();
  await writeProfiledInputs(dir, 10000);
});

describe.concurrent('a run profile', { timeout: 120_000 }, () => {
  it('is written beside the summary: the rows scored, their moments and categories as DuckDB has them, predictions as committed', async () => {
    const out = path('plain.parquet');
    const r = await runCli(['run', await writeJob('plain', job(path('in.parquet'), out)), '--json', '--quiet']);
    expectOk(r);
    const summary = JSON.parse(r.stdout);
    expect(summary.profile).toBe(`${out}.profile.json`);
    expect((await readJson(`${out}.summary.json`)).profile).toBe(`${out}.profile.json`);
    const profile = await readJson(`${out}.profile.json`);
    expect(profile).toMatchObject({ profile_version: 1, source: out, rows: ROWS - 80 });
    expect(profile.columns.map((c: { name: string; type: string; kind: string }) => [c.name, c.type, c.kind])).toEqual([
      ['a', 'DOUBLE', 'numeric'], ['b', 'DOUBLE', 'numeric'], ['c', 'DOUBLE', 'numeric'], ['merchant_category', 'VARCHAR', 'categorical'],
      ['confidence', 'FLOAT', 'numeric'], ['prob_legit', 'FLOAT', 'numeric'], ['prob_fraud', 'FLOAT', 'numeric'],
    ]);
    // The kept rows, as float32 (the tensor's type), read back through the scale.
    const [exact] = await withDuckDb((q) =>
      q(`SELECT ${['a', 'b', 'c'].map((c) => `count(${c}) AS ${c}_n, avg(${c}::FLOAT) AS ${c}_mean, stddev_samp(${c}::FLOAT) AS ${c}_std, min(${c}::FLOAT) AS ${c}_min, max(${c}::FLOAT) AS ${c}_max`).join(', ')},
        count(*) FILTER (merchant_category = 'grocery') AS grocery, count(*) FILTER (merchant_category = 'travel') AS travel, count(*) FILTER (merchant_category = 'fuel') AS fuel
        FROM read_parquet('${path('in.parquet')}') WHERE a IS NOT NULL`),
    );
    for (const name of ['a', 'b', 'c']) {
      const c = column(profile, name);
      expect(c).toMatchObject({ rows: ROWS - 80, nulls: 0, nan: 0, inf: 0, numeric: { count: Number(exact![`${name}_n`]) } });
      // Scaled to float32 and back: within float32's rounding of the scaled value.
      expect(c.numeric.mean).toBeCloseTo(exact![`${name}_mean`] as number, 3);
      expect(c.numeric.std).toBeCloseTo(exact![`${name}_std`] as number, 3);
      expect(c.numeric.min).toBeCloseTo(exact![`${name}_min`] as number, 3);
      expect(c.numeric.max).toBeCloseTo(exact![`${name}_max`] as number, 3);
    }
    const merchants = column(profile, 'merchant_category').categories;
    expect(merchants).toEqual({ values: [['grocery', Number(exact!['grocery'])], ['fuel', Number(exact!['fuel'])], ['travel', Number(exact!['travel'])]].sort((x, y) => (y[1] as number) - (x[1] as number) || String(x[0]).localeCompare(String(y[0]))), other: 0, truncated: false });
    // Predictions: as the committed output holds them.
    const [scored] = await withDuckDb((q) =>
      q(`SELECT count(*) FILTER (prediction = 'legit') AS legit, count(*) FILTER (prediction = 'fraud') AS fraud, count(*) FILTER (needs_review) AS review, avg(confidence) AS confidence, avg(prob_fraud) AS prob_fraud FROM read_parquet('${out}')`),
    );
    expect(profile.prediction).toEqual({ rows: ROWS - 80, classes: { legit: Number(scored!['legit']), fraud: Number(scored!['fraud']) }, review: Number(scored!['review']), review_rate: Number(scored!['review']) / (ROWS - 80) });
    expect(Number(scored!['review'])).toBeGreaterThan(0);
    expect(column(profile, 'confidence').numeric.mean).toBeCloseTo(scored!['confidence'] as number, 6);
    expect(column(profile, 'prob_fraud').numeric.mean).toBeCloseTo(scored!['prob_fraud'] as number, 6);
  });

  it("its sketches' quantiles lie within 0.02 in rank of the exact quantiles of the rows", async () => {
    const out = path('quantiles.parquet');
    expectOk(await runCli(['run', await writeJob('quantiles', job(path('in.parquet'), out)), '--quiet']));
    const profile = await readJson(`${out}.profile.json`);
    for (const name of ['a', 'c']) {
      const sketch = QuantileSketch.fromJSON(column(profile, name).numeric.sketch);
      const qs = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99];
      const values = sketch.quantiles(qs);
      // The rank of each sketch quantile among the exact values (as float32, as the tensor held them).
      const ranks = await withDuckDb((q) =>
        q(`SELECT ${values.map((v, i) => `avg(CASE WHEN ${name}::FLOAT <= ${v} THEN 1 ELSE 0 END) AS r${i}`).join(', ')} FROM read_parquet('${path('in.parquet')}') WHERE a IS NOT NULL`),
      );
      qs.forEach((q, i) => expect(Math.abs((ranks[0]![`r${i}`] as number) - q)).toBeLessThan(0.02));
    }
  });

  it('of a run killed after two parts and resumed equals the profile of an uninterrupted run', async () => {
    const [whole, resumed] = [path('whole.parquet'), path('resumed.parquet')];
    expectOk(await runCli(['run', await writeJob('whole', job(path('in.parquet'), whole)), '--quiet']));
    const jobPath = await writeJob('resumed', job(path('in.parquet'), resumed));
    const crashed = await runCli(['run', jobPath, '--quiet'], { env: { BATCHINFER_FAILPOINT: 'part-journaled:2' } });
    expect(crashed.signal).toBe('SIGKILL');
    const again = await runCli(['run', jobPath, '--json', '--quiet']);
    expectOk(again);
    expect(JSON.parse(again.stdout).resumedRows).toBeGreaterThan(0);
    const [a, b] = [await readJson(`${whole}.profile.json`), await readJson(`${resumed}.profile.json`)];
    expect({ ...b, source: null }).toEqual({ ...a, source: null });
  });

  it('of a scheduled window is `_profile.json` inside the window, committed with it', async () => {
    const r = await runCli(['run', await writeJob('daily', dailyJob(job(path('in.parquet'), path('daily/dt={date}/')))), '--at', '2026-11-29T00:00:00Z', '--json', '--quiet']);
    expectOk(r);
    const window = path('daily/dt=2026-11-29');
    await expectWindowProfile(r.stdout, window);
    expect(existsSync(join(window, '_SUCCESS'))).toBe(true);
  });

  it('is compared with the job\'s reference: the drift goes in the summary; unchanged data drifts nowhere', async () => {
    const out = path('ref-same.parquet');
    const r = await runCli(['run', await writeJob('ref-same', job(path('in.parquet'), out, { reference: 'train.profile.json', drift: { fail_on: 'dataset' } })), '--json', '--quiet']);
    expectOk(r);
    const drift = JSON.parse(r.stdout).drift;
    expect(drift).toEqual({ reference: path('train.profile.json'), method: 'psi', threshold: 0.2, drifted_columns: [], drifted_share: 0, dataset_drift: false, prediction_drift: null, fail_on: ['dataset'], failed: [] });
    expect((await readJson(`${out}.summary.json`)).drift).toEqual(drift);
  });

  it('a drift gate that finds drift exits 1 after committing the output, saying so', async () => {
    const out = path('ref-shifted.parquet');
    const r = await runCli(['run', await writeJob('ref-shifted', job(path('shifted.parquet'), out, { reference: 'train.profile.json', drift: { method: 'psi', drift_share: 0.25, fail_on: ['column', 'dataset'] } })), '--json', '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`batchinfer: column and dataset drift found against reference ${path('train.profile.json')} (drift.fail_on column,dataset): exit 1 (the output is committed)\n`);
    const summary = JSON.parse(r.stdout);
    expect(summary.drift).toMatchObject({ drifted_columns: ['a'], dataset_drift: true, failed: ['column', 'dataset'] });
    const [rows] = await withDuckDb((q) => q(`SELECT count(*) AS n FROM read_parquet('${out}')`));
    expect(Number(rows!['n'])).toBe(ROWS - 80);
    expect(existsSync(`${out}.profile.json`)).toBe(true);
  });

  it('a missing reference (66), or a file that is no profile (65), is refused at key reference before anything is written', async () => {
    await writeFile(path('not-a-profile.json'), JSON.stringify({ rows: 3 }));
    for (const [name, reference, exit, code, message] of [
      ['ref-missing', 'nope.profile.json', 66, 'INPUT_MISSING', `reference: profile ${path('nope.profile.json')} does not exist`],
      ['ref-bad', 'not-a-profile.json', 65, 'INPUT_INVALID', `reference: ${path('not-a-profile.json')} is not a batchinfer profile`],
    ] as const) {
      const out = path(`${name}.parquet`);
      const r = await runCli(['run', await writeJob(name, job(path('in.parquet'), out, { reference }))]);
      expect(expectCliError(r, exit, code)).toContain(message);
      expect(existsSync(out)).toBe(false);
      expect(await stagingLeftovers(out)).toEqual([]);
      expect(existsSync(`${out}.profile.json`)).toBe(false);
    }
  });

  it('`profile: false` and --no-profile write none (and remove an earlier run\'s); a drift key then is a spec error', async () => {
    const out = path('none.parquet');
    const jobPath = await writeJob('none', job(path('in.parquet'), out));
    expectOk(await runCli(['run', jobPath, '--quiet']));
    expect(existsSync(`${out}.profile.json`)).toBe(true);
    const r = await runCli(['run', jobPath, '--no-profile', '--json', '--quiet']);
    expectOk(r);
    expect(JSON.parse(r.stdout).profile).toBeUndefined();
    expect(existsSync(`${out}.profile.json`)).toBe(false);
    const off = await runCli(['run', await writeJob('none-key', job(path('in.parquet'), path('none-key.parquet'), { profile: false })), '--quiet']);
    expectOk(off);
    expect(existsSync(path('none-key.parquet.profile.json'))).toBe(false);
    const both = await runCli(['run', await writeJob('none-ref', job(path('in.parquet'), path('none-ref.parquet'), { profile: false, reference: 'train.profile.json', drift: { method: 'psi' } }))]);
    expect(expectCliError(both, 78, 'SPEC_INVALID')).toContain('profile');
  });
});

describe('a run profile and data protection', { timeout: 120_000 }, () => {
  it('a one-off job writes none by default (profiling costs CPU it does not need); --profile asks for it; a reference turns it on', async () => {
    const out = path('one-off.parquet');
    const jobPath = await writeJob('one-off', job(path('in.parquet'), out, { profile: undefined }));
    const r = await runCli(['run', jobPath, '--json', '--quiet']);
    expectOk(r);
    expect(JSON.parse(r.stdout).profile).toBeUndefined();
    expect(existsSync(`${out}.profile.json`)).toBe(false);
    expectOk(await runCli(['run', jobPath, '--profile', '--quiet']));
    expect(existsSync(`${out}.profile.json`)).toBe(true);
    const referenced = path('referenced.parquet');
    const withReference = await runCli(['run', await writeJob('referenced', job(path('in.parquet'), referenced, { profile: undefined, reference: 'train.profile.json' })), '--json', '--quiet']);
    expectOk(withReference);
    expect(JSON.parse(withReference.stdout).profile).toBe(`${referenced}.profile.json`);
  });

  it('is not written by default with --redact (it holds values of the data), unless the job sets profile: true', async () => {
    const out = path('redacted.parquet');
    const r = await runCli(['run', await writeJob('redacted', job(path('in.parquet'), out, { profile: undefined, reference: 'train.profile.json' })), '--redact', '--json', '--quiet']);
    expectOk(r);
    expect(JSON.parse(r.stdout).profile).toBeUndefined();
    expect(existsSync(`${out}.profile.json`)).toBe(false);
    const asked = path('redacted-asked.parquet');
    expectOk(await runCli(['run', await writeJob('redacted-asked', job(path('in.parquet'), asked, { redact: true, profile: true })), '--quiet']));
    expect(existsSync(`${asked}.profile.json`)).toBe(true);
  });
});

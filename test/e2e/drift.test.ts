/**
 * `profile` and `drift` through the real CLI: profiles checked against DuckDB's own aggregates,
 * merged profiles against the profile of the union, drift reports of unchanged, shifted and
 * re-predicted data with their gates (exit 1), and every bad input with its code and exit code.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectCliError, expectOk, runCli, type CliResult } from '../helpers/cli.js';
import { withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-drift-');
let dir: string;
const path = (name: string): string => join(dir, name);

/** 2000 rows: x = 0.0 ... 9.9 repeating, region a/b/c, code 0..6 with every 50th NULL. */
const ROWS = `SELECT i, (i % 100) / 10.0 AS x, CASE i % 3 WHEN 0 THEN 'a' WHEN 1 THEN 'b' ELSE 'c' END AS region, CASE WHEN i % 50 = 0 THEN NULL ELSE (i % 7)::INTEGER END AS code FROM range(2000) t(i)`;
/** Scores: the reference predicts fraud for 10% of the rows, the current for 50%. */
const scores = (fraudEvery: number): string =>
  `SELECT i, (i % 100) / 10.0 AS x, CASE WHEN i % ${fraudEvery} = 0 THEN 'fraud' ELSE 'legit' END AS prediction, 0.9::FLOAT AS confidence, CASE WHEN i % ${fraudEvery} = 0 THEN 0.1 ELSE 0.9 END::FLOAT AS prob_legit, CASE WHEN i % ${fraudEvery} = 0 THEN 0.9 ELSE 0.1 END::FLOAT AS prob_fraud, i % 20 = 0 AS needs_review FROM range(2000) t(i)`;

beforeAll(async () => {
  dir = await tmp.make();
  await withDuckDb(async (q) => {
    const copy = (sql: string, name: string): Promise<unknown> => q(`COPY (${sql}) TO '${path(name)}' (FORMAT parquet)`);
    await copy(ROWS, 'ref.parquet');
    await copy(`${ROWS} ORDER BY i DESC`, 'same.parquet');
    await copy(`${ROWS} WHERE i < 700`, 'part1.parquet');
    await copy(`${ROWS} WHERE i >= 700`, 'part2.parquet');
    // x moved by 20 (no value in common), region all 'a' or a new 'd', code unchanged.
    await copy(`SELECT i, x + 20 AS x, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'd' END AS region, code FROM (${ROWS})`, 'shifted.parquet');
    await copy(scores(10), 'scores-ref.parquet');
    await copy(scores(2), 'scores-cur.parquet');
  });
});

function json(r: CliResult): any {
  expectOk(r);
  return JSON.parse(r.stdout);
}

describe.concurrent('profile', { timeout: 60_000 }, () => {
  it('profiles a dataset: counts, moments and categories as DuckDB computes them', async () => {
    const out = path('ref.profile.json');
    const r = await runCli(['profile', path('ref.parquet'), '--output', out]);
    expectOk(r);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`profile: 2,000 rows, 4 columns (3 numeric, 1 categorical) -> ${out}\n`);
    const profile = JSON.parse(await readFile(out, 'utf8'));
    expect(profile).toMatchObject({ profile_version: 1, rows: 2000, prediction: null });
    expect(profile.columns.map((c: { name: string; kind: string }) => [c.name, c.kind])).toEqual([['i', 'numeric'], ['x', 'numeric'], ['region', 'categorical'], ['code', 'numeric']]);
    const [expected] = await withDuckDb((q) => q(`SELECT avg(x) AS mean, stddev_samp(x) AS std, avg(code) AS code_mean FROM (${ROWS})`));
    const x = profile.columns[1];
    expect(x).toMatchObject({ rows: 2000, nulls: 0, nan: 0, inf: 0, numeric: { count: 2000, min: 0, max: 9.9 } });
    expect(x.numeric.mean).toBeCloseTo(expected!['mean'] as number, 12);
    expect(x.numeric.std).toBeCloseTo(expected!['std'] as number, 12);
    const code = profile.columns[3];
    expect(code).toMatchObject({ rows: 2000, nulls: 40, numeric: { count: 1960 } });
    expect(code.numeric.mean).toBeCloseTo(expected!['code_mean'] as number, 12);
    expect(code.categories.values.reduce((s: number, [, n]: [number, number]) => s + n, 0)).toBe(1960);
    expect(profile.columns[2].categories).toEqual({ values: [['a', 667], ['b', 667], ['c', 666]], other: 0, truncated: false });
  });

  it('--merge of the profiles of two parts equals the profile of the whole', async () => {
    for (const name of ['part1', 'part2', 'ref']) expectOk(await runCli(['profile', path(`${name}.parquet`), '--output', path(`m-${name}.profile.json`)]));
    const merged = json(await runCli(['profile', '--merge', path('m-part1.profile.json'), path('m-part2.profile.json'), '--output', path('merged.profile.json'), '--json']));
    expect(JSON.parse(await readFile(path('merged.profile.json'), 'utf8'))).toEqual(merged);
    const whole = JSON.parse(await readFile(path('m-ref.profile.json'), 'utf8'));
    expect(merged.rows).toBe(whole.rows);
    merged.columns.forEach((c: any, i: number) => {
      const w = whole.columns[i];
      expect([c.name, c.rows, c.nulls, c.categories]).toEqual([w.name, w.rows, w.nulls, w.categories]);
      if (!w.numeric) return;
      expect([c.numeric.count, c.numeric.min, c.numeric.max]).toEqual([w.numeric.count, w.numeric.min, w.numeric.max]);
      expect(c.numeric.mean).toBeCloseTo(w.numeric.mean, 10);
      expect(c.numeric.std).toBeCloseTo(w.numeric.std, 10);
    });
  });

  it('--columns profiles only those; --file-mode sets the mode; a scored output gets a prediction profile', async () => {
    const out = path('cols.profile.json');
    expectOk(await runCli(['profile', path('ref.parquet'), '--columns', 'region,x', '--output', out, '--file-mode', '0640']));
    expect(JSON.parse(await readFile(out, 'utf8')).columns.map((c: { name: string }) => c.name)).toEqual(['region', 'x']);
    expect((await stat(out)).mode & 0o777).toBe(0o640);
    const scored = json(await runCli(['profile', path('scores-ref.parquet'), '--output', path('scores.profile.json'), '--json']));
    expect(scored.prediction).toEqual({ rows: 2000, classes: { legit: 1800, fraud: 200 }, review: 100, review_rate: 0.05 });
  });

  it('the same rows give the same profile, byte for byte (the sketch has no randomness)', async () => {
    const [a, b] = [path('again-1.profile.json'), path('again-2.profile.json')];
    for (const out of [a, b]) expectOk(await runCli(['profile', path('ref.parquet'), '--output', out]));
    expect(await readFile(a, 'utf8')).toBe(await readFile(b, 'utf8'));
  });

  it('bad input: a missing column, a missing dataset, an unwritable output, --merge of a non-profile', async () => {
    expect(expectCliError(await runCli(['profile', path('ref.parquet'), '--columns', 'x,nope', '--output', path('bad.json')]), 78, 'SCHEMA_MISMATCH')).toContain("has no column 'nope'");
    expect(expectCliError(await runCli(['profile', path('missing.parquet'), '--output', path('bad.json')]), 66, 'INPUT_MISSING')).toContain('does not exist');
    expect(expectCliError(await runCli(['profile', path('ref.parquet'), '--output', path('no-dir/p.json')]), 73, 'OUTPUT_UNWRITABLE')).toContain('no-dir');
    expect(expectCliError(await runCli(['profile', '--merge', path('ref.parquet'), '--output', path('bad.json')]), 65, 'INPUT_INVALID')).toContain('is not a batchinfer profile');
    expect(expectCliError(await runCli(['profile', path('ref.parquet'), '--output', path('bad.json'), '--file-mode', '0400']), 2, 'USAGE')).toContain('--file-mode');
    expect((await readdir(dir)).filter((n) => n.startsWith('bad') || n.startsWith('.bad'))).toEqual([]);
  });
});

describe.concurrent('drift', { timeout: 60_000 }, () => {
  it('unchanged data: every statistic says so, in the issue\'s JSON shape; --fail-on passes', async () => {
    const r = await runCli(['drift', '--reference', path('ref.parquet'), '--current', path('same.parquet'), '--json', '--fail-on', 'column,dataset,prediction']);
    const doc = json(r);
    expect(r.stderr).toBe('');
    expect(Object.keys(doc)).toEqual(['method', 'threshold', 'columns', 'drifted_columns', 'drifted_share', 'dataset_drift', 'prediction', 'schema']);
    expect(Object.keys(doc.columns[0])).toEqual(['column', 'kind', 'psi', 'ks', 'ks_p_value', 'wasserstein', 'js', 'chi2_p_value', 'null_rate', 'drifted']);
    expect(doc).toMatchObject({ method: 'psi', threshold: 0.2, drifted_columns: 0, drifted_share: 0, dataset_drift: false, prediction: null, schema: { added: [], removed: [], retyped: [], unseen_categories: [] } });
    const x = doc.columns.find((c: { column: string }) => c.column === 'x');
    expect(x).toMatchObject({ kind: 'numeric', psi: 0, ks: 0, ks_p_value: 1, wasserstein: 0, js: 0, chi2_p_value: null, null_rate: { reference: 0, current: 0 }, drifted: false });
    const region = doc.columns.find((c: { column: string }) => c.column === 'region');
    expect(region).toMatchObject({ kind: 'categorical', psi: 0, ks: null, wasserstein: null, js: 0, chi2_p_value: 1 });
    expect(doc.columns.find((c: { column: string }) => c.column === 'code').null_rate).toEqual({ reference: 0.02, current: 0.02 });
  });

  it('shifted data: KS 1, Wasserstein = shift / reference std, unseen categories; --fail-on dataset exits 1 after the report', async () => {
    const ref = path('shift-ref.profile.json');
    expectOk(await runCli(['profile', path('ref.parquet'), '--output', ref]));
    const r = await runCli(['drift', '--reference', ref, '--current', path('shifted.parquet'), '--json', '--fail-on', 'dataset']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('batchinfer: dataset drift found (--fail-on dataset): exit 1\n');
    const doc = JSON.parse(r.stdout);
    const [stats] = await withDuckDb((q) => q(`SELECT stddev_samp(x) AS std FROM (${ROWS})`));
    const x = doc.columns.find((c: { column: string }) => c.column === 'x');
    expect(x.ks).toBe(1);
    expect(x.ks_p_value).toBeLessThan(1e-100);
    expect(x.wasserstein).toBeCloseTo(20 / (stats!['std'] as number), 6);
    // JS on the reference's deciles: [0.1 x 10] against [0, ..., 0, 1], M = [0.05 x 9, 0.55].
    expect(x.js).toBeCloseTo(Math.sqrt((0.9 + 0.1 * Math.log2(0.1 / 0.55) + Math.log2(1 / 0.55)) / 2), 12);
    expect(x.drifted).toBe(true);
    expect(doc.columns.find((c: { column: string }) => c.column === 'code').drifted).toBe(false);
    expect(doc).toMatchObject({ drifted_columns: 2, drifted_share: 0.5, dataset_drift: true });
    expect(doc.schema.unseen_categories).toEqual([{ column: 'region', values: ['d'], rows: 1000 }]);
    // A share of 0.6 makes the same two of four columns no dataset drift.
    const share = await runCli(['drift', '--reference', ref, '--current', path('shifted.parquet'), '--drift-share', '0.6', '--fail-on', 'dataset']);
    expectOk(share);
    expect(share.stdout).toMatch(/^drift: 2 of 4 columns drifted \(psi > 0\.2\); dataset drift: no \(50\.0% of the columns\)$/m);
    expect(share.stdout).toMatch(/^x +numeric .* DRIFTED$/m);
    expect(share.stdout).toContain('schema: region has 1000 rows of categories the reference never had: d');
  });

  it('the same data as CSV and as Parquet: no drift; the column CSV reads as BIGINT is retyped', async () => {
    const doc = json(await runCli(['drift', '--reference', data('transactions.parquet'), '--current', data('transactions.csv'), '--json', '--fail-on', 'column']));
    expect(doc.drifted_columns).toBe(0);
    for (const c of doc.columns) expect([c.column, c.psi]).toEqual([c.column, 0]);
    expect(doc.schema).toEqual({ added: [], removed: [], retyped: [{ column: 'n_items', reference: 'INTEGER', current: 'BIGINT' }], unseen_categories: [] });
  });

  it('--method ks uses p < 0.05 / columns; --method wasserstein with --threshold', async () => {
    const ks = json(await runCli(['drift', '--reference', path('ref.parquet'), '--current', path('shifted.parquet'), '--method', 'ks', '--json']));
    expect(ks).toMatchObject({ method: 'ks', threshold: 0.05, drifted_columns: 2 });
    const w = json(await runCli(['drift', '--reference', path('ref.parquet'), '--current', path('shifted.parquet'), '--method', 'wasserstein', '--threshold', '100', '--json']));
    expect(w.columns.find((c: { column: string }) => c.column === 'x').drifted).toBe(false);
  });

  it('prediction drift is reported on its own: --fail-on prediction exits 1, --fail-on column does not', async () => {
    const args = ['drift', '--reference', path('scores-ref.parquet'), '--current', path('scores-cur.parquet')];
    const column = await runCli([...args, '--fail-on', 'column', '--json']);
    const doc = json(column);
    expect(doc.drifted_columns).toBe(0);
    expect(doc.columns.map((c: { column: string }) => c.column)).toEqual(['i', 'x']);
    expect(doc.prediction.classes).toMatchObject({ reference: { legit: 0.9, fraud: 0.1 }, current: { legit: 0.5, fraud: 0.5 }, drifted: true });
    // PSI of [0.9, 0.1] -> [0.5, 0.5]: (0.5 - 0.9) ln(0.5/0.9) + (0.5 - 0.1) ln(0.5/0.1).
    expect(doc.prediction.classes.psi).toBeCloseTo(-0.4 * Math.log(0.5 / 0.9) + 0.4 * Math.log(5), 12);
    expect(doc.prediction.review_rate).toEqual({ reference: 0.05, current: 0.05 });
    expect(doc.prediction.columns.map((c: { column: string; drifted: boolean }) => [c.column, c.drifted])).toEqual([['confidence', false]]);
    const prediction = await runCli([...args, '--fail-on', 'prediction']);
    expect(prediction.code).toBe(1);
    expect(prediction.stdout).toMatch(/^predictions: DRIFTED$/m);
    expect(prediction.stdout).toContain('class shares: legit 90.0% -> 50.0%, fraud 10.0% -> 50.0%');
    expect(prediction.stderr).toBe('batchinfer: prediction drift found (--fail-on prediction): exit 1\n');
  });

  it('bad input: missing file, not a profile, unknown profile_version, missing column, bad flags', async () => {
    const cur = path('same.parquet');
    await writeFile(path('not-profile.json'), '{"rows": 3}');
    await writeFile(path('not-json.json'), 'rows,3\n');
    await writeFile(path('v2.profile.json'), '{"profile_version": 2, "rows": 0, "columns": []}');
    const badLevel = { profile_version: 1, rows: 3, columns: [{ name: 'x', type: 'DOUBLE', kind: 'numeric', rows: 3, nulls: 0, numeric: { sketch: { k: 8, n: 3, levels: ['AA"A'], parity: [0] } } }] };
    await writeFile(path('corrupt-level.profile.json'), JSON.stringify(badLevel));
    const drift = (ref: string, ...more: string[]): Promise<CliResult> => runCli(['drift', '--reference', ref, '--current', cur, ...more]);
    expect(expectCliError(await drift(path('missing.profile.json')), 66, 'INPUT_MISSING')).toContain('missing.profile.json does not exist');
    expect(expectCliError(await drift(path('not-profile.json')), 65, 'INPUT_INVALID')).toContain('not-profile.json is not a batchinfer profile');
    expect(expectCliError(await drift(path('not-json.json')), 65, 'INPUT_INVALID')).toContain('text that is not JSON');
    expect(expectCliError(await drift(path('v2.profile.json')), 65, 'INPUT_INVALID')).toContain('has profile_version 2, which this batchinfer does not read');
    expect(expectCliError(await drift(path('corrupt-level.profile.json')), 65, 'INPUT_INVALID')).toContain('a sketch level that is not base64');
    expect(expectCliError(await drift(path('ref.parquet'), '--columns', 'x,nope'), 78, 'SCHEMA_MISMATCH')).toContain("has no column 'nope'");
    expect(expectCliError(await drift(path('ref.parquet'), '--method', 'mean'), 2, 'USAGE')).toContain('--method takes psi, ks, wasserstein, js');
    expect(expectCliError(await drift(path('ref.parquet'), '--fail-on', 'rows'), 2, 'USAGE')).toContain('--fail-on takes column, dataset or prediction');
    expect(expectCliError(await drift(path('ref.parquet'), '--method', 'ks', '--threshold', '2'), 2, 'USAGE')).toContain('--threshold');
    expect(expectCliError(await drift(path('ref.parquet'), '--drift-share', '0'), 2, 'USAGE')).toContain('--drift-share');
    const failed = await drift(path('v2.profile.json'), '--json');
    expect(JSON.parse(failed.stdout)).toMatchObject({ status: 'failed', error: { code: 'INPUT_INVALID', exitCode: 65 } });
  });
});

/**
 * One-off runs with no job file: `batchinfer run --model ... --input ... --output ...`.
 * Outputs go to temp dirs and are checked against the independent reference.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectOk, model, runCli, type CliResult } from '../helpers/cli.js';
import { comparePredictions, expectedPredictions, TOLERANCE } from '../helpers/expected.js';
import { readInput, readParquet, type Row } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-flags-');
const TRANSACTIONS = data('transactions.parquet');
/** Four columns without NULLs: a flag-only run has no fill_null, and NULLs are refused by default. */
const FEATURES = ['f0', 'f1', 'f2', 'risk score'];
const IDS = Array.from({ length: 3000 }, (_, i) => `t${String(i).padStart(5, '0')}`);

let rows: Row[];
beforeAll(async () => {
  rows = (await readInput(TRANSACTIONS)).rows;
});

/** Runs the CLI with `args` plus `--output <temp>/<name>`; returns the result, the output path and its summary. */
async function run(name: string, args: string[], cwd?: string): Promise<{ result: CliResult; output: string; summary: any }> {
  const dir = await tmp.make();
  const output = join(dir, name);
  const result = await runCli(['run', ...args, '--output', output, '--quiet'], { cwd });
  expectOk(result);
  const summary = JSON.parse(await readFile(output.replace(/\/$/, '') + '.summary.json', 'utf8'));
  return { result, output, summary };
}

describe.concurrent('flag-only runs', { timeout: 60_000 }, () => {
  it('logreg: a [N,1] sigmoid output with two labels is binary classification (prob_no = 1-p, prob_yes = p)', async () => {
    const { output, summary } = await run('logreg.parquet', ['--model', model('logreg'), '--input', TRANSACTIONS, '--features', FEATURES.join(','), '--passthrough', 'txn_id', '--labels', 'no,yes']);
    const out = await readParquet(output);
    expect(out.columns.map((c) => c.name)).toEqual(['txn_id', 'prediction', 'confidence', 'prob_no', 'prob_yes']);
    expect(out.rows.map((r) => r['txn_id'])).toEqual(IDS);
    const expected = expectedPredictions('logreg', rows, { x: { columns: FEATURES } }, { labels: ['no', 'yes'] });
    expect(comparePredictions(out.rows, expected)).toEqual([]);
    for (const r of out.rows) {
      // prediction is 'yes' exactly when p > 0.5 (a tie at 0.5 goes to the first class).
      expect(r['prediction']).toBe((r['prob_yes'] as number) > (r['prob_no'] as number) ? 'yes' : 'no');
      expect(Math.abs((r['prob_no'] as number) + (r['prob_yes'] as number) - 1)).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(new Set(out.rows.map((r) => r['prediction']))).toEqual(new Set(['no', 'yes']));
    expect(summary.task).toBe('classification');
    expect(summary.scores).toEqual({ kind: 'probabilities', decidedBy: 'graph' });
    expect(summary.labels).toEqual({ names: ['no', 'yes'], source: 'job' });
    expect(summary.job).toBe('adhoc');
  });

  it('--fill-null fills NULL features (amount) of a flag-only run; a Sigmoid [N,1] output is classification without labels', async () => {
    const withAmount = ['amount', 'f0', 'f1', 'risk score'];
    const { output, summary } = await run('logreg-fill.parquet', ['--model', model('logreg'), '--input', TRANSACTIONS, '--features', withAmount.join(','), '--fill-null', '0', '--passthrough', 'txn_id']);
    const out = await readParquet(output);
    expect(out.columns.map((c) => c.name)).toEqual(['txn_id', 'prediction', 'confidence', 'prob_0', 'prob_1']);
    expect(out.rows).toHaveLength(3000);
    const expected = expectedPredictions('logreg', rows, { x: { columns: withAmount, fillNull: 0 } }, {});
    expect(comparePredictions(out.rows, expected)).toEqual([]);
    expect(summary.labels).toEqual({ names: ['0', '1'], source: 'class indices' });
  });

  it('a header-only CSV scores to a zero-row output with the full schema', async () => {
    const { output, summary } = await run('empty.parquet', ['--model', model('mlp'), '--input', data('empty.csv'), '--features', 'amount,f0,f1,risk score', '--passthrough', 'txn_id']);
    const out = await readParquet(output);
    expect(out.rows).toEqual([]);
    expect(out.columns.map((c) => c.name)).toEqual(['txn_id', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    expect(summary.rows).toEqual({ in: 0, out: 0, rejected: 0, rejectedByReason: {} });
  });

  it('regression: a float `prediction` column and no confidence', async () => {
    const { output, summary } = await run('regression.parquet', ['--model', model('regression'), '--input', TRANSACTIONS, '--features', FEATURES.join(','), '--passthrough', 'txn_id']);
    const out = await readParquet(output);
    expect(out.columns).toEqual([
      { name: 'txn_id', type: 'VARCHAR' },
      { name: 'prediction', type: 'FLOAT' },
    ]);
    expect(out.rows.map((r) => r['txn_id'])).toEqual(IDS);
    const expected = expectedPredictions('regression', rows, { x: { columns: FEATURES } });
    expect(expected.task).toBe('regression');
    expect(comparePredictions(out.rows, expected)).toEqual([]);
    expect(summary.task).toBe('regression');
    expect(summary.scores).toBeUndefined();
    expect(summary.labels).toBeUndefined();
    expect(summary.rows).toEqual({ in: 3000, out: 3000, rejected: 0, rejectedByReason: {} });
  });

  it('percolumn: model inputs named like columns (f0, f1) need no --features', async () => {
    const { output, summary } = await run('percolumn.parquet', ['--model', model('percolumn'), '--input', TRANSACTIONS, '--passthrough', 'txn_id', '--labels', 'no,yes']);
    const out = await readParquet(output);
    expect(out.rows.map((r) => r['txn_id'])).toEqual(IDS);
    const expected = expectedPredictions('percolumn', rows, { f0: { column: 'f0' }, f1: { column: 'f1' } }, { labels: ['no', 'yes'] });
    expect(comparePredictions(out.rows, expected)).toEqual([]);
    expect(summary.rows).toEqual({ in: 3000, out: 3000, rejected: 0, rejectedByReason: {} });
  });

  it('a glob input is scored into one output file, all 3000 rows in order; --json prints the summary on stdout; --review-below', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'glob.parquet');
    const glob = data('parts/*.parquet');
    // Without --quiet: the human summary goes to stderr, JSON alone to stdout.
    const result = await runCli(['run', '--model', model('mlp'), '--input', glob, '--output', output, '--features', FEATURES.join(','), '--passthrough', 'txn_id', '--review-below', '0.7', '--json']);
    expectOk(result);
    const summary = JSON.parse(result.stdout);
    // stderr is no terminal here: a progress line per part, then the summary.
    expect(result.stderr).toMatch(/^batchinfer: 3,000 of 3,000 rows \(100%\)/m);
    expect(result.stderr).toMatch(/^batchinfer: scored 3,000 rows/m);
    const plural = (n: number, word: string): string => `${n} ${word}${n > 1 ? 's' : ''}`;
    expect(result.stderr).toContain(`${plural(summary.workers, 'worker')} x ${plural(summary.threadsPerWorker, 'thread')} beside ${plural(summary.duckdbThreads.reading, 'DuckDB thread')};`);
    expect(summary).toEqual(JSON.parse(await readFile(`${output}.summary.json`, 'utf8')));
    expect(summary.input).toEqual({ path: glob, format: 'parquet', files: 3, filesRead: 3 });
    expect(summary.output).toMatchObject({ path: output, mode: 'file', files: [output] });
    expect(summary.rows).toEqual({ in: 3000, out: 3000, rejected: 0, rejectedByReason: {} });
    const out = await readParquet(output);
    expect(out.rows.map((r) => r['txn_id'])).toEqual(IDS);
    expect(out.columns.at(-1)).toEqual({ name: 'needs_review', type: 'BOOLEAN' });
    const expected = expectedPredictions('mlp', rows, { x: { columns: FEATURES } });
    expect(comparePredictions(out.rows, expected, { reviewBelow: 0.7 })).toEqual([]);
    expect(new Set(out.rows.map((r) => r['needs_review']))).toEqual(new Set([true, false]));
  });

  it('mlp without --labels takes class names from the model metadata; batch size and workers do not change the output', async () => {
    const base = ['--model', model('mlp'), '--input', TRANSACTIONS, '--features', FEATURES.join(','), '--passthrough', 'txn_id'];
    const [small, large] = await Promise.all([
      run('small.parquet', [...base, '--batch-size', '7', '--workers', '1']),
      run('large.parquet', [...base, '--batch-size', '1000', '--workers', '2']),
    ]);
    expect(small.summary.labels).toEqual({ names: ['legit', 'fraud'], source: 'model metadata' });
    expect(small.summary).toMatchObject({ batches: Math.ceil(3000 / 7), batchSize: 7, workers: 1 });
    expect(large.summary).toMatchObject({ batches: 3, batchSize: 1000, workers: 2 });
    const a = await readParquet(small.output);
    const b = await readParquet(large.output);
    expect(a.columns.map((c) => c.name)).toEqual(['txn_id', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    expect(a.columns).toEqual(b.columns);
    expect(a.rows).toEqual(b.rows);
    const expected = expectedPredictions('mlp', rows, { x: { columns: FEATURES } });
    expect(expected.task === 'classification' && expected.labelSource).toBe('model metadata');
    expect(comparePredictions(a.rows, expected)).toEqual([]);
  });

  it('--output DIR/ writes one file per input file into the directory', async () => {
    const base = ['--model', model('mlp'), '--features', FEATURES.join(','), '--passthrough', 'txn_id'];
    const [single, parts] = await Promise.all([run('single/', [...base, '--input', TRANSACTIONS]), run('parts/', [...base, '--input', data('parts/')])]);
    expect(single.summary.output.mode).toBe('directory');
    expect(single.summary.output.files).toEqual([join(single.output, 'transactions.parquet')]);
    expect(existsSync(join(single.output, 'transactions.parquet'))).toBe(true);
    expect(parts.summary.output.files).toEqual(['part-0', 'part-1', 'part-2'].map((p) => join(parts.output, `${p}.parquet`)));
    for (const [i, file] of parts.summary.output.files.entries()) {
      const t = await readParquet(file);
      expect(t.rows.map((r) => r['txn_id'])).toEqual(IDS.slice(i * 1000, (i + 1) * 1000));
    }
    const a = await readParquet(single.output);
    const b = await readParquet(parts.output);
    expect(a.rows).toHaveLength(3000);
    expect(b.rows).toEqual(a.rows);
    expect(comparePredictions(a.rows, expectedPredictions('mlp', rows, { x: { columns: FEATURES } }))).toEqual([]);
  });

  it('quirky.csv (BOM, CRLF, quoted commas and quotes, unicode): passthrough text is preserved exactly; flag paths are relative to the cwd', async () => {
    const input = data('quirky.csv');
    const args = ['--model', '../models/percolumn.onnx', '--input', 'quirky.csv', '--passthrough', 'id,label text', '--labels', 'no,yes'];
    const { output, summary } = await run('quirky.parquet', args, data('.'));
    expect(summary.model.path).toBe(model('percolumn'));
    expect(summary.input.path).toBe(input);
    const out = await readParquet(output);
    expect(out.columns.slice(0, 2)).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'label text', type: 'VARCHAR' },
    ]);
    expect(out.rows.map((r) => r['id'])).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    expect(out.rows.map((r) => r['label text'])).toEqual(['plain', 'comma, inside', 'say "hello"', 'café ünïcode', 'no amount', 'last row']);
    expect(summary.input.format).toBe('csv');
    expect(summary.rows).toEqual({ in: 6, out: 6, rejected: 0, rejectedByReason: {} });
    const quirky = (await readInput(input)).rows;
    expect(quirky.map((r) => r['f0'])).toEqual([0.1, -1.5, 0, 2.5, 0.25, -0.125]);
    const expected = expectedPredictions('percolumn', quirky, { f0: { column: 'f0' }, f1: { column: 'f1' } }, { labels: ['no', 'yes'] });
    expect(comparePredictions(out.rows, expected)).toEqual([]);
  });
});

/**
 * `evaluate` and `compare` through the real CLI: reports, --json documents, quality gates
 * (exit 1 with each failed gate named), every error with its code and exit code, and the
 * reproducibility of scores across --workers and --batch-size checked with compare.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectCliError, expectOk, model, runCli, type CliResult } from '../helpers/cli.js';
import { withDuckDb } from '../helpers/parquet.js';
import { writeBinary, writeTable, type BinaryRow } from '../helpers/scoredFiles.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-evaluate-');
const TRANSACTIONS = data('transactions.parquet');
const MLP_ARGS = ['--model', model('mlp'), '--input', TRANSACTIONS, '--features', 'amount,f0,f1,risk score', '--fill-null', '0', '--labels', 'legit,fraud', '--quiet'];

const WORKED: BinaryRow[] = [
  { label: 'fraud', p: 0.875, prediction: 'fraud', group: 'A' },
  { label: 'fraud', p: 0.5, prediction: 'legit', group: 'A' },
  { label: 'legit', p: 0.5, prediction: 'legit', group: 'A' },
  { label: 'legit', p: 0.25, prediction: 'legit', group: 'B' },
  { label: 'fraud', p: 0.75, prediction: 'fraud', group: 'B' },
  { label: 'legit', p: 0.625, prediction: 'fraud', group: 'B' },
];

let worked: string;
beforeAll(async () => {
  worked = await writeBinary(await tmp.make(), WORKED);
});

/** The report of a run that printed one JSON document on one line. */
function jsonReport(r: CliResult): any {
  expect(r.stdout.endsWith('\n')).toBe(true);
  expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  return JSON.parse(r.stdout);
}

describe.concurrent('evaluate', { timeout: 60_000 }, () => {
  it('--json prints one document with the issue\'s keys and the worked example\'s values', async () => {
    const r = await runCli(['evaluate', worked, '--label', 'truth', '--json']);
    expectOk(r);
    expect(r.stderr).toBe('');
    const doc = jsonReport(r);
    expect(Object.keys(doc)).toEqual(['task', 'label', 'classes', 'positive', 'rows', 'metrics', 'per_class', 'confusion', 'calibration', 'thresholds', 'best_thresholds', 'residuals', 'groups', 'fairness', 'warnings']);
    expect(doc).toMatchObject({ task: 'classification', positive: 'fraud', rows: { evaluated: 6, null_labels: 0 }, confusion: { labels: ['legit', 'fraud'], matrix: [[2, 1], [1, 2]] } });
    expect(doc.metrics.roc_auc).toBeCloseTo(7.5 / 9, 12);
    expect(doc.metrics.average_precision).toBeCloseTo(1 / 3 + 1 / 3 + 1 / 5, 12);
    expect(Object.keys(doc.metrics)).toEqual(expect.arrayContaining(['accuracy', 'balanced_accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'average_precision', 'log_loss', 'brier', 'ece']));
    expect(doc.thresholds).toHaveLength(21);
  });

  it('without --json a report for people on stdout', async () => {
    const r = await runCli(['evaluate', worked, '--label', 'truth', '--target-recall', '1']);
    expectOk(r);
    expect(r.stdout).toContain('evaluate: classification, label truth, positive class fraud; 6 rows evaluated');
    expect(r.stdout).toMatch(/^ {2}roc_auc +0\.8333$/m);
    expect(r.stdout).toContain('recall 1 reached at t = 0.5');
    expect(r.stderr).toBe('');
  });

  it('failed gates: each named with its value and bound on stderr, the report still printed, exit 1', async () => {
    const r = await runCli(['evaluate', worked, '--label', 'truth', '--fail-below', 'accuracy=0.9,roc_auc=0.8', '--fail-above', 'log_loss=0.3']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('metrics:');
    expect(r.stderr.split('\n')).toEqual(['batchinfer: gate failed: accuracy 0.6666666666666666 is below 0.9', expect.stringMatching(/^batchinfer: gate failed: log_loss 0\.5\d+ is above 0\.3$/), 'batchinfer: 2 of 3 gates failed', '']);
  });

  it('failed gates with --json: the report with its gates on stdout, exit 1', async () => {
    const r = await runCli(['evaluate', worked, '--label', 'truth', '--fail-below', 'accuracy=0.9', '--json']);
    expect(r.code).toBe(1);
    const doc = jsonReport(r);
    expect(doc.gates).toEqual({ passed: false, results: [{ metric: 'accuracy', kind: 'below', bound: 0.9, value: 4 / 6, passed: false, message: 'accuracy 0.6666666666666666 is below 0.9' }] });
  });

  it('gates that pass: exit 0 and a line saying so', async () => {
    const r = await runCli(['evaluate', worked, '--label', 'truth', '--fail-below', 'roc_auc=0.8', '--fail-above', 'brier=0.2']);
    expectOk(r);
    expect(r.stderr).toBe('batchinfer: all 2 gates passed\n');
  });

  it('a gate on an undefined AUC (single-class labels) fails with a clear message', async () => {
    const path = await writeBinary(await tmp.make(), [{ label: 'fraud', p: 0.75 }, { label: 'fraud', p: 0.25 }]);
    const r = await runCli(['evaluate', path, '--label', 'truth', '--fail-below', 'roc_auc=0.5']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('warning: roc_auc is undefined');
    expect(r.stderr).toContain('batchinfer: gate failed: roc_auc is undefined (null), so it cannot be at least 0.5: roc_auc is undefined: every evaluated label is fraud (one class only)');
  });

  it('fairness figures per group and a gate on one of them', async () => {
    const r = await runCli(['evaluate', worked, '--label', 'truth', '--group-by', 'grp', '--min-group-rows', '2', '--fail-above', 'demographic_parity_difference=0.2', '--json']);
    expect(r.code).toBe(1);
    const doc = jsonReport(r);
    // Selection rates: A 1/3 (one of three predicted fraud), B 2/3.
    expect(doc.groups.map((g: any) => [g.group, g.rows, g.too_small])).toEqual([[{ grp: 'A' }, 3, false], [{ grp: 'B' }, 3, false]]);
    expect(doc.fairness.demographic_parity_difference).toBeCloseTo(1 / 3, 12);
    expect(doc.fairness.demographic_parity_ratio).toBeCloseTo(0.5, 12);
    expect(doc.gates.results[0].message).toMatch(/^demographic_parity_difference 0\.333\d+ is above 0\.2$/);
  });

  it('an unknown metric in a gate is USAGE (exit 2) naming the accepted names', async () => {
    const r = await runCli(['evaluate', worked, '--label', 'truth', '--fail-below', 'auc=0.9']);
    const stderr = expectCliError(r, 2, 'USAGE');
    expect(stderr).toContain('--fail-below: unknown metric auc (expected one of accuracy, balanced_accuracy,');
    expect(stderr).toContain('roc_auc');
  });

  it('a fairness gate without --group-by is USAGE (exit 2)', async () => {
    const r = await runCli(['evaluate', worked, '--label', 'truth', '--fail-above', 'equalized_odds_difference=0.1', '--json']);
    const stderr = expectCliError(r, 2, 'USAGE');
    expect(stderr).toContain('fairness figures need --group-by');
  });

  it('a label value that names no class is INPUT_INVALID (exit 65) naming it', async () => {
    const path = await writeBinary(await tmp.make(), [...WORKED, { label: 'FRAUD', p: 0.5 }]);
    const stderr = expectCliError(await runCli(['evaluate', path, '--label', 'truth']), 65, 'INPUT_INVALID');
    expect(stderr).toContain("label value 'FRAUD' (1 rows) matches no class of the output (expected one of the classes of its prob_ columns: legit, fraud");
  });

  it('a label column the output lacks is SCHEMA_MISMATCH (exit 78)', async () => {
    const stderr = expectCliError(await runCli(['evaluate', worked, '--label', 'is_fraud']), 78, 'SCHEMA_MISMATCH');
    expect(stderr).toContain("has no column 'is_fraud'");
  });

  it('usage errors: no --label, a bad --task, a bad number, --positive naming no class (exit 2)', async () => {
    expect(expectCliError(await runCli(['evaluate', worked]), 2, 'USAGE')).toContain("required option '--label <column>' not specified");
    expect(expectCliError(await runCli(['evaluate', worked, '--label', 'truth', '--task', 'ranking']), 2, 'USAGE')).toContain('--task takes classification or regression');
    expect(expectCliError(await runCli(['evaluate', worked, '--label', 'truth', '--target-precision', 'high']), 2, 'USAGE')).toContain('--target-precision takes a number');
    expect(expectCliError(await runCli(['evaluate', worked, '--label', 'truth', '--positive', 'yes']), 2, 'USAGE')).toContain('--positive yes is not a class of the output');
  });

  it('a scored output that does not exist is INPUT_MISSING (exit 66)', async () => {
    expectCliError(await runCli(['evaluate', join(await tmp.make(), 'nope.parquet'), '--label', 'y']), 66, 'INPUT_MISSING');
  });

  it('regression, inferred from the output (no prob_ columns)', async () => {
    const path = join(await tmp.make(), 'reg.parquet');
    await writeTable(path, [['price', 'DOUBLE'], ['prediction', 'FLOAT']], [[1, 1.5], [2, 2], [0, 1], [4, 3]]);
    const r = await runCli(['evaluate', path, '--label', 'price', '--json', '--fail-above', 'rmse=0.5']);
    expect(r.code).toBe(1);
    const doc = jsonReport(r);
    expect(doc).toMatchObject({ task: 'regression', rows: { evaluated: 4, zero_labels: 1 }, metrics: { rmse: 0.75, mae: 0.625 } });
    expect(doc.gates.results[0].message).toBe('rmse 0.75 is above 0.5');
  });

  it('a real output of run: the mlp fixture scored, a label added, per merchant category', async () => {
    const dir = await tmp.make();
    const scored = join(dir, 'scores.parquet');
    expectOk(await runCli(['run', ...MLP_ARGS, '--output', scored, '--passthrough', 'txn_id,merchant_category']));
    const labelled = join(dir, 'labelled.parquet');
    // A label that mostly follows the score, so the AUC is well above 0.5.
    await withDuckDb((q) => q(`COPY (SELECT *, CASE WHEN prob_fraud + (hash(txn_id) % 100) / 1000.0 > 0.4 THEN 'fraud' ELSE 'legit' END AS is_fraud FROM read_parquet('${scored}')) TO '${labelled}' (FORMAT parquet)`));
    const r = await runCli(['evaluate', labelled, '--label', 'is_fraud', '--group-by', 'merchant_category', '--json', '--fail-below', 'roc_auc=0.8']);
    expectOk(r);
    const doc = jsonReport(r);
    expect(doc.rows).toEqual({ evaluated: 3000, null_labels: 0, unscored: 0 });
    expect(doc.metrics.roc_auc).toBeGreaterThan(0.8);
    expect(doc.groups.map((g: any) => g.group.merchant_category).sort()).toEqual(['electronics', 'fuel', 'grocery', 'travel']);
    expect(doc.groups.reduce((a: number, g: any) => a + g.rows, 0)).toBe(3000);
    expect(doc.fairness.groups_compared).toBe(4);
  });

  it('a real multiclass output (class indices 0, 1, 2) against integer labels', async () => {
    const dir = await tmp.make();
    const scored = join(dir, 'multi.parquet');
    expectOk(await runCli(['run', '--model', model('multiclass'), '--input', TRANSACTIONS, '--features', 'amount,f0,f1,risk score', '--fill-null', '0', '--quiet', '--output', scored, '--passthrough', 'txn_id']));
    // Labels: the prediction, moved to the next class on about one row in five.
    const labelled = join(dir, 'labelled.parquet');
    const right = await withDuckDb(async (q) => {
      await q(`COPY (SELECT *, CASE WHEN hash(txn_id) % 5 = 0 THEN (prediction + 1) % 3 ELSE prediction END AS y FROM read_parquet('${scored}')) TO '${labelled}' (FORMAT parquet)`);
      return Number((await q(`SELECT count(*) FILTER (WHERE y = prediction) AS n FROM read_parquet('${labelled}')`))[0]!['n']);
    });
    const r = await runCli(['evaluate', labelled, '--label', 'y', '--json', '--fail-below', 'f1_macro=0.5']);
    expectOk(r);
    const doc = jsonReport(r);
    expect(doc.classes).toEqual(['0', '1', '2']);
    expect(doc.positive).toBeNull();
    expect(doc.metrics.accuracy).toBeCloseTo(right / 3000, 12);
    expect(doc.confusion.matrix.flat().reduce((a: number, b: number) => a + b, 0)).toBe(3000);
  });
});

describe.concurrent('compare', { timeout: 60_000 }, () => {
  it('equal files: exit 0, one line saying so; --json the report', async () => {
    const r = await runCli(['compare', worked, worked, '--key', 'truth,prediction,prob_fraud', '--by-position']);
    expectCliError(r, 2, 'USAGE');
    const ok = await runCli(['compare', worked, worked, '--by-position']);
    expectOk(ok);
    expect(ok.stdout).toBe('compare by position: equal; actual 6 rows, expected 6; 0 missing, 0 extra, 0 differing (tolerance 0.000001 absolute, 0 relative)\n');
    const json = await runCli(['compare', worked, worked, '--by-position', '--json']);
    expectOk(json);
    expect(jsonReport(json)).toMatchObject({ equal: true, key: null, rows: { actual: 6, expected: 6, matched: 6, missing: 0, extra: 0, differing: 0 } });
  });

  it('different files: exit 1, the differences per column and the first differing rows', async () => {
    const dir = await tmp.make();
    const changed = await writeBinary(dir, WORKED.map((w, i) => (i === 2 ? { ...w, p: 0.5625 } : w)), undefined, 'changed.parquet');
    const r = await runCli(['compare', changed, worked, '--by-position']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('compare by position: different; actual 6 rows, expected 6; 0 missing, 0 extra, 1 differing');
    expect(r.stdout).toContain('column prob_fraud: 1 rows differ, largest difference 0.0625');
    expect(r.stdout).toContain('row 3: confidence 0.5625 != 0.5, prob_legit 0.4375 != 0.5, prob_fraud 0.5625 != 0.5');
    const json = await runCli(['compare', changed, worked, '--by-position', '--json', '--tolerance', '0.1']);
    expectOk(json);
    expect(jsonReport(json).tolerance).toEqual({ absolute: 0.1, relative: 0 });
  });

  it('a duplicate key is INPUT_INVALID (exit 65); a missing key column SCHEMA_MISMATCH (78); no key USAGE (2)', async () => {
    expect(expectCliError(await runCli(['compare', worked, worked, '--key', 'truth']), 65, 'INPUT_INVALID')).toContain('key truth is not unique in');
    expectCliError(await runCli(['compare', worked, worked, '--key', 'txn_id', '--json']), 78, 'SCHEMA_MISMATCH');
    expect(expectCliError(await runCli(['compare', worked, worked]), 2, 'USAGE')).toContain('compare needs --key');
    expect(expectCliError(await runCli(['compare', worked, worked, '--by-position', '--rtol', 'x']), 2, 'USAGE')).toContain('--rtol takes a number');
  });
});

describe('reproducible scores', { timeout: 120_000 }, () => {
  it('the same job with --workers 1 and --workers 2, and with --batch-size 4096, 256 and 7, gives identical values (compare with tolerance 0)', async () => {
    const dir = await tmp.make();
    const settings = [['--workers', '1', '--batch-size', '4096'], ['--workers', '2', '--batch-size', '256'], ['--workers', '1', '--batch-size', '7']];
    const outputs: string[] = [];
    for (const [i, extra] of settings.entries()) {
      const output = join(dir, `out${i}.parquet`);
      expectOk(await runCli(['run', ...MLP_ARGS, '--output', output, '--passthrough', 'txn_id', ...extra]));
      outputs.push(output);
    }
    for (const other of outputs.slice(1)) {
      const r = await runCli(['compare', other, outputs[0]!, '--key', 'txn_id', '--tolerance', '0', '--json']);
      expectOk(r);
      expect(jsonReport(r)).toMatchObject({ equal: true, rows: { matched: 3000, differing: 0 } });
      expectOk(await runCli(['compare', other, outputs[0]!, '--by-position', '--tolerance', '0']));
    }
  });
});

/**
 * Model forms as older or other exporters write them: a fixed batch dimension (1 and 3),
 * float64 inputs and outputs; and the forms batchinfer must refuse with a clear error (a
 * non-tensor output no rewrite can fix, an operator onnxruntime does not have).
 */
import { readdir, writeFile } from 'node:fs/promises';
import YAML from 'yaml';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { comparePredictions, expectedPredictions, TOLERANCE } from '../helpers/expected.js';
import { readInput, readParquet, withDuckDb, type Row } from '../helpers/parquet.js';
import { loadSidecar } from '../helpers/reference.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-forms-');
const TRANSACTIONS = data('transactions.parquet');
const FEATURES = ['amount', 'f0', 'f1', 'risk score'];
const MLP_SPEC = { x: { columns: FEATURES, fillNull: 0 } };

let rows: Row[];
beforeAll(async () => {
  rows = (await readInput(TRANSACTIONS)).rows;
});

async function score(modelName: string, extra: string[] = []): Promise<{ output: string; summary: any; out: Row[] }> {
  const dir = await tmp.make();
  const output = join(dir, 'scores.parquet');
  const result = await runCli(['run', '--model', model(modelName), '--input', TRANSACTIONS, '--output', output, '--features', FEATURES.join(','), '--fill-null', '0', '--passthrough', 'txn_id', '--json', '--quiet', ...extra]);
  expectOk(result);
  return { output, summary: JSON.parse(result.stdout), out: (await readParquet(output)).rows };
}

describe.concurrent('a fixed batch dimension', { timeout: 90_000 }, () => {
  it('batch 1: every row goes alone, nothing is padded, results equal the dynamic mlp', async () => {
    const { summary, out } = await score('mlp_fixed1', ['--batch-size', '256']);
    expect(comparePredictions(out, expectedPredictions('mlp', rows, MLP_SPEC, { labels: ['legit', 'fraud'] }))).toEqual([]);
    expect(summary.fixedBatch).toEqual({ size: 1, paddedRows: 0 });
    expect(summary.rows).toMatchObject({ in: 3000, out: 3000 });
    expect(summary.warnings.join('\n')).toContain('fixed batch dimension of 1');
  });

  it('batch 3 with batches of 7 rows: groups of 3, the last of each batch padded and dropped', async () => {
    const { summary, out } = await score('mlp_fixed3', ['--batch-size', '7']);
    expect(out).toHaveLength(3000);
    expect(out.map((r) => r['txn_id'])).toEqual(rows.map((r) => r['txn_id']));
    expect(comparePredictions(out, expectedPredictions('mlp', rows, MLP_SPEC, { labels: ['legit', 'fraud'] }))).toEqual([]);
    // 428 batches of 7 (groups 3+3+1) and one of 4 (3+1): two padding rows each.
    expect(summary.fixedBatch).toEqual({ size: 3, paddedRows: 429 * 2 });
    expect(summary.warnings.join('\n')).toMatch(/fixed batch dimension of 3: .*858 padding rows/);
  });

  it('inspect says how the fixed batch is fed', async () => {
    const result = await runCli(['inspect', model('mlp_fixed3')]);
    expectOk(result);
    expect(result.stdout).toContain('batch: fixed at 3 rows per run (batches are cut into groups of 3, the last group padded)');
  });
});

describe.concurrent('per-column float inputs mapped by name alone (the scikit-learn layout)', { timeout: 60_000 }, () => {
  /** percolumn's data: f0 NULL in row 1, NaN in row 2, +Infinity in row 3; f1 -Infinity in row 4. */
  async function quirkyPercolumn(dir: string): Promise<string> {
    const path = join(dir, 'percolumn.parquet');
    await withDuckDb((q) =>
      q(`COPY (SELECT txn_id,
            CASE i WHEN 1 THEN NULL WHEN 2 THEN 'NaN'::DOUBLE WHEN 3 THEN 'Infinity'::DOUBLE ELSE f0 END AS f0,
            CASE i WHEN 4 THEN '-Infinity'::DOUBLE ELSE f1 END AS f1
          FROM (SELECT *, row_number() OVER () - 1 AS i FROM read_parquet($1)) ORDER BY i LIMIT 100) TO $2 (FORMAT parquet)`, [TRANSACTIONS, path]),
    );
    return path;
  }

  it('a job spec can still rename: inputs.f0.column feeds f0 from another column, f1 stays mapped by name', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'renamed.parquet');
    const job = join(dir, 'job.yaml');
    await writeFile(job, YAML.stringify({ model: model('percolumn'), input: TRANSACTIONS, output, passthrough: ['txn_id'], inputs: { f0: { column: 'f2' } } }));
    expectOk(await runCli(['run', job, '--quiet']));
    const out = (await readParquet(output)).rows;
    expect(comparePredictions(out, expectedPredictions('percolumn', rows, { f0: { column: 'f2' }, f1: { column: 'f1' } }))).toEqual([]);
    // Not the by-name result: f2 differs from f0.
    expect(comparePredictions(out, expectedPredictions('percolumn', rows, { f0: { column: 'f0' }, f1: { column: 'f1' } })).length).toBeGreaterThan(0);
  });

  it('NULL and NaN reach the model as NaN (what an Imputer in the graph expects); Infinity is a bad row', async () => {
    const dir = await tmp.make();
    const input = await quirkyPercolumn(dir);
    const output = join(dir, 'out.parquet');
    const failed = await runCli(['run', '--model', model('percolumn'), '--input', input, '--output', output]);
    expect(expectCliError(failed, 65, 'BAD_DATA')).toContain(`${input} row 4: inf in column f0 is infinite (set allow_nan to pass it)`);
    expect(await readdir(dir)).toEqual(['percolumn.parquet']);

    const result = await runCli(['run', '--model', model('percolumn'), '--input', input, '--output', output, '--on-error', 'skip', '--passthrough', 'txn_id', '--json', '--quiet']);
    expectOk(result);
    expect(JSON.parse(result.stdout).rows).toEqual({ in: 100, out: 98, rejected: 2, rejectedByReason: { NOT_FINITE: 2 } });
    const out = (await readParquet(output)).rows;
    expect(out.map((r) => r['txn_id'])).toEqual(rows.slice(0, 100).map((r) => r['txn_id']).filter((_, i) => i !== 3 && i !== 4));
    // The logistic regression of NaN is NaN: no class wins.
    expect(out[1]!['confidence']).toBeNaN();
    expect(out[2]!['confidence']).toBeNaN();
    expect(out[0]!['confidence']).toBeGreaterThan(0.5);
  });
});

describe.concurrent('float64 models', { timeout: 60_000 }, () => {
  it('logreg64: DOUBLE columns feed a float64 input exactly; probabilities match a float64 computation', async () => {
    const { W, b } = loadSidecar('logreg').params;
    const { summary, out } = await score('logreg64');
    expect(summary.task).toBe('classification');
    expect(summary.scores).toEqual({ kind: 'probabilities', decidedBy: 'graph' });
    expect(out).toHaveLength(3000);
    let worst = 0;
    out.forEach((r, i) => {
      const x = FEATURES.map((f) => (rows[i]![f] === null ? 0 : Number(rows[i]![f])));
      const logit = x.reduce((s, v, j) => s + v * W!.data[j]!, b!.data[0]!);
      const p = 1 / (1 + Math.exp(-logit));
      worst = Math.max(worst, Math.abs((r['prob_1'] as number) - p));
      expect(r['prediction']).toBe(p > 0.5 ? 1 : 0);
    });
    expect(worst).toBeLessThanOrEqual(TOLERANCE);
  });
});

describe.concurrent('models batchinfer cannot serve fail before any output exists', { timeout: 60_000 }, () => {
  it('a sequence output that is no ZipMap: 78, naming the output and its type', async () => {
    const dir = await tmp.make();
    const result = await runCli(['run', '--model', model('sequence_output'), '--input', TRANSACTIONS, '--output', join(dir, 'out.parquet'), '--features', 'f0,f1,f2,risk score']);
    const stderr = expectCliError(result, 78, 'MODEL_MISMATCH');
    expect(stderr).toContain("model output 'scores'");
    expect(stderr).toContain('sequence');
    expect(await readdir(dir)).toEqual([]);
  });

  it('an operator onnxruntime does not have: 78 with its name, and nothing written', async () => {
    const dir = await tmp.make();
    const result = await runCli(['run', '--model', model('unsupported_op'), '--input', TRANSACTIONS, '--output', join(dir, 'out.parquet'), '--features', 'f0,f1,f2,risk score']);
    const stderr = expectCliError(result, 78, 'MODEL_INVALID');
    expect(stderr).toContain('FraudScore');
    expect(await readdir(dir)).toEqual([]);
  });
});

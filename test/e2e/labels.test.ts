/**
 * A classifier's own label output next to its scores: checked against the argmax and
 * reported in the summary, written as a column with `extra_outputs`; and what a label
 * mismatch (class names that do not follow the scores) looks like. Plus the per-column
 * layout's one refusal: a float column feeding a string input.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { readInput, readParquet, type Row } from '../helpers/parquet.js';
import { tabularMlModels } from '../helpers/mlReference.js';
import { stripZipMap } from '../../src/model/zipMap.js';
import { useTempDirs } from '../helpers/tempDir.js';

const { onnx } = onnxProto;
const tmp = useTempDirs('batchinfer-e2e-labels-');
const TRANSACTIONS = data('transactions.parquet');
const TREE = tabularMlModels().find((m) => m.name === 'sk_tree')!;

let rows: Row[];
beforeAll(async () => {
  rows = (await readInput(TRANSACTIONS)).rows;
});

async function scoreTree(modelPath: string, extra: string[] = []): Promise<{ summary: any; out: Row[]; columns: { name: string; type: string }[] }> {
  const output = join(await tmp.make(), 'scores.parquet');
  const result = await runCli(['run', '--model', modelPath, '--input', TRANSACTIONS, '--output', output, '--features', TREE.features.join(','), '--passthrough', 'txn_id', '--json', '--quiet', ...extra]);
  expectOk(result);
  const table = await readParquet(output);
  return { summary: JSON.parse(result.stdout), out: table.rows, columns: table.columns };
}

describe.concurrent('the label output of a classifier', { timeout: 60_000 }, () => {
  it('is checked against the argmax on every row: no disagreement for the fixture forest', async () => {
    const { summary } = await scoreTree(model('sk_tree'));
    expect(summary.labelCheck).toEqual({ output: 'output_label', rows: 3000, disagreements: 0, examples: [] });
    expect(summary.warnings).toEqual([]);
  });

  it('the human summary says the label output agrees', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    const result = await runCli(['run', '--model', model('sk_tree'), '--input', TRANSACTIONS, '--output', output, '--features', TREE.features.join(',')]);
    expectOk(result);
    expect(result.stderr).toContain('model label output output_label agrees with the highest-scoring class on all 3,000 rows');
  });

  it('extra_outputs writes it as a column of its own type, after the predictions; it equals the prediction', async () => {
    const { out, columns } = await scoreTree(model('sk_tree'), ['--extra-outputs', 'output_label']);
    expect(columns.map((c) => c.name)).toEqual(['txn_id', 'prediction', 'confidence', 'prob_10', 'prob_20', 'prob_30', 'output_label']);
    expect(columns.find((c) => c.name === 'output_label')!.type).toBe('BIGINT');
    expect(out).toHaveLength(rows.length);
    for (const r of out) expect(String(r['output_label'])).toBe(String(r['prediction']));
  });

  it('class names that do not follow the scores (a ZipMap with its labels reordered) show up as disagreements, with examples and a warning', async () => {
    const dir = await tmp.make();
    const tampered = onnx.ModelProto.decode(await readFile(model('sk_tree')));
    const zipMap = tampered.graph!.node!.find((n) => n.opType === 'ZipMap')!;
    const labels = zipMap.attribute!.find((a) => a.name === 'classlabels_int64s')!;
    labels.ints = [labels.ints![1]!, labels.ints![0]!, labels.ints![2]!];
    const path = join(dir, 'swapped.onnx');
    await writeFile(path, onnx.ModelProto.encode(tampered).finish());
    const { summary, out } = await scoreTree(path);
    expect(summary.labels.names).toEqual(['20', '10', '30']);
    const wrong = out.filter((r) => r['prediction'] === '20' || r['prediction'] === '10').length;
    expect(wrong).toBeGreaterThan(0);
    expect(summary.labelCheck).toMatchObject({ output: 'output_label', rows: 3000, disagreements: wrong });
    expect(summary.labelCheck.examples).toHaveLength(5);
    expect(summary.labelCheck.examples[0]).toMatchObject({ row: expect.any(Number), label: expect.stringMatching(/^(10|20)$/), argmax: expect.stringMatching(/^(10|20)$/) });
    expect(summary.warnings.join('\n')).toContain(`model label output 'output_label' differs from the highest-scoring class in ${wrong} of 3000 rows`);
  });

  it('a run resumed after a crash counts every row: the parts it took from the journal carry their counts', async () => {
    const dir = await tmp.make();
    const tampered = onnx.ModelProto.decode(await readFile(model('sk_tree')));
    const labels = tampered.graph!.node!.find((n) => n.opType === 'ZipMap')!.attribute!.find((a) => a.name === 'classlabels_int64s')!;
    labels.ints = [labels.ints![1]!, labels.ints![0]!, labels.ints![2]!];
    const path = join(dir, 'swapped.onnx');
    await writeFile(path, onnx.ModelProto.encode(tampered).finish());
    const whole = await scoreTree(path);
    const output = join(dir, 'scores.parquet');
    const args = ['run', '--model', path, '--input', TRANSACTIONS, '--output', output, '--features', TREE.features.join(','), '--passthrough', 'txn_id', '--batch-size', '250', '--checkpoint-rows', '1000', '--json', '--quiet'];
    const crashed = await runCli(args, { env: { BATCHINFER_FAILPOINT: 'part-journaled:2' } });
    expect(crashed.signal).toBe('SIGKILL');
    const resumed = await runCli(args);
    expectOk(resumed);
    const summary = JSON.parse(resumed.stdout);
    expect(summary.resumedRows).toBe(2000);
    expect(whole.summary.labelCheck.disagreements).toBeGreaterThan(0);
    expect(summary.labelCheck).toMatchObject({ output: 'output_label', rows: 3000, disagreements: whole.summary.labelCheck.disagreements });
    expect((await readParquet(output)).rows).toEqual(whole.out);
  });

    it('without a ZipMap (converted with zipmap=False) the class names come from the classifier node itself', async () => {
    const dir = await tmp.make();
    const path = join(dir, 'no-zipmap.onnx');
    await writeFile(path, stripZipMap(await readFile(model('sk_tree'))).bytes);
    const { summary, out } = await scoreTree(path);
    expect(summary.labels).toEqual({ names: ['10', '20', '30'], source: 'model classifier' });
    expect(summary.labelCheck).toMatchObject({ rows: 3000, disagreements: 0 });
    expect(new Set(out.map((r) => r['prediction']))).toEqual(new Set(['10', '20', '30']));
  });

  it('extra_outputs naming an unknown or the scored output is a spec problem before any data is read (78)', async () => {
    const dir = await tmp.make();
    const result = await runCli(['run', '--model', model('sk_tree'), '--input', TRANSACTIONS, '--output', join(dir, 'o.parquet'), '--features', TREE.features.join(','), '--extra-outputs', 'nope,output_probability']);
    const stderr = expectCliError(result, 78, 'MODEL_MISMATCH');
    expect(stderr).toContain('extra_outputs.nope: the model has no output with this name');
    expect(stderr).toContain('extra_outputs.output_probability: is the scored output');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe.concurrent('per-column inputs: a float column into a string input', { timeout: 60_000 }, () => {
  it('is refused up front (its text is ambiguous: 1 vs 1.0), naming the column, the input and the type; nothing is written', async () => {
    const dir = await tmp.make();
    const job = join(dir, 'job.yaml');
    await writeFile(job, YAML.stringify({ model: model('sk_pipeline'), input: data('applicants.parquet'), output: join(dir, 'out', 'scores.parquet'), inputs: { region: { column: 'income' } } }));
    const result = await runCli(['run', job]);
    const stderr = expectCliError(result, 78, 'SCHEMA_MISMATCH');
    expect(stderr).toContain("column 'income' cannot feed string input 'region'");
    expect(stderr).toContain('DOUBLE');
    expect(await readdir(dir)).toEqual(['job.yaml']);
  });

  it('inspect --data shows each per-column input with its column, type and NULL handling', async () => {
    const result = await runCli(['inspect', model('sk_pipeline'), '--data', data('applicants.parquet')]);
    expectOk(result);
    expect(result.stdout).toContain(
      [
        '  income (float32) <- income DOUBLE, NULL -> NaN',
        '  region (string) <- region VARCHAR, NULL -> bad row',
        '  age (int64) <- age INTEGER, NULL -> bad row',
        '  member (bool) <- member BOOLEAN, NULL -> bad row',
        '  code (string) <- code INTEGER, NULL -> bad row',
      ].join('\n'),
    );
    expect(result.stdout).toContain('labels: approved, declined (from model ZipMap)');
    expect(result.stdout).toContain('label output output_label is checked against the highest-scoring class');
    expect(result.stdout).toContain('  ops ai.onnx.ml: Imputer, Scaler, OneHotEncoder, LabelEncoder, LinearClassifier; ai.onnx: Reshape, Cast, Concat, Identity');
  });
});

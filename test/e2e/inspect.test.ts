/**
 * `inspect` on models and datasets, and `validate` on the example jobs and on a job with
 * several problems (all reported in one run).
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { JOBS_DIR, data, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { useTempDirs } from '../helpers/tempDir.js';
import { TRANSACTION_COLUMNS } from '../helpers/transactions.js';

const tmp = useTempDirs('batchinfer-e2e-inspect-');
const JOB_FILES = readdirSync(JOBS_DIR).filter((n) => /\.(ya?ml|json)$/.test(n)).sort();

describe.concurrent('inspect', { timeout: 30_000 }, () => {
  it('a model: inputs, outputs with their producing op, opsets and metadata', async () => {
    const r = await runCli(['inspect', model('mlp')]);
    expectOk(r);
    const text = r.stdout;
    expect(text).toContain(`model ${model('mlp')}`);
    expect(text).toMatch(/^inputs:\n {2}x {2}float32 \[N,4\]$/m);
    expect(text).toMatch(/^outputs:\n {2}probabilities {2}float32 \[N,2\] {2}\(from Softmax\)$/m);
    expect(text).toMatch(/opsets ai\.onnx 17/);
    expect(text).toMatch(/producer batchinfer-fixtures 1/);
    expect(text).toContain('labels = ["legit","fraud"]');
  });

  it('a model: ops by domain, how it is scored and where its class names come from', async () => {
    const r = await runCli(['inspect', model('mlp')]);
    expectOk(r);
    expect(r.stdout).toContain('  ops ai.onnx: Gemm, Relu, Softmax');
    expect(r.stdout).toContain('scoring: output probabilities, classification, 2 classes');
    expect(r.stdout).toContain('labels: legit, fraud (from model metadata)');
    expect(r.stdout).not.toContain('batch: fixed');
    const regression = await runCli(['inspect', model('regression')]);
    expect(regression.stdout).toContain('scoring: output value, regression, 1 value per row');
  });

  it('--data shows the column feeding each input by name, with its NULL handling', async () => {
    const r = await runCli(['inspect', model('percolumn'), '--data', data('transactions.parquet')]);
    expectOk(r);
    expect(r.stdout).toContain(`mapping onto ${data('transactions.parquet')}:\n  f0 (float32) <- f0 DOUBLE, NULL -> NaN\n  f1 (float32) <- f1 DOUBLE, NULL -> NaN`);
  });

  it('--data names what is missing for an [N,K] input, and --features fills it in; --json carries the mapping', async () => {
    const missing = await runCli(['inspect', model('mlp'), '--data', data('transactions.parquet')]);
    expectOk(missing);
    expect(missing.stdout).toContain("problem: model input 'x': needs 4 columns (positions 0..3) and nothing says which");
    const given = await runCli(['inspect', model('mlp'), '--data', data('transactions.csv'), '--features', 'amount,f0,f1,risk score', '--json']);
    expectOk(given);
    const report = JSON.parse(given.stdout);
    expect(report.mapping.problems).toEqual([]);
    expect(report.mapping.inputs).toEqual([
      {
        input: 'x',
        dtype: 'float32',
        columns: ['amount', 'f0', 'f1', 'risk score'].map((column) => ({ column, type: 'DOUBLE', nulls: 'bad row' })),
      },
    ]);
    expect(report.scoring).toEqual({ output: 'probabilities', task: 'classification', classes: 2, labels: ['legit', 'fraud'], labelSource: 'model metadata' });
    expect(report.fixedBatch).toBeNull();
  });

  it('a model with --json: parseable, with the file sha256', async () => {
    const r = await runCli(['inspect', model('mixed'), '--json']);
    expectOk(r);
    const report = JSON.parse(r.stdout);
    expect(report.kind).toBe('model');
    expect(report.sha256).toBe(createHash('sha256').update(await readFile(model('mixed'))).digest('hex'));
    expect(report.info.inputs).toEqual([
      { name: 'x', elemType: 'float32', shape: ['N', 3] },
      { name: 'merchant', elemType: 'int64', shape: ['N'] },
    ]);
    expect(report.info.outputs).toEqual([{ name: 'probabilities', elemType: 'float32', shape: ['N', 2] }]);
    expect(report.info.opsets).toEqual([{ domain: 'ai.onnx', version: 17 }]);
    expect(report.info.producerOps).toEqual({ probabilities: 'Softmax' });
    expect(report.info.metadata).toEqual({});
  });

  it('a model with metadata, --json: metadata entries as strings', async () => {
    const r = await runCli(['inspect', model('mlp'), '--json']);
    expectOk(r);
    expect(JSON.parse(r.stdout).info.metadata).toEqual({ labels: '["legit","fraud"]' });
  });

  it('a Parquet dataset: columns, 3000 rows, 3 row groups of 1000', async () => {
    const path = data('transactions.parquet');
    const [text, json] = await Promise.all([runCli(['inspect', path]), runCli(['inspect', path, '--json'])]);
    expectOk(text);
    expect(text.stdout).toContain(`dataset ${path} (parquet, 3000 rows, 1 file)`);
    expect(text.stdout).toContain('  risk score  DOUBLE');
    expect(text.stdout).toContain('3000 rows, 3 row groups (1000, 1000, 1000)');
    expectOk(json);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ kind: 'dataset', format: 'parquet', rows: 3000 });
    expect(report.columns).toEqual(TRANSACTION_COLUMNS);
    expect(report.files).toEqual([
      {
        path,
        rows: 3000,
        rowGroups: [
          { id: 0, rows: 1000 },
          { id: 1, rows: 1000 },
          { id: 2, rows: 1000 },
        ],
      },
    ]);
  });

  it('a directory dataset: its files in name order, rows summed', async () => {
    const r = await runCli(['inspect', data('parts/'), '--json']);
    expectOk(r);
    const report = JSON.parse(r.stdout);
    expect(report.rows).toBe(3000);
    expect(report.columns).toEqual(TRANSACTION_COLUMNS);
    expect(report.files.map((f: { path: string; rows: number }) => [f.path, f.rows])).toEqual([0, 1, 2].map((i) => [data(`parts/part-${i}.parquet`), 1000]));
  });

  it('a CSV dataset: detected column types and rows', async () => {
    const r = await runCli(['inspect', data('quirky.csv'), '--json']);
    expectOk(r);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ format: 'csv', rows: 6 });
    expect(report.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'label text', 'amount', 'f0', 'f1', 'risk score']);
  });

  it('a path that does not exist: exit 66', async () => {
    const [m, d] = await Promise.all([runCli(['inspect', data('nope.onnx')]), runCli(['inspect', data('nope.parquet')])]);
    expect(expectCliError(m, 66, 'MODEL_MISSING')).toContain('nope.onnx');
    expect(expectCliError(d, 66, 'INPUT_MISSING')).toContain('nope.parquet');
  });
});

describe.concurrent('validate', { timeout: 30_000 }, () => {
  it.each(JOB_FILES)('%s is valid (relative paths resolve against the job file, not the cwd)', async (file) => {
    const cwd = await tmp.make();
    const r = await runCli(['validate', join(JOBS_DIR, file), '--json'], { cwd });
    expectOk(r);
    const report = JSON.parse(r.stdout);
    const job = YAML.parse(await readFile(join(JOBS_DIR, file), 'utf8'));
    expect(report.model.path).toBe(join(JOBS_DIR, job.model));
    expect(report.output.columns.slice(0, job.passthrough.length)).toEqual(job.passthrough);
    // review_below only applies to classification; the examples with neither are regressions.
    expect(report.output.task).toBe(job.labels || job.review_below ? 'classification' : 'regression');
    if (job.inputs) expect(report.feeds.map((f: { input: string }) => f.input).sort()).toEqual(Object.keys(job.inputs).sort());
    // Without `inputs`, every model input is fed by the column of its name.
    else for (const f of report.feeds as { input: string; columns: string[] }[]) expect(f.columns).toEqual([f.input]);
    // Human form: one line saying so on stderr, nothing written beside the job.
    const human = await runCli(['validate', join(JOBS_DIR, file)], { cwd });
    expectOk(human);
    expect(human.stderr).toMatch(/^batchinfer: job \S+ is valid\n/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a job with several problems reports them all in one run', async () => {
    const dir = await tmp.make();
    const jobPath = join(dir, 'bad.yaml');
    await writeFile(
      jobPath,
      YAML.stringify({
        model: model('mlp'),
        input: data('transactions.parquet'),
        output: join(dir, 'out.parquet'),
        labels: ['low', 'medium', 'high'],
        inputs: { x: { columns: ['amount', 'no_such_a', 'f1', 'no_such_b'], fill_null: 0 } },
      }),
    );
    const r = await runCli(['validate', jobPath]);
    const stderr = expectCliError(r, 78, 'SCHEMA_MISMATCH');
    const lines = stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('batchinfer: SCHEMA_MISMATCH: 3 problems:');
    expect(lines).toHaveLength(4);
    expect(stderr).toContain("column 'no_such_a' is not in the dataset");
    expect(stderr).toContain("column 'no_such_b' is not in the dataset");
    expect(stderr).toMatch(/labels: .*2 classes \(expected 2, got 3\)/);
    expect(readdirSync(dir)).toEqual(['bad.yaml']);
  });

  it('spec problems are reported together too (unknown keys and bad values)', async () => {
    const dir = await tmp.make();
    const jobPath = join(dir, 'bad.yaml');
    await writeFile(jobPath, YAML.stringify({ model: model('mlp'), input: data('transactions.parquet'), output: 'x.parquet', colour: 'red', batch_size: -1, review_below: 2 }));
    const stderr = expectCliError(await runCli(['validate', jobPath]), 78, 'SPEC_INVALID');
    // The job's own problems, then what the rest of the job says against the model and data.
    expect(stderr).toMatch(/^batchinfer: SPEC_INVALID: 4 problems:/);
    expect(stderr).toContain('colour: unknown key');
    expect(stderr).toContain('batch_size: is out of range (expected a number above 0, got -1)');
    expect(stderr).toContain('review_below: is out of range (expected a number of at most 1, got 2)');
    expect(stderr).toContain("model input 'x': needs 4 columns (positions 0..3) and nothing says which");
  });
});

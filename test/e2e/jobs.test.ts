/**
 * Every job in jobs/ runs end to end through the real CLI, and its output is checked row by
 * row against the independent reference. A job added to jobs/ is picked up automatically.
 * Each job is copied to a temp dir with absolute model/input paths and its output there.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { JOBS_DIR, REPO_ROOT, expectOk, runCli, type CliResult } from '../helpers/cli.js';
import { comparePredictions, expectedPredictions, featureSpecsOf, referenceOutput, type JobKeys } from '../helpers/expected.js';
import { readInput, readParquet, type Table } from '../helpers/parquet.js';
import { loadSidecar } from '../helpers/reference.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-jobs-');
// Scheduled jobs (a `schedule` key) score one window per run: test/e2e/schedule.test.ts covers
// them. Jobs on ai.onnx.ml models (no JSON sidecar for this reference) have their own end-to-end
// test against the ML reference: jobs/applicants-sklearn.yaml in test/e2e/skPipeline.test.ts.
const JOB_FILES = readdirSync(JOBS_DIR)
  .filter((n) => /\.(ya?ml|json)$/.test(n))
  .filter((n) => {
    const job = YAML.parse(readFileSync(join(JOBS_DIR, n), 'utf8')) as { schedule?: string; model: string };
    return !job.schedule && existsSync(resolve(JOBS_DIR, job.model).replace(/\.onnx$/, '.json'));
  })
  .sort();
const VERSION = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface JobRun {
  file: string;
  /** The job as written in jobs/ (relative paths). */
  original: JobKeys;
  /** The job as run: absolute model/input, output in a temp dir. */
  job: Required<Pick<JobKeys, 'model' | 'input' | 'output'>> & JobKeys;
  jobPath: string;
  result: CliResult;
}

/** Copies a job into a temp dir: model/input absolute (relative to jobs/), output inside the temp dir. */
async function stageJob(file: string): Promise<Omit<JobRun, 'result'>> {
  const original = YAML.parse(await readFile(join(JOBS_DIR, file), 'utf8')) as JobKeys;
  const dir = await tmp.make();
  const abs = (p: string) => resolve(JOBS_DIR, p) + (p.endsWith('/') ? '/' : '');
  const output = join(dir, basename(original.output!)) + (original.output!.endsWith('/') ? '/' : '');
  const job = { ...original, model: abs(original.model!), input: abs(original.input!), output };
  const jobPath = join(dir, file);
  await writeFile(jobPath, YAML.stringify(job));
  return { file, original, job, jobPath };
}

const modelName = (path: string) => basename(path, extname(path));
const summaryPathOf = (output: string) => output.replace(/\/+$/, '') + '.summary.json';

const runs = new Map<string, JobRun>();
let inputs = new Map<string, Table>();

beforeAll(async () => {
  // All jobs at once: each run is mostly process start-up, so they overlap well.
  const staged = await Promise.all(JOB_FILES.map(stageJob));
  const results = await Promise.all(staged.map((s) => runCli(['run', s.jobPath, '--quiet', '--json'])));
  staged.forEach((s, i) => runs.set(s.file, { ...s, result: results[i]! }));
  const distinctInputs = [...new Set(staged.map((s) => s.job.input))];
  const tables = await Promise.all(distinctInputs.map((input) => readInput(input)));
  inputs = new Map(distinctInputs.map((input, i) => [input, tables[i]!]));
}, 120_000);

it('jobs/ holds the example jobs', () => {
  expect(JOB_FILES).toEqual(expect.arrayContaining(['transactions-mlp.yaml', 'transactions-multiclass.yaml', 'transactions-csv-mixed.yaml']));
});

describe.each(JOB_FILES)('job %s', (file) => {
  const get = () => {
    const run = runs.get(file)!;
    return { ...run, input: inputs.get(run.job.input)! };
  };

  it('exits 0 with no error output', () => {
    const { result } = get();
    expectOk(result);
    expect(result.stderr).toBe('');
  });

  it('writes every input row once, in input order, with the passthrough values', async () => {
    const { job, input } = get();
    const out = await readParquet(job.output);
    if (job.output.endsWith('/')) expect(out.files.length).toBeGreaterThan(0);
    expect(out.rows).toHaveLength(input.rows.length);
    if (input.columns.some((c) => c.name === 'txn_id')) {
      expect(input.rows).toHaveLength(3000);
      const ids = out.rows.map((r) => r['txn_id']);
      expect(ids).toEqual(Array.from({ length: 3000 }, (_, i) => `t${String(i).padStart(5, '0')}`));
    }
    const passthrough = job.passthrough ?? [];
    const pick = (rows: Table['rows']) => rows.map((r) => passthrough.map((c) => r[c]));
    expect(pick(out.rows)).toEqual(pick(input.rows));
  });

  it('has passthrough then prediction columns, with the documented types', async () => {
    const { job } = get();
    const out = await readParquet(job.output);
    if (isRegression(job)) {
      expect(out.columns.map((c) => c.name)).toEqual([...(job.passthrough ?? []), 'prediction']);
      expect(out.columns.at(-1)!.type).toBe('FLOAT');
      return;
    }
    const labels = job.labels!;
    const names = [...(job.passthrough ?? []), 'prediction', 'confidence', ...labels.map((l) => `prob_${l}`), ...(job.review_below !== undefined ? ['needs_review'] : [])];
    expect(out.columns.map((c) => c.name)).toEqual(names);
    const type = Object.fromEntries(out.columns.map((c) => [c.name, c.type]));
    expect(type['prediction']).toBe('VARCHAR');
    expect(type['confidence']).toBe('FLOAT');
    for (const l of labels) expect(type[`prob_${l}`]).toBe('FLOAT');
    if (job.review_below !== undefined) expect(type['needs_review']).toBe('BOOLEAN');
  });

  it('matches the reference: predictions, labels, confidence, probabilities, needs_review', async () => {
    const { job, input } = get();
    const out = await readParquet(job.output);
    const name = modelName(job.model);
    const firstFileRows = (await readParquetOrInputFirstFile(job.input)).rows.length;
    const expected = expectedPredictions(name, input.rows, featureSpecsOf(job, loadSidecar(name)), {
      labels: job.labels,
      task: job.task,
      scores: job.scores,
      firstBatchRows: Math.min(job.batch_size ?? 2048, firstFileRows),
    });
    expect(expected.task).toBe(isRegression(job) ? 'regression' : 'classification');
    expect(comparePredictions(out.rows, expected, { reviewBelow: job.review_below })).toEqual([]);
    // Not a constant prediction, so the label check above is not vacuous.
    expect(new Set(out.rows.map((r) => r['prediction'])).size).toBeGreaterThan(1);
  });

  it('writes <output>.summary.json (also printed by --json) with rows, model sha256 and versions', async () => {
    const { job, input, result, jobPath } = get();
    const path = summaryPathOf(job.output);
    expect(existsSync(path)).toBe(true);
    const summary = JSON.parse(await readFile(path, 'utf8'));
    expect(JSON.parse(result.stdout)).toEqual(summary);
    expect(summary.status).toBe('ok');
    expect(summary.rows).toEqual({ in: input.rows.length, out: input.rows.length, rejected: 0, rejectedByReason: {} });
    expect(summary.rows.in).toBe(3000);
    const sha = createHash('sha256').update(await readFile(job.model)).digest('hex');
    expect(summary.model.sha256).toBe(sha);
    expect(summary.model.path).toBe(job.model);
    expect(summary.versions.batchinfer).toBe(VERSION);
    expect(summary.versions.node).toBe(process.version);
    expect(summary.versions.onnxruntime).toMatch(/^\d+\.\d+/);
    expect(summary.versions.duckdb).toMatch(/\d+\.\d+/);
    if (isRegression(job)) {
      expect(summary.task).toBe('regression');
      expect(summary.labels).toBeUndefined();
    } else {
      expect(summary.task).toBe('classification');
      expect(summary.labels).toEqual({ names: job.labels, source: 'job' });
    }
    expect(summary.output.mode).toBe(job.output.endsWith('/') ? 'directory' : 'file');
    // DuckDB keeps to the cores the inference workers leave while it reads for them (at least one).
    expect(summary.duckdbThreads.reading).toBe(Math.max(1, Math.min(summary.duckdbThreads.writing, availableParallelism() - summary.workers * summary.threadsPerWorker)));
    expect(summary.duckdbThreads.writing).toBeGreaterThanOrEqual(1);
    // Seconds per stage; `stage` is the copy of a CSV (or window-filtered) input to Parquet.
    expect(Object.keys(summary.seconds)).toEqual(['stage', 'read', 'preprocess', 'infer', 'postprocess', 'write', 'wall']);
    if (job.input.endsWith('.csv')) expect(summary.seconds.stage).toBeGreaterThan(0);
    else if (!('window_column' in job)) expect(summary.seconds.stage).toBe(0);
    const out = await readParquet(job.output);
    expect(summary.output.files).toEqual(out.files);
    expect(summary.output.columns).toEqual(out.columns.map((c) => c.name));
    // Nothing but the output, its summary (and the profile of a job that watches for drift) is left in the temp dir (no staging).
    const dir = resolve(job.output, '..');
    const profiled = 'schedule' in job || 'reference' in job;
    expect(summary.profile).toBe(profiled ? `${job.output.replace(/[\\/]+$/, '')}.profile.json` : undefined);
    expect(readdirSync(dir).sort()).toEqual([basename(jobPath), basename(job.output), basename(path), ...(profiled ? [basename(summary.profile)] : [])].sort());
  });
});

/** The example regression job scores a [N,1] output with no labels. */
function isRegression(job: { model: string; labels?: string[] }): boolean {
  return modelName(job.model) === 'regression';
}

/** The first file of an input (a directory's first file in name order), for the first-batch rule. */
async function readParquetOrInputFirstFile(input: string): Promise<Table> {
  const table = await readInput(input);
  return table.files.length === 1 ? table : readInput(table.files[0]!);
}

describe('job-specific behaviour', () => {
  const byModel = (name: string) => [...runs.values()].find((r) => modelName(r.job.model) === name);

  it('multiclass: raw logits are detected on the first batch and turned into softmax probabilities', async () => {
    const run = byModel('multiclass');
    expect(run, 'a job in jobs/ uses multiclass.onnx').toBeDefined();
    const { job } = run!;
    const summary = JSON.parse(await readFile(summaryPathOf(job.output), 'utf8'));
    expect(summary.scores).toEqual({ kind: 'logits', decidedBy: 'first batch' });
    // The reference logits really are not probabilities...
    const input = inputs.get(job.input)!;
    const { raw } = referenceOutput('multiclass', input.rows, featureSpecsOf(job, loadSidecar('multiclass')));
    expect(raw.some((r) => r.some((v) => v < 0 || v > 1))).toBe(true);
    // ...and the written probabilities are their softmax, summing to 1.
    const out = await readParquet(job.output);
    for (const [i, row] of out.rows.entries()) {
      const max = Math.max(...raw[i]!);
      const exps = raw[i]!.map((v) => Math.exp(v - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      job.labels!.forEach((l, c) => expect(Math.abs((row[`prob_${l}`] as number) - exps[c]! / sum)).toBeLessThanOrEqual(1e-5));
    }
  });

  it('mlp: probabilities come straight from the Softmax graph output; review_below 0.8 flags some rows', async () => {
    const run = byModel('mlp');
    expect(run).toBeDefined();
    const summary = JSON.parse(await readFile(summaryPathOf(run!.job.output), 'utf8'));
    expect(summary.scores).toEqual({ kind: 'probabilities', decidedBy: 'graph' });
    expect(run!.job.review_below).toBe(0.8);
    // Every class is predicted and both needs_review values occur, so the row checks bite.
    const out = await readParquet(run!.job.output);
    expect(new Set(out.rows.map((r) => r['prediction']))).toEqual(new Set(['legit', 'fraud']));
    expect(new Set(out.rows.map((r) => r['needs_review']))).toEqual(new Set([true, false]));
  });

  it('a CSV job gives exactly the predictions of the same rows read from Parquet', async () => {
    const csvRuns = [...runs.values()].filter((r) => r.job.input.endsWith('.csv'));
    expect(csvRuns.length).toBeGreaterThan(0);
    for (const run of csvRuns) {
      const parquetInput = run.job.input.replace(/\.csv$/, '.parquet');
      expect(existsSync(parquetInput)).toBe(true);
      const dir = await tmp.make();
      const output = join(dir, 'from-parquet.parquet');
      // Flags override job keys: the same job, other input, output and batch size.
      const result = await runCli(['run', run.jobPath, '--input', parquetInput, '--output', output, '--batch-size', '250', '--json', '--quiet']);
      expectOk(result);
      expect(JSON.parse(result.stdout)).toMatchObject({ input: { path: parquetInput, format: 'parquet' }, batchSize: 250, batches: 12 });
      const fromCsv = await readParquet(run.job.output);
      const fromParquet = await readParquet(output);
      expect(fromParquet.columns).toEqual(fromCsv.columns);
      expect(fromParquet.rows).toEqual(fromCsv.rows);
    }
  });

  it('the --output flag wins over the job file output key', async () => {
    const run = runs.get(JOB_FILES[0]!)!;
    const dir = await tmp.make();
    const jobPath = join(dir, 'job.yaml');
    const fromJob = join(dir, 'from-job.parquet');
    const fromFlag = join(dir, 'from-flag.parquet');
    await writeFile(jobPath, YAML.stringify({ ...run.job, output: fromJob }));
    expectOk(await runCli(['run', jobPath, '--output', fromFlag, '--quiet']));
    expect(existsSync(fromFlag)).toBe(true);
    expect(existsSync(fromJob)).toBe(false);
    expect((await readParquet(fromFlag)).rows).toHaveLength(3000);
  });
});

describe('the comparison itself', () => {
  it('catches a shifted row, swapped labels, a wrong probability and a wrong needs_review', async () => {
    const run = [...runs.values()].find((r) => r.job.review_below !== undefined)!;
    const { job } = run;
    const out = (await readParquet(job.output)).rows;
    const name = modelName(job.model);
    const expected = expectedPredictions(name, inputs.get(job.input)!.rows, featureSpecsOf(job, loadSidecar(name)), { labels: job.labels });
    const check = (rows: typeof out) => comparePredictions(rows, expected, { reviewBelow: job.review_below });
    expect(check(out)).toEqual([]);
    expect(check([...out.slice(1), out[0]!])).not.toEqual([]);
    const [a, b] = job.labels!;
    const swapped = out.map((r) => ({ ...r, [`prob_${a}`]: r[`prob_${b}`], [`prob_${b}`]: r[`prob_${a}`], prediction: r['prediction'] === a ? b : a }));
    expect(check(swapped)).not.toEqual([]);
    expect(check(out.map((r, i) => (i === 1234 ? { ...r, [`prob_${a}`]: (r[`prob_${a}`] as number) + 1e-4 } : r)))).toHaveLength(1);
    expect(check(out.map((r, i) => (i === 42 ? { ...r, needs_review: !r['needs_review'] } : r)))).toHaveLength(1);
  });
});

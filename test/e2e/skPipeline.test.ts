/**
 * sk_pipeline.onnx end to end: a scikit-learn ColumnTransformer export with one [N,1] input
 * per column (float, string, int64, bool), scored with no job file and no --features, so
 * every input is fed by the applicants column of the same name. What a per-column input
 * without a spec does with each column type:
 *
 * - a NULL in a float column is fed as NaN (the model's Imputer replaces it), not rejected;
 * - a NULL in a string column rejects the row (NULL_VALUE): exit 65 with on_error fail,
 *   left out with `--on-error skip`;
 * - an integer column feeding a string input is fed as its decimal text ('101');
 * - a boolean column feeds a bool input as is.
 *
 * The first rule is new behaviour of the core (NULL float -> NaN for a per-column input
 * without a spec); before it, a NULL income rejects the row too and these tests fail.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { skPipelineParams } from '../../scripts/fixtures/mlModels.js';
import { JOBS_DIR, data, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { acceptableLabels, argmax, skPipelineReference, type PipelineRow } from '../helpers/mlReference.js';
import { readInput, readParquet, type Row } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-sk-pipeline-');
const TOLERANCE = 1e-5;
const MODEL = model('sk_pipeline');
const INPUT = data('applicants.parquet');
const PARAMS = skPipelineParams();
const CLASSES = PARAMS.classifier.classLabels.map(String);

let input: Row[];
beforeAll(async () => {
  input = (await readInput(INPUT)).rows;
});

/** A row as the model's inputs should see it: NULL income -> NaN, code -> its decimal text. */
function modelRow(row: Row): PipelineRow {
  return {
    income: row['income'] === null ? NaN : Number(row['income']),
    region: String(row['region']),
    age: Number(row['age']),
    member: row['member'] as boolean,
    code: String(row['code']),
  };
}

const close = (got: unknown, want: number): boolean => typeof got === 'number' && Math.abs(got - want) <= TOLERANCE;

describe('sk_pipeline.onnx: per-column inputs mapped by name', { timeout: 60_000 }, () => {
  it('with --on-error skip: rows with a NULL region are left out, NULL incomes are imputed by the model, every row matches the reference', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    const result = await runCli(['run', '--model', MODEL, '--input', INPUT, '--output', output, '--passthrough', 'applicant_id', '--on-error', 'skip', '--json', '--quiet']);
    expectOk(result);
    const summary = JSON.parse(result.stdout);
    const kept = input.filter((r) => r['region'] !== null);
    const nullRegions = input.length - kept.length;
    expect(summary.rows).toEqual({ in: input.length, out: kept.length, rejected: nullRegions, rejectedByReason: { NULL_VALUE: nullRegions } });
    expect(summary.task).toBe('classification');
    expect(summary.model.output).toBe('output_probability');
    expect(summary.labels).toEqual({ names: CLASSES, source: 'model ZipMap' });

    const out = await readParquet(output);
    expect(out.columns.map((c) => c.name)).toEqual(['applicant_id', 'prediction', 'confidence', ...CLASSES.map((c) => `prob_${c}`)]);
    expect(out.rows.map((r) => r['applicant_id'])).toEqual(kept.map((r) => r['applicant_id']));
    // The quirks are all among the scored rows.
    expect(kept.filter((r) => r['income'] === null).length).toBeGreaterThan(50);
    expect(kept.some((r) => r['region'] === 'west')).toBe(true);
    expect(kept.some((r) => r['code'] === 404)).toBe(true);

    const problems: string[] = [];
    out.rows.forEach((row, i) => {
      if (problems.length >= 10) return;
      const want = skPipelineReference(PARAMS, modelRow(kept[i]!));
      CLASSES.forEach((c, k) => {
        if (!close(row[`prob_${c}`], want[k]!)) problems.push(`${String(row['applicant_id'])}: prob_${c} ${String(row[`prob_${c}`])}, expected ${want[k]}`);
      });
      if (!close(row['confidence'], want[argmax(want)]!)) problems.push(`${String(row['applicant_id'])}: confidence ${String(row['confidence'])}`);
      if (!acceptableLabels(want, CLASSES, TOLERANCE).includes(String(row['prediction']))) problems.push(`${String(row['applicant_id'])}: prediction ${String(row['prediction'])}, probs ${want.join(', ')}`);
    });
    expect(problems).toEqual([]);
    expect(new Set(out.rows.map((r) => r['prediction']))).toEqual(new Set(CLASSES));
  });

  it('with on_error fail (the default): the first NULL region stops the run, exit 65 naming the row and the column', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    const result = await runCli(['run', '--model', MODEL, '--input', INPUT, '--output', output, '--passthrough', 'applicant_id']);
    const stderr = expectCliError(result, 65, 'BAD_DATA');
    const firstNull = input.findIndex((r) => r['region'] === null);
    // NULL incomes come earlier in the file; they are imputed, not rejected.
    expect(input.findIndex((r) => r['income'] === null)).toBeLessThan(firstNull);
    expect(stderr).toContain(`row ${firstNull + 1}:`);
    expect(stderr).toMatch(/NULL.*region/);
  });
});

describe('jobs/applicants-sklearn.yaml, the scikit-learn example job', { timeout: 60_000 }, () => {
  it('scores the good rows like the reference, quarantines the NULL regions, writes the model label beside the argmax', async () => {
    const dir = await tmp.make();
    const job = YAML.parse(await readFile(join(JOBS_DIR, 'applicants-sklearn.yaml'), 'utf8')) as Record<string, unknown>;
    const output = join(dir, 'scores.parquet');
    const jobPath = join(dir, 'job.yaml');
    await writeFile(jobPath, YAML.stringify({ ...job, model: resolve(JOBS_DIR, String(job['model'])), input: resolve(JOBS_DIR, String(job['input'])), output }));
    const result = await runCli(['run', jobPath, '--quiet', '--json']);
    expectOk(result);
    const summary = JSON.parse(result.stdout);
    const kept = input.filter((r) => r['region'] !== null);
    const bad = input.length - kept.length;
    expect(summary.rows).toEqual({ in: input.length, out: kept.length, rejected: bad, rejectedByReason: { NULL_VALUE: bad } });
    expect(summary.labelCheck).toEqual({ output: 'output_label', rows: kept.length, disagreements: 0, examples: [] });

    const out = await readParquet(output);
    expect(out.columns.map((c) => c.name)).toEqual(['applicant_id', 'prediction', 'confidence', ...CLASSES.map((c) => `prob_${c}`), 'needs_review', 'output_label']);
    const problems: string[] = [];
    out.rows.forEach((row, i) => {
      const want = skPipelineReference(PARAMS, modelRow(kept[i]!));
      const best = want[argmax(want)]!;
      if (row['applicant_id'] !== kept[i]!['applicant_id']) problems.push(`row ${i}: ${String(row['applicant_id'])}`);
      if (!close(row['confidence'], best)) problems.push(`${String(row['applicant_id'])}: confidence ${String(row['confidence'])}, expected ${best}`);
      if (row['output_label'] !== row['prediction']) problems.push(`${String(row['applicant_id'])}: label ${String(row['output_label'])} vs ${String(row['prediction'])}`);
      if (row['needs_review'] !== best < 0.7) problems.push(`${String(row['applicant_id'])}: needs_review ${String(row['needs_review'])} at ${best}`);
    });
    expect(problems.slice(0, 10)).toEqual([]);

    const rejects = await readParquet(`${output}.rejects.parquet`);
    expect(rejects.rows.map((r) => r['applicant_id'])).toEqual(input.filter((r) => r['region'] === null).map((r) => r['applicant_id']));
    expect(new Set(rejects.rows.map((r) => `${String(r['reject_reason'])} ${String(r['reject_column'])}`))).toEqual(new Set(['NULL_VALUE region']));
  });
});

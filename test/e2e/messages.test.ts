/**
 * Messages a new user meets, as the trial found them (issue 15, rough edge 11), and spec
 * errors that no longer hide the model's and the data's problems (rough edge 4).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data, expectCliError, expectFailureJson, model, runCli } from '../helpers/cli.js';
import { withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-messages-');
const FEATURES = 'amount,f0,f1,risk score';

describe.concurrent('messages', { timeout: 60_000 }, () => {
  it('an unknown key and a wrong value are reported with the model and data problems, in one pass', async () => {
    const dir = await tmp.make();
    const job = join(dir, 'job.yaml');
    await writeFile(job, [`model: ${model('mlp')}`, `input: ${data('transactions.parquet')}`, `output: ${join(dir, 'o.parquet')}`, 'colour: red', 'review_below: 5', 'features: [amount, f0, f1, nope]', ''].join('\n'));
    for (const command of ['validate', 'run']) {
      const r = await runCli([command, job, '--json']);
      const stderr = expectCliError(r, 78, 'SPEC_INVALID');
      expect(stderr).toContain('  - colour: unknown key');
      expect(stderr).toContain('  - review_below: is out of range (expected a number of at most 1, got 5)');
      expect(stderr).toMatch(/ {2}- .*column 'nope' is not in the dataset/);
      // Several problems: the report's expected/actual are each problem's, not the first one's copied up.
      const error = expectFailureJson(r, 78, 'SPEC_INVALID');
      expect(error.expected).toBeUndefined();
      expect(error.actual).toBeUndefined();
      expect(error.problems!.length).toBeGreaterThanOrEqual(3);
    }
  });

  it("max_error_rate: says the rate, the count it allows and the count found", async () => {
    const dir = await tmp.make();
    const input = join(dir, 'in.parquet');
    await withDuckDb((q) => q(`COPY (SELECT i AS id, CASE WHEN i < 3 THEN NULL ELSE 0.5 END AS a, 0.5 AS b, 0.5 AS c, 0.5 AS d FROM range(10000) t(i)) TO '${input}' (FORMAT parquet)`));
    const r = await runCli(['run', '--model', model('mlp'), '--input', input, '--output', join(dir, 'o.parquet'), '--features', 'a,b,c,d', '--on-error', 'skip', '--max-error-rate', '0.00001']);
    expect(expectCliError(r, 65, 'BAD_DATA')).toContain('bad rows exceed max_error_rate 0.00001 (3 of 10000 rows); nothing is committed (expected at most 0 bad rows (max_error_rate 0.00001 of 10000 rows), got 3 (0.0003))');
  });

  it('a CSV read with the wrong delimiter: the delimiter hint comes first, before the columns it explains', async () => {
    const dir = await tmp.make();
    const csv = join(dir, 'semi.csv');
    await writeFile(csv, 'amount;f0;f1;risk score\n1;2;3;4\n');
    const r = await runCli(['validate', '--model', model('mlp'), '--input', csv, '--output', join(dir, 'o.parquet'), '--features', FEATURES]);
    const lines = expectCliError(r, 78, 'SCHEMA_MISMATCH').split('\n');
    expect(lines[1]).toMatch(/^ {2}- csv_delimiter: .* looks semicolon-separated/);
    expect(lines.slice(2).some((l) => l.includes("column 'amount' is not in the dataset"))).toBe(true);
  });

  it('one row group, one batch: said in the singular', async () => {
    const inspect = await runCli(['inspect', data('parts/part-0.parquet')]);
    expect(inspect.stdout + inspect.stderr).toMatch(/\b1 row group \(/);
    const dir = await tmp.make();
    const r = await runCli(['run', '--model', model('mlp'), '--input', data('transactions.parquet'), '--output', join(dir, 'o.parquet'), '--features', FEATURES, '--fill-null', '0', '--batch-size', '4096']);
    expect(r.stderr).toMatch(/\b1 batch of 4096\b/);
  });

  it('validate: a CSV text column fed to a float input is a problem when no value is a number, a note when some are not', async () => {
    const dir = await tmp.make();
    const csv = join(dir, 'in.csv');
    const rows = Array.from({ length: 50 }, (_, i) => `${i === 7 ? 'n/a' : i / 10},word${i},0.5,0.5`);
    await writeFile(csv, ['a,b,c,d', ...rows].join('\n') + '\n');
    const text = await runCli(['validate', '--model', model('mlp'), '--input', csv, '--output', join(dir, 'o.parquet'), '--features', 'a,b,c,d']);
    expect(expectCliError(text, 78, 'SCHEMA_MISMATCH')).toContain(`${csv}: column 'b' holds text (DuckDB reads it as VARCHAR): none of its first 50 values is a number, so every row would be bad`);
    const some = await runCli(['validate', '--model', model('mlp'), '--input', csv, '--output', join(dir, 'o.parquet'), '--features', 'a,c,c,d', '--json']);
    expect(some.code, some.stderr).toBe(0);
    expect(JSON.parse(some.stdout).notes).toEqual([`column 'a' of ${csv} is text to DuckDB (VARCHAR): 1 of its first 50 values are not numbers and will be bad rows`]);
  });
});

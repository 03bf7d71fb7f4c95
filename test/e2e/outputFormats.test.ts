/**
 * The output's format follows its name (.parquet, .csv, .jsonl; anything else is refused), the
 * commit stays atomic and resumable for each, and every summary lists the committed files with
 * their rows, size and sha256.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeResult, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-formats-');
let input: string;
let reference: Record<string, unknown>[];

beforeAll(async () => {
  const dir = await tmp.make();
  input = join(dir, 'in.parquet');
  await withDuckDb((q) => q(`COPY (SELECT 'r' || i AS id, i / 3000.0 AS a, 0.5 AS b, (i % 7) / 7.0 AS c, 1.0 AS d FROM range(3000) t(i)) TO '${input}' (FORMAT parquet)`));
  const out = join(dir, 'ref.parquet');
  expectOk(await run(out));
  reference = (await readParquet(out)).rows;
});

function run(output: string, ...extra: string[]) {
  return runCli(['run', '--model', model('mlp'), '--input', input, '--output', output, '--features', 'a,b,c,d', '--passthrough', 'id', '--labels', 'legit,fraud', '--batch-size', '500', '--checkpoint-rows', '1000', '--quiet', ...extra]);
}

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

describe.concurrent('output formats', { timeout: 60_000 }, () => {
  it.each([
    ['csv', "read_csv($1, header = true)"],
    ['jsonl', 'read_json($1, format = \'newline_delimited\')'],
  ])('.%s: the same rows and values as the Parquet output, in order', async (ext, reader) => {
    const output = join(await tmp.make(), `scores.${ext}`);
    expectOk(await run(output));
    const rows = await withDuckDb((q) => q(`SELECT * FROM ${reader}`, [output]));
    expect(rows).toHaveLength(3000);
    expect(Object.keys(rows[0]!)).toEqual(['id', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    rows.forEach((row, i) => {
      const ref = reference[i]!;
      expect(row['id']).toBe(ref['id']);
      expect(row['prediction']).toBe(ref['prediction']);
      expect(Number(row['confidence'])).toBeCloseTo(Number(ref['confidence']), 6);
      expect(Number(row['prob_fraud'])).toBeCloseTo(Number(ref['prob_fraud']), 6);
    });
    if (ext === 'csv') expect((await readFile(output, 'utf8')).split('\n')[0]).toBe('id,prediction,confidence,prob_legit,prob_fraud');
  });

  it('.jsonl killed mid-run resumes and commits the same file as an uninterrupted run', async () => {
    const dir = await tmp.make();
    const whole = join(dir, 'whole.jsonl');
    expectOk(await run(whole));
    const killed = await runCli(['run', '--model', model('mlp'), '--input', input, '--output', join(dir, 'k.jsonl'), '--features', 'a,b,c,d', '--passthrough', 'id', '--labels', 'legit,fraud', '--batch-size', '500', '--checkpoint-rows', '1000', '--quiet'], { env: { BATCHINFER_FAILPOINT: 'part-journaled:2' } });
    expect(killed.signal, describeResult(killed)).toBe('SIGKILL');
    expect(existsSync(join(dir, 'k.jsonl'))).toBe(false);
    const again = await runCli(['run', '--model', model('mlp'), '--input', input, '--output', join(dir, 'k.jsonl'), '--features', 'a,b,c,d', '--passthrough', 'id', '--labels', 'legit,fraud', '--batch-size', '500', '--checkpoint-rows', '1000', '--quiet', '--json']);
    expectOk(again);
    expect(JSON.parse(again.stdout).resumedRows).toBe(2000);
    expect(await readFile(join(dir, 'k.jsonl'), 'utf8')).toBe(await readFile(whole, 'utf8'));
    expect(await stagingLeftovers(join(dir, 'k.jsonl'))).toEqual([]);
  });

  it.each(['scores.txt', 'scores', 'scores.json'])('%s: refused (78) naming the accepted endings, nothing written', async (name) => {
    const dir = await tmp.make();
    const r = await run(join(dir, name));
    expect(expectCliError(r, 78, 'SPEC_INVALID')).toContain("the output's format follows its name (expected a name ending in .parquet, .csv, .jsonl, or a directory ending in /");
    expect(await readdir(dir)).toEqual([]);
  });
});

describe.concurrent('every summary lists the committed files', { timeout: 60_000 }, () => {
  it('a file output: its rows, size and sha256', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    const r = await run(output, '--json');
    expectOk(r);
    const summary = JSON.parse(r.stdout);
    expect(summary.manifest).toEqual([{ file: output, rows: 3000, bytes: (await readFile(output)).length, sha256: await sha256(output) }]);
    expect(JSON.parse(await readFile(`${output}.summary.json`, 'utf8')).manifest).toEqual(summary.manifest);
  });

  it('a directory output: one entry per file', async () => {
    const output = join(await tmp.make(), 'scores') + '/';
    const r = await run(output, '--json');
    expectOk(r);
    const summary = JSON.parse(r.stdout);
    const file = join(output, 'in.parquet');
    expect(summary.manifest).toEqual([{ file, rows: 3000, bytes: (await readFile(file)).length, sha256: await sha256(file) }]);
  });
});

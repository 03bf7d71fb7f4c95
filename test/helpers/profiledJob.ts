/**
 * The job the run-profile tests score (one process, shards, windows): a mixed model over five
 * columns of ROWS generated rows, written as a YAML job file.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import YAML from 'yaml';
import { expectOk, model, runCli } from './cli.js';
import { withDuckDb } from './parquet.js';

export const PROFILED_ROWS = 40_000;

/**
 * a: a skewed value with a NULL in every 500th row (80 rows: skipped); b: 97 levels; c: far
 * from 0 (its squares would cancel in a naive sum); merchant: three categories, 2:1:1; ts:
 * all in the day 2026-11-29 (for the scheduled job). `shift` moves a (drift).
 */
export const profiledInput = (shift = 0): string => `SELECT i AS id,
  CASE WHEN i % 500 = 7 THEN NULL ELSE ((hash(i) % 10000) / 10000.0) ^ 2 * 4 + ${shift} END AS a,
  (i % 97) / 97.0 AS b, 1000 + (hash(i, 3) % 1000) / 1000.0 AS c,
  CASE i % 4 WHEN 0 THEN 'travel' WHEN 1 THEN 'fuel' ELSE 'grocery' END AS merchant_category,
  TIMESTAMP '2026-11-29 00:00:00' + to_seconds(i) AS ts
  FROM range(${PROFILED_ROWS}) t(i)`;

/** The job (as an object) scoring `input` into `output`, with `extra` keys set over it. */
export function profiledJob(input: string, output: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: model('mixed'),
    input,
    output,
    passthrough: ['id'],
    labels: ['legit', 'fraud'],
    on_error: 'skip',
    review_below: 0.6,
    batch_size: 1000,
    checkpoint_rows: 8000,
    // A one-off job profiles its runs when asked (scheduled jobs and jobs with a reference do by default).
    profile: true,
    inputs: {
      x: { columns: ['a', 'b', 'c'], scale: { mean: [1, 0.5, 1000], std: [2, 0.25, 0.5] } },
      merchant: { column: 'merchant_category', vocab: ['grocery', 'travel', 'fuel'] },
    },
    ...extra,
  };
}

/** `base` as a daily scheduled job ('daily') whose windows are on `ts`. */
export function dailyJob(base: Record<string, unknown>): Record<string, unknown> {
  return { ...base, name: 'daily', schedule: '0 0 * * *', window_column: 'ts' };
}

/** A committed window's profile: the command's JSON names `_profile.json` inside `window`, which holds every row but the 80 skipped. */
export async function expectWindowProfile(stdout: string, window: string): Promise<void> {
  expect(JSON.parse(stdout).profile).toBe(join(window, '_profile.json'));
  const profile = await readJson(join(window, '_profile.json'));
  expect(profile.rows).toBe(PROFILED_ROWS - 80);
  expect(profile.prediction.rows).toBe(PROFILED_ROWS - 80);
}

/** Writes `spec` as `<dir>/<name>.yaml`; its path. */
export async function writeJob(dir: string, name: string, spec: Record<string, unknown>): Promise<string> {
  const jobPath = join(dir, `${name}.yaml`);
  await writeFile(jobPath, YAML.stringify(spec));
  return jobPath;
}

export const readJson = async (file: string): Promise<any> => JSON.parse(await readFile(file, 'utf8'));

/**
 * Writes the input (`in.parquet`), the same rows with `a` moved by 3 (`shifted.parquet`), both
 * in row groups of `rowGroupSize`, and the input's profile (`train.profile.json`, by the CLI) into `dir`.
 */
export async function writeProfiledInputs(dir: string, rowGroupSize: number): Promise<void> {
  await withDuckDb(async (q) => {
    await q(`COPY (${profiledInput()}) TO '${join(dir, 'in.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE ${rowGroupSize})`);
    await q(`COPY (${profiledInput(3)}) TO '${join(dir, 'shifted.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE ${rowGroupSize})`);
  });
  expectOk(await runCli(['profile', join(dir, 'in.parquet'), '--output', join(dir, 'train.profile.json')]));
}

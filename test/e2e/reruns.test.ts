/**
 * Rough edges of reruns and scheduled runs (issue 15): a rerun never leaves another run's
 * rejects file beside its output; a window that scores the whole input, or no rows, says so;
 * min_rows makes too few rows an error that commits nothing.
 */
import { existsSync } from 'node:fs';
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-reruns-');
let input: string;

beforeAll(async () => {
  input = join(await tmp.make(), 'in.parquet');
  await withDuckDb((q) => q(`COPY (SELECT i AS id, CASE WHEN i % 100 = 7 THEN NULL ELSE i / 1000.0 END AS a, 0.5 AS b, 0.5 AS c, 0.5 AS d FROM range(1000) t(i)) TO '${input}' (FORMAT parquet)`));
});

const run = (output: string, ...extra: string[]) => runCli(['run', '--model', model('mlp'), '--input', input, '--output', output, '--features', 'a,b,c,d', '--passthrough', 'id', '--quiet', ...extra]);

describe.concurrent('a rerun and the rejects file of the run before', { timeout: 60_000 }, () => {
  it('quarantine, then skip: the new output has no rejects file beside it', async () => {
    const output = join(await tmp.make(), 'o.parquet');
    expectOk(await run(output, '--on-error', 'quarantine'));
    expect((await readParquet(`${output}.rejects.parquet`)).rows).toHaveLength(10);
    expectOk(await run(output, '--on-error', 'skip'));
    expect(existsSync(`${output}.rejects.parquet`)).toBe(false);
    expect((await readParquet(output)).rows).toHaveLength(990);
  });

  it('quarantine to another file: the earlier default one goes, the named one holds this run\'s rows', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'o.parquet');
    expectOk(await run(output, '--on-error', 'quarantine'));
    expectOk(await run(output, '--on-error', 'quarantine', '--rejects', join(dir, 'bad.parquet')));
    expect(existsSync(`${output}.rejects.parquet`)).toBe(false);
    expect((await readParquet(join(dir, 'bad.parquet'))).rows).toHaveLength(10);
  });

  it("a path the earlier run's summary names as its rejects file but that is this run's input now is left alone", async () => {
    const dir = await tmp.make();
    const output = join(dir, 'o.parquet');
    expectOk(await run(output, '--on-error', 'quarantine', '--rejects', join(dir, 'x.parquet')));
    await copyFile(input, join(dir, 'x.parquet'));
    expectOk(await runCli(['run', '--model', model('mlp'), '--input', join(dir, 'x.parquet'), '--output', output, '--features', 'a,b,c,d', '--fill-null', '0', '--quiet']));
    expect((await readParquet(join(dir, 'x.parquet'))).rows).toHaveLength(1000);
  });
});

describe.concurrent('scheduled runs that score all or nothing', { timeout: 60_000 }, () => {
  async function hourly(keys: Record<string, unknown>): Promise<{ dir: string; job: string }> {
    const dir = await tmp.make();
    const job = join(dir, 'hourly.json');
    const base = { schedule: '0 * * * *', model: model('mlp'), input: data('transactions.parquet'), output: join(dir, 'out', 'hour={hour}/'), features: ['amount', 'f0', 'f1', 'risk score'], fill_null: 0 };
    await writeFile(job, JSON.stringify({ ...base, ...keys }));
    return { dir, job };
  }

  it('no window template and no window_column: every window scores the whole input, and the summary says so', async () => {
    const { job } = await hourly({});
    const r = await runCli(['run', job, '--at', '2026-11-29T02:00:00Z', '--quiet', '--json']);
    expectOk(r);
    const summary = JSON.parse(r.stdout);
    expect(summary.rows.in).toBe(3000);
    expect(summary.warnings).toContain('the input has no window template and the job no window_column: every window scores the whole input');
  });

  it('a window with no rows commits an empty output and says so', async () => {
    const { job } = await hourly({ window_column: 'ts' });
    const r = await runCli(['run', job, '--at', '2026-12-01T02:00:00Z', '--quiet', '--json']);
    expectOk(r);
    const summary = JSON.parse(r.stdout);
    expect(summary.rows.in).toBe(0);
    expect(summary.warnings).toContain('window 2026-12-01T02:00:00.000Z has no rows: its output is empty (min_rows makes this an error)');
  });

  it('min_rows: a window with fewer rows fails with TOO_FEW_ROWS (65) and commits nothing', async () => {
    const { dir, job } = await hourly({ window_column: 'ts', min_rows: 1 });
    const r = await runCli(['run', job, '--at', '2026-12-01T02:00:00Z', '--quiet']);
    expect(expectCliError(r, 65, 'TOO_FEW_ROWS')).toContain('window 2026-12-01T02:00:00.000Z holds 0 rows, fewer than min_rows 1; nothing is committed (expected at least 1 row, got 0)');
    expect((await readdir(join(dir, 'out'))).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('--min-rows on a one-off run', async () => {
    const dir = await tmp.make();
    const r = await runCli(['run', '--model', model('mlp'), '--input', input, '--output', join(dir, 'o.parquet'), '--features', 'a,b,c,d', '--fill-null', '0', '--min-rows', '5000', '--quiet']);
    expect(expectCliError(r, 65, 'TOO_FEW_ROWS')).toContain(`input ${input} holds 1000 rows, fewer than min_rows 5000`);
    expect(await readdir(dir)).toEqual([]);
  });
});

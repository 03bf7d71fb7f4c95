/**
 * Faults that lost or corrupted data silently in a hostile trial (issue 13), each reproduced
 * as the trial found it:
 *
 * - a resume that ignored a changed `on_error` (rows dropped, or an empty rejects file);
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeResult, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-safety-');

/** 3000 rows of 4 features; `a` is NULL in every 100th row (30 rows). */
async function nullyInput(dir: string): Promise<string> {
  const path = join(dir, 'in.parquet');
  await withDuckDb((q) =>
    q(
      `COPY (SELECT i AS id, CASE WHEN i % 100 = 7 THEN NULL ELSE i / 1000.0 END AS a, (i % 13) / 13.0 AS b, (i % 7) / 7.0 AS c, 0.5 AS d
       FROM range(3000) t(i)) TO '${path}' (FORMAT parquet)`,
    ),
  );
  return path;
}

describe('a resume honours every setting that decides which rows are written', { timeout: 120_000 }, () => {
  let input: string;
  beforeAll(async () => {
    input = await nullyInput(await tmp.make());
  });
  const args = (output: string, ...extra: string[]) => ['run', '--model', model('mlp'), '--input', input, '--output', output, '--features', 'a,b,c,d', '--passthrough', 'id', '--batch-size', '500', '--checkpoint-rows', '1000', '--quiet', ...extra];
  const crashAfterTwoParts = async (output: string): Promise<void> => {
    const crashed = await runCli(args(output, '--on-error', 'skip'), { env: { BATCHINFER_FAILPOINT: 'part-journaled:2' } });
    expect(crashed.signal, describeResult(crashed)).toBe('SIGKILL');
  };

  it('killed under on_error skip, rerun with fail: starts over and fails on the first NULL as a fresh run does (65), nothing written', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    await crashAfterTwoParts(output);
    const rerun = await runCli(args(output));
    expect(expectCliError(rerun, 65, 'BAD_DATA')).toMatch(/in.parquet row 8: NULL in column a/);
    expect(existsSync(output)).toBe(false);
    expect(await stagingLeftovers(output)).toEqual([]);
  });

  it('killed under on_error skip, rerun with quarantine: starts over, says why, and the rejects file holds all 30 rows', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    await crashAfterTwoParts(output);
    const rerun = await runCli(args(output, '--on-error', 'quarantine', '--json'));
    expectOk(rerun);
    const summary = JSON.parse(rerun.stdout);
    expect(summary.resumedRows).toBeUndefined();
    expect(summary.warnings.join('\n')).toMatch(/started over: an interrupted run's finished parts were discarded, as its on_error differs from this run's/);
    expect(summary.rows).toMatchObject({ in: 3000, out: 2970, rejected: 30 });
    const rejects = await readParquet(`${output}.rejects.parquet`);
    expect(rejects.rows.map((r) => Number(r['id']))).toEqual(Array.from({ length: 30 }, (_, k) => k * 100 + 7));
    expect((await readParquet(output)).rows).toHaveLength(2970);
  });

  it('the same settings still resume', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    await crashAfterTwoParts(output);
    const rerun = await runCli(args(output, '--on-error', 'skip', '--json', '--workers', '1'));
    expectOk(rerun);
    const summary = JSON.parse(rerun.stdout);
    expect(summary.resumedRows).toBeGreaterThan(0);
    expect(summary.rows).toMatchObject({ in: 3000, out: 2970, rejected: 30 });
  });
});

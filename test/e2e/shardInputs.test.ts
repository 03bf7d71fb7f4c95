/**
 * Sharded runs of the inputs that split by whole files: a job with a `where` (each file's
 * staged copy holds the rows it keeps, numbered after it) and encrypted Parquet inputs (their
 * row groups are not listed without the key; DuckDB counts their rows with it). Each sharded
 * run's committed output, rejects file and rows equal one process's run of the same job.
 *
 * The encrypted fixtures use DuckDB's `force_mbedtls_unsafe` (TEST ONLY; see encryption.test.ts).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import type { ShardedSummary } from '../../src/core/commitSharded.js';
import type { PlanReport } from '../../src/core/planJob.js';
import type { RunSummary } from '../../src/core/summary.js';
import { expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { withDuckDb, type Row } from '../helpers/parquet.js';
import { expectSameRows, parquetJob } from '../helpers/shardedJob.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-shard-inputs-');

/** Runs shards 0..n-1 one after another, then the commit; the commit's summary. */
async function shardAndCommit(job: string, n: number, env: Record<string, string> = {}): Promise<ShardedSummary> {
  for (let i = 0; i < n; i++) expectOk(await runCli(['run', job, '--shard', `${i}/${n}`, '--quiet'], { env }));
  const commit = await runCli(['commit', job, '--shards', String(n), '--json'], { env });
  expectOk(commit);
  return JSON.parse(commit.stdout) as ShardedSummary;
}

describe('sharded runs split by whole files', { timeout: 180_000 }, () => {
  it('a job with a `where`: each file one unit of the rows it keeps; output, rejects and rows equal one process', async () => {
    const s = await parquetJob(await tmp.make());
    const where = 'where: "amount IS NULL OR amount > 20"\n';
    const text = await readFile(s.job, 'utf8');
    await writeFile(s.job, text + where);
    const single = join(s.dir, 'single-where.yaml');
    const singleOut = join(s.dir, 'single-where', 'scores.parquet');
    const singleRejects = join(s.dir, 'single-where', 'rejects.parquet');
    await writeFile(single, text.replace(s.output, singleOut).replace(s.rejects!, singleRejects) + where);
    const one = await runCli(['run', single, '--json', '--quiet']);
    expectOk(one);
    const expected = JSON.parse(one.stdout) as RunSummary;
    expect(expected.rows.filtered).toBeGreaterThan(0);
    expect(expected.rows.rejected).toBeGreaterThan(0);

    // The plan: three units (a.parquet, b.parquet, the empty c.parquet), each of its kept rows.
    const plan = await runCli(['plan', s.job, '--shards', '3', '--json']);
    expectOk(plan);
    const report = JSON.parse(plan.stdout) as PlanReport;
    expect(report.plan.units.map((u) => u.rowGroup)).toEqual([null, null, null]);
    const kept = await withDuckDb((q) => q(`SELECT filename, count(*) AS n FROM read_parquet($1, filename = true) WHERE amount IS NULL OR amount > 20 GROUP BY filename ORDER BY filename`, [join(s.dir, 'in', '*.parquet')]));
    expect(report.plan.units.slice(0, 2).map((u) => u.rowEnd - u.rowStart)).toEqual(kept.map((r) => Number(r['n'])));
    expect(report.plan.rows).toBe(expected.rows.in);

    const summary = await shardAndCommit(s.job, 3);
    await expectSameRows(s.output, singleOut);
    await expectSameRows(s.rejects!, singleRejects);
    // The rows the `where` left out too, added up over the shards.
    expect(summary.rows).toEqual({ in: expected.rows.in, out: expected.rows.out, rejected: expected.rows.rejected, rejectedByReason: expected.rows.rejectedByReason, filtered: expected.rows.filtered });
    expect(await stagingLeftovers(s.output)).toEqual([]);
  });

  it('encrypted Parquet inputs: each file one unit, its rows counted with the key; the output, written encrypted, equals one process', async () => {
    const dir = await tmp.make();
    const inputKey = randomBytes(32);
    const outputKey = randomBytes(32);
    const files = [join(dir, 'e0.parquet'), join(dir, 'e1.parquet'), join(dir, 'e2.parquet')];
    await withDuckDb(async (q) => {
      await q('SET force_mbedtls_unsafe = true');
      await q(`PRAGMA add_parquet_key('fixture', '${inputKey.toString('base64')}')`);
      for (const [k, path] of files.entries()) {
        await q(`COPY (SELECT ${k} * 10000 + i AS id, (i % 97) / 10.0 AS a, (i % 13) / 13.0 AS b, (i % 7) / 7.0 AS c, 0.5 AS d FROM range(${1000 + 500 * k}) t(i)) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 256, ENCRYPTION_CONFIG {footer_key: 'fixture'})`);
      }
    });
    const env = { BATCHINFER_TEST_UNSAFE_MBEDTLS: '1', BATCHINFER_KEY_CUSTOMERS: inputKey.toString('base64'), BATCHINFER_KEY_SCORES: outputKey.toString('base64') };
    const job = (output: string) => YAML.stringify({ model: model('mlp'), input: join(dir, 'e*.parquet'), output, features: ['a', 'b', 'c', 'd'], labels: ['legit', 'fraud'], passthrough: ['id'], batch_size: 200, checkpoint_rows: 400, encryption: { input: { footer_key: 'customers' }, output: { footer_key: 'scores' } } });
    const [sharded, single] = [join(dir, 'sharded.yaml'), join(dir, 'single.yaml')];
    const [out, singleOut] = [join(dir, 'out', 'scores.parquet'), join(dir, 'single', 'scores.parquet')];
    await writeFile(sharded, job(out));
    await writeFile(single, job(singleOut));
    expectOk(await runCli(['run', single, '--quiet'], { env }));

    const plan = await runCli(['plan', sharded, '--shards', '2', '--json'], { env });
    expectOk(plan);
    const report = JSON.parse(plan.stdout) as PlanReport;
    expect(report.plan.units).toEqual([0, 1, 2].map((file) => ({ file, rowGroup: null, rowStart: 0, rowEnd: 1000 + 500 * file })));
    // 4,500 rows over 2 shards: cut at the file boundary nearest 2,250 (after e0 and e1: 2,500).
    expect(report.shards.map((x) => x.rows)).toEqual([2500, 2000]);
    // A shard without the key's value: KEY_MISSING (78) before anything is written.
    const noKey = await runCli(['run', sharded, '--shard', '0/2', '--quiet'], { env: { ...env, BATCHINFER_KEY_CUSTOMERS: '' } });
    expect(expectCliError(noKey, 78, 'KEY_MISSING')).toContain('CUSTOMERS');
    expect(existsSync(join(dir, 'out'))).toBe(false);

    const summary = await shardAndCommit(sharded, 2, env);
    expect(summary.rows).toMatchObject({ in: 4500, out: 4500, rejected: 0 });
    const read = (path: string): Promise<Row[]> =>
      withDuckDb(async (q) => {
        await q(`PRAGMA add_parquet_key('k', '${outputKey.toString('base64')}')`);
        return q(`SELECT * FROM read_parquet('${path}', encryption_config = {footer_key: 'k'}, file_row_number = true) ORDER BY file_row_number`);
      });
    const [got, want] = [await read(out), await read(singleOut)];
    expect(got.length).toBe(4500);
    expect(got).toEqual(want);
    // Written encrypted: it is not read without the key.
    await expect(withDuckDb((q) => q(`SELECT count(*) FROM read_parquet('${out}')`))).rejects.toThrow();
    expect(await stagingLeftovers(out)).toEqual([]);
  });
});

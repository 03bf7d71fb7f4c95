/**
 * `batchinfer plan JOB --shards N`: the split of a job's input as a sharded run would score it,
 * in JSON and for people; it records nothing, and says whether a started shard recorded the
 * same plan.
 */
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import type { PlanReport } from '../../src/core/planJob.js';
import { recordOrCheckPlan } from '../../src/shard/planRecord.js';
import { data, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-plan-');

/** A job over two Parquet files: transactions.parquet's rows as one file of 1024-row groups, and the fixture as it is. */
async function twoFileJob(): Promise<{ dir: string; job: string; inputs: string[] }> {
  const dir = await tmp.make();
  await mkdir(join(dir, 'in'));
  const inputs = [join(dir, 'in', 'a.parquet'), join(dir, 'in', 'b.parquet')];
  const db = await Db.open({ threads: 1 });
  try {
    await db.exec('COPY (SELECT * FROM read_parquet($1)) TO $2 (FORMAT parquet, ROW_GROUP_SIZE 2048)', [data('transactions.parquet'), inputs[0]!]);
  } finally {
    db.close();
  }
  await copyFile(data('transactions.parquet'), inputs[1]!);
  const job = join(dir, 'job.yaml');
  await writeFile(job, [`name: sharded`, `model: ${model('mlp')}`, `input: ${join(dir, 'in')}/`, `output: ${join(dir, 'out', 'scores.parquet')}`, 'labels: [legit, fraud]', 'inputs:', '  x:', "    columns: [amount, f0, f1, 'risk score']", '    fill_null: 0', ''].join('\n'));
  return { dir, job, inputs };
}

describe('plan', { timeout: 60_000 }, () => {
  it('--json: row groups as the files hold them, contiguous shards covering every row once; nothing written', async () => {
    const { dir, job, inputs } = await twoFileJob();
    const r = await runCli(['plan', job, '--shards', '3', '--json']);
    expectOk(r);
    const report = JSON.parse(r.stdout) as PlanReport;
    const groups = await withDuckDb(async (q) => {
      const out: number[][] = [];
      for (const path of inputs) out.push((await q('SELECT DISTINCT row_group_id, row_group_num_rows AS n FROM parquet_metadata($1) ORDER BY row_group_id', [path])).map((g) => Number(g['n'])));
      return out;
    });
    expect(report.plan.units.map((u) => [u.file, u.rowEnd - u.rowStart])).toEqual(groups.flatMap((g, f) => g.map((n) => [f, n])));
    expect(report.plan.rows).toBe(6000);
    expect(report.recorded).toBe('none');
    expect(report.shards.map((s) => s.units)).toEqual(report.plan.assignments.map((a) => [a.firstUnit, a.endUnit]));
    expect(report.shards.reduce((n, s) => n + s.rows, 0)).toBe(6000);
    const rowsRead = report.shards.flatMap((s) => s.ranges).reduce((n, x) => n + x.rowEnd - x.rowStart, 0);
    expect(rowsRead).toBe(6000);
    const largest = Math.max(...groups.flat());
    for (const s of report.shards) expect(Math.abs(s.rows - 2000)).toBeLessThanOrEqual(largest);
    expect(await readdir(dir)).toEqual(['in', 'job.yaml'].sort());
  });

  it('for people: one line per shard; then "the same" once a shard recorded it, ANOTHER once the inputs changed', async () => {
    const { dir, job, inputs } = await twoFileJob();
    const r = await runCli(['plan', job, '--shards', '2']);
    expectOk(r);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^batchinfer: plan of job sharded: 2 shards over 2 input files, \d+ units, 6,000 rows \(plan [0-9a-f]{12}\)$/);
    expect(lines[1]).toBe(`  ${join(dir, 'out', '.scores.parquet.shards')}: no shard has started (the first records this plan)`);
    expect(lines[2]).toMatch(/^ {2}shard +rows +share +units +reads$/);
    expect(lines.slice(3).map((l) => l.trim().split(/\s+/).slice(0, 3))).toEqual([['0', expect.stringMatching(/^[\d,]+$/), expect.stringMatching(/%$/)], ['1', expect.stringMatching(/^[\d,]+$/), expect.stringMatching(/%$/)]]);
    expect(r.stdout).toContain(`${inputs[1]} rows 0-3000`);

    const report = JSON.parse((await runCli(['plan', job, '--shards', '2', '--json'])).stdout) as PlanReport;
    await recordOrCheckPlan(report.shardsDir, report.plan);
    expect((JSON.parse((await runCli(['plan', job, '--shards', '2', '--json'])).stdout) as PlanReport).recorded).toBe('same');
    await copyFile(inputs[0]!, inputs[1]!);
    const changed = await runCli(['plan', job, '--shards', '2']);
    expectOk(changed);
    expect(changed.stdout).toContain('recorded by a started shard: ANOTHER plan (the inputs changed; shards would exit 65)');
  });

  it('more shards than units: the others read nothing', async () => {
    const { job } = await twoFileJob();
    const report = JSON.parse((await runCli(['plan', job, '--shards', '9', '--json'])).stdout) as PlanReport;
    expect(report.shards.length).toBe(9);
    expect(report.shards.filter((s) => s.ranges.length === 0).length).toBe(9 - report.plan.units.length);
    const text = (await runCli(['plan', job, '--shards', '9'])).stdout;
    expect(text).toContain('nothing (commits an empty manifest)');
  });

  it('usage errors: no --shards, --shards 0 or not a number, --at without a schedule', async () => {
    const { job } = await twoFileJob();
    expect(expectCliError(await runCli(['plan', job]), 2, 'USAGE')).toMatch(/required option '--shards <n>' not specified/);
    expect(expectCliError(await runCli(['plan', job, '--shards', '0']), 2, 'USAGE')).toBe('batchinfer: USAGE: --shards takes a number of shards from 1 to 100000 (expected 1..100000, got 0)\n');
    expect(expectCliError(await runCli(['plan', job, '--shards', 'four', '--json']), 2, 'USAGE')).toMatch(/got four/);
    expect(expectCliError(await runCli(['plan', job, '--shards', '2', '--at', '2026-11-29T08:00:00Z']), 2, 'USAGE')).toMatch(/--at needs a job with a `schedule`/);
  });
});

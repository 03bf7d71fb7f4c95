/**
 * How a sharded run fails: each failure with its message and exit code, and nothing committed
 * at the output (its shards' directory stays, for the shards to be rerun).
 */
import { access, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { VerifyReport } from '../../src/core/commitSharded.js';
import { Db } from '../../src/db/duckdb.js';
import { data, describeResult, expectCliError, expectOk, runCli, startCli } from '../helpers/cli.js';
import { parquetJob, type ShardedJob } from '../helpers/shardedJob.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-shard-failures-');

const shardsDir = (s: ShardedJob): string => join(dirname(s.output), `.${basename(s.output)}.shards`);
const run = (s: ShardedJob, i: number, n: number, env: Record<string, string> = {}) => runCli(['run', s.job, '--shard', `${i}/${n}`, '--quiet'], { env });

/** Nothing at the output: no file, no summary, no rejects file; only the shards' directory (if a shard started). */
async function expectNothingCommitted(s: ShardedJob): Promise<void> {
  const left = await readdir(dirname(s.output)).catch(() => []);
  expect(left.filter((f) => f !== `.${basename(s.output)}.shards`)).toEqual([]);
}

/** Rewrites input b with other rows (another size): the inputs changed. */
async function changeInput(path: string): Promise<void> {
  const db = await Db.open({ threads: 1 });
  try {
    await db.exec("COPY (SELECT txn_id || '-x' AS txn_id, amount, f0, f1, \"risk score\" FROM read_parquet($1) LIMIT 1500) TO $2 (FORMAT parquet)", [data('transactions.parquet'), path]);
  } finally {
    db.close();
  }
}

describe('sharded run failures', { timeout: 120_000 }, () => {
  it('commit with a shard missing: 66 naming it, nothing committed; verify names it, exit 1', async () => {
    const s = await parquetJob(await tmp.make());
    expectOk(await run(s, 0, 3));
    expectOk(await run(s, 2, 3));
    const r = await runCli(['commit', s.job, '--shards', '3']);
    const err = expectCliError(r, 66, 'INPUT_MISSING');
    expect(err).toContain('2 of 3 shards are done; no manifest from shard 1: rerun shard 1');
    await expectNothingCommitted(s);
    const v = await runCli(['verify', s.job, '--shards', '3']);
    expect(v.code, describeResult(v)).toBe(1);
    expect(v.stdout).toContain('shard 1: missing (not started, running, or killed)');
    expect(v.stdout).toContain('sbatch --array=1 deploy/slurm/shards.sbatch');
    expect(v.stdout).toContain(`batchinfer run ${s.job} --shard 1/3`);
  });

  it('an index not below N, and --shard auto with no index in the environment: usage errors (2) naming what was read; nothing written', async () => {
    const s = await parquetJob(await tmp.make());
    expect(expectCliError(await run(s, 3, 3), 2, 'USAGE')).toContain('shard index 3 is not below the number of shards 3 (read --shard 3/3)');
    const noIndex = { SLURM_ARRAY_TASK_ID: '', JOB_COMPLETION_INDEX: '', AWS_BATCH_JOB_ARRAY_INDEX: '', BATCH_TASK_INDEX: '', SLURM_ARRAY_TASK_COUNT: '4' };
    const auto = await runCli(['run', s.job, '--shard', 'auto', '--shards', '4'], { env: noIndex });
    expect(expectCliError(auto, 2, 'USAGE')).toContain('--shard auto found no array index in the environment: none of SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, AWS_BATCH_JOB_ARRAY_INDEX, BATCH_TASK_INDEX is set (SLURM_ARRAY_TASK_COUNT is set but gives no index)');
    const slurm = await runCli(['run', s.job, '--shard', 'auto', '--shards', '4'], { env: { SLURM_ARRAY_TASK_ID: '4' } });
    expect(expectCliError(slurm, 2, 'USAGE')).toContain('submit --array=0-3');
    await expect(access(dirname(s.output))).rejects.toThrow();
  });

  it('an input changed between two shards: the later one exits 65 naming the file, verify shows it failed, commit refuses', async () => {
    const s = await parquetJob(await tmp.make());
    expectOk(await run(s, 0, 2));
    await changeInput(s.inputs[1]!);
    const r = await run(s, 1, 2);
    const err = expectCliError(r, 65, 'INPUTS_CHANGED');
    expect(err).toContain('the inputs changed since the first shard recorded the plan');
    expect(err).toContain('b.parquet');
    const v = await runCli(['verify', s.job, '--shards', '2', '--json']);
    expect(v.code).toBe(1);
    const report = JSON.parse(v.stdout) as VerifyReport;
    expect(report).toMatchObject({ complete: false, committed: [0], failed: [1], missing: [], stale: [] });
    expect(report.failures[0]).toMatchObject({ shard: 1, attempt: 1, code: 'INPUTS_CHANGED', exitCode: 65 });
    // The commit checks the inputs before the shards: they are not those of the plan.
    expect(expectCliError(await runCli(['commit', s.job, '--shards', '2']), 65, 'INPUTS_CHANGED')).toContain('b.parquet changed');
    await expectNothingCommitted(s);
  });

  it('an input only touched between shards, or after them: INPUTS_CHANGED (65) naming it (shards hash no input); nothing committed', async () => {
    const s = await parquetJob(await tmp.make());
    expectOk(await run(s, 0, 2));
    // Shard 0 reads only a.parquet: its manifest stamps it (size, mtime), with no content hash.
    const manifest = JSON.parse(await readFile(join(shardsDir(s), 'shard-0', 'manifest.json'), 'utf8')) as { format: string; inputs: unknown[] };
    const a = await stat(s.inputs[0]!);
    expect(manifest.format).toBe('batchinfer-shard-manifest/2');
    expect(manifest.inputs).toEqual([{ file: 0, bytes: a.size, mtime: a.mtime.toISOString() }]);
    const later = new Date('2030-01-01T00:00:00Z');
    const b = s.inputs[1]!;
    const before = await stat(b);
    await utimes(b, later, later);
    const touched = expectCliError(await run(s, 1, 2), 65, 'INPUTS_CHANGED');
    expect(touched).toContain(`input file ${b} was modified since the shards' plan was recorded (same size, mtime ${before.mtime.toISOString()} -> 2030-01-01T00:00:00.000Z)`);
    // Put back, the shard scores; touched again after every shard ran, the commit refuses.
    await utimes(b, before.atime, before.mtime);
    expectOk(await run(s, 1, 2));
    await utimes(b, later, later);
    const commit = expectCliError(await runCli(['commit', s.job, '--shards', '2']), 65, 'INPUTS_CHANGED');
    expect(commit).toContain(`${b} (planned ${before.size} bytes, mtime ${before.mtime.toISOString()}): now ${before.size} bytes, mtime 2030-01-01T00:00:00.000Z`);
    await expectNothingCommitted(s);
    await utimes(b, before.atime, before.mtime);
    expectOk(await runCli(['commit', s.job, '--shards', '2']));
  });

  it('two live attempts of one shard: the second exits 75, the first finishes; no failure is recorded', async () => {
    const s = await parquetJob(await tmp.make());
    const first = startCli(['run', s.job, '--shard', '0/2', '--quiet'], { env: { BATCHINFER_FAILPOINT: 'part-journaled:1:pause=5000' } });
    const part = join(shardsDir(s), 'shard-0', 'part-0-0.parquet');
    for (let waited = 0; !(await access(part).then(() => true, () => false)); waited += 50) {
      if (waited > 30_000) throw new Error('the first attempt wrote no part');
      await new Promise((r) => setTimeout(r, 50));
    }
    const second = await run(s, 0, 2);
    expect(expectCliError(second, 75, 'LOCKED')).toContain('shard-0.lock');
    expectOk(await first.result);
    const v = JSON.parse((await runCli(['verify', s.job, '--shards', '2', '--json'])).stdout) as VerifyReport;
    expect(v).toMatchObject({ committed: [0], missing: [1], failed: [] });
  });

  it('commit of a stale plan: inputs changed after the shards ran (65), a manifest of another plan (66); nothing committed', async () => {
    const s = await parquetJob(await tmp.make());
    expectOk(await run(s, 0, 2));
    expectOk(await run(s, 1, 2));
    // Another --shards than the plan's: a usage error, for a shard as for the commit; no failure is recorded.
    expect(expectCliError(await run(s, 0, 3), 2, 'USAGE')).toContain('the shards of this output were planned for 2 shards, not 3');
    expect(expectCliError(await runCli(['commit', s.job, '--shards', '3']), 2, 'USAGE')).toContain('planned for 2 shards, not 3');
    await expect(access(join(shardsDir(s), 'shard-0.failed.json'))).rejects.toThrow();
    expect(await readFile(join(shardsDir(s), 'shard-0.attempt'), 'utf8')).toBe('1\n');
    // A manifest of another plan: that shard is stale, to be rerun.
    const manifestPath = join(shardsDir(s), 'shard-1', 'manifest.json');
    const manifest = await readFile(manifestPath, 'utf8');
    await writeFile(manifestPath, manifest.replace(/"planHash": "[0-9a-f]+"/, `"planHash": "${'0'.repeat(64)}"`));
    expect(expectCliError(await runCli(['commit', s.job, '--shards', '2']), 66, 'INPUT_MISSING')).toContain('shard 1 scored another plan');
    expect(JSON.parse((await runCli(['verify', s.job, '--shards', '2', '--json'])).stdout)).toMatchObject({ complete: false, committed: [0], stale: [1] });
    await writeFile(manifestPath, manifest);
    // The inputs changed after every shard ran: the output would not be theirs.
    await changeInput(s.inputs[1]!);
    const err = expectCliError(await runCli(['commit', s.job, '--shards', '2']), 65, 'INPUTS_CHANGED');
    expect(err).toContain('b.parquet');
    await expectNothingCommitted(s);
  });
  it('the job edited between shards: the commit refuses (65) naming the shards and the settings that decide the output; a batch size is no such setting', async () => {
    const s = await parquetJob(await tmp.make());
    const text = await readFile(s.job, 'utf8');
    expectOk(await run(s, 0, 3));
    // Another batch size changes no output row: shard 1 agrees with shard 0.
    await writeFile(s.job, text.replace('batch_size: 256', 'batch_size: 512'));
    expectOk(await run(s, 1, 3));
    // Other labels: shard 2 writes other prediction columns than shards 0 and 1.
    await writeFile(s.job, text.replace('labels: [legit, fraud]', 'labels: [ok, fraud]'));
    expectOk(await run(s, 2, 3));
    const edited = expectCliError(await runCli(['commit', s.job, '--shards', '3']), 65, 'INPUT_INVALID');
    expect(edited).toContain("shard 0 ran with other settings than this job's (predictions)");
    expect(edited).toContain("shard 1 ran with other settings than this job's (predictions)");
    expect(edited).not.toContain('shard 2 ran');
    await writeFile(s.job, text);
    const original = expectCliError(await runCli(['commit', s.job, '--shards', '3']), 65, 'INPUT_INVALID');
    expect(original).toContain("shard 2 ran with other settings than this job's (predictions)");
    await expectNothingCommitted(s);
  });
});

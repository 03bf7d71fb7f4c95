/**
 * Sharded runs end to end with the real CLI: N shard processes started as each array engine
 * starts them (its environment variables, its deployment file's flags), one killed with SIGKILL
 * mid-run and retried (it resumes its own journal), then `commit`: the output equals the output
 * of one process running the same job, row for row, the rejects file too, the summary adds up,
 * and nothing of the staging is left.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ShardedSummary, VerifyReport } from '../../src/core/commitSharded.js';
import type { RunSummary } from '../../src/core/summary.js';
import type { ShardManifest } from '../../src/sink/shardManifest.js';
import { describeResult, expectOk, runCli, startCli, type CliResult } from '../helpers/cli.js';
import { engineEnv, engineFlags, type Engine } from '../helpers/engines.js';
import { csvJob, expectSameRows, parquetJob, windowJob, type ShardedJob } from '../helpers/shardedJob.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-shards-');

/** Shard `i` of `n` as `engine` starts it; `env` adds to the engine's. */
function shard(s: ShardedJob, engine: Engine, i: number, n: number, env: Record<string, string> = {}, attempt = 1): Promise<CliResult> {
  return startCli(['run', s.job, ...engineFlags(engine, n), '--json', '--quiet'], { env: { ...engineEnv(engine, i, n, { attempt }), ...env } }).result;
}

/** Runs N shards at once, shard `killed` with a crash after its second journaled part; retries it; commits. */
async function shardedRun(s: ShardedJob, engine: Engine, n: number, killed: number): Promise<{ summary: ShardedSummary; retried: RunSummary }> {
  const first = await Promise.all(Array.from({ length: n }, (_, i) => shard(s, engine, i, n, i === killed ? { BATCHINFER_FAILPOINT: 'part-journaled:2' } : {})));
  for (const [i, r] of first.entries()) {
    if (i === killed) expect(r.signal, describeResult(r)).toBe('SIGKILL');
    else expectOk(r);
  }
  // verify names the killed shard as missing (no manifest, no failure record: it was killed).
  const before = await runCli(['verify', s.job, '--shards', String(n), '--json']);
  expect(before.code, describeResult(before)).toBe(1);
  expect(JSON.parse(before.stdout)).toMatchObject({ complete: false, committed: Array.from({ length: n }, (_, i) => i).filter((i) => i !== killed), missing: [killed], failed: [], stale: [] });
  // A commit now refuses, naming the shard, and writes nothing.
  const early = await runCli(['commit', s.job, '--shards', String(n)]);
  expect(early.code, describeResult(early)).toBe(66);
  expect(early.stderr).toContain(`rerun shard ${killed}`);
  await expect(readdir(dirname(s.output))).resolves.toEqual([`.${basename(s.output)}.shards`]);

  const retry = await shard(s, engine, killed, n, {}, 2);
  expectOk(retry);
  const retried = JSON.parse(retry.stdout) as RunSummary;
  const commit = await runCli(['commit', s.job, '--shards', String(n), '--json']);
  expectOk(commit);
  return { summary: JSON.parse(commit.stdout) as ShardedSummary, retried };
}

async function expectCommitted(s: ShardedJob, summary: ShardedSummary, n: number, killed: number): Promise<void> {
  await expectSameRows(s.output, s.single.output);
  if (s.rejects) await expectSameRows(s.rejects, s.single.rejects!);
  const single = JSON.parse(await readFile(`${s.single.output}.summary.json`, 'utf8')) as RunSummary;
  expect(summary.rows).toEqual({ in: single.rows.in, out: single.rows.out, rejected: single.rows.rejected, rejectedByReason: single.rows.rejectedByReason });
  expect(summary.rows.in).toBe(summary.rows.out + summary.rows.rejected);
  expect(summary.shards.rows.reduce((a, b) => a + b, 0)).toBe(summary.rows.in);
  expect(summary.shards.attempts).toEqual(Array.from({ length: n }, (_, i) => (i === killed ? 2 : 1)));
  expect(summary.output.files).toEqual([s.output]);
  expect(summary.manifest).toHaveLength(1);
  expect(summary.manifest[0]!.rows).toBe(single.rows.out);
  // The summary beside the output is the one printed.
  expect(JSON.parse(await readFile(`${s.output}.summary.json`, 'utf8'))).toEqual(summary);
  // Nothing of the staging is left: no shard directory, no temp files.
  expect(await stagingLeftovers(s.output)).toEqual([]);
  expect((await readdir(dirname(s.output))).sort()).toEqual(['rejects.parquet', 'scores.parquet', 'scores.parquet.summary.json'].filter((f) => s.rejects || f !== 'rejects.parquet'));
  // verify: complete; commit again: nothing to do.
  const verify = await runCli(['verify', s.job, '--shards', String(n), '--json']);
  expectOk(verify);
  expect(JSON.parse(verify.stdout)).toMatchObject({ complete: true, outputCommitted: true, committed: Array.from({ length: n }, (_, i) => i) } satisfies Partial<VerifyReport>);
  const again = await runCli(['commit', s.job, '--shards', String(n)]);
  expectOk(again);
  expect(again.stderr).toContain('already committed');
}

describe('sharded runs equal one process', { timeout: 240_000 }, () => {
  it.each([
    ['slurm', 3, 1],
    ['aws-batch', 4, 2],
  ] as const)('Parquet, several row groups per file, quarantine: %s, %i shards, shard %i killed and retried', async (engine, n, killed) => {
    const s = await parquetJob(await tmp.make());
    const { summary, retried } = await shardedRun(s, engine, n, killed);
    // The retry resumed its own journal: the parts before the crash were kept.
    expect(retried.resumedRows).toBeGreaterThan(0);
    expect(retried.shard).toMatchObject({ index: killed, count: n, attempt: 2 });
    expect(summary.rows.rejected).toBe(5 * 91);
    await expectCommitted(s, summary, n, killed);
  });

  it.each([
    ['kubernetes', 4, 0],
    ['cloud-batch', 3, 2],
  ] as const)('CSV, whole files: %s, %i shards, shard %i killed and retried', async (engine, n, killed) => {
    const s = await csvJob(await tmp.make());
    const { summary, retried } = await shardedRun(s, engine, n, killed);
    expect(retried.resumedRows).toBeGreaterThan(0);
    await expectCommitted(s, summary, n, killed);
  });

  it('a shard whose manifest is written exits 0 without work; more shards than units: the empty ones commit empty manifests; a directory output, one file per input', async () => {
    const s = await csvJob(await tmp.make(), { directory: true });
    const n = 7;
    for (let i = 0; i < n; i++) expectOk(await runCli(['run', s.job, '--shard', `${i}/${n}`, '--quiet']));
    const again = await runCli(['run', s.job, '--shard', `3/${n}`]);
    expectOk(again);
    expect(again.stderr).toMatch(/^batchinfer: shard 3\/7 of job sharded-csv is done already/);
    const shardsDir = join(dirname(s.output), `.scores.shards`);
    const manifests = await Promise.all(Array.from({ length: n }, async (_, i) => JSON.parse(await readFile(join(shardsDir, `shard-${i}`, 'manifest.json'), 'utf8')) as ShardManifest));
    expect(manifests.filter((m) => m.units.length === 0).length).toBe(2);
    expect(manifests.map((m) => m.attempt)).toEqual(new Array(n).fill(1));
    expectOk(await runCli(['commit', s.job, '--shards', String(n)]));
    const files = (await readdir(s.output)).sort();
    expect(files).toEqual((await readdir(s.single.output)).sort());
    expect(files.filter((f) => f.endsWith('.parquet'))).toEqual(['t0.parquet', 't1.parquet', 't2.parquet', 't3.parquet', 't4.parquet']);
    for (const f of files.filter((f) => f.endsWith('.parquet'))) await expectSameRows(join(s.output, f), join(s.single.output, f));
    expect(await stagingLeftovers(s.output)).toEqual([]);
  });

  it('a scheduled window x 3 shards (each file whole: its window rows), one killed and retried, committed once with its _SUCCESS; equal to the window run by one process', async () => {
    const at = '2026-11-29T01:00:00Z';
    const s = await windowJob(await tmp.make(), at);
    const n = 3;
    const args = (i: number) => ['run', s.job, '--at', at, '--shard', `${i}/${n}`, '--quiet', '--json'];
    const first = await Promise.all([0, 1, 2].map((i) => startCli(args(i), i === 1 ? { env: { BATCHINFER_FAILPOINT: 'part-journaled:1' } } : {}).result));
    expect(first[1]!.signal, describeResult(first[1]!)).toBe('SIGKILL');
    for (const i of [0, 2]) expectOk(first[i]!);
    const retry = await runCli(args(1));
    expectOk(retry);
    expect((JSON.parse(retry.stdout) as RunSummary).resumedRows).toBeGreaterThan(0);
    // Before the commit, status shows the window's shards in progress: all done, to commit.
    const sharding = await runCli(['status', s.job, '--from', at, '--to', '2026-11-29T02:00:00Z', '--json']);
    expectOk(sharding);
    expect(JSON.parse(sharding.stdout)).toMatchObject([{ state: 'sharding', shards: { count: n, committed: [0, 1, 2], running: [], failed: [], stale: [], missing: [] } }]);
    const commit = await runCli(['commit', s.job, '--at', at, '--shards', String(n), '--json']);
    expectOk(commit);
    const summary = JSON.parse(commit.stdout) as ShardedSummary;
    expect(summary.window).toEqual({ start: '2026-11-29T01:00:00.000Z', end: '2026-11-29T02:00:00.000Z' });
    await expectSameRows(join(s.output, 'part-*.parquet'), join(s.single.output, 'part-*.parquet'));
    await expectSameRows(s.rejects!, s.single.rejects!);
    const manifest = JSON.parse(await readFile(join(s.output, '_SUCCESS'), 'utf8')) as { window: unknown; rows: unknown; inputs: { sha256?: string }[] };
    const single = JSON.parse(await readFile(join(s.single.output, '_SUCCESS'), 'utf8')) as typeof manifest;
    expect(manifest.window).toEqual(single.window);
    expect(manifest.rows).toEqual(single.rows);
    expect(manifest.inputs.map((i) => i.sha256)).toEqual(single.inputs.map((i) => i.sha256));
    expect(JSON.parse(await readFile(join(s.output, '_summary.json'), 'utf8'))).toMatchObject({ shards: { count: n, attempts: [1, 2, 1] } });
    expect(await stagingLeftovers(s.output)).toEqual([]);
    // The window is committed: status says so, commit and verify find it done.
    const status = await runCli(['status', s.job, '--from', at, '--to', '2026-11-29T02:00:00Z', '--json']);
    expectOk(status);
    expect(JSON.parse(status.stdout)).toMatchObject([{ state: 'committed' }]);
    const again = await runCli(['commit', s.job, '--at', at, '--shards', String(n)]);
    expectOk(again);
    expect(again.stderr).toContain('already committed');
    const verify = await runCli(['verify', s.job, '--at', at, '--shards', String(n), '--json']);
    expectOk(verify);
    expect(JSON.parse(verify.stdout)).toMatchObject({ complete: true, outputCommitted: true });
  });
});

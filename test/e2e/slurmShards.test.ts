/**
 * A sharded run of a real job on a real single-node Slurm (test/helpers/slurm.ts), through the
 * deployment scripts: a 4-task array of deploy/slurm/shards.sbatch running the real CLI, and
 * deploy/slurm/commit.sbatch submitted with afterok. Task 2's first attempt is killed with
 * SIGKILL after its second part (BATCHINFER_FAILPOINT, set by a wrapper for that task alone:
 * every task inherits the submission's environment) and reported as 75, a code the script
 * requeues on; its second attempt resumes its journal. The committed output equals one
 * process's run row for row, and the commit's summary accounts for every shard. Under CI=true
 * this never skips.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShardedSummary } from '../../src/core/commitSharded.js';
import { BIN, REPO_ROOT } from '../helpers/cli.js';
import { expectSameRows, parquetJob } from '../helpers/shardedJob.js';
import { slurmUnavailable, startSlurm, type SlurmCluster } from '../helpers/slurm.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-slurm-shards-');
const unavailable = await slurmUnavailable();
if (unavailable && process.env['CI'] === 'true') throw new Error(`the Slurm test cannot run under CI: ${unavailable}`);

/** The real CLI; task 2's first `run` is killed after its second part and says 75 (interrupted: worth a retry). */
const wrapper = (log: string) => `#!/bin/sh
echo "$SLURM_ARRAY_TASK_ID restart=\${SLURM_RESTART_COUNT:-0} $1" >> ${log}
if [ "$1" = run ] && [ "$SLURM_ARRAY_TASK_ID" = 2 ] && [ "\${SLURM_RESTART_COUNT:-0}" = 0 ]; then
  BATCHINFER_FAILPOINT=part-journaled:2 "${process.execPath}" "${BIN}" "$@"
  rc=$?
  echo "2 killed rc=$rc" >> ${log}
  [ $rc -ge 128 ] && exit 75
  exit $rc
fi
exec "${process.execPath}" "${BIN}" "$@"
`;

describe.skipIf(unavailable !== null)(`a sharded run on Slurm${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let slurm: SlurmCluster;
  beforeAll(async () => {
    slurm = await startSlurm({ cpus: 4 });
  }, 30_000);
  afterAll(async () => {
    await slurm?.stop();
  }, 30_000);

  it('4 array tasks, task 2 killed and requeued, commit after them (afterok): the output of one process, every shard accounted for', async () => {
    const s = await parquetJob(await tmp.make());
    const log = join(s.dir, 'calls.log');
    const fake = join(s.dir, 'batchinfer.sh');
    await writeFile(fake, wrapper(log));
    await chmod(fake, 0o755);
    const env = { JOB: s.job, SHARDS: '4', BATCHINFER: fake };
    const started = performance.now();
    const array = await slurm.sbatch(['--array=0-3', '--cpus-per-task=1', '-D', s.dir, '--output', join(s.dir, 'shard-%a.log'), join(REPO_ROOT, 'deploy/slurm/shards.sbatch')], env);
    const commit = await slurm.sbatch([`--dependency=afterok:${array}`, '--kill-on-invalid-dep=yes', '--cpus-per-task=1', '-D', s.dir, '--output', join(s.dir, 'commit.log'), join(REPO_ROOT, 'deploy/slurm/commit.sbatch')], env);
    await slurm.waitGone([array, commit], { timeoutMs: 120_000, onPoll: async () => void (await slurm.releaseRequeued(array, { afterMs: 1500 })) });
    const wallMs = performance.now() - started;
    const logs = `${await readFile(log, 'utf8').catch(() => '')}\ncommit.log:\n${await readFile(join(s.dir, 'commit.log'), 'utf8').catch(() => '')}\nshard-2.log:\n${await readFile(join(s.dir, 'shard-2.log'), 'utf8').catch(() => '')}`;

    for (const i of [0, 1, 2, 3]) expect(await slurm.state(`${array}_${i}`), logs).toMatchObject({ state: 'COMPLETED', exitCode: 0, restarts: i === 2 ? 1 : 0 });
    expect(await slurm.state(commit), logs).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls.filter((c) => c.startsWith('2 ')), logs).toEqual(['2 restart=0 run', '2 killed rc=137', '2 restart=1 run']);
    expect(calls.at(-1)).toMatch(/ commit$/);

    await expectSameRows(s.output, s.single.output);
    await expectSameRows(s.rejects!, s.single.rejects!);
    const summary = JSON.parse(await readFile(`${s.output}.summary.json`, 'utf8')) as ShardedSummary;
    expect(summary.shards.count).toBe(4);
    expect(summary.shards.attempts).toEqual([1, 1, 2, 1]);
    expect(summary.shards.rows.reduce((a, b) => a + b, 0)).toBe(summary.rows.in);
    expect(summary.rows.in).toBe(15_000);
    expect(await stagingLeftovers(s.output)).toEqual([]);
    process.stderr.write(`slurm: 4 shards + requeue + commit of a 15,000-row job: ${wallMs.toFixed(0)} ms\n`);
  }, 150_000);
});

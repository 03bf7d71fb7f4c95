/**
 * deploy/slurm/shards.sbatch and commit.sbatch on a real single-node Slurm (test/helpers/slurm.ts),
 * with a stand-in for batchinfer (a shell script): a 4-task array where task 2 exits 75 on its
 * first attempt, requeues itself and succeeds, and the commit, submitted with afterok, runs
 * once after all four. Under CI=true this never skips.
 */
import { chmod, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { slurmUnavailable, startSlurm, type SlurmCluster } from '../helpers/slurm.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-slurm-work-');
const unavailable = await slurmUnavailable();
if (unavailable && process.env['CI'] === 'true') throw new Error(`the Slurm test cannot run under CI: ${unavailable}`);

/** Stands in for batchinfer: records each call; `run` of shard 2 exits 75 the first time. */
const FAKE_BATCHINFER = `#!/bin/sh
cmd=$1
if [ "$cmd" = run ]; then
  i=$SLURM_ARRAY_TASK_ID
  if [ "$i" = 2 ] && [ ! -e first-attempt-2 ]; then
    touch first-attempt-2
    echo "$i restart=\${SLURM_RESTART_COUNT:-0} exit=75 args=$*" >> calls.log
    exit 75
  fi
  echo "$i restart=\${SLURM_RESTART_COUNT:-0} exit=0 args=$*" >> calls.log
  touch "done-$i"
  exit 0
fi
echo "commit saw $(ls done-* | tr '\\n' ' ')args=$*" >> calls.log
`;

describe.skipIf(unavailable !== null)(`Slurm array with deploy/slurm${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let slurm: SlurmCluster;
  let startMs = 0;
  beforeAll(async () => {
    const started = performance.now();
    slurm = await startSlurm({ cpus: 4 });
    startMs = performance.now() - started;
  }, 30_000);
  afterAll(async () => {
    await slurm?.stop();
  }, 30_000);

  it('a task that exits 75 requeues itself and succeeds; the afterok commit runs once, after all four', async () => {
    const work = await tmp.make();
    const fake = join(work, 'fake-batchinfer.sh');
    await writeFile(fake, FAKE_BATCHINFER);
    await chmod(fake, 0o755);
    const env = { JOB: join(work, 'job.yaml'), SHARDS: '4', BATCHINFER: fake };
    const started = performance.now();
    const array = await slurm.sbatch(['--array=0-3', '--cpus-per-task=1', '-D', work, '--output', join(work, 'shard-%a.log'), join(REPO_ROOT, 'deploy/slurm/shards.sbatch')], env);
    const commit = await slurm.sbatch([`--dependency=afterok:${array}`, '--kill-on-invalid-dep=yes', '--cpus-per-task=1', '-D', work, '--output', join(work, 'commit.log'), join(REPO_ROOT, 'deploy/slurm/commit.sbatch')], env);
    const released: string[] = [];
    await slurm.waitGone([array, commit], { timeoutMs: 60_000, onPoll: async () => void released.push(...(await slurm.releaseRequeued(array, { afterMs: 1500 }))) });
    const wallMs = performance.now() - started;

    const calls = (await readFile(join(work, 'calls.log'), 'utf8')).trim().split('\n');
    const runArgs = `args=run ${env.JOB} --shard auto --shards 4 --quiet`;
    expect(calls.filter((c) => c.startsWith('2 ')), calls.join('\n')).toEqual([`2 restart=0 exit=75 ${runArgs}`, `2 restart=1 exit=0 ${runArgs}`]);
    for (const i of [0, 1, 3]) expect(calls.filter((c) => c.startsWith(`${i} `))).toEqual([`${i} restart=0 exit=0 ${runArgs}`]);
    // The commit ran once, last, and saw every shard done.
    expect(calls.filter((c) => c.startsWith('commit'))).toEqual([`commit saw done-0 done-1 done-2 done-3 args=commit ${env.JOB} --shards 4`]);
    expect(calls.at(-1)).toMatch(/^commit /);
    for (const i of [0, 1, 2, 3]) expect(await slurm.state(`${array}_${i}`)).toMatchObject({ state: 'COMPLETED', exitCode: 0, restarts: i === 2 ? 1 : 0 });
    expect(await slurm.state(commit)).toMatchObject({ state: 'COMPLETED', exitCode: 0 });
    expect(released).toContain(`${array}_2`);
    expect(await readFile(join(work, 'shard-2.log'), 'utf8')).toContain('batchinfer exited 75: requeueing shard 2 (restart 1 of 3)');
    expect((await readdir(work)).filter((n) => n.startsWith('done-')).sort()).toEqual(['done-0', 'done-1', 'done-2', 'done-3']);
    process.stderr.write(`slurm: cold start ${startMs.toFixed(0)} ms; array + requeue + commit ${wallMs.toFixed(0)} ms\n`);
  }, 90_000);

  it('a task rerun by hand after it failed (scontrol requeue) succeeds, but afterok on its array never holds again', async () => {
    const work = await tmp.make();
    const script = join(work, 'task.sh');
    await writeFile(script, '#!/bin/sh\nif [ ! -e failed-once ]; then touch failed-once; exit 65; fi\ntouch done\n');
    await chmod(script, 0o755);
    const array = await slurm.sbatch(['--array=0', '--cpus-per-task=1', '-D', work, '--output', '/dev/null', script]);
    await slurm.waitGone([array]);
    expect(await slurm.state(`${array}_0`)).toMatchObject({ state: 'FAILED', exitCode: 65 });
    await slurm.requeue(`${array}_0`);
    await slurm.waitGone([array]);
    expect(await slurm.state(`${array}_0`)).toMatchObject({ state: 'COMPLETED', exitCode: 0, restarts: 1 });
    const after = await slurm.sbatch([`--dependency=afterok:${array}`, '--cpus-per-task=1', '-D', work, '--output', '/dev/null', '--wrap', 'true']);
    let state = await slurm.state(after);
    for (let i = 0; i < 30 && state.reason !== 'DependencyNeverSatisfied'; i++) state = await new Promise((r) => setTimeout(r, 100)).then(() => slurm.state(after));
    expect(state).toMatchObject({ state: 'PENDING', reason: 'DependencyNeverSatisfied' });
  }, 60_000);
});

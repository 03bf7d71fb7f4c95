/**
 * A single-node Slurm cluster in a temporary directory, for tests that submit real array
 * jobs: its own munge daemon (own key and socket), slurmctld and slurmd on free ports, every
 * state, spool, log and pid file under the directory. Started without systemd; stopped by the
 * pids in its own pid files only. Needs root and Debian's slurmctld, slurmd, slurm-client and
 * munge packages (.ci/run installs them).
 *
 * Slurm facts it relies on (slurm-wlm 22.05): `sbatch --wait` polls at 2 s, 10 s, then 32 s,
 * so jobs are polled with `squeue -h -j ID`; without accounting there is no `sacct`, and a
 * task's end state and exit code come from `scontrol -o show job ID_I`; a requeued task is
 * held back ~120 s (`BeginTime`) unless its StartTime is set to now.
 *
 * @example
 *   const slurm = await startSlurm();
 *   try { const id = await slurm.sbatch(['--array=0-3', script]); await slurm.waitGone([id]); } finally { await slurm.stop(); }
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const COMMANDS = ['munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'sinfo', 'scancel', 'runuser'];

/** Why Slurm cannot run here (not root, a missing command), or null when it can. */
export async function slurmUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'the Slurm harness starts munged, slurmctld and slurmd as root';
  const missing: string[] = [];
  for (const c of COMMANDS) if (!(await run('sh', ['-c', `command -v ${c}`]).then(() => true, () => false))) missing.push(c);
  if (missing.length > 0) return `missing ${missing.join(', ')} (apt-get install --no-install-recommends slurmctld slurmd slurm-client munge)`;
  return null;
}

/** A task's or job's state as `scontrol -o show job` reports it. */
export interface JobState {
  state: string;
  reason: string;
  exitCode: number;
  /** The signal that ended it (the number after the colon of ExitCode). */
  signal: number;
  restarts: number;
}

export interface SlurmCluster {
  dir: string;
  /** The environment for Slurm's commands and jobs: SLURM_CONF points at this cluster. */
  env: NodeJS.ProcessEnv;
  /** `sbatch --parsable ...`: the job id. */
  sbatch(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string>;
  scontrol(args: readonly string[]): Promise<string>;
  state(id: string): Promise<JobState>;
  /** Polls `squeue` until none of `ids` is queued or running; `onPoll` may act between polls. */
  waitGone(ids: readonly string[], options?: { timeoutMs?: number; onPoll?: () => Promise<void> }): Promise<void>;
  /**
   * Starts the tasks of `id` held back after a requeue (`BeginTime`), once each has been seen
   * held for `afterMs`: slurmd refuses to launch a task in the same second its requeue killed it
   * (the credential's time has a resolution of a second: "already killed, do not launch").
   */
  releaseRequeued(id: string, options?: { afterMs?: number }): Promise<string[]>;
  /** Reruns a finished task (`scontrol requeue`), a second later. */
  requeue(task: string): Promise<void>;
  /** The cluster's logs, for a failing test's message. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

export interface SlurmOptions {
  /** CPUs the node advertises (SlurmdParameters=config_overrides lets it exceed the machine's). */
  cpus?: number;
  /** How long to wait for the node to be idle. */
  startTimeoutMs?: number;
}

/** Starts munged, slurmctld and slurmd and waits until the node is idle. */
export async function startSlurm(options: SlurmOptions = {}): Promise<SlurmCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'batchinfer-slurm-'));
  // munged runs as the munge user: it must reach its socket directory below this one.
  await chmod(dir, 0o755);
  const munge = join(dir, 'munge');
  for (const d of ['state', 'spool', 'log', 'munge']) await mkdir(join(dir, d));
  const pidFiles = { munged: join(munge, 'munged.pid'), slurmctld: join(dir, 'slurmctld.pid'), slurmd: join(dir, 'slurmd.pid') };
  const env = { ...process.env, SLURM_CONF: join(dir, 'slurm.conf') };
  const cluster = makeCluster(dir, env, pidFiles);
  try {
    await run('mungekey', ['--create', `--keyfile=${join(munge, 'munge.key')}`]);
    const { uid, gid } = await userIds('munge');
    for (const p of [munge, join(munge, 'munge.key')]) await chown(p, uid, gid);
    await chmod(munge, 0o755);
    const socket = join(munge, 'munge.socket');
    await run('runuser', ['-u', 'munge', '--', 'munged', '--force', `--socket=${socket}`, `--key-file=${join(munge, 'munge.key')}`, `--pid-file=${pidFiles.munged}`, `--log-file=${join(munge, 'munged.log')}`, `--seed-file=${join(munge, 'munged.seed')}`]);
    const [ctldPort, slurmdPort] = await freePorts(2);
    await writeFile(env.SLURM_CONF, slurmConf({ dir, socket, ctldPort: ctldPort!, slurmdPort: slurmdPort!, cpus: options.cpus ?? 2, pidFiles }));
    await run('slurmctld', ['-c'], { env });
    await run('slurmd', [], { env });
    const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
    for (;;) {
      const { stdout } = await run('sinfo', ['-h', '-o', '%T'], { env }).catch(() => ({ stdout: '' }));
      if (stdout.trim() === 'idle') break;
      if (Date.now() > deadline) throw new Error(`the Slurm node is not idle after ${options.startTimeoutMs ?? 20_000} ms (sinfo: ${stdout.trim() || 'no answer'})\n${await cluster.logs()}`);
      await sleep(100);
    }
    return cluster;
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}

function makeCluster(dir: string, env: NodeJS.ProcessEnv, pidFiles: Record<'munged' | 'slurmctld' | 'slurmd', string>): SlurmCluster {
  const submitted: string[] = [];
  const heldSince = new Map<string, number>();
  const slurm = async (cmd: string, args: readonly string[], extraEnv?: NodeJS.ProcessEnv): Promise<string> => (await run(cmd, [...args], { env: { ...env, ...extraEnv } })).stdout;
  const cluster: SlurmCluster = {
    dir,
    env,
    async sbatch(args, extraEnv) {
      const id = (await slurm('sbatch', ['--parsable', ...args], extraEnv)).trim().split(';')[0]!;
      submitted.push(id);
      return id;
    },
    scontrol: (args) => slurm('scontrol', args),
    async state(id) {
      const text = await slurm('scontrol', ['-o', 'show', 'job', id]);
      const field = (name: string) => new RegExp(`(?:^| )${name}=(\\S*)`).exec(text)?.[1] ?? '';
      const [exitCode, signal] = field('ExitCode').split(':').map(Number);
      return { state: field('JobState'), reason: field('Reason'), exitCode: exitCode ?? -1, signal: signal ?? 0, restarts: Number(field('Restarts') || 0) };
    },
    async waitGone(ids, options = {}) {
      const deadline = Date.now() + (options.timeoutMs ?? 60_000);
      for (;;) {
        const { stdout } = await run('squeue', ['-h', '-j', ids.join(','), '-o', '%i %T %r'], { env }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
        if (stdout.trim() === '') return;
        if (Date.now() > deadline) throw new Error(`Slurm jobs still queued after ${options.timeoutMs ?? 60_000} ms:\n${stdout}\n${await cluster.logs()}`);
        await options.onPoll?.();
        await sleep(100);
      }
    },
    async releaseRequeued(id, options = {}) {
      const { stdout } = await run('squeue', ['-h', '-r', '-j', id, '-t', 'PENDING', '-o', '%i %r'], { env }).catch(() => ({ stdout: '' }));
      const held = stdout.split('\n').filter((l) => / BeginTime$/.test(l)).map((l) => l.split(' ')[0]!);
      const now = Date.now();
      const due = held.filter((task) => {
        if (!heldSince.has(task)) heldSince.set(task, now);
        return now - heldSince.get(task)! >= (options.afterMs ?? 0);
      });
      for (const task of due) {
        heldSince.delete(task);
        await slurm('scontrol', ['update', `jobid=${task}`, 'StartTime=now']).catch(() => undefined);
      }
      return due;
    },
    async requeue(task) {
      await slurm('scontrol', ['requeue', task]);
      // Not in the second its last run ended: slurmd would refuse it as "already killed" (releaseRequeued).
      await sleep(1100);
      await slurm('scontrol', ['update', `jobid=${task}`, 'StartTime=now']);
    },
    async logs() {
      const read = (p: string) => readFile(p, 'utf8').then((t) => t.split('\n').slice(-15).join('\n'), () => '(none)');
      return `slurmctld.log:\n${await read(join(dir, 'log', 'slurmctld.log'))}\nslurmd.log:\n${await read(join(dir, 'log', 'slurmd.log'))}\nmunged.log:\n${await read(join(dir, 'munge', 'munged.log'))}`;
    },
    async stop() {
      if (submitted.length > 0) await run('scancel', submitted, { env }).catch(() => undefined);
      // slurmd first (it ends its jobs' steps), then the controller, then munge.
      for (const name of ['slurmd', 'slurmctld', 'munged'] as const) await stopByPidFile(pidFiles[name]);
      if (!process.env['KEEP_TEST_OUTPUT']) await rm(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

function slurmConf(c: { dir: string; socket: string; ctldPort: number; slurmdPort: number; cpus: number; pidFiles: Record<string, string> }): string {
  const host = hostname().split('.')[0]!;
  return [
    'ClusterName=batchinfer-test',
    `SlurmctldHost=${host}(127.0.0.1)`,
    `SlurmctldPort=${c.ctldPort}`,
    `SlurmdPort=${c.slurmdPort}`,
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${c.socket}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    `StateSaveLocation=${join(c.dir, 'state')}`,
    `SlurmdSpoolDir=${join(c.dir, 'spool')}`,
    `SlurmctldPidFile=${c.pidFiles['slurmctld']}`,
    `SlurmdPidFile=${c.pidFiles['slurmd']}`,
    `SlurmctldLogFile=${join(c.dir, 'log', 'slurmctld.log')}`,
    `SlurmdLogFile=${join(c.dir, 'log', 'slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_CPU',
    'SlurmdParameters=config_overrides',
    'SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1',
    'MailProg=/bin/true',
    'ReturnToService=2',
    `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${c.cpus} State=UNKNOWN`,
    `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
}

/** SIGTERM to the pid in `file`, SIGKILL if it is still there after 5 s. Nothing when there is no pid file. */
async function stopByPidFile(file: string): Promise<void> {
  const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 1) return;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; waited < 5000 && alive() && !(await isZombie(pid)); waited += 50) await sleep(50);
  if (alive() && !(await isZombie(pid))) process.kill(pid, 'SIGKILL');
}

/** A daemon that exited but whose parent (not us) has not reaped it yet. */
async function isZombie(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return /^State:\s+Z/m.test(status);
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

/** Ports the kernel picked as free (each bound and released at once). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The container image, built and run for real with podman, offline: the context comes from
 * scripts/container-context.mjs (the packed package and its production dependencies), the
 * base image is made here from this machine's Node 20 and the libraries it and the native
 * packages link (no registry is reachable), and deploy/Containerfile builds on it with
 * --network=none --pull=never. A fixture job runs inside with the fixtures mounted; exit codes
 * pass through; the process is not root.
 *
 * podman's storage lives in a temporary --root/--runroot, reset afterwards. runc, not crun
 * (crun fails here: "cgroups in hybrid mode not supported"), with explicit ulimits (runc
 * fails "error setting rlimit" without them). `.ci/run` installs podman; under CI=true this
 * never skips.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmod, copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, FIXTURE_DATA, FIXTURE_MODELS, REPO_ROOT, type CliResult } from '../helpers/cli.js';
import { readParquet } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const run = promisify(execFile);
const tmp = useTempDirs('batchinfer-e2e-container-');
const hasPodman = (() => {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!hasPodman && !process.env['CI']) console.warn('container.test.ts skipped: podman is not installed (apt-get install podman buildah runc)');

const IMAGE = 'localhost/batchinfer:e2e';
const BASE = 'localhost/batchinfer-e2e-base';
let work: string;
let podman: (args: string[]) => Promise<CliResult>;

/** The libraries `files` link, as ldd resolves them. */
function linkedLibraries(files: string[]): string[] {
  const libs = new Set<string>();
  for (const f of files) for (const m of execFileSync('ldd', [f]).toString().matchAll(/(\/\S+)/g)) if (!m[1]!.startsWith(work)) libs.add(m[1]!);
  return [...libs];
}

async function nativeFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && /\.(node|so(\.\d+)*)$/.test(e.name)) found.push(join(e.parentPath, e.name));
  }
  return found;
}

/** A base image holding Node 20 at /usr/local/bin/node, /usr/bin/env, /bin/sh and their libraries. */
async function makeBase(context: string): Promise<void> {
  const root = join(work, 'base');
  const put = async (from: string, to: string): Promise<void> => {
    await mkdir(dirname(join(root, to)), { recursive: true });
    await copyFile(from, join(root, to));
  };
  await put(process.execPath, '/usr/local/bin/node');
  await put('/usr/bin/env', '/usr/bin/env');
  await put('/bin/dash', '/bin/sh');
  for (const lib of linkedLibraries([process.execPath, '/usr/bin/env', '/bin/dash', ...(await nativeFiles(join(context, 'app', 'node_modules')))])) await put(lib, lib);
  await mkdir(join(root, 'tmp'));
  await chmod(join(root, 'tmp'), 0o1777);
  await run('tar', ['-C', root, '-cf', join(work, 'base.tar'), '.']);
  const imported = await podman(['import', join(work, 'base.tar'), BASE]);
  expect(imported.code, imported.stderr).toBe(0);
}

beforeAll(async () => {
  if (!hasPodman) return;
  work = await tmp.make();
  const conf = join(work, 'containers.conf');
  await writeFile(conf, '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n[engine]\nruntime = "runc"\n');
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const storage = ['--root', join(work, 'root'), '--runroot', join(work, 'runroot')];
  podman = (args) =>
    run('podman', [...storage, ...args], { env, maxBuffer: 64 << 20 }).then(
      ({ stdout, stderr }) => ({ code: 0, signal: null, stdout, stderr, ms: 0, args }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, signal: null, stdout: err.stdout, stderr: err.stderr, ms: 0, args }),
    );
  const context = join(work, 'context');
  await run(process.execPath, [join(REPO_ROOT, 'scripts', 'container-context.mjs'), context], { cwd: REPO_ROOT });
  await makeBase(context);
  const built = await podman(['build', '--network=none', '--pull=never', '--build-arg', `BASE=${BASE}`, '-t', IMAGE, '-f', join(context, 'Containerfile'), context]);
  expect(built.code, built.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  if (hasPodman && podman) await podman(['system', 'reset', '--force']);
});

describe.skipIf(!hasPodman && !process.env['CI'])('the container image', { timeout: 120_000 }, () => {
  const job = ['model: /fixtures/models/mlp.onnx', 'input: /fixtures/data/transactions.parquet', 'output: /out/scores.parquet', 'passthrough: [txn_id]', 'labels: [legit, fraud]', 'inputs:', '  x:', '    columns: [amount, f0, f1, risk score]', '    fill_null: 0', ''].join('\n');
  const mounts = async (): Promise<{ dir: string; args: string[] }> => {
    const dir = await tmp.make();
    await mkdir(join(dir, 'out'));
    await chmod(join(dir, 'out'), 0o777);
    await writeFile(join(dir, 'job.yaml'), job);
    return { dir, args: ['-v', `${FIXTURE_MODELS}:/fixtures/models:ro`, '-v', `${FIXTURE_DATA}:/fixtures/data:ro`, '-v', `${join(dir, 'job.yaml')}:/jobs/job.yaml:ro`, '-v', `${join(dir, 'out')}:/out`] };
  };

  it('runs a fixture job from a mounted job file, offline, and writes its output to the mounted directory', async () => {
    const { dir, args } = await mounts();
    const r = await podman(['run', '--rm', '--network=none', ...args, IMAGE, 'run', '/jobs/job.yaml', '--quiet', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).rows).toMatchObject({ in: 3000, out: 3000 });
    const out = await readParquet(join(dir, 'out', 'scores.parquet'));
    expect(out.rows).toHaveLength(3000);
    expect(out.columns.map((c) => c.name)).toEqual(['txn_id', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
  });

  it('passes exit codes through: a job whose files are not mounted is 66 with the one-line error', async () => {
    const { args } = await mounts();
    const r = await podman(['run', '--rm', '--network=none', ...args.slice(4), IMAGE, 'run', '/jobs/job.yaml']);
    expectCliError(r, 66, 'MODEL_MISSING');
  });

  it('runs as a non-root user', async () => {
    const r = await podman(['run', '--rm', '--network=none', '--entrypoint', '/usr/local/bin/node', IMAGE, '-e', 'console.log(process.getuid(), process.getgid())']);
    expect(r.stdout.trim()).toBe('10001 10001');
  });

  it('prints its version as the package says', async () => {
    const r = await podman(['run', '--rm', '--network=none', IMAGE, '--version']);
    expect(r.stdout.trim()).toBe(JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json").version)'], { cwd: REPO_ROOT }).toString()));
  });
});

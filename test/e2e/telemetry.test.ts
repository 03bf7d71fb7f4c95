/**
 * onnxruntime's telemetry stays off: a real run with a fresh HOME and TMPDIR leaves no
 * `~/.cache/Microsoft/DeveloperTools/.onnxruntime` (device id, event database holding the
 * model's metadata) and no `mat-debug-<pid>.log` or `.ses` file in TMPDIR.
 *
 * onnxruntime also keeps quiet when it sees a CI system's variables, and on its own
 * `ORT_DISABLE_TELEMETRY`: the run gets an environment without any of them, so this test
 * checks what batchinfer does, on a CI machine too.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data, expectOk, model, runCli } from '../helpers/cli.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-telemetry-');

/** Variables onnxruntime takes as "running in CI, record nothing", and its own switch. */
const QUIETING = ['CI', 'TF_BUILD', 'GITHUB_ACTIONS', 'GITLAB_CI', 'CIRCLECI', 'TRAVIS', 'JENKINS_URL', 'CODEBUILD_BUILD_ID', 'BUILDKITE', 'TEAMCITY_VERSION', 'APPVEYOR', 'BITBUCKET_BUILD_NUMBER', 'ORT_DISABLE_TELEMETRY'];

/** Every path under `dir`, relative to it, sorted. */
async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe('onnxruntime telemetry', { timeout: 60_000 }, () => {
  it('a run with a fresh HOME and TMPDIR leaves no telemetry database, device id, mat-debug or .ses file', async () => {
    const home = await tmp.make();
    const tmpdir = await tmp.make();
    const work = await tmp.make();
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, TMPDIR: tmpdir };
    for (const name of QUIETING) delete env[name];
    const output = join(work, 'scores.parquet');
    const args = ['run', '--model', model('mlp'), '--input', data('transactions.parquet'), '--output', output, '--features', 'amount,f0,f1,risk score', '--fill-null', '0', '--workers', '2', '--quiet'];
    const result = await runCli(args, { cwd: work, env, timeoutMs: 45_000 });
    expectOk(result);
    const inHome = await tree(home);
    const inTmp = await tree(tmpdir);
    expect({
      home: inHome.filter((p) => p.startsWith('.cache')),
      tmpdir: inTmp.filter((p) => /(^|\/)(mat-debug-\d+\.log|[^/]*\.ses)$/.test(p)),
    }).toEqual({ home: [], tmpdir: [] });
  });
});

/**
 * batchinfer installed as users install a CLI: the packed tarball holds the bundle and what
 * the README names (no sources, tests or fixtures), installs globally into a fresh prefix with
 * onnxruntime-node's CUDA download skipped (`ONNXRUNTIME_NODE_INSTALL=skip`, as the README
 * says: the CPU binaries ship inside the package), and the installed command scores a job.
 *
 * The dependencies come from npm's cache where `npm ci` left them (`--prefer-offline`); npm
 * still asks the registry for their version lists, which `npm ci` does not cache.
 */
import { execFile } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectCliError, expectOk, model, REPO_ROOT, runCli } from '../helpers/cli.js';
import { readParquet } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const run = promisify(execFile);
const tmp = useTempDirs('batchinfer-e2e-package-');

let tarball: string;
let installed: string;
let dir: string;

beforeAll(async () => {
  dir = await tmp.make();
  // dist/ is built by the test run's global setup; packing must not rebuild it under the other tests.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO_ROOT });
  tarball = join(dir, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  const prefix = join(dir, 'prefix');
  await run('npm', ['install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: dir, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  installed = join(prefix, 'bin', 'batchinfer');
}, 240_000);

describe('the npm package', { timeout: 120_000 }, () => {
  it('holds the bundle, bin, README and LICENSE, and no sources, tests or fixtures', async () => {
    const { stdout } = await run('tar', ['tzf', tarball]);
    const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'bin/batchinfer.js', 'dist/batchinfer.js', 'dist/worker.js', 'package.json']));
    expect(files.filter((f) => /^(src|test|fixtures|bench|scripts|jobs)\//.test(f) || (f.startsWith('dist/') && !['dist/batchinfer.js', 'dist/worker.js'].includes(f)))).toEqual([]);
    expect(await readFile(join(REPO_ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('installed globally, runs: --version, and a one-off job scored exactly as the repository scores it', async () => {
    const { stdout: version } = await run(installed, ['--version']);
    expect(version.trim()).toBe(JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')).version);
    const args = (output: string) => ['run', '--model', model('mlp'), '--input', data('transactions.parquet'), '--output', output, '--features', 'amount,f0,f1,risk score', '--fill-null', '0', '--passthrough', 'txn_id', '--labels', 'legit,fraud', '--quiet'];
    await run(installed, args(join(dir, 'scores.parquet')), { cwd: dir });
    expectOk(await runCli(args(join(dir, 'repo-scores.parquet'))));
    const rows = (await readParquet(join(dir, 'scores.parquet'))).rows;
    expect(rows).toHaveLength(3000);
    expect(Object.keys(rows[0]!)).toEqual(['txn_id', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    expect(rows).toEqual((await readParquet(join(dir, 'repo-scores.parquet'))).rows);
  });

  it('keeps its exit codes: a missing input is 66 with the one-line error', async () => {
    const result = await run(installed, ['run', '--model', model('mlp'), '--input', join(dir, 'missing.parquet'), '--output', join(dir, 'o.parquet'), '--features', 'a'], { cwd: dir }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string; stdout: string }) => ({ code: err.code, stderr: err.stderr, stdout: err.stdout }),
    );
    expectCliError({ code: result.code, signal: null, stdout: '', stderr: result.stderr, ms: 0, args: [] }, 66, 'INPUT_MISSING');
  });

  it('did not fetch onnxruntime-node\'s CUDA files', async () => {
    const ortBin = join(dir, 'prefix', 'lib', 'node_modules', 'batchinfer', 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64');
    expect((await readdir(ortBin)).filter((f) => f.includes('cuda'))).toEqual([]);
  });
});

describe('package.json', () => {
  /** The bare package names `src/` imports (node: built-ins aside). */
  async function importedPackages(): Promise<Set<string>> {
    const found = new Set<string>();
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(d, e.name));
        else if (e.name.endsWith('.ts')) {
          const text = await readFile(join(d, e.name), 'utf8');
          for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'([^'.][^']*)'/gm)) {
            const spec = m[1]!;
            if (spec.startsWith('node:')) continue;
            found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
          }
        }
      }
    };
    await walk(join(REPO_ROOT, 'src'));
    return found;
  }

  it('declares every package src/ imports as a dependency, and every dependency is imported', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect([...(await importedPackages())].sort()).toEqual(Object.keys(pkg.dependencies).sort());
  });
});

/**
 * Builds dist/ once before any test runs (tsc, then the bundle bin/batchinfer.js loads), so
 * `test/e2e` spawns the CLI built from the current sources. Under `npm test` the `pretest`
 * script has just built it, so it skips.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/cli.js';

function builtByPretest(): boolean {
  if (process.env['npm_lifecycle_event'] !== 'test') return false;
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  return /\btsc\b.*scripts\/bundle\.mjs/.test(pkg.scripts?.['pretest'] ?? '');
}

export default async function setup(): Promise<void> {
  if (builtByPretest()) return;
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const steps: [string, string[]][] = [
    ['tsc -p tsconfig.json', [tsc, '-p', join(REPO_ROOT, 'tsconfig.json')]],
    ['node scripts/bundle.mjs', [join(REPO_ROOT, 'scripts', 'bundle.mjs')]],
  ];
  for (const [name, args] of steps) {
    try {
      await promisify(execFile)(process.execPath, args, { cwd: REPO_ROOT });
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${name} failed; the e2e tests need a fresh dist/\n${e.stdout || e.stderr || e.message}`);
    }
  }
}

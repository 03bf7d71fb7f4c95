/**
 * Compiles src/ to dist/ once before any test runs, so `test/e2e` spawns the CLI built from
 * the current sources. Under `npm test` the `pretest` script has just compiled, so it skips.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/cli.js';

function builtByPretest(): boolean {
  if (process.env['npm_lifecycle_event'] !== 'test') return false;
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  return /\btsc\b/.test(pkg.scripts?.['pretest'] ?? '');
}

export default async function setup(): Promise<void> {
  if (builtByPretest()) return;
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', join(REPO_ROOT, 'tsconfig.json')], { cwd: REPO_ROOT });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`tsc -p tsconfig.json failed; the e2e tests need a fresh dist/\n${e.stdout || e.stderr || e.message}`);
  }
}

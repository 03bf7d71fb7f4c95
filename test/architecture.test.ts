/**
 * The layout's rules (.dependency-cruiser.cjs), checked with dependency-cruiser: layers import
 * downward only, no import cycles, one importer each of onnxruntime-node and DuckDB, no dev
 * dependency in src/. A violation fails here with the rule's name and the import.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';

const run = promisify(execFile);

describe('architecture', () => {
  it('src/ keeps the dependency rules', async () => {
    const bin = join(REPO_ROOT, 'node_modules', '.bin', 'depcruise');
    const result = await run(bin, ['src', '--config', '.dependency-cruiser.cjs', '--output-type', 'err'], { cwd: REPO_ROOT }).then(
      ({ stdout }) => ({ code: 0, output: stdout }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, output: err.stdout + err.stderr }),
    );
    expect(result.output).toContain('no dependency violations found');
    expect(result.code, result.output).toBe(0);
  }, 60_000);
});

/**
 * Per-file temporary directories for test outputs: tests never write into the repository.
 *
 * @example
 *   const tmp = useTempDirs('batchinfer-e2e-jobs-');
 *   it('...', async () => { const dir = await tmp.make(); ... });
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll } from 'vitest';

export interface TempDirs {
  /** A fresh empty directory, removed after the test file. */
  make(): Promise<string>;
}

/** Creates temp directories on demand and removes them all in `afterAll`. */
export function useTempDirs(prefix = 'batchinfer-test-'): TempDirs {
  const made: string[] = [];
  afterAll(async () => {
    if (process.env['KEEP_TEST_OUTPUT']) return;
    await Promise.all(made.map((d) => rm(d, { recursive: true, force: true })));
  });
  return {
    async make() {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      made.push(dir);
      return dir;
    },
  };
}

/**
 * Entries beside `output` that a run may have left behind: the staging directory
 * (`.<name>.batchinfer-*`), temp files (`.<name>.tmp-*`) and moved-aside outputs (`.<name>.old-*`).
 */
export async function stagingLeftovers(output: string): Promise<string[]> {
  const target = output.replace(/[\\/]+$/, '');
  const parent = dirname(target);
  try {
    return (await readdir(parent)).filter((name) => name.startsWith(`.${basename(target)}`));
  } catch {
    return [];
  }
}

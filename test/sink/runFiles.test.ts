import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findCollisions, runFileTest } from '../../src/sink/runFiles.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-runfiles-');

describe('run files', () => {
  it("a sharded run's files (.<name>.shards/) are the run's own: a glob input skips them, naming one as input collides", async () => {
    const dir = await tmp.make();
    const output = join(dir, 'out.parquet');
    const part = join(dir, '.out.parquet.shards', 'shard-0', 'part-0.parquet');
    await mkdir(join(dir, '.out.parquet.shards', 'shard-0'), { recursive: true });
    await writeFile(part, 'x');
    await writeFile(join(dir, 'in.parquet'), 'x');
    const skip = await runFileTest(output, { directory: false });
    expect(await skip(part)).toBe(true);
    expect(await skip(join(dir, 'in.parquet'))).toBe(false);
    const collisions = await findCollisions(output, { directory: false }, [part]);
    expect(collisions.map((c) => c.runPath.what)).toEqual(["the output's shard directory"]);
  });
});

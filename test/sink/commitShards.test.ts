import { createHash } from 'node:crypto';
import { access, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { BatchinferError } from '../../src/errors.js';
import { checkShards } from '../../src/shard/shardCheck.js';
import { commitShards, removeShards } from '../../src/sink/commitShards.js';
import { useTempDirs } from '../helpers/tempDir.js';
import { withDuckDb, type Row } from '../helpers/parquet.js';
import { shardedRun } from '../shard/shardFixture.js';

const tmp = useTempDirs('batchinfer-commitshards-');
let db: Db;
beforeAll(async () => {
  db = await Db.open({ threads: 1 });
});
afterAll(() => db.close());

/** What one run writes for these inputs: every row in file order, `score = id * 2`, read independently of the shards. */
async function oneRun(inputs: string[]): Promise<Row[]> {
  return withDuckDb(async (q) => {
    const rows: Row[] = [];
    for (const path of inputs) rows.push(...(await q('SELECT x AS id, x * 2 AS score FROM read_parquet($1)', [path])));
    return rows;
  });
}

async function readOut(path: string): Promise<Row[]> {
  return withDuckDb((q) => q('SELECT id, score FROM read_parquet($1)', [path]));
}

describe('commitShards', () => {
  it.each([1, 3, 7])('a file output from %i shards holds the rows of one run, in order; the shard directory is removed after', async (n) => {
    const run = await shardedRun(db, await tmp.make(), n);
    const { parts } = await checkShards(run.shardsDir, run.plan, n);
    const output = join(run.dir, 'out.parquet');
    const files = await commitShards({ db, output: { path: output, mode: 'file', format: 'parquet', inputs: run.inputs }, parts, shardsDir: run.shardsDir });
    expect(files).toEqual([output]);
    expect(await readOut(output)).toEqual(await oneRun(run.inputs));
    await removeShards(run.shardsDir);
    expect((await readdir(run.dir)).sort()).toEqual(['a.parquet', 'b.parquet', 'out.parquet']);
  });

  it('a directory output: one file per input, each joined from the shards that scored it', async () => {
    const run = await shardedRun(db, await tmp.make(), 3);
    const { parts } = await checkShards(run.shardsDir, run.plan, 3);
    const output = join(run.dir, 'out') + '/';
    const files = await commitShards({ db, output: { path: output, mode: 'directory', format: 'parquet', inputs: run.inputs }, parts, shardsDir: run.shardsDir });
    expect(files).toEqual([join(run.dir, 'out', 'a.parquet'), join(run.dir, 'out', 'b.parquet')]);
    const expected = await oneRun(run.inputs);
    expect(await readOut(files[0]!)).toEqual(expected.slice(0, 5000));
    expect(await readOut(files[1]!)).toEqual(expected.slice(5000));
  });

  it.each(['file', 'directory'] as const)('a %s output: the hashes handed to beforeRename are the sha256 of the staged files they name', async (mode) => {
    const run = await shardedRun(db, await tmp.make(), 3);
    const { parts } = await checkShards(run.shardsDir, run.plan, 3);
    const output = mode === 'file' ? join(run.dir, 'out.parquet') : join(run.dir, 'out') + '/';
    let seen: { staged: string[]; hashes: Map<string, string>; actual: Map<string, string> } | null = null;
    await commitShards({
      db, output: { path: output, mode, format: 'parquet', inputs: run.inputs }, parts, shardsDir: run.shardsDir,
      beforeRename: async (_files, staged, hashes) => {
        const actual = new Map(await Promise.all(staged.map(async (p) => [p, createHash('sha256').update(await readFile(p)).digest('hex')] as const)));
        seen = { staged, hashes: new Map(hashes), actual };
      },
    });
    const { staged, hashes, actual } = seen!;
    // Every staged file was joined from several parts here, so each was hashed as it was written.
    expect([...hashes.keys()].sort()).toEqual([...staged].sort());
    for (const [path, sha256] of hashes) expect(sha256).toBe(actual.get(path));
  });

  it('an input without a part is refused before anything is written', async () => {
    const run = await shardedRun(db, await tmp.make(), 2);
    const { parts } = await checkShards(run.shardsDir, run.plan, 2);
    const output = join(run.dir, 'out.parquet');
    const err = await commitShards({ db, output: { path: output, mode: 'file', format: 'parquet', inputs: run.inputs }, parts: [parts[0]!, []], shardsDir: run.shardsDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchinferError);
    expect((err as BatchinferError).message).toBe('a sharded commit needs a part of every input file: input file 1 has none');
    await expect(access(output)).rejects.toThrow();
  });
});

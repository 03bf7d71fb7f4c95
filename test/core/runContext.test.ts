/**
 * The run context releases what a run opened on one path: the staging directory (unless a
 * resume or a retried commit needs it), the lock, and the output's parent directories it
 * created when nothing was committed.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExecutionPlan } from '../../src/core/executionPlan.js';
import { RunContext } from '../../src/core/runContext.js';
import { BatchinferError } from '../../src/errors.js';
import { parseJobSpec } from '../../src/spec/jobSpec.js';
import { pathExists } from '../../src/util/fs.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-run-context-');

async function openedRun(redact = false) {
  const root = await tmp.make();
  const output = join(root, 'new', 'out.parquet');
  const spec = parseJobSpec({ model: 'm.onnx', input: 'x.parquet', output, features: ['a'], ...(redact ? { redact: true } : {}) }, { baseDir: root, name: 't' });
  const ctx = await RunContext.open(spec, { startPool: false });
  await ctx.lockOutput();
  await ctx.openStaging({ output: { path: output } } as ExecutionPlan, { fingerprint: 'f' });
  return { ctx, root, paths: { parent: join(root, 'new'), lock: join(root, 'new', '.out.parquet.lock'), staging: join(root, 'new', '.out.parquet.staging') } };
}

async function exists(paths: Record<string, string>): Promise<Record<string, boolean>> {
  return Object.fromEntries(await Promise.all(Object.entries(paths).map(async ([k, p]) => [k, await pathExists(p)])));
}

describe('RunContext', () => {
  it('holds the lock and the staging directory while open', async () => {
    const { ctx, paths } = await openedRun();
    expect(await exists(paths)).toEqual({ parent: true, lock: true, staging: true });
    expect(ctx.locked).toBe(true);
    await ctx.close();
  });

  it('a failed run leaves nothing: staging, lock and the parent directories it created are gone', async () => {
    const { ctx, paths } = await openedRun();
    const err = ctx.failure(new BatchinferError('BAD_DATA', 'bad row'));
    await ctx.close();
    expect(err).toMatchObject({ code: 'BAD_DATA', message: 'bad row' });
    expect(await exists(paths)).toEqual({ parent: false, lock: false, staging: false });
  });

  it('an interrupted run keeps its staging directory (the journal) for the next run; the lock goes', async () => {
    const { ctx, paths } = await openedRun();
    ctx.failure(new BatchinferError('INTERRUPTED', 'interrupted by SIGTERM'));
    await ctx.close();
    expect(await exists(paths)).toEqual({ parent: true, lock: false, staging: true });
  });

  it('a commit out of space after scoring keeps the scored parts and says where', async () => {
    const { ctx, paths } = await openedRun();
    ctx.scored = true;
    const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const err = ctx.failure(new BatchinferError('OUTPUT_UNWRITABLE', 'cannot write out.parquet', { cause: full }));
    await ctx.close();
    expect((err as Error).message).toBe(`cannot write out.parquet; the scored parts are kept in ${paths.staging}: the next run commits them without scoring again`);
    expect(await exists(paths)).toEqual({ parent: true, lock: false, staging: true });
  });

  it('the same failure before every part was scored starts over', async () => {
    const { ctx, paths } = await openedRun();
    const full = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const err = ctx.failure(new BatchinferError('OUTPUT_UNWRITABLE', 'cannot write out.parquet', { cause: full }));
    await ctx.close();
    expect((err as Error).message).toBe('cannot write out.parquet');
    expect(await exists(paths)).toEqual({ parent: false, lock: false, staging: false });
  });

  it("a committed run's parent directories stay; node's own file errors are the output's", async () => {
    const { ctx, paths } = await openedRun();
    ctx.committed = true;
    const err = ctx.failure(Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES', path: '/x/y' }));
    await ctx.close();
    expect(err).toMatchObject({ code: 'OUTPUT_UNWRITABLE' });
    expect(await exists(paths)).toEqual({ parent: true, lock: false, staging: false });
  });
});

import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { readRecordedPlan, recordOrCheckPlan } from '../../src/shard/planRecord.js';
import { planOf, type ShardPlan, type ShardUnit } from '../../src/shard/shardPlan.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-planrecord-');

/** A plan of two inputs without reading files: `recordOrCheckPlan` only compares values. */
function plan(shards: number, change: { bBytes?: number; bMtime?: string; aRows?: number; cFile?: boolean } = {}): ShardPlan {
  const inputs = [
    { path: '/in/a.parquet', bytes: 100, mtime: '2026-12-01T00:00:00.000Z' },
    { path: change.cFile ? '/in/c.parquet' : '/in/b.parquet', bytes: change.bBytes ?? 200, mtime: change.bMtime ?? '2026-12-01T00:00:00.000Z' },
  ];
  const units: ShardUnit[] = [
    { file: 0, rowGroup: 0, rowStart: 0, rowEnd: change.aRows ?? 2048 },
    { file: 1, rowGroup: 0, rowStart: 0, rowEnd: 1000 },
  ];
  return planOf(shards, inputs, units);
}

async function failure(promise: Promise<unknown>): Promise<BatchinferError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(BatchinferError);
  return err as BatchinferError;
}

describe('recordOrCheckPlan', () => {
  it('the first shard records the plan (private directory), later shards get the recorded one back', async () => {
    const dir = join(await tmp.make(), '.out.parquet.shards');
    const first = plan(2);
    expect(await recordOrCheckPlan(dir, first)).toEqual(first);
    expect(JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8'))).toEqual(first);
    expect(await readRecordedPlan(dir)).toEqual(first);
    // A touched input (mtime alone) is the same plan; the record keeps the first mtimes.
    const touched = plan(2, { bMtime: '2026-12-02T00:00:00.000Z' });
    expect(await recordOrCheckPlan(dir, touched)).toEqual(first);
    expect(await readdir(dir)).toEqual(['plan.json']);
  });

  it('changed inputs between shards: INPUTS_CHANGED (65) naming the file', async () => {
    const dir = join(await tmp.make(), 'shards');
    await recordOrCheckPlan(dir, plan(2));
    const err = await failure(recordOrCheckPlan(dir, plan(2, { bBytes: 300, bMtime: '2026-12-02T00:00:00.000Z' })));
    expect(err.code).toBe('INPUTS_CHANGED');
    expect(err.exitCode).toBe(65);
    expect(err.message).toContain('the inputs changed since the first shard recorded the plan');
    expect(err.message).toContain('/in/b.parquet changed (200 -> 300 bytes');
    const renamed = await failure(recordOrCheckPlan(dir, plan(2, { cFile: true })));
    expect(renamed.message).toContain('new file /in/c.parquet; /in/b.parquet is gone');
    const split = await failure(recordOrCheckPlan(dir, plan(2, { aRows: 4096 })));
    expect(split.message).toMatch(/the split differs \(unit 0: .*"rowEnd":2048.* recorded, .*"rowEnd":4096.* now\)/);
  });

  it('another number of shards is a usage error saying the recorded one', async () => {
    const dir = join(await tmp.make(), 'shards');
    await recordOrCheckPlan(dir, plan(4));
    const err = await failure(recordOrCheckPlan(dir, plan(3)));
    expect(err.code).toBe('USAGE');
    expect(err.message).toMatch(/planned for 4 shards, not 3 .*give --shards 4/);
  });

  it('shards starting at once record exactly one plan: the others check theirs against it', async () => {
    for (let round = 0; round < 5; round++) {
      const dir = join(await tmp.make(), 'shards');
      const results = await Promise.allSettled([plan(2), plan(3), plan(2), plan(3), plan(2), plan(3)].map((p) => recordOrCheckPlan(dir, p)));
      const recorded = (await readRecordedPlan(dir))!;
      for (const r of results) {
        if (r.status === 'fulfilled') expect(r.value).toEqual(recorded);
        else expect((r.reason as BatchinferError).message).toContain(`planned for ${recorded.shards} shards`);
      }
      expect(results.filter((r) => r.status === 'fulfilled').length).toBe(3);
      expect((await readdir(dir)).sort()).toEqual(['plan.json']);
    }
  });

  it('a damaged record is an error, not a new plan', async () => {
    const dir = join(await tmp.make(), 'shards');
    await recordOrCheckPlan(dir, plan(2));
    const text = await readFile(join(dir, 'plan.json'), 'utf8');
    await writeFile(join(dir, 'plan.json'), text.replace('"rowEnd": 1000', '"rowEnd": 999'));
    const err = await failure(readRecordedPlan(dir));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toMatch(/shard plan .*plan\.json is damaged/);
    expect(err.actual).toBe('its hash does not match its content');
  });

  it('no record: null', async () => {
    expect(await readRecordedPlan(await tmp.make())).toBeNull();
  });
});

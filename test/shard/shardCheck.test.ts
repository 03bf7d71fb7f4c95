import { mkdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { BatchinferError } from '../../src/errors.js';
import { checkShards, shardStatus } from '../../src/shard/shardCheck.js';
import { SHARD_MANIFEST_FORMAT, nextAttempt, stampShardInputs, readShardManifest, writeShardFailure, writeShardManifest, type ShardManifest } from '../../src/sink/shardManifest.js';
import { shardInputs } from '../../src/shard/shardPlan.js';
import { shardDir } from '../../src/sink/shardPaths.js';
import { useTempDirs } from '../helpers/tempDir.js';
import { MODEL, SETTINGS, shardedRun } from './shardFixture.js';

const tmp = useTempDirs('batchinfer-shardcheck-');
let db: Db;
beforeAll(async () => {
  db = await Db.open({ threads: 1 });
});
afterAll(() => db.close());

async function failure(promise: Promise<unknown>): Promise<BatchinferError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(BatchinferError);
  return err as BatchinferError;
}

/** Rewrites shard `index`'s manifest with `change` applied. */
async function tamper(shardsDir: string, index: number, change: (m: ShardManifest) => void): Promise<void> {
  const m = (await readShardManifest(shardsDir, index))!;
  change(m);
  await writeShardManifest(shardsDir, m);
}

describe('shard manifests', () => {
  it('are written whole into the shard directory and read back as written', async () => {
    const run = await shardedRun(db, await tmp.make(), 3);
    const text = await readFile(join(shardDir(run.shardsDir, 1), 'manifest.json'), 'utf8');
    expect(JSON.parse(text)).toEqual(run.manifests[1]);
    expect(await readShardManifest(run.shardsDir, 1)).toEqual(run.manifests[1]);
    expect(await readShardManifest(run.shardsDir, 7)).toBeNull();
    const part = run.manifests[1]!.parts[0]!;
    // 3 shards over row groups 2048, 2048, 904 | 2048, 952: shard 1 scores a.parquet rows 2048-5000.
    expect(part).toMatchObject({ input: 0, rowStart: 2048, rowEnd: 3048, file: 'part-0.parquet', rows: 1000 });
    expect(part.sha256).toMatch(/^[0-9a-f]{64}$/);
    // The inputs it read, stamped (size, mtime) as they are on disk; no content hash.
    const st = await stat(run.inputs[0]!);
    expect(run.manifests[1]!.inputs).toEqual([{ file: 0, bytes: st.size, mtime: st.mtime.toISOString() }]);
    expect(run.manifests[1]!.format).toBe('batchinfer-shard-manifest/2');
    await writeFile(join(shardDir(run.shardsDir, 2), 'manifest.json'), '{"format": "other"}');
    const err = await failure(readShardManifest(run.shardsDir, 2));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toMatch(/shard manifest .*shard-2\/manifest\.json is damaged: remove it and rerun that shard/);
  });

  it('a manifest of an earlier batchinfer (format /1, with input hashes): a clear error to read, stale for verify and commit', async () => {
    const run = await shardedRun(db, await tmp.make(), 2);
    const { inputs: _inputs, ...rest } = run.manifests[1]!;
    await writeFile(join(shardDir(run.shardsDir, 1), 'manifest.json'), JSON.stringify({ ...rest, format: 'batchinfer-shard-manifest/1', inputs: [{ file: 1, bytes: 1, sha256: '0'.repeat(64) }] }));
    const err = await failure(readShardManifest(run.shardsDir, 1));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toMatch(/shard manifest .*shard-1\/manifest\.json was written by an earlier batchinfer: rerun that shard$/);
    expect(await shardStatus(run.shardsDir, run.plan, 2)).toEqual({ complete: false, committed: [0], missing: [], failed: [], stale: [1], failures: [] });
    const commit = await failure(checkShards(run.shardsDir, run.plan, 2));
    expect(commit.code).toBe('INPUT_MISSING');
    expect(commit.message).toContain('shard 1 scored another plan: rerun shard 1');
    expect(SHARD_MANIFEST_FORMAT).toBe('batchinfer-shard-manifest/2');
  });
});

describe('shardStatus (verify)', () => {
  it('committed, missing, failed and stale shards, each in one list', async () => {
    const run = await shardedRun(db, await tmp.make(), 4, { write: (i) => i === 0 || i === 2 });
    expect(await shardStatus(run.shardsDir, run.plan, 4)).toEqual({ complete: false, committed: [0, 2], missing: [1, 3], failed: [], stale: [], failures: [] });
    const failed = { shard: 1, attempt: 2, code: 'INFERENCE_FAILED', exitCode: 70, message: 'worker died', at: '2026-12-05T00:00:00.000Z' };
    await writeShardFailure(run.shardsDir, failed);
    await writeShardManifest(run.shardsDir, { ...run.manifests[3]!, planHash: 'e'.repeat(64) });
    expect(await shardStatus(run.shardsDir, run.plan, 4)).toEqual({ complete: false, committed: [0, 2], missing: [], failed: [1], stale: [3], failures: [failed] });
    // A shard that succeeds after a failure is committed.
    await writeShardManifest(run.shardsDir, run.manifests[1]!);
    await writeShardManifest(run.shardsDir, run.manifests[3]!);
    expect(await shardStatus(run.shardsDir, run.plan, 4)).toMatchObject({ complete: true, committed: [0, 1, 2, 3], failed: [], stale: [] });
  });

  it('no recorded plan: every shard is missing; another --shards is a usage error', async () => {
    const run = await shardedRun(db, await tmp.make(), 2);
    expect(await shardStatus(run.shardsDir, null, 3)).toEqual({ complete: false, committed: [], missing: [0, 1, 2], failed: [], stale: [], failures: [] });
    const err = await failure(shardStatus(run.shardsDir, run.plan, 3));
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('planned for 2 shards, not 3: give --shards 2');
  });
});

describe('checkShards (commit)', () => {
  it("complete shards: each input's parts in row order, the rows and the model", async () => {
    const run = await shardedRun(db, await tmp.make(), 3);
    const checked = await checkShards(run.shardsDir, run.plan, 3, { model: MODEL.sha256, settings: SETTINGS });
    expect(checked.rows).toEqual({ in: 8000, out: 8000, rejected: 0 });
    expect(checked.model).toEqual(MODEL);
    // Every input's spans, over all shards in order, run from row 0 to its last row without a gap.
    const spans = run.manifests.flatMap((m) => m.parts.map((p) => [p.input, p.rowStart, p.rowEnd]));
    const byInput = [0, 1].map((f) => spans.filter((s) => s[0] === f).map((s) => [s[1], s[2]]));
    for (const [f, list] of byInput.entries()) {
      expect(list[0]![0]).toBe(0);
      for (let k = 1; k < list.length; k++) expect(list[k]![0]).toBe(list[k - 1]![1]);
      expect(list.at(-1)![1]).toBe(f === 0 ? 5000 : 3000);
      expect(checked.parts[f]!.length).toBe(list.length);
    }
    expect(checked.parts[0]![0]!.path).toBe(join(shardDir(run.shardsDir, 0), 'part-0.parquet'));
    // The inputs as the plan stamped them (size, mtime), for the output's summary; no content hash.
    expect(checked.inputs).toEqual(await Promise.all(run.inputs.map(async (path) => ({ path, bytes: (await stat(path)).size, mtime: (await stat(path)).mtime.toISOString() }))));
    expect(checked.inputs.some((i) => 'sha256' in i)).toBe(false);
  });

  it('an input two shards stamped differently: INPUTS_CHANGED (65) naming the file and the shard', async () => {
    const run = await shardedRun(db, await tmp.make(), 3);
    // Shards 0 and 1 both read a.parquet (rows 0-2048 and 2048-5000).
    await tamper(run.shardsDir, 1, (m) => {
      m.inputs = m.inputs.map((h) => (h.file === 0 ? { ...h, mtime: '2020-01-01T00:00:00.000Z' } : h));
    });
    const err = await failure(checkShards(run.shardsDir, run.plan, 3));
    expect(err.code).toBe('INPUTS_CHANGED');
    expect(err.exitCode).toBe(65);
    const a = run.plan.inputs[0]!;
    expect(err.message).toContain(`the inputs changed while the shards ran: ${run.inputs[0]} (planned ${a.bytes} bytes, mtime ${a.mtime}): shard 1 read ${a.bytes} bytes, mtime 2020-01-01T00:00:00.000Z; shards do not hash their inputs, so a touch counts as a change`);
    expect(err.message).not.toContain('shard 0 read');
  });

  it('an input touched or removed after the shards ran: INPUTS_CHANGED (65) naming the file and what it is now', async () => {
    const run = await shardedRun(db, await tmp.make(), 2);
    await utimes(run.inputs[1]!, new Date('2021-02-03T04:05:06Z'), new Date('2021-02-03T04:05:06Z'));
    const b = run.plan.inputs[1]!;
    const touched = await failure(checkShards(run.shardsDir, run.plan, 2));
    expect(touched.code).toBe('INPUTS_CHANGED');
    expect(touched.message).toContain(`${run.inputs[1]} (planned ${b.bytes} bytes, mtime ${b.mtime}): now ${b.bytes} bytes, mtime 2021-02-03T04:05:06.000Z`);
    expect(touched.message).not.toContain(run.inputs[0]!);
    await rm(run.inputs[1]!);
    expect((await failure(checkShards(run.shardsDir, run.plan, 2))).message).toContain(`${run.inputs[1]} (planned ${b.bytes} bytes, mtime ${b.mtime}): it is gone now`);
  });

  it('an input no shard stamped is a fault of the manifests', async () => {
    const run = await shardedRun(db, await tmp.make(), 3);
    await tamper(run.shardsDir, 2, (m) => {
      m.inputs = [];
    });
    const err = await failure(checkShards(run.shardsDir, run.plan, 3));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toContain(`input file 1 (${run.inputs[1]}) has no stamp from any shard`);
  });

  it('stampShardInputs: an input resized, touched or gone since the plan is INPUTS_CHANGED; it reads no content', async () => {
    const run = await shardedRun(db, await tmp.make(), 2);
    const files = shardInputs(run.plan, 1);
    expect(await stampShardInputs(files)).toEqual(files.map((f) => ({ file: f.file, bytes: f.bytes, mtime: f.mtime })));
    const b = run.plan.inputs[1]!;
    await utimes(run.inputs[1]!, new Date('2021-02-03T04:05:06Z'), new Date('2021-02-03T04:05:06Z'));
    const touched = await failure(stampShardInputs(files));
    expect(touched.code).toBe('INPUTS_CHANGED');
    expect(touched.message).toBe(`input file ${run.inputs[1]} was modified since the shards' plan was recorded (same size, mtime ${b.mtime} -> 2021-02-03T04:05:06.000Z); shards do not hash their inputs, so a touch counts as a change: restore the file, or remove the shards' directory and rerun every shard`);
    await writeFile(run.inputs[1]!, 'shorter');
    const moved = await failure(stampShardInputs(files));
    expect(moved.code).toBe('INPUTS_CHANGED');
    expect(moved.message).toBe(`input file ${run.inputs[1]} changed since the shards' plan was recorded (${b.bytes} -> 7 bytes); shards of one run must score the same inputs`);
    await rm(run.inputs[1]!);
    expect((await failure(stampShardInputs(files))).message).toBe(`input file ${run.inputs[1]} is gone since the shards' plan was recorded`);
  });

  it('a missing, failed or stale shard: INPUT_MISSING (66) naming the shards to rerun', async () => {
    const run = await shardedRun(db, await tmp.make(), 4, { write: (i) => i !== 1 });
    await writeShardFailure(run.shardsDir, { shard: 2, attempt: 1, code: 'BAD_DATA', exitCode: 65, message: 'x', at: '2026-12-05T00:00:00.000Z' });
    await writeShardManifest(run.shardsDir, { ...run.manifests[3]!, planHash: 'e'.repeat(64) });
    await rm(join(shardDir(run.shardsDir, 2), 'manifest.json'));
    const err = await failure(checkShards(run.shardsDir, run.plan, 4));
    expect(err.code).toBe('INPUT_MISSING');
    expect(err.exitCode).toBe(66);
    expect(err.message).toBe('cannot commit: 1 of 4 shards are done; no manifest from shard 1; shard 2 failed (2: BAD_DATA); shard 3 scored another plan: rerun shards 1, 2, 3');
  });

  it('manifests that do not add up: INPUT_INVALID (65) naming every fault', async () => {
    const run = await shardedRun(db, await tmp.make(), 3);
    const m0 = run.manifests[0]!;
    await tamper(run.shardsDir, 0, (m) => {
      m.units = [...m.units, m.units.at(-1)! + 1];
      m.rows.rejected = 5;
    });
    await tamper(run.shardsDir, 2, (m) => {
      m.model = { path: MODEL.path, sha256: '0'.repeat(64) };
    });
    const err = await failure(checkShards(run.shardsDir, run.plan, 3));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.exitCode).toBe(65);
    const next = m0.units.at(-1)! + 1;
    expect(err.message).toContain(`unit ${next} covered more than once`);
    expect(err.message).toContain(`shard 0 covers units [${[...m0.units, next].join(', ')}], the plan gives it [${m0.units.join(', ')}]`);
    expect(err.message).toContain(`shard 0: rows in ${m0.rows.in} != out ${m0.rows.out} + rejected 5`);
    expect(err.message).toContain(`shard 2 (model sha256 000000000000) scored with another model than ${MODEL.sha256.slice(0, 12)}`);
  });

  it("shards that ran with other output settings: INPUT_INVALID naming the shards and the settings, against the job's or shard 0's", async () => {
    const run = await shardedRun(db, await tmp.make(), 3);
    await tamper(run.shardsDir, 1, (m) => {
      m.settings = { ...m.settings, predictions: '0'.repeat(16) };
    });
    await tamper(run.shardsDir, 2, (m) => {
      const { passthrough: _gone, ...rest } = m.settings;
      m.settings = { ...rest, where: '1'.repeat(16) };
    });
    const against = await failure(checkShards(run.shardsDir, run.plan, 3));
    expect(against.code).toBe('INPUT_INVALID');
    expect(against.message).toContain("shard 1 ran with other settings than shard 0's (predictions)");
    expect(against.message).toContain("shard 2 ran with other settings than shard 0's (passthrough, where)");
    const job = await failure(checkShards(run.shardsDir, run.plan, 3, { settings: { ...SETTINGS, inputs: '2'.repeat(16) } }));
    for (const i of [0, 1, 2]) expect(job.message).toMatch(new RegExp(`shard ${i} ran with other settings than this job's \\(inputs`));
  });

  it('parts that do not tile the shard, and parts gone or changed since the manifest', async () => {
    const run = await shardedRun(db, await tmp.make(), 2);
    await tamper(run.shardsDir, 1, (m) => {
      m.parts = m.parts.slice(1);
      m.rows = { in: m.rows.in, out: m.rows.out, rejected: 0 };
    });
    const tiles = await failure(checkShards(run.shardsDir, run.plan, 2));
    expect(tiles.message).toMatch(/shard 1: its parts hold \d+ rows, it says \d+ out/);
    expect(tiles.message).toContain('shard 1: its parts span file 1 rows 0-3000, the plan gives it file 0 rows 4096-5000, file 1 rows 0-3000');
    await writeShardManifest(run.shardsDir, run.manifests[1]!);
    const part = join(shardDir(run.shardsDir, 0), run.manifests[0]!.parts[1]!.file);
    await truncate(part, 10);
    await rm(join(shardDir(run.shardsDir, 1), run.manifests[1]!.parts[0]!.file));
    const gone = await failure(checkShards(run.shardsDir, run.plan, 2));
    expect(gone.message).toContain(`shard 0: part-1.parquet has 10 bytes, its manifest says ${run.manifests[0]!.parts[1]!.bytes}`);
    expect(gone.message).toContain('shard 1: part-0.parquet is missing');
  });

  it("a shard's profile listed in its manifest must be there with its recorded size", async () => {
    const run = await shardedRun(db, await tmp.make(), 2);
    await writeFile(join(shardDir(run.shardsDir, 0), 'profile.json'), '{"rows": 1}\n');
    await tamper(run.shardsDir, 0, (m) => {
      m.profile = { file: 'profile.json', rows: 1, bytes: 12, sha256: '0'.repeat(64) };
    });
    await tamper(run.shardsDir, 1, (m) => {
      m.profile = { file: 'profile.json', rows: 1, bytes: 12, sha256: '0'.repeat(64) };
    });
    const err = await failure(checkShards(run.shardsDir, run.plan, 2));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toContain('shard 1: profile.json is missing');
    expect(err.message).not.toContain('shard 0:');
  });
});

describe('nextAttempt', () => {
  it('counts the attempts of each shard from 1, beside its staging directory', async () => {
    const shardsDir = join(await tmp.make(), '.out.shards');
    await mkdir(shardsDir);
    expect([await nextAttempt(shardsDir, 2), await nextAttempt(shardsDir, 2), await nextAttempt(shardsDir, 0), await nextAttempt(shardsDir, 2)]).toEqual([1, 2, 1, 3]);
    expect(await readFile(join(shardsDir, 'shard-2.attempt'), 'utf8')).toBe('3\n');
  });
});

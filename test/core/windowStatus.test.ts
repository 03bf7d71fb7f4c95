/**
 * `status` without an explicit range (src/core/windowStatus.ts jobStatus): which windows it
 * lists, and what counts as committed. Nothing exists at the output paths unless a test
 * writes it, so windows are `missing` by default.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobStatus } from '../../src/core/windowStatus.js';
import { parseJobSpec } from '../../src/spec/jobSpec.js';
import { planOf } from '../../src/shard/shardPlan.js';
import { recordOrCheckPlan } from '../../src/shard/planRecord.js';
import { SHARD_MANIFEST_FORMAT, writeShardFailure, writeShardManifest, type ShardManifest } from '../../src/sink/shardManifest.js';
import { formatStatus } from '../../src/cli/report.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-window-status-');
const hourly = (dir: string) =>
  parseJobSpec({ model: 'm.onnx', input: 'in.parquet', output: join(dir, 'out/dt={date}/hour={hour}/'), schedule: '0 * * * *' }, { baseDir: dir, name: 'hourly' });
const starts = (states: { start: string }[]): [number, string | undefined, string | undefined] => [states.length, states[0]?.start, states.at(-1)?.start];

describe('jobStatus ranges', () => {
  it('by default: the last 24 windows complete at now', async () => {
    const spec = hourly(await tmp.make());
    expect(starts(await jobStatus(spec, undefined, undefined, new Date('2026-11-29T09:05:00Z')))).toEqual([24, '2026-11-28T09:00:00.000Z', '2026-11-29T08:00:00.000Z']);
  });

  it('exactly at a tick the window ending then is complete and listed', async () => {
    const spec = hourly(await tmp.make());
    expect(starts(await jobStatus(spec, undefined, undefined, new Date('2026-11-29T09:00:00Z')))).toEqual([24, '2026-11-28T09:00:00.000Z', '2026-11-29T08:00:00.000Z']);
  });

  it('--to alone: the 24 windows starting before it, as --from with --to would list them', async () => {
    const spec = hourly(await tmp.make());
    const to = new Date('2026-11-29T06:00:00Z');
    const states = await jobStatus(spec, undefined, to, new Date('2026-11-29T09:05:00Z'));
    expect(starts(states)).toEqual([24, '2026-11-28T06:00:00.000Z', '2026-11-29T05:00:00.000Z']);
    expect(await jobStatus(spec, new Date('2026-11-28T06:00:00Z'), to)).toEqual(states);
  });

  it('--from alone: up to the last complete window', async () => {
    const spec = hourly(await tmp.make());
    expect(starts(await jobStatus(spec, new Date('2026-11-29T00:00:00Z'), undefined, new Date('2026-11-29T09:05:00Z')))).toEqual([9, '2026-11-29T00:00:00.000Z', '2026-11-29T08:00:00.000Z']);
  });
});

describe('jobStatus states', () => {
  it('a manifest of another window at the same path (an ambiguous template) does not commit this one', async () => {
    const dir = await tmp.make();
    // {date} only on an hourly schedule: every hour of a day renders the same directory.
    const spec = parseJobSpec({ model: 'm.onnx', input: 'in.parquet', output: join(dir, 'out/dt={date}/'), schedule: '0 * * * *' }, { baseDir: dir, name: 'hourly' });
    const out = join(dir, 'out/dt=2026-11-29');
    await mkdir(out, { recursive: true });
    const manifest = { format: 'batchinfer-manifest/1', job: 'hourly', window: { start: '2026-11-29T00:00:00.000Z', end: '2026-11-29T01:00:00.000Z' }, inputs: [], rows: { in: 5, out: 5, rejected: 0 }, outputs: [], model: { path: 'm.onnx', sha256: '' }, settings: {}, versions: {}, startedAt: '', finishedAt: '2026-11-29T01:00:05.000Z' };
    await writeFile(join(out, '_SUCCESS'), JSON.stringify(manifest));
    const states = await jobStatus(spec, new Date('2026-11-29T00:00:00Z'), new Date('2026-11-29T02:00:00Z'));
    expect(states.map((s) => [s.start, s.state, s.rows])).toEqual([
      ['2026-11-29T00:00:00.000Z', 'committed', 5],
      ['2026-11-29T01:00:00.000Z', 'missing', undefined],
    ]);
  });
});

describe('jobStatus of a window whose shards are in progress', () => {
  it('is `sharding`, with each shard done, running (a live lock), failed, stale or missing; committed once the window is', async () => {
    const dir = await tmp.make();
    const spec = hourly(dir);
    const out = join(dir, 'out/dt=2026-11-29/hour=00');
    const shardsDir = join(dir, 'out/dt=2026-11-29/.hour=00.shards');
    const inputs = [{ path: join(dir, 'in.parquet'), bytes: 100, mtime: '2026-11-29T00:00:00.000Z' }];
    const units = [0, 1, 2, 3, 4].map((k) => ({ file: 0, rowGroup: k, rowStart: k * 10, rowEnd: k * 10 + 10 }));
    const plan = await recordOrCheckPlan(shardsDir, planOf(5, inputs, units));
    const manifest = (index: number, planHash = plan.hash): ShardManifest => ({
      format: SHARD_MANIFEST_FORMAT, job: 'hourly', window: null, shard: { index, count: 5 }, planHash, units: [index], attempt: 1, inputs: [],
      rows: { in: 10, out: 10, rejected: 0 }, parts: [], model: { path: 'm.onnx', sha256: '' }, settings: {}, versions: {}, startedAt: '', finishedAt: '',
    });
    for (const i of [0, 4]) await mkdir(join(shardsDir, `shard-${i}`));
    await writeShardManifest(shardsDir, manifest(0));
    await writeShardManifest(shardsDir, manifest(4, 'e'.repeat(64)));
    // Shard 1 runs (its lock held by this live process); shard 2 failed; shard 3 not started.
    await writeFile(join(shardsDir, 'shard-1.lock'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: '2026-11-29T01:00:00.000Z', job: 'hourly' }));
    await writeShardFailure(shardsDir, { shard: 2, attempt: 1, code: 'INFERENCE_FAILED', exitCode: 70, message: 'worker died', at: '2026-11-29T01:00:00.000Z' });
    const range = [new Date('2026-11-29T00:00:00Z'), new Date('2026-11-29T02:00:00Z')] as const;
    const states = await jobStatus(spec, ...range);
    expect(states[0]).toEqual({ start: '2026-11-29T00:00:00.000Z', end: '2026-11-29T01:00:00.000Z', output: out + '/', state: 'sharding', shards: { count: 5, committed: [0], running: [1], failed: [2], stale: [4], missing: [3] } });
    expect(states[1]!.state).toBe('missing');
    // A failed shard retried: its live attempt makes it running.
    await writeFile(join(shardsDir, 'shard-2.lock'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: '2026-11-29T01:05:00.000Z', job: 'hourly' }));
    expect((await jobStatus(spec, ...range))[0]!.shards).toEqual({ count: 5, committed: [0], running: [1, 2], failed: [], stale: [4], missing: [3] });
    await writeFile(join(shardsDir, 'shard-2.lock'), '');
    expect(formatStatus(states).split('\n')[1]).toBe('2026-11-29T00:00:00.000Z   sharding               1 of 5 shards done; running 1; failed 2; stale 4; missing 3');
    // Committed: the window's manifest wins over a shards' directory a crash left.
    await mkdir(out, { recursive: true });
    await writeFile(join(out, '_SUCCESS'), JSON.stringify({ format: 'batchinfer-manifest/1', window: { start: '2026-11-29T00:00:00.000Z' }, rows: { out: 50 }, finishedAt: '2026-11-29T01:10:00.000Z' }));
    expect((await jobStatus(spec, ...range))[0]).toMatchObject({ state: 'committed', rows: 50 });
  });
});

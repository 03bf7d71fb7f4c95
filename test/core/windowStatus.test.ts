/**
 * `status` without an explicit range (src/core/windowStatus.ts jobStatus): which windows it
 * lists, and what counts as committed. Nothing exists at the output paths unless a test
 * writes it, so windows are `missing` by default.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobStatus } from '../../src/core/windowStatus.js';
import { parseJobSpec } from '../../src/spec/jobSpec.js';
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
    const manifest = { format: 'batchinfer-manifest/1', job: 'hourly', window: { start: '2026-11-29T00:00:00.000Z', end: '2026-11-29T01:00:00.000Z' }, inputs: [], rows: { in: 5, out: 5, rejected: 0 }, outputs: [], model: { path: 'm.onnx', sha256: '' }, versions: {}, startedAt: '', finishedAt: '2026-11-29T01:00:05.000Z' };
    await writeFile(join(out, '_SUCCESS'), JSON.stringify(manifest));
    const states = await jobStatus(spec, new Date('2026-11-29T00:00:00Z'), new Date('2026-11-29T02:00:00Z'));
    expect(states.map((s) => [s.start, s.state, s.rows])).toEqual([
      ['2026-11-29T00:00:00.000Z', 'committed', 5],
      ['2026-11-29T01:00:00.000Z', 'missing', undefined],
    ]);
  });
});

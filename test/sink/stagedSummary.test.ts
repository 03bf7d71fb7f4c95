import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/summary.js';
import type { Manifest } from '../../src/sink/manifest.js';
import { stagingPathFor, summaryPath } from '../../src/sink/outputPaths.js';
import { recoverSummary, stageSummary } from '../../src/sink/stagedSummary.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-staged-summary-');
const WINDOW = { start: '2026-11-29T02:00:00.000Z', end: '2026-11-29T03:00:00.000Z' };

const summary = (startedAt: string, extra: Partial<RunSummary> = {}): RunSummary =>
  ({ status: 'ok', job: 'hourly', window: WINDOW, rows: { in: 5, out: 5, rejected: 0, rejectedByReason: {} }, startedAt, finishedAt: startedAt, warnings: [], ...extra }) as unknown as RunSummary;
const manifest = (startedAt: string): Manifest =>
  ({ format: 'batchinfer-manifest/1', job: 'hourly', window: WINDOW, startedAt, finishedAt: '2026-11-29T03:05:00.000Z' }) as unknown as Manifest;

async function setUp(): Promise<string> {
  const output = join(await tmp.make(), 'hour=02');
  await mkdir(stagingPathFor(output), { recursive: true });
  return output;
}

describe('recoverSummary: the committing run stopped before writing its summary', () => {
  it('puts the staged summary in place, with the commit time and a note', async () => {
    const output = await setUp();
    await stageSummary(stagingPathFor(output), summary('2026-11-29T03:00:00.000Z'));
    expect(await recoverSummary(output, manifest('2026-11-29T03:00:00.000Z'))).toBe(true);
    const written = JSON.parse(await readFile(summaryPath(output), 'utf8'));
    expect(written).toMatchObject({ status: 'ok', window: WINDOW, startedAt: '2026-11-29T03:00:00.000Z', finishedAt: '2026-11-29T03:05:00.000Z' });
    expect(written.warnings).toHaveLength(1);
  });

  it('replaces the summary of an earlier commit (a --force run killed after its rename)', async () => {
    const output = await setUp();
    await writeFile(summaryPath(output), JSON.stringify(summary('2026-11-29T03:00:00.000Z')));
    await stageSummary(stagingPathFor(output), summary('2026-11-29T04:00:00.000Z', { rows: { in: 7, out: 7, rejected: 0, rejectedByReason: {} } }));
    expect(await recoverSummary(output, manifest('2026-11-29T04:00:00.000Z'))).toBe(true);
    expect(JSON.parse(await readFile(summaryPath(output), 'utf8')).rows.out).toBe(7);
  });

  it('leaves things alone when the summary is there, or the staged one is of another run or window', async () => {
    const output = await setUp();
    await writeFile(summaryPath(output), JSON.stringify(summary('2026-11-29T03:00:00.000Z')));
    await stageSummary(stagingPathFor(output), summary('2026-11-29T03:00:00.000Z', { warnings: ['staged'] }));
    expect(await recoverSummary(output, manifest('2026-11-29T03:00:00.000Z'))).toBe(false);
    expect(JSON.parse(await readFile(summaryPath(output), 'utf8')).warnings).toEqual([]);

    const other = await setUp();
    // A staged summary of an attempt that never committed (another start time).
    await stageSummary(stagingPathFor(other), summary('2026-11-29T01:00:00.000Z'));
    expect(await recoverSummary(other, manifest('2026-11-29T03:00:00.000Z'))).toBe(false);
    // Another window with the same start time.
    await stageSummary(stagingPathFor(other), summary('2026-11-29T03:00:00.000Z', { window: { start: '2026-11-29T05:00:00.000Z', end: '2026-11-29T06:00:00.000Z' } }));
    expect(await recoverSummary(other, manifest('2026-11-29T03:00:00.000Z'))).toBe(false);
    // Nothing staged at all.
    expect(await recoverSummary(join(await tmp.make(), 'x'), manifest('2026-11-29T03:00:00.000Z'))).toBe(false);
    await expect(readFile(summaryPath(other), 'utf8')).rejects.toThrow(/ENOENT/);
  });
});

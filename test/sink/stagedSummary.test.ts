import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/core/summary.js';
import { stagingPathFor, summaryPath } from '../../src/sink/outputPaths.js';
import { placeStagedSummary, stageSummary } from '../../src/sink/stagedSummary.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-staged-summary-');
const summary = { status: 'ok', job: 'j', rows: { in: 5, out: 5, rejected: 0, rejectedByReason: {} }, warnings: [] } as unknown as RunSummary;

describe('the staged summary', () => {
  it('is kept in staging before the commit, then moved beside the output by a rename', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    const staging = stagingPathFor(output);
    await mkdir(staging, { recursive: true });
    await stageSummary(staging, summary);
    expect(await readdir(staging)).toEqual(['summary.json']);
    await placeStagedSummary(staging, output);
    expect(JSON.parse(await readFile(summaryPath(output), 'utf8'))).toEqual(summary);
    expect(await readdir(staging)).toEqual([]);
  });

  it("a scheduled window's summary path is inside its directory, as _summary.json", () => {
    expect(summaryPath('/out/dt=2026-11-29/hour=02/', true)).toBe('/out/dt=2026-11-29/hour=02/_summary.json');
    expect(summaryPath('/out/dt=2026-11-29/hour=02/')).toBe('/out/dt=2026-11-29/hour=02.summary.json');
  });
});

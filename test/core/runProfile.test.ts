/**
 * A run's profile from its parts: merged as the parts are journaled (RunningProfile) it is the
 * profile the parts' files give (read back and merged at the commit, as a resumed run does),
 * and the files are read whenever the parts merged as they came are not all of the run's.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeRunProfile, RunningProfile } from '../../src/core/runProfile.js';
import type { Profile } from '../../src/profile/profile.js';
import { writeProfile } from '../../src/profile/profileFile.js';
import { RunProfiler, type TensorColumn } from '../../src/profile/runProfiler.js';
import { uniform } from '../helpers/seeded.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-run-profile-');

/** Three parts' profiles of a float32 column and a class prediction, written to files as the part sink writes them. */
async function partProfiles(): Promise<{ paths: string[]; profiles: Profile[] }> {
  const dir = await tmp.make();
  const columns: TensorColumn[] = [{ name: 'x', type: 'FLOAT', kind: 'numeric', feed: 'x', position: 0, width: 1, nanIsNull: false, countValues: false }];
  const profiler = new RunProfiler(columns, { classes: ['a', 'b'], review: false, numeric: ['confidence'] });
  const u = uniform(31);
  const profiles: Profile[] = [];
  for (const rows of [30_000, 20_000, 25_000]) {
    const x = Float32Array.from({ length: rows }, () => u() * 3 - 1);
    // A negative zero, which a file holds as 0.
    x[0] = -0;
    profiler.addBatch({ x: { data: x } }, rows, 0, profiles.reduce((n, p) => n + p.rows, 0));
    profiler.addPredictions(rows, { kind: 'decided', classIndex: Int32Array.from(x, (v) => (v > 0 ? 1 : 0)), review: null, numeric: [Float32Array.from(x, (v) => Math.abs(v) / 3)] });
    profiles.push(profiler.takePart(rows, 'out.parquet'));
  }
  const paths = profiles.map((_, i) => join(dir, `profile-0-${i}.json`));
  await Promise.all(profiles.map((p, i) => writeProfile(paths[i]!, p)));
  return { paths, profiles };
}

const partsOf = (paths: string[]): { path: string; rows: number; profile: string }[][] => [paths.map((profile, i) => ({ path: `part-${i}.parquet`, rows: 1, profile }))];

describe('mergeRunProfile with the parts merged as they came', () => {
  it.each([1, 2, 3])('%i part(s): the same profile as reading the files back and merging them', async (count) => {
    const { paths, profiles } = await partProfiles();
    const running = new RunningProfile();
    for (let i = 0; i < count; i++) running.add(paths[i]!, profiles[i]!);
    const fromFiles = await mergeRunProfile(partsOf(paths.slice(0, count)), 'out.parquet');
    // Nothing is read back: the files may be gone.
    await Promise.all(paths.map((p) => rm(p)));
    const asTheyCame = await mergeRunProfile(partsOf(paths.slice(0, count)), 'out.parquet', running);
    expect(JSON.stringify(asTheyCame)).toBe(JSON.stringify(fromFiles));
    expect(asTheyCame!.rows).toBe([30_000, 20_000, 25_000].slice(0, count).reduce((a, b) => a + b));
  });

  it('a run resumed after its first part (merged as they came: only the later two) reads every part from its file', async () => {
    const { paths, profiles } = await partProfiles();
    const running = new RunningProfile();
    running.add(paths[1]!, profiles[1]!);
    running.add(paths[2]!, profiles[2]!);
    const merged = await mergeRunProfile(partsOf(paths), 'out.parquet', running);
    expect(merged!.rows).toBe(75_000);
    expect(JSON.stringify(merged)).toBe(JSON.stringify(await mergeRunProfile(partsOf(paths), 'out.parquet')));
  });

  it('a part without a profile (resumed after profile: false) leaves the run without one', async () => {
    const { paths, profiles } = await partProfiles();
    const running = new RunningProfile();
    running.add(paths[0]!, profiles[0]!);
    expect(await mergeRunProfile([[{ path: 'p0.parquet', rows: 1 }, { path: 'p1.parquet', rows: 1, profile: paths[0]! }]], 'out.parquet', running)).toBeNull();
  });
});

/**
 * The profile of a sharded run through the real CLI: each shard keeps the profile of its rows
 * (listed in its manifest), `commit` merges them into `<output>.profile.json` (a window's
 * `_profile.json`), equal to the profile one process writes for the same job (counts exactly,
 * moments to float rounding, sketch quantiles within 0.02 in rank of the exact quantiles), and
 * judges the job's `reference`: its drift gate fails the commit (exit 1, the output
 * committed), never a shard.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../src/profile/quantileSketch.js';
import { describeResult, expectOk, runCli } from '../helpers/cli.js';
import { withDuckDb } from '../helpers/parquet.js';
import { dailyJob, expectWindowProfile, PROFILED_ROWS, profiledJob, readJson, writeJob as writeJobFile, writeProfiledInputs } from '../helpers/profiledJob.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-shard-profile-');
let dir: string;
const path = (name: string): string => join(dir, name);

const ROWS = PROFILED_ROWS;
const job = (input: string, output: string, extra: Record<string, unknown> = {}): Record<string, unknown> => profiledJob(input, output, { checkpoint_rows: 4000, ...extra });
const writeJob = (name: string, spec: Record<string, unknown>): Promise<string> => writeJobFile(dir, name, spec);

/** Runs the job's N shards one after another, each with `--json`; their summaries. */
async function runShards(jobPath: string, n: number, extra: string[] = []): Promise<any[]> {
  const summaries = [];
  for (let i = 0; i < n; i++) {
    const r = await runCli(['run', jobPath, ...extra, '--shard', `${i}/${n}`, '--json', '--quiet']);
    expectOk(r);
    summaries.push(JSON.parse(r.stdout));
  }
  return summaries;
}

/** Every figure of a profile but the sketches, which a merge of other parts rebuilds otherwise. */
function withoutSketches(profile: any): any {
  return { ...profile, source: null, columns: profile.columns.map((c: any) => ({ ...c, numeric: c.numeric ? { ...c.numeric, sketch: null } : null })) };
}

beforeAll(async () => {
  dir = await tmp.make();
  await writeProfiledInputs(dir, 5000);
});

describe('the profile of a sharded run', { timeout: 180_000 }, () => {
  it("is the shards' profiles merged at the commit: the one-process run's counts and moments, its quantiles within the sketch's error", async () => {
    const single = path('single.parquet');
    expectOk(await runCli(['run', await writeJob('single', job(path('in.parquet'), single)), '--quiet']));
    const out = path('sharded.parquet');
    const jobPath = await writeJob('sharded', job(path('in.parquet'), out));
    const shards = await runShards(jobPath, 4);
    const shardsDir = path('.sharded.parquet.shards');
    for (const [i, s] of shards.entries()) {
      // Each shard keeps the profile of its own rows in its staging, listed in its manifest.
      expect(s.profile).toBe(join(shardsDir, `shard-${i}`, 'profile.json'));
      const manifest = await readJson(join(shardsDir, `shard-${i}`, 'manifest.json'));
      const own = await readJson(s.profile);
      expect(manifest.profile).toMatchObject({ file: 'profile.json', rows: own.rows });
      expect(own.rows).toBe(manifest.rows.out);
    }
    expect(existsSync(`${out}.profile.json`)).toBe(false);
    const commit = await runCli(['commit', jobPath, '--shards', '4', '--json']);
    expectOk(commit);
    const summary = JSON.parse(commit.stdout);
    expect(summary.profile).toBe(`${out}.profile.json`);
    expect(commit.stderr).toContain(`profile of the 4 shards' rows -> ${out}.profile.json`);
    expect((await readJson(`${out}.summary.json`)).profile).toBe(`${out}.profile.json`);
    expect(await stagingLeftovers(out)).toEqual([]);

    const [merged, one] = [await readJson(`${out}.profile.json`), await readJson(`${single}.profile.json`)];
    expect(merged.source).toBe(out);
    expect(merged.rows).toBe(ROWS - 80);
    // Counts, categories, predictions and extremes exactly; means and deviations to float rounding (other merge order).
    const close = (a: any, b: any): void => {
      if (typeof a === 'number' && typeof b === 'number' && !Number.isInteger(a)) expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(b)));
      else if (a && typeof a === 'object') for (const k of Object.keys(b)) close(a[k], b[k]);
      else expect(a).toEqual(b);
    };
    expect(Object.keys(withoutSketches(merged)).sort()).toEqual(Object.keys(withoutSketches(one)).sort());
    close(withoutSketches(merged), withoutSketches(one));
    for (const c of merged.columns.filter((c: any) => c.numeric)) {
      const o = one.columns.find((x: any) => x.name === c.name);
      for (const k of ['count', 'min', 'max']) expect(c.numeric[k]).toBe(o.numeric[k]);
    }
    // The merged sketches' quantiles: within 0.02 in rank of the exact quantiles (as float32, as the tensors held them).
    for (const name of ['a', 'c']) {
      const sketch = QuantileSketch.fromJSON(merged.columns.find((c: any) => c.name === name).numeric.sketch);
      const qs = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99];
      const values = sketch.quantiles(qs);
      const ranks = await withDuckDb((q) => q(`SELECT ${values.map((v, i) => `avg(CASE WHEN ${name}::FLOAT <= ${v} THEN 1 ELSE 0 END) AS r${i}`).join(', ')} FROM read_parquet('${path('in.parquet')}') WHERE a IS NOT NULL`));
      qs.forEach((q, i) => expect(Math.abs((ranks[0]![`r${i}`] as number) - q)).toBeLessThan(0.02));
    }
  });

  it("a reference's drift is judged on the merged profile: no shard fails the gate, the commit exits 1 with the output committed", async () => {
    const extra = { reference: 'train.profile.json', drift: { method: 'psi', drift_share: 0.25, fail_on: ['column', 'dataset'] } };
    const single = path('single-shifted.parquet');
    const one = await runCli(['run', await writeJob('single-shifted', job(path('shifted.parquet'), single, extra)), '--json', '--quiet']);
    expect(one.code, describeResult(one)).toBe(1);
    const out = path('sharded-shifted.parquet');
    const jobPath = await writeJob('sharded-shifted', job(path('shifted.parquet'), out, extra));
    // Each shard's rows drift as much, but a shard judges none: every one exits 0, and no summary of one has a drift.
    const shards = await runShards(jobPath, 3);
    for (const s of shards) expect(s.drift).toBeUndefined();
    const r = await runCli(['commit', jobPath, '--shards', '3', '--json']);
    expect(r.code, describeResult(r)).toBe(1);
    expect(r.stderr).toContain(`batchinfer: column and dataset drift found against reference ${path('train.profile.json')} (drift.fail_on column,dataset): exit 1 (the output is committed)\n`);
    const summary = JSON.parse(r.stdout);
    expect(summary.drift).toMatchObject({ drifted_columns: ['a'], dataset_drift: true, failed: ['column', 'dataset'] });
    expect(summary.drift).toEqual(JSON.parse(one.stdout).drift);
    expect((await readJson(`${out}.summary.json`)).drift).toEqual(summary.drift);
    const [rows] = await withDuckDb((q) => q(`SELECT count(*) AS n FROM read_parquet('${out}')`));
    expect(Number(rows!['n'])).toBe(ROWS - 80);
    expect(existsSync(`${out}.profile.json`)).toBe(true);
    // The same data without drift: the commit exits 0.
    const calm = path('sharded-calm.parquet');
    const calmJob = await writeJob('sharded-calm', job(path('in.parquet'), calm, extra));
    await runShards(calmJob, 2);
    const ok = await runCli(['commit', calmJob, '--shards', '2', '--json']);
    expectOk(ok);
    expect(JSON.parse(ok.stdout).drift).toMatchObject({ drifted_columns: [], dataset_drift: false, failed: [] });
  });

  it("of a scheduled window is `_profile.json` inside the window; a shard run with --no-profile leaves the run's profile out, saying why", async () => {
    const jobPath = await writeJob('daily', dailyJob(job(path('in.parquet'), path('daily/dt={date}/'))));
    const at = '2026-11-29T00:00:00Z';
    await runShards(jobPath, 2, ['--at', at]);
    const r = await runCli(['commit', jobPath, '--at', at, '--shards', '2', '--json']);
    expectOk(r);
    await expectWindowProfile(r.stdout, path('daily/dt=2026-11-29'));

    const out = path('partial.parquet');
    const partial = await writeJob('partial', job(path('in.parquet'), out));
    expectOk(await runCli(['run', partial, '--shard', '0/2', '--quiet']));
    expectOk(await runCli(['run', partial, '--shard', '1/2', '--no-profile', '--quiet']));
    const c = await runCli(['commit', partial, '--shards', '2', '--json']);
    expectOk(c);
    expect(JSON.parse(c.stdout).profile).toBeUndefined();
    expect(c.stderr).toContain("warning: shard 1 kept no profile of its rows: the run's profile would miss them, so none is written");
    expect(existsSync(`${out}.profile.json`)).toBe(false);
  });
});

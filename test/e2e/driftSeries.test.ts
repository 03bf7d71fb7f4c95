/**
 * `drift JOB --from T1 --to T2` (issue 17) on the hourly job of test/helpers/driftingJob.ts,
 * whose column `a` moves a little more every hour, its windows committed and given the
 * `_profile.json` a run keeps in its window directory (hour 05 none). The
 * series must equal the one-off `drift --reference REF --current WINDOW_PROFILE` of every
 * window, show the slow drift growing, list the windows without a profile, and gate on the
 * latest window with a profile. Every misuse is a USAGE error.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, expectOk, runCli, type CliResult } from '../helpers/cli.js';
import { at, DAY, HOURS, stageDriftingJob } from '../helpers/driftingJob.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-driftseries-');
let dir: string;
let job: string;

beforeAll(async () => {
  dir = await tmp.make();
  job = await stageDriftingJob(dir);
}, 180_000);

function json(r: CliResult): any {
  expectOk(r);
  return JSON.parse(r.stdout);
}

describe.concurrent('drift JOB --from --to', { timeout: 60_000 }, () => {
  it('one row per window with a profile, equal to the one-off drift of that window; the others listed as missing', async () => {
    const series = json(await runCli(['drift', job, '--from', at('00'), '--to', `${DAY}T07:00:00Z`, '--json'], { cwd: dir }));
    expect(Object.keys(series)).toEqual(['method', 'threshold', 'reference', 'windows', 'missing']);
    expect([series.method, series.threshold, series.reference]).toEqual(['psi', 0.2, join(dir, 'train.profile.json')]);
    expect(series.windows.map((w: { start: string }) => w.start)).toEqual(HOURS.slice(0, 5).map(at));
    expect(series.missing).toEqual([
      { start: at('05'), end: at('06'), reason: 'no profile' },
      { start: at('06'), end: at('07'), reason: 'not run' },
    ]);
    for (const [i, hh] of HOURS.slice(0, 5).entries()) {
      const one = json(await runCli(['drift', '--reference', 'train.profile.json', '--current', `out/dt=${DAY}/hour=${hh}/_profile.json`, '--json'], { cwd: dir }));
      const w = series.windows[i];
      expect(w.end).toBe(at(HOURS[i + 1]!));
      expect(w.columns).toEqual(Object.fromEntries(one.columns.map((c: { column: string; psi: number }) => [c.column, c.psi])));
      expect(w.drifted).toEqual(one.columns.filter((c: { drifted: boolean }) => c.drifted).map((c: { column: string }) => c.column));
      expect([w.dataset_drift, w.drifted_columns, w.prediction_drift]).toEqual([one.dataset_drift, one.drifted_columns, null]);
    }
    // The slow drift: a's PSI grows window by window past 0.2; b and cat stay put.
    const a = series.windows.map((w: { columns: Record<string, number> }) => w.columns['a']);
    expect(a.every((v: number, i: number) => i === 0 || v > a[i - 1])).toBe(true);
    expect(a[0]).toBeLessThan(0.2);
    expect(a[4]).toBeGreaterThan(0.2);
    expect(series.windows.every((w: { columns: Record<string, number> }) => w.columns['b']! < 0.2 && w.columns['cat']! < 0.2)).toBe(true);
  });

  it('--method ks shows the p-values (chi-square for a categorical column) against the ks level', async () => {
    const series = json(await runCli(['drift', job, '--from', at('00'), '--to', at('05'), '--method', 'ks', '--json'], { cwd: dir }));
    const one = json(await runCli(['drift', '--reference', 'train.profile.json', '--current', `out/dt=${DAY}/hour=04/_profile.json`, '--method', 'ks', '--json'], { cwd: dir }));
    expect(series.threshold).toBe(0.05);
    const byName = Object.fromEntries(one.columns.map((c: { column: string; ks_p_value: number; chi2_p_value: number; kind: string }) => [c.column, c.kind === 'numeric' ? c.ks_p_value : c.chi2_p_value]));
    expect(series.windows[4].columns).toEqual(byName);
  });

  it('the human table: a line per window, the statistic per column, * on drifted cells, the missing windows', async () => {
    const r = await runCli(['drift', job, '--from', at('00'), '--to', at('06')], { cwd: dir });
    expectOk(r);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`drift of 5 windows against ${join(dir, 'train.profile.json')}: PSI per column (psi > 0.2; * drifted)`);
    expect(lines[1]).toMatch(/^window start\s+a\s+b\s+cat\s+dataset\s+predictions$/);
    expect(lines.slice(2, 7).map((l) => l.split(/\s+/)[0])).toEqual(HOURS.slice(0, 5).map(at));
    expect(lines[6]).toMatch(/^\S+\s+[\d.e-]+\*\s+[\d.e-]+\s+[\d.e-]+\s+no\s+-$/);
    expect(lines[2]).not.toContain('*');
    expect(lines[7]).toBe(`missing 1: ${at('05')} (no profile)`);
  });

  it('--fail-on judges the latest window with a profile: column drift there exits 1; dataset drift (1 of 3 columns) does not', async () => {
    const column = await runCli(['drift', job, '--from', at('00'), '--to', at('06'), '--fail-on', 'column'], { cwd: dir });
    expect(column.code).toBe(1);
    expect(column.stderr).toBe(`batchinfer: column drift found in the latest window with a profile, ${at('04')} (--fail-on column): exit 1\n`);
    expectOk(await runCli(['drift', job, '--from', at('00'), '--to', at('06'), '--fail-on', 'dataset,prediction'], { cwd: dir }));
    // Up to 01:00 the latest window with a profile is 00:00, which has not drifted.
    expectOk(await runCli(['drift', job, '--from', at('00'), '--to', at('01'), '--fail-on', 'column'], { cwd: dir }));
    const none = await runCli(['drift', job, '--from', at('05'), '--to', `${DAY}T08:00:00Z`, '--json', '--fail-on', 'column'], { cwd: dir });
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout).windows).toEqual([]);
    expect(none.stderr).toBe('batchinfer: no window in the range has a profile, so --fail-on column has nothing to judge: exit 1\n');
  });

  it('--reference replaces the job\'s: against hour 04 itself, hour 04 has drifted nowhere', async () => {
    const series = json(await runCli(['drift', job, '--from', at('04'), '--to', at('05'), '--reference', `out/dt=${DAY}/hour=04/_profile.json`, '--json'], { cwd: dir }));
    expect(series.reference).toBe(join(dir, `out/dt=${DAY}/hour=04/_profile.json`));
    expect(series.windows[0].columns).toEqual({ a: 0, b: 0, cat: 0 });
  });

  it('misuse: --current with JOB, --from without JOB, neither reference nor current, a job without schedule or reference, a bad threshold', async () => {
    const usage = async (args: string[], text: string) => expect(expectCliError(await runCli(args, { cwd: dir }), 2, 'USAGE')).toContain(text);
    await usage(['drift', job, '--current', 'train.parquet'], '--current is for comparing one dataset');
    await usage(['drift', '--from', at('00'), '--reference', 'train.profile.json', '--current', 'train.parquet'], '--from and --to take a scheduled JOB');
    await usage(['drift', '--reference', 'train.profile.json'], 'missing --current');
    await usage(['drift', job, '--threshold', '-1'], '--threshold');
    const plain = join(dir, 'plain.yaml');
    await writeFile(plain, YAML.stringify({ model: 'identity.onnx', input: 'train.parquet', output: 'o.parquet', features: ['a', 'b'] }));
    await usage(['drift', plain], 'has no `schedule`');
    const unreferenced = join(dir, 'noref.yaml');
    const keys = YAML.parse(await readFile(job, 'utf8'));
    delete keys.reference;
    await writeFile(unreferenced, YAML.stringify(keys));
    await usage(['drift', unreferenced, '--from', at('00'), '--to', at('01')], 'names no `reference`: give --reference REF');
  });
});

describe('backfill with a drift gate', () => {
  it('commits every window, and exits 1 naming the windows whose run found the drift drift.fail_on names', async () => {
    // The same job with a gate on column drift, scored into outputs of its own.
    const keys = YAML.parse(await readFile(job, 'utf8'));
    const gated = join(dir, 'gated.yaml');
    await writeFile(gated, YAML.stringify({ ...keys, output: 'gated/dt={date}/hour={hour}/', drift: { method: 'psi', fail_on: 'column' } }));
    const r = await runCli(['backfill', gated, '--from', at('00'), '--to', at('06'), '--json'], { cwd: dir, timeoutMs: 120_000 });
    expect(r.code, r.stderr).toBe(1);
    const outcomes = JSON.parse(r.stdout) as { start: string; status: string; driftFailed?: string[] }[];
    expect(outcomes.map((o) => o.status)).toEqual(HOURS.map(() => 'committed'));
    // Column a moves further from the reference every hour: the first hour is like it, the last is not.
    expect(outcomes[0]!.driftFailed).toBeUndefined();
    expect(outcomes.at(-1)!.driftFailed).toEqual(['column']);
    const drifted = outcomes.filter((o) => o.driftFailed).map((o) => o.start);
    expect(r.stderr).toContain(`batchinfer: drift.fail_on found drift in ${drifted.length} window${drifted.length === 1 ? '' : 's'} (${drifted[0]}: column`);
  });
});

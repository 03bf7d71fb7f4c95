/**
 * An hourly scheduled job whose column `a` drifts a little more every hour, for `drift JOB`
 * and `report JOB`: six windows (2026-11-29 00:00..06:00 UTC) committed by `backfill`, and the
 * `_profile.json` each window keeps replaced for the first five by `batchinfer profile` of the
 * window's input (hour 05's removed: a window scored without one). The reference,
 * `train.profile.json`, is the profile of 2000 rows like hour 00's; the job names it.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { encodeModel } from '../../scripts/fixtures/onnxBuilder.js';
import { expectOk, runCli } from './cli.js';
import { withDuckDb } from './parquet.js';

export const DAY = '2026-11-29';
export const HOURS = ['00', '01', '02', '03', '04', '05'];
/** The instant a window of DAY starts, as the series writes it. */
export const at = (hh: string): string => `${DAY}T${hh}:00:00.000Z`;

/** 600 rows of hour `h` from row `offset`: `a` uniform on [0.08 h, 1 + 0.08 h) (a slow drift), `b` the same every hour, `cat` x/y/z. */
const hourSql = (h: number, rows = 600, offset = 0): string =>
  `SELECT i, ((i * 7919 + ${h * 13}) % 1000) / 1000.0 + ${0.08 * h} AS a, ((i * 104729) % 997) / 997.0 AS b, ['x', 'y', 'z'][i % 3 + 1] AS cat FROM range(${offset}, ${offset + rows}) t(i)`;

/** Builds the job in `dir`; returns the job file's path. */
export async function stageDriftingJob(dir: string): Promise<string> {
  const feature = { name: 'x', elemType: 'float32' as const, shape: ['N', 2] };
  await writeFile(join(dir, 'identity.onnx'), encodeModel({ name: 'identity', description: 'returns its features', inputs: [feature], outputs: [{ ...feature, name: 'value' }], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['value'] }], params: {}, features: {} }));
  await withDuckDb(async (q) => {
    await q(`COPY (${hourSql(0, 2000, 5000)}) TO '${join(dir, 'train.parquet')}' (FORMAT parquet)`);
    for (const [h, hh] of HOURS.entries()) {
      await mkdir(join(dir, `in/dt=${DAY}/hour=${hh}`), { recursive: true });
      await q(`COPY (${hourSql(h)}) TO '${join(dir, `in/dt=${DAY}/hour=${hh}/part.parquet`)}' (FORMAT parquet)`);
    }
  });
  const job = join(dir, 'hourly.yaml');
  const keys = { schedule: '0 * * * *', model: 'identity.onnx', input: 'in/dt={date}/hour={hour}/part.parquet', output: 'out/dt={date}/hour={hour}/', task: 'regression', passthrough: ['cat'], features: ['a', 'b'], reference: 'train.profile.json' };
  await writeFile(job, YAML.stringify(keys));
  expectOk(await runCli(['profile', 'train.parquet', '--columns', 'a,b,cat', '--output', 'train.profile.json'], { cwd: dir }));
  expectOk(await runCli(['backfill', job, '--from', at('00'), '--to', at('06')], { cwd: dir, timeoutMs: 120_000 }));
  for (const hh of HOURS.slice(0, 5)) {
    expectOk(await runCli(['profile', `in/dt=${DAY}/hour=${hh}/part.parquet`, '--columns', 'a,b,cat', '--output', `out/dt=${DAY}/hour=${hh}/_profile.json`], { cwd: dir }));
  }
  // Hour 05 as a window scored without a profile (profile: false, or an older batchinfer) leaves it.
  await rm(join(dir, `out/dt=${DAY}/hour=05/_profile.json`), { force: true });
  return job;
}

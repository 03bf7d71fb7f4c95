/**
 * Hive-partitioned inputs end to end: `events/dt=.../hour=.../*.parquet` read as a directory
 * gives its rows the typed keys as columns (passthrough, features), and a daily job whose
 * window_column is the `dt` key reads only that day's files.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-partitions-');
const DAYS = ['2026-11-29', '2026-11-30', '2026-12-01'];
/** events/dt=<day>/hour=<5|6>/data_0.parquet, 40 rows each, the keys only in the directory names. */
let events: string;
/** The same rows in one file, in the directory's file order, with dt and hour as columns. */
let flat: string;

beforeAll(async () => {
  const dir = await tmp.make();
  events = join(dir, 'events');
  flat = join(dir, 'flat.parquet');
  const rows = `SELECT i AS id, (i % 97) / 10.0 AS a, (i % 13) / 13.0 AS b, (i % 7) / 7.0 AS c,
      DATE '2026-11-29' + CAST(i // 80 AS INTEGER) AS dt, CAST(5 + (i // 40) % 2 AS BIGINT) AS hour FROM range(240) t(i)`;
  await withDuckDb(async (q) => {
    await q(`COPY (${rows}) TO '${events}' (FORMAT parquet, PARTITION_BY (dt, hour))`);
    await q(`COPY (${rows} ORDER BY dt, hour, id) TO '${flat}' (FORMAT parquet)`);
  });
  // What Spark and Hive leave beside the data: never read.
  await writeFile(join(events, '_SUCCESS'), '');
  await mkdir(join(events, `dt=${DAYS[0]}`, '_temporary'), { recursive: true });
  await writeFile(join(events, `dt=${DAYS[0]}`, '_temporary', 'part-9.parquet'), 'not parquet');
});

const FLAGS = ['--model', model('mlp'), '--labels', 'legit,fraud', '--quiet'];

describe.concurrent('hive-partitioned inputs', { timeout: 60_000 }, () => {
  it('partition keys as passthrough and as a feature: the same scores as the keys held as columns', async () => {
    const dir = await tmp.make();
    const args = ['--features', 'a,b,c,hour', '--passthrough', 'id,dt,hour', '--json'];
    const r = await runCli(['run', ...FLAGS, '--input', events + '/', '--output', join(dir, 'p.parquet'), ...args]);
    expectOk(r);
    expectOk(await runCli(['run', ...FLAGS, '--input', flat, '--output', join(dir, 'f.parquet'), ...args]));
    const got = await readParquet(join(dir, 'p.parquet'));
    expect(got.rows).toHaveLength(240);
    expect(got.rows).toEqual((await readParquet(join(dir, 'f.parquet'))).rows);
    const types = await withDuckDb((q) => q(`SELECT column_name, column_type FROM (DESCRIBE SELECT dt, hour FROM '${join(dir, 'p.parquet')}')`));
    expect(types).toEqual([{ column_name: 'dt', column_type: 'DATE' }, { column_name: 'hour', column_type: 'BIGINT' }]);
    expect(JSON.parse(r.stdout).input).toEqual({ path: events + '/', format: 'parquet', files: 6, filesRead: 6, partitions: [{ name: 'dt', type: 'DATE' }, { name: 'hour', type: 'BIGINT' }] });
  });

  it('a daily job with window_column on the dt key scores only that day, reading only its 2 files of 6', async () => {
    const dir = await tmp.make();
    // Its own copy: a partition is added below.
    const input = join(dir, 'events');
    await cp(events, input, { recursive: true });
    const job = { name: 'daily', schedule: '0 0 * * *', model: model('mlp'), input, window_column: 'dt', output: join(dir, 'out/day={date}/'), features: ['a', 'b', 'c', 'hour'], labels: ['legit', 'fraud'], passthrough: ['id', 'dt'], on_error: 'quarantine' };
    await writeFile(join(dir, 'job.yaml'), YAML.stringify(job));
    const r = await runCli(['run', join(dir, 'job.yaml'), '--at', `${DAYS[1]}T00:00:00Z`, '--quiet', '--json']);
    expectOk(r);
    const summary = JSON.parse(r.stdout);
    expect(summary.input).toMatchObject({ files: 6, filesRead: 2 });
    expect(summary.rows.out).toBe(80);
    const out = join(dir, `out/day=${DAYS[1]}`);
    const parts = (await readdir(out)).filter((f) => f.endsWith('.parquet'));
    const ids = (await Promise.all(parts.map(async (p) => (await readParquet(join(out, p))).rows.map((row) => Number(row.id))))).flat();
    expect(ids.sort((x, y) => x - y)).toEqual(Array.from({ length: 80 }, (_, i) => 80 + i));
    // The window's empty rejects file takes its columns from a file it read (file 0 was not).
    expect((await readParquet(join(out, '_rejects', 'rejects.parquet'))).rows).toEqual([]);
    // Its inputs are its own partitions: a new day's partition does not change them.
    await cp(join(input, `dt=${DAYS[2]}`), join(input, 'dt=2026-12-09'), { recursive: true });
    const again = await runCli(['run', join(dir, 'job.yaml'), '--at', `${DAYS[1]}T00:00:00Z`, '--quiet', '--json']);
    expectOk(again);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'skipped', reason: 'already committed' });
    // A change to one of its own files is refused as ever.
    await writeFile(join(input, `dt=${DAYS[1]}`, 'hour=5', 'data_0.parquet'), await readFile(join(input, `dt=${DAYS[2]}`, 'hour=5', 'data_0.parquet')));
    expectCliError(await runCli(['run', join(dir, 'job.yaml'), '--at', `${DAYS[1]}T00:00:00Z`, '--quiet']), 65, 'INPUTS_CHANGED');
  });

  it('a window does not open other days\' files: one that is corrupt does not fail it', async () => {
    const dir = await tmp.make();
    const input = join(dir, 'events');
    await cp(events, input, { recursive: true });
    await writeFile(join(input, `dt=${DAYS[0]}`, 'hour=5', 'data_0.parquet'), 'not parquet');
    const job = { name: 'daily', schedule: '0 0 * * *', model: model('mlp'), input, window_column: 'dt', output: join(dir, 'out/{date}/'), features: ['a', 'b', 'c', 'hour'], labels: ['legit', 'fraud'] };
    await writeFile(join(dir, 'job.yaml'), YAML.stringify(job));
    const r = await runCli(['run', join(dir, 'job.yaml'), '--at', `${DAYS[2]}T00:00:00Z`, '--quiet', '--json']);
    expectOk(r);
    expect(JSON.parse(r.stdout)).toMatchObject({ input: { files: 6, filesRead: 2 }, rows: { out: 80 } });
  });

  it('partition_types: dt as text reads a dt=latest directory; a key the input does not have is 78', async () => {
    const dir = await tmp.make();
    const input = join(dir, 'events');
    await withDuckDb((q) => q(`COPY (SELECT i AS id, 0.1 AS a, 0.2 AS b, 0.3 AS c, 0.4 AS d, DATE '2026-11-29' + CAST(i // 10 AS INTEGER) AS dt FROM range(20) t(i)) TO '${input}' (FORMAT parquet, PARTITION_BY (dt))`));
    await rename(join(input, 'dt=2026-11-30'), join(input, 'dt=latest'));
    const job = { model: model('mlp'), input, output: join(dir, 'o.parquet'), features: ['a', 'b', 'c', 'd'], labels: ['legit', 'fraud'], passthrough: ['id', 'dt'], partition_types: { dt: 'text' } };
    await writeFile(join(dir, 'job.yaml'), YAML.stringify(job));
    expectOk(await runCli(['run', join(dir, 'job.yaml'), '--quiet']));
    expect((await readParquet(join(dir, 'o.parquet'))).rows.map((r) => r.dt)).toEqual([...Array(10).fill('2026-11-29'), ...Array(10).fill('latest')]);
    await writeFile(join(dir, 'bad.yaml'), YAML.stringify({ ...job, output: join(dir, 'b.parquet'), partition_types: { dt: 'text', region: 'text' } }));
    const r = await runCli(['run', join(dir, 'bad.yaml'), '--quiet']);
    expect(expectCliError(r, 78, 'SPEC_INVALID')).toContain("partition_types.region: 'region' is not a partition key of the input (no region=... directories below its root)");
    expect(existsSync(join(dir, 'b.parquet'))).toBe(false);
  });

  it('window_column on an integer key (hour) is refused before anything is read: 78', async () => {
    const dir = await tmp.make();
    const job = { name: 'hourly', schedule: '0 * * * *', model: model('mlp'), input: events, window_column: 'hour', output: join(dir, 'out/{date}/{hour}/'), features: ['a', 'b', 'c', 'hour'], labels: ['legit', 'fraud'] };
    await writeFile(join(dir, 'job.yaml'), YAML.stringify(job));
    const r = await runCli(['run', join(dir, 'job.yaml'), '--at', `${DAYS[1]}T05:00:00Z`, '--quiet']);
    expect(expectCliError(r, 78, 'SCHEMA_MISMATCH')).toContain("column 'hour' does not hold times");
    // Only the failure marker `status` reads is left beside the window's output.
    expect(existsSync(join(dir, `out/${DAYS[1]}/05`))).toBe(false);
  });

  it('a window no partition falls in reads one file, scores no row, and commits an empty window', async () => {
    const dir = await tmp.make();
    const job = { name: 'daily', schedule: '0 0 * * *', model: model('mlp'), input: events, window_column: 'dt', output: join(dir, 'out/{date}/'), features: ['a', 'b', 'c', 'hour'], labels: ['legit', 'fraud'], passthrough: ['id', 'dt'], on_error: 'quarantine' };
    await writeFile(join(dir, 'job.yaml'), YAML.stringify(job));
    const r = await runCli(['run', join(dir, 'job.yaml'), '--at', '2026-12-05T00:00:00Z', '--quiet', '--json']);
    expectOk(r);
    expect(JSON.parse(r.stdout)).toMatchObject({ input: { files: 6, filesRead: 1 }, rows: { in: 0, out: 0 } });
    expect(existsSync(join(dir, 'out/2026-12-05/_SUCCESS'))).toBe(true);
  });

  it('an input list: entries read in the order given (relative to the job file), each keeping the keys below its own root', async () => {
    const dir = await tmp.make();
    const input = [relative(dir, join(events, `dt=${DAYS[2]}`, '*', '*.parquet')), relative(dir, join(events, `dt=${DAYS[0]}`)) + '/'];
    const job = { model: model('mlp'), input, output: join(dir, 'o.parquet'), features: ['a', 'b', 'c', 'hour'], labels: ['legit', 'fraud'], passthrough: ['id', 'hour'] };
    await writeFile(join(dir, 'job.yaml'), YAML.stringify(job));
    const r = await runCli(['run', join(dir, 'job.yaml'), '--quiet', '--json']);
    expectOk(r);
    expect(JSON.parse(r.stdout).input).toMatchObject({ paths: input.map((p) => resolve(dir, p) + (p.endsWith('/') ? '/' : '')), files: 4, filesRead: 4, partitions: [{ name: 'hour', type: 'BIGINT' }] });
    const rows = (await readParquet(join(dir, 'o.parquet'))).rows;
    expect(rows.map((row) => Number(row.id))).toEqual([...Array.from({ length: 80 }, (_, i) => 160 + i), ...Array.from({ length: 80 }, (_, i) => i)]);
    expect(rows.map((row) => Number(row.hour))).toEqual([160, 0].flatMap(() => [...Array(40).fill(5), ...Array(40).fill(6)]));
  });

  it('CSV partitions: the keys feed the model and pass through as from Parquet', async () => {
    const dir = await tmp.make();
    const csv = join(dir, 'events');
    await withDuckDb((q) => q(`COPY (SELECT * FROM '${flat}') TO '${csv}' (FORMAT csv, HEADER, PARTITION_BY (dt, hour))`));
    const args = ['--features', 'a,b,c,hour', '--passthrough', 'id,dt,hour'];
    expectOk(await runCli(['run', ...FLAGS, '--input', csv, '--output', join(dir, 'c.parquet'), ...args]));
    expectOk(await runCli(['run', ...FLAGS, '--input', flat, '--output', join(dir, 'f.parquet'), ...args]));
    expect((await readParquet(join(dir, 'c.parquet'))).rows).toEqual((await readParquet(join(dir, 'f.parquet'))).rows);
  });

  it('an output directory inside a directory input is not read back by the recursive listing', async () => {
    const dir = await tmp.make();
    const input = join(dir, 'in');
    await cp(events, input, { recursive: true });
    const args = ['run', ...FLAGS, '--input', input, '--output', join(input, 'scores') + '/', '--features', 'a,b,c,hour', '--passthrough', 'id', '--json'];
    expectOk(await runCli(args));
    const again = await runCli(args);
    expectOk(again);
    const summary = JSON.parse(again.stdout);
    expect(summary.input).toMatchObject({ files: 6, filesRead: 6 });
    expect(summary.rows.out).toBe(240);
    expect(summary.warnings.join('\n')).toMatch(/left out 6 files the input matched that are this output's own/);
  });

  it('validate names the partition keys and their types', async () => {
    const dir = await tmp.make();
    const r = await runCli(['validate', '--model', model('mlp'), '--input', events, '--output', join(dir, 'o.parquet'), '--features', 'a,b,c,hour', '--labels', 'legit,fraud']);
    expectOk(r);
    expect(r.stderr).toContain(`input ${events} (6 parquet files; partition keys dt DATE, hour BIGINT)`);
    const json = await runCli(['validate', '--model', model('mlp'), '--input', events, '--output', join(dir, 'o.parquet'), '--features', 'a,b,c,hour', '--labels', 'legit,fraud', '--json']);
    expect(JSON.parse(json.stdout).input.partitions).toEqual([{ name: 'dt', type: 'DATE' }, { name: 'hour', type: 'BIGINT' }]);
  });

  it('a dt directory that is not a date: 65 naming the file, nothing left behind', async () => {
    const dir = await tmp.make();
    const input = join(dir, 'events');
    await withDuckDb((q) => q(`COPY (SELECT i AS id, 0.1 AS a, 0.2 AS b, 0.3 AS c, 0.4 AS d, DATE '2026-11-29' + CAST(i // 10 AS INTEGER) AS dt FROM range(20) t(i)) TO '${input}' (FORMAT parquet, PARTITION_BY (dt))`));
    await rename(join(input, 'dt=2026-11-30'), join(input, 'dt=2026-11-31'));
    const r = await runCli(['run', ...FLAGS, '--input', input, '--output', join(dir, 'out', 'o.parquet'), '--features', 'a,b,c,d']);
    const message = expectCliError(r, 65, 'INPUT_INVALID');
    expect(message).toContain(`input file ${join(input, 'dt=2026-11-31', 'data_0.parquet')}: partition dt=2026-11-31 is not a date, while other dt values below ${input} are dates`);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });
});

/**
 * Scheduled runs through the real CLI (issue 3): windowed runs committed as a directory of
 * parts plus a `_SUCCESS` manifest, skip / INPUTS_CHANGED / --force, partitioned inputs named
 * by templates, kill -9 at every crash point and resume, SIGTERM/SIGINT, locks, backfill and
 * status. Every scenario has its own temp dir, so they run concurrently.
 *
 * Fixture facts used here: transactions.parquet has 3000 rows one every 7 s from
 * 2026-11-29 00:00:00 (naive `ts`), so hours 00..05 hold ~514 rows each.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { JOBS_DIR, data, describeResult, expectCliError, expectFailureJson, expectOk, model, runCli, startCli, type CliResult, type StartedCli } from '../helpers/cli.js';
import { comparePredictions, expectedPredictions, featureSpecsOf, type JobKeys } from '../helpers/expected.js';
import { readParquet, withDuckDb, type Row } from '../helpers/parquet.js';
import { loadSidecar } from '../helpers/reference.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-schedule-');
const FIXTURE = data('transactions.parquet');
const HOURLY_JOB = YAML.parse(await readFile(join(JOBS_DIR, 'transactions-hourly.yaml'), 'utf8')) as JobKeys & Record<string, unknown>;
const DAY = '2026-11-29';
const at = (hh: string): string => `${DAY}T${hh}:00:00Z`;
const HOURS = ['00', '01', '02', '03', '04', '05'];
const TIMEOUT = 60_000;

// ---------------------------------------------------------------------------------------
// Helpers

/** Runs SQL on a throwaway in-memory DuckDB (building inputs, comparing big outputs). */
async function duck<T = Row>(sql: string, params: string[] = []): Promise<T[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(sql, params)).getRowObjectsJS() as T[];
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

let fixtureRows: Promise<Row[]> | undefined;
/** The fixture's rows whose `ts` lies in [start, end), in file order. */
async function rowsBetween(start: string, end: string): Promise<Row[]> {
  fixtureRows ??= readParquet(FIXTURE).then((t) => t.rows);
  const [lo, hi] = [Date.parse(start), Date.parse(end)];
  return (await fixtureRows).filter((r) => (r['ts'] as Date).getTime() >= lo && (r['ts'] as Date).getTime() < hi);
}
const hourRows = (hh: string): Promise<Row[]> => rowsBetween(at(hh), new Date(Date.parse(at(hh)) + 3_600_000).toISOString());

interface Staged {
  dir: string;
  jobPath: string;
  job: Record<string, unknown>;
  /** The committed directory of a window (by UTC hour of the hourly job). */
  outputOf(hh: string): string;
}

/**
 * jobs/transactions-hourly.yaml copied into a fresh temp dir: absolute model and input, the
 * output template inside the temp dir, small parts so a window has several.
 */
async function stageHourly(overrides: Record<string, unknown> = {}, dir?: string): Promise<Staged> {
  dir ??= await tmp.make();
  const job = { ...HOURLY_JOB, model: join(JOBS_DIR, HOURLY_JOB.model!), input: FIXTURE, output: join(dir, 'out/hourly/dt={date}/hour={hour}/'), checkpoint_rows: 128, batch_size: 64, ...overrides };
  const jobPath = join(dir, 'hourly.yaml');
  await writeFile(jobPath, YAML.stringify(job));
  return { dir, jobPath, job, outputOf: (hh) => join(dir, `out/hourly/dt=${DAY}/hour=${hh}`) };
}

/** `in/dt=2026-11-29/hour=HH/part.parquet` for each hour, cut from the fixture by DuckDB. */
async function buildPartitions(dir: string, options: { corrupt?: string } = {}): Promise<string> {
  const root = join(dir, 'in');
  for (const hh of HOURS) {
    const file = join(root, `dt=${DAY}`, `hour=${hh}`, 'part.parquet');
    await mkdir(dirname(file), { recursive: true });
    if (hh === options.corrupt) {
      await writeFile(file, 'PAR1 this is not a parquet file PAR1');
      continue;
    }
    const end = new Date(Date.parse(at(hh)) + 3_600_000).toISOString();
    await duck('COPY (SELECT * FROM read_parquet($1) WHERE ts >= $2::TIMESTAMP AND ts < $3::TIMESTAMP) TO $4 (FORMAT parquet)', [FIXTURE, at(hh).replace('Z', ''), end.replace('Z', ''), file]);
  }
  return root;
}

/** Scores rows of the fixture with the reference and compares with what the CLI wrote. */
function expectPredictions(out: Row[], input: Row[]): void {
  const expected = expectedPredictions('mlp', input, featureSpecsOf(HOURLY_JOB, loadSidecar('mlp')), { labels: HOURLY_JOB.labels });
  expect(comparePredictions(out, expected)).toEqual([]);
}

/** Column names stored in a Parquet file (not the hive partition columns DuckDB derives from its path). */
async function physicalColumns(file: string): Promise<string[]> {
  return (await duck<{ name: string }>('SELECT name FROM parquet_schema($1) WHERE num_children IS NULL', [file])).map((r) => r.name);
}

const sha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');

/** Name, size and mtime of every file in a directory, to show a run left it untouched. */
async function snapshot(dir: string): Promise<Record<string, [number, number]>> {
  const out: Record<string, [number, number]> = {};
  for (const name of (await readdir(dir)).sort()) {
    const s = await stat(join(dir, name));
    out[name] = [s.size, s.mtimeMs];
  }
  return out;
}

const json = <T = Record<string, unknown>>(r: CliResult): T => {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON\n${describeResult(r)}`);
  }
};

/** A pid that is surely not running: a process that has already exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '""']);
  return child.pid;
}

/**
 * A 300k-row run takes about a second now: hold it for one more after its first journaled
 * part, so a signal sent once the part is seen always lands mid-run (JS signal handlers run
 * when the pause ends; SIGKILL does not wait).
 */
const HOLD_AFTER_FIRST_PART = { env: { ...process.env, BATCHINFER_FAILPOINT: 'part-journaled:1:pause=1000' } };

async function waitFor(what: string, check: () => Promise<boolean> | boolean, run?: StartedCli, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  run?.result.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (await check()) return;
    if (exited) throw new Error(`the run exited before ${what}\n${describeResult(await run!.result)}`);
    await new Promise((r) => setTimeout(r, 15));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** `.<name><suffix>` beside an output (its lock, its staging directory). */
const beside = (output: string, suffix: string): string => {
  const target = output.replace(/\/+$/, '');
  return join(dirname(target), `.${basename(target)}${suffix}`);
};
const lockOf = (output: string): string => beside(output, '.lock');
const stagingOf = (output: string): string => beside(output, '.staging');

/** True once the staging journal beside `output` records at least one finished part. */
async function journalHasPart(output: string): Promise<boolean> {
  try {
    return (await readFile(join(stagingOf(output), 'journal.jsonl'), 'utf8')).includes('"type":"part"');
  } catch {
    return false;
  }
}

interface Outcome {
  start: string;
  status: string;
  rows?: number;
  error?: { code: string; message: string; exitCode: number };
}
interface State {
  start: string;
  state: string;
  rows?: number;
  error?: { code: string };
  holder?: { pid: number };
}

async function statusOf(jobPath: string, from = at('00'), to = '2026-11-29T06:00:00Z'): Promise<State[]> {
  const r = await runCli(['status', jobPath, '--from', from, '--to', to, '--json']);
  expectOk(r);
  return json<State[]>(r);
}

// ---------------------------------------------------------------------------------------
// Shared baselines (computed once, on first use)

let hourlyBaseline: Promise<Row[]> | undefined;
/** Window 02 of the hourly job scored without interruption. */
function windowBaseline(): Promise<Row[]> {
  hourlyBaseline ??= (async () => {
    const s = await stageHourly();
    expectOk(await runCli(['run', s.jobPath, '--at', at('02'), '--quiet']));
    return (await readParquet(s.outputOf('02'))).rows;
  })();
  return hourlyBaseline;
}

const PLAIN_ARGS = ['--model', model('mlp'), '--input', FIXTURE, '--features', 'amount,f0,f1,risk score', '--fill-null', '0', '--passthrough', 'txn_id,ts', '--labels', 'legit,fraud', '--checkpoint-rows', '256', '--batch-size', '128'];
let plainBaseline: Promise<Row[]> | undefined;
/** The fixture scored into one file by a plain (non-scheduled) run. */
function fileBaseline(): Promise<Row[]> {
  plainBaseline ??= (async () => {
    const out = join(await tmp.make(), 'scores.parquet');
    expectOk(await runCli(['run', ...PLAIN_ARGS, '--output', out, '--quiet']));
    return (await readParquet(out)).rows;
  })();
  return plainBaseline;
}

const BIG_ROWS = 300_000;
let bigInput: Promise<string> | undefined;
/** 100 copies of the fixture (300k rows) with a unique `seq` in file order. */
function big(): Promise<string> {
  bigInput ??= (async () => {
    const path = join(await tmp.make(), 'big.parquet');
    await duck('COPY (SELECT r.range * 3000 + CAST(substr(t.txn_id, 2) AS INTEGER) AS seq, t.* FROM range(100) r, read_parquet($1) t ORDER BY seq) TO $2 (FORMAT parquet)', [FIXTURE, path]);
    return path;
  })();
  return bigInput;
}
const bigArgs = async (output: string): Promise<string[]> => [
  ...['run', '--model', model('mlp'), '--input', await big(), '--output', output],
  ...['--features', 'amount,f0,f1,risk score', '--fill-null', '0', '--passthrough', 'seq,txn_id', '--labels', 'legit,fraud'],
  ...['--checkpoint-rows', '20000', '--batch-size', '1000', '--quiet', '--json'],
];
let bigBaseline: Promise<string> | undefined;
function bigReference(): Promise<string> {
  bigBaseline ??= (async () => {
    const out = join(await tmp.make(), 'big-scores.parquet');
    expectOk(await runCli(await bigArgs(out)));
    return out;
  })();
  return bigBaseline;
}

/** A daily job over the 300k-row input: its window 2026-11-29 holds every row. */
async function stageBigDaily(): Promise<{ dir: string; jobPath: string; out: string }> {
  const dir = await tmp.make();
  const job = {
    name: 'big-daily',
    schedule: '0 0 * * *',
    model: model('mlp'),
    input: await big(),
    window_column: 'ts',
    output: join(dir, 'out/dt={date}/'),
    passthrough: ['seq', 'txn_id'],
    labels: ['legit', 'fraud'],
    inputs: { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fill_null: 0 } },
    batch_size: 1000,
    checkpoint_rows: 20_000,
  };
  const jobPath = join(dir, 'daily.yaml');
  await writeFile(jobPath, YAML.stringify(job));
  return { dir, jobPath, out: join(dir, `out/dt=${DAY}`) };
}

/** A big output holds seq 0..N-1 in file order and equals the reference in every column. */
async function expectSameAsBigReference(output: string): Promise<void> {
  const reference = await bigReference();
  const [order] = await duck<{ n: bigint; misplaced: bigint }>('SELECT count(*) AS n, count(*) FILTER (WHERE seq <> file_row_number) AS misplaced FROM read_parquet($1, file_row_number = true)', [output]);
  expect(order).toEqual({ n: BigInt(BIG_ROWS), misplaced: 0n });
  const [diff] = await duck<{ n: bigint }>(
    'SELECT count(*) AS n FROM ((SELECT * FROM read_parquet($1) EXCEPT ALL SELECT * FROM read_parquet($2)) UNION ALL (SELECT * FROM read_parquet($2) EXCEPT ALL SELECT * FROM read_parquet($1)))',
    [output, reference],
  );
  expect(diff!.n).toBe(0n);
}

// ---------------------------------------------------------------------------------------

describe.concurrent('a scheduled run of one window', { timeout: TIMEOUT }, () => {
  it('run --at 02:00Z commits parts and a _SUCCESS manifest; a re-run skips; changed inputs are refused; --force replaces', async () => {
    const dir = await tmp.make();
    // A copy of the fixture as input, so its mtime can change without touching the repository.
    const input = join(dir, 'transactions.parquet');
    await copyFile(FIXTURE, input);
    const s = await stageHourly({ input }, dir);
    const out = s.outputOf('02');
    const before = Date.now();
    const r = await runCli(['run', s.jobPath, '--at', at('02'), '--quiet', '--json']);
    expectOk(r);
    const after = Date.now();
    const summary = json(r);
    expect(summary).toMatchObject({ status: 'ok', job: 'transactions-hourly', window: { start: '2026-11-29T02:00:00.000Z', end: '2026-11-29T03:00:00.000Z' }, rows: { in: 514, out: 514 } });
    expect(summary).not.toHaveProperty('resumedRows');

    // The committed directory: parts, the manifest and the summary (run files start with _,
    // which Spark and Hive skip); nothing beside it in the partition tree.
    const names = (await readdir(out)).sort();
    expect(names).toEqual(['_SUCCESS', '_profile.json', '_summary.json', 'part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet', 'part-00003.parquet', 'part-00004.parquet']);
    expect(await stagingLeftovers(out)).toEqual([]);
    expect((await readdir(dirname(out))).filter((n) => !n.startsWith('.'))).toEqual([basename(out)]);
    expect(JSON.parse(await readFile(join(out, '_summary.json'), 'utf8'))).toMatchObject({ status: 'ok', rows: { in: 514, out: 514 } });

    // Rows: exactly the input rows with ts in [02:00, 03:00), in order, scored like the reference.
    const table = await readParquet(out);
    const input02 = await hourRows('02');
    expect(input02).toHaveLength(514);
    expect(table.rows.map((row) => row['txn_id'])).toEqual(input02.map((row) => row['txn_id']));
    expect(table.rows.map((row) => row['ts'])).toEqual(input02.map((row) => row['ts']));
    // The files hold passthrough + predictions; a reader of the dt=/hour= layout adds the partition columns.
    expect(await physicalColumns(join(out, 'part-00000.parquet'))).toEqual(['txn_id', 'ts', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    expectPredictions(table.rows, input02);

    // The manifest.
    const manifest = JSON.parse(await readFile(join(out, '_SUCCESS'), 'utf8')) as Record<string, unknown> & {
      inputs: { path: string; bytes: number; mtime: string; sha256?: string }[];
      outputs: { file: string; rows: number; sha256: string }[];
      rows: { in: number; out: number; rejected: number };
      versions: Record<string, string>;
      startedAt: string;
      finishedAt: string;
    };
    const inputStat = await stat(input);
    expect(manifest).toMatchObject({
      format: 'batchinfer-manifest/1',
      job: 'transactions-hourly',
      window: { start: '2026-11-29T02:00:00.000Z', end: '2026-11-29T03:00:00.000Z' },
      inputs: [{ path: input, bytes: inputStat.size, mtime: inputStat.mtime.toISOString() }],
      rows: { in: 514, out: 514, rejected: 0 },
      model: { path: model('mlp'), sha256: await sha256(model('mlp')) },
    });
    expect(manifest.outputs.map((o) => o.file)).toEqual(names.filter((n) => n.endsWith('.parquet')));
    expect(manifest.outputs.map((o) => o.rows)).toEqual([128, 128, 128, 128, 2]);
    expect(manifest.outputs.reduce((n, o) => n + o.rows, 0)).toBe(manifest.rows.out);
    for (const o of manifest.outputs) {
      expect(o.sha256).toBe(await sha256(join(out, o.file)));
      expect((await readParquet(join(out, o.file))).rows).toHaveLength(o.rows);
    }
    expect(Object.keys(manifest.versions).sort()).toEqual(['batchinfer', 'duckdb', 'node', 'onnxruntime']);
    expect(manifest.versions['node']).toBe(process.version);
    const [started, finished] = [Date.parse(manifest.startedAt), Date.parse(manifest.finishedAt)];
    expect(started).toBeGreaterThanOrEqual(before - 1000);
    expect(finished).toBeGreaterThanOrEqual(started);
    expect(finished).toBeLessThanOrEqual(after);

    // Re-run: nothing to do, nothing touched.
    const files = await snapshot(out);
    const again = await runCli(['run', s.jobPath, '--at', at('02')]);
    expectOk(again);
    expect(again.stderr).toContain('already committed');
    expect(again.stderr).toContain('2026-11-29T02:00:00.000Z');
    expect(await snapshot(out)).toEqual(files);
    const againJson = await runCli(['run', s.jobPath, '--at', at('02'), '--quiet', '--json']);
    expectOk(againJson);
    expect(json(againJson)).toMatchObject({ status: 'skipped', reason: 'already committed', rows: { out: 514 }, committedAt: manifest.finishedAt });

    // Touched since the commit (a new mtime, the same bytes): the manifest's sha256 says it is the same input.
    await utimes(input, new Date(), new Date(Date.now() + 60_000));
    const touched = await runCli(['run', s.jobPath, '--at', at('02')]);
    expectOk(touched);
    expect(touched.stderr).toContain('already committed');
    expect(manifest.inputs[0]).toMatchObject({ sha256: createHash('sha256').update(await readFile(FIXTURE)).digest('hex') });

    // Changed since the commit (other rows, another size): refused, output untouched.
    await withDuckDb((q) => q(`COPY (SELECT * FROM read_parquet('${FIXTURE}') LIMIT 2999) TO '${input}' (FORMAT parquet)`));
    const changed = await runCli(['run', s.jobPath, '--at', at('02'), '--quiet']);
    const message = expectCliError(changed, 65, 'INPUTS_CHANGED');
    expect(message).toContain(input);
    expect(message).toContain('--force');
    expect(await snapshot(out)).toEqual(files);
    // A refusal is not a failure of the window: nothing is left beside it; it stays committed.
    expect(await stagingLeftovers(out)).toEqual([]);
    expect((await statusOf(s.jobPath, at('02'), at('03')))[0]).toMatchObject({ state: 'committed', rows: 514 });

    // --force re-scores and replaces the directory.
    const inodeBefore = (await stat(out)).ino;
    const forced = await runCli(['run', s.jobPath, '--at', at('02'), '--force', '--quiet', '--json']);
    expectOk(forced);
    expect(json(forced)).toMatchObject({ status: 'ok', rows: { out: 514 } });
    const replaced = JSON.parse(await readFile(join(out, '_SUCCESS'), 'utf8')) as typeof manifest;
    expect(replaced.inputs[0]!.mtime).toBe((await stat(input)).mtime.toISOString());
    expect(replaced.finishedAt > manifest.finishedAt).toBe(true);
    expect((await stat(out)).ino).not.toBe(inodeBefore);
    expect((await readParquet(out)).rows).toEqual(table.rows);
    expect(await stagingLeftovers(out)).toEqual([]);
    // After --force the changed input is the committed one: a plain re-run skips again.
    expect((await runCli(['run', s.jobPath, '--at', at('02')])).stderr).toContain('already committed');
  });

  it('--at off a tick is a USAGE error naming the window start; --at on a job without a schedule too', async () => {
    const s = await stageHourly();
    const off = expectCliError(await runCli(['run', s.jobPath, '--at', '2026-11-29T02:30:00Z']), 2, 'USAGE');
    expect(off).toContain('expected a window start such as 2026-11-29T02:00:00.000Z');
    expect(existsSync(join(s.dir, 'out'))).toBe(false);
    const plain = expectCliError(await runCli(['run', ...PLAIN_ARGS, '--output', join(s.dir, 'x.parquet'), '--at', at('02')]), 2, 'USAGE');
    expect(plain).toContain('need a job with a `schedule`');
  });

  it('a Europe/Berlin job: paths in local time, naive timestamps read as Berlin time', async () => {
    const s = await stageHourly({ timezone: 'Europe/Berlin' });
    // 01:00Z is 02:00 in Berlin (CET): the window of local hour 02 holds the rows stamped 02:xx.
    const r = await runCli(['run', s.jobPath, '--at', at('01'), '--quiet', '--json']);
    expectOk(r);
    expect(json(r)).toMatchObject({ window: { start: '2026-11-29T01:00:00.000Z', end: '2026-11-29T02:00:00.000Z' } });
    const out = (await readParquet(s.outputOf('02'))).rows;
    expect(out.map((row) => row['txn_id'])).toEqual((await hourRows('02')).map((row) => row['txn_id']));
    expect(existsSync(s.outputOf('01'))).toBe(false);
    // --at without an offset is Berlin time too.
    expect((await runCli(['run', s.jobPath, '--at', `${DAY}T02:00`])).stderr).toContain('window 2026-11-29T01:00:00.000Z of job transactions-hourly already committed');
  });

  it('a partitioned input named by templates: each window reads its own partition; no partition -> 66', async () => {
    const dir = await tmp.make();
    await buildPartitions(dir);
    const s = await stageHourly({ input: 'in/dt={date}/hour={hour}/*.parquet', window_column: undefined }, dir);
    expect(YAML.parse(await readFile(s.jobPath, 'utf8'))).not.toHaveProperty('window_column');
    const r = await runCli(['run', s.jobPath, '--at', at('03'), '--quiet', '--json']);
    expectOk(r);
    const expected = await hourRows('03');
    expect(json(r)).toMatchObject({ input: { path: join(dir, `in/dt=${DAY}/hour=03/*.parquet`), files: 1 }, rows: { out: expected.length } });
    const out = (await readParquet(s.outputOf('03'))).rows;
    expect(out.map((row) => row['txn_id'])).toEqual(expected.map((row) => row['txn_id']));
    expectPredictions(out, expected);
    const manifest = JSON.parse(await readFile(join(s.outputOf('03'), '_SUCCESS'), 'utf8')) as { inputs: { path: string }[] };
    expect(manifest.inputs.map((i) => i.path)).toEqual([join(dir, `in/dt=${DAY}/hour=03/part.parquet`)]);

    // 06:00 has no partition yet.
    const missing = expectCliError(await runCli(['run', s.jobPath, '--at', at('06'), '--quiet']), 66, 'INPUT_MISSING');
    expect(missing).toContain(`dt=${DAY}/hour=06`);
    expect(existsSync(s.outputOf('06'))).toBe(false);
    expect(await stagingLeftovers(s.outputOf('06'))).toEqual(['.hour=06.failed.json']);
  });
});

// ---------------------------------------------------------------------------------------

interface CrashCase {
  failpoint: string;
  /** Rows the rerun takes from the crashed run's journal. */
  resumedRows: number;
  /** The crash happened after the commit's rename: the output is already complete. */
  committed?: boolean;
}

describe.concurrent('kill -9 and resume: a windowed job', { timeout: TIMEOUT }, () => {
  // 514 rows in parts of 128 (batches of 64): 5 parts.
  const cases: CrashCase[] = [
    { failpoint: 'source-staged', resumedRows: 0 },
    { failpoint: 'part-written', resumedRows: 0 },
    { failpoint: 'part-written:3', resumedRows: 256 },
    { failpoint: 'part-journaled:2', resumedRows: 256 },
    { failpoint: 'commit-linked', resumedRows: 514 },
    { failpoint: 'commit-manifest', resumedRows: 514 },
    { failpoint: 'commit-renamed', resumedRows: 514, committed: true },
  ];

  it.each(cases)('crash at $failpoint', async ({ failpoint, resumedRows, committed }) => {
    const s = await stageHourly();
    const out = s.outputOf('02');
    const crashed = await runCli(['run', s.jobPath, '--at', at('02'), '--quiet'], { env: { BATCHINFER_FAILPOINT: failpoint } });
    expect(crashed.signal, describeResult(crashed)).toBe('SIGKILL');
    // The lock of the dead run stays behind; the output is all or nothing.
    expect(existsSync(lockOf(out))).toBe(true);
    if (committed) {
      expect(JSON.parse(await readFile(join(out, '_SUCCESS'), 'utf8'))).toMatchObject({ rows: { out: 514 } });
    } else {
      expect(existsSync(out)).toBe(false);
      expect(existsSync(join(stagingOf(out), 'journal.jsonl'))).toBe(true);
      const [state] = await statusOf(s.jobPath, at('02'), at('03'));
      expect(state).toMatchObject({ start: '2026-11-29T02:00:00.000Z', state: 'partial' });
    }

    const rerun = await runCli(['run', s.jobPath, '--at', at('02'), '--quiet', '--json']);
    expectOk(rerun);
    const summary = json<{ status: string; resumedRows?: number; warnings?: string[]; reason?: string }>(rerun);
    if (committed) {
      // The killed run's summary was committed with the window, inside it: nothing to recover.
      expect(summary).toMatchObject({ status: 'skipped', reason: 'already committed' });
      const manifest = JSON.parse(await readFile(join(out, '_SUCCESS'), 'utf8'));
      const inside = JSON.parse(await readFile(join(out, '_summary.json'), 'utf8'));
      expect(inside).toMatchObject({ status: 'ok', window: manifest.window, rows: { in: 514, out: 514, rejected: 0 }, startedAt: manifest.startedAt });
      expect(inside.output.files).toEqual(manifest.outputs.map((o: { file: string }) => join(out, o.file)));
      expect(inside.manifest.map((m: { sha256: string }) => m.sha256)).toEqual(manifest.outputs.map((o: { sha256: string }) => o.sha256));
      expect(await stagingLeftovers(out)).toEqual([]);
    } else {
      expect(summary.status).toBe('ok');
      expect(summary.resumedRows ?? 0).toBe(resumedRows);
      expect(summary.warnings!.some((w) => /took over a stale lock of pid \d+/.test(w))).toBe(true);
      if (resumedRows > 0) expect(summary.warnings!.some((w) => w.includes(`${resumedRows} rows came from its finished parts`))).toBe(true);
    }
    // Row for row, every column, what an uninterrupted run writes.
    expect((await readParquet(out)).rows).toEqual(await windowBaseline());
    expect(await stagingLeftovers(out)).toEqual([]);
  });
});

describe.concurrent('kill -9 and resume: a plain file output', { timeout: TIMEOUT }, () => {
  // 3000 rows in parts of 256 (batches of 128): 12 parts, merged into one file.
  const cases: CrashCase[] = [
    { failpoint: 'part-written:2', resumedRows: 256 },
    { failpoint: 'part-journaled', resumedRows: 256 },
    { failpoint: 'commit-merged', resumedRows: 3000 },
    { failpoint: 'commit-renamed', resumedRows: 3000, committed: true },
  ];

  it.each(cases)('crash at $failpoint', async ({ failpoint, resumedRows, committed }) => {
    const out = join(await tmp.make(), 'scores.parquet');
    const crashed = await runCli(['run', ...PLAIN_ARGS, '--output', out, '--quiet'], { env: { BATCHINFER_FAILPOINT: failpoint } });
    expect(crashed.signal, describeResult(crashed)).toBe('SIGKILL');
    expect(existsSync(out)).toBe(committed === true);
    expect(existsSync(join(stagingOf(out), 'journal.jsonl'))).toBe(true);

    const rerun = await runCli(['run', ...PLAIN_ARGS, '--output', out, '--quiet', '--json']);
    expectOk(rerun);
    const summary = json<{ resumedRows?: number; warnings: string[]; rows: { out: number } }>(rerun);
    expect(summary.rows.out).toBe(3000);
    expect(summary.resumedRows).toBe(resumedRows);
    expect(summary.warnings.some((w) => /took over a stale lock of pid \d+/.test(w))).toBe(true);
    expect((await readParquet(out)).rows).toEqual(await fileBaseline());
    expect(await stagingLeftovers(out)).toEqual([]);
  });
});

describe.concurrent('kill -9 and resume with quarantine: the rejects file comes with the output', { timeout: TIMEOUT }, () => {
  // NULL amounts are bad rows here: they go to the rejects file, which is committed right
  // before the output's own rename, so a crash before that leaves neither.
  const args = (out: string): string[] => ['run', ...PLAIN_ARGS.filter((a, i, all) => a !== '--fill-null' && all[i - 1] !== '--fill-null'), '--on-error', 'quarantine', '--output', out, '--quiet'];
  it.each([{ failpoint: 'commit-merged', committed: false }, { failpoint: 'commit-renamed', committed: true }])('crash at $failpoint', async ({ failpoint, committed }) => {
    const whole = join(await tmp.make(), 'scores.parquet');
    expectOk(await runCli(args(whole)));
    const wholeRejects = await readParquet(`${whole}.rejects.parquet`);
    expect(wholeRejects.rows.length).toBeGreaterThan(0);

    const out = join(await tmp.make(), 'scores.parquet');
    const crashed = await runCli(args(out), { env: { BATCHINFER_FAILPOINT: failpoint } });
    expect(crashed.signal, describeResult(crashed)).toBe('SIGKILL');
    expect(existsSync(out)).toBe(committed);
    expect(existsSync(`${out}.rejects.parquet`)).toBe(committed);

    expectOk(await runCli([...args(out), '--json']));
    expect((await readParquet(out)).rows).toEqual((await readParquet(whole)).rows);
    expect((await readParquet(`${out}.rejects.parquet`)).rows).toEqual(wholeRejects.rows);
    expect(await stagingLeftovers(out)).toEqual([]);
  });

  it('a windowed job: crash at commit-manifest (its rejects file is inside the window, committed with it)', async () => {
    const s = await stageHourly({ on_error: 'quarantine', inputs: { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fill_null: 'error' } } });
    const out = s.outputOf('02');
    const rejects = join(out, '_rejects', 'rejects.parquet');
    const crashed = await runCli(['run', s.jobPath, '--at', at('02'), '--quiet'], { env: { BATCHINFER_FAILPOINT: 'commit-manifest' } });
    expect(crashed.signal, describeResult(crashed)).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(rejects)).toBe(false);
    const rerun = await runCli(['run', s.jobPath, '--at', at('02'), '--quiet', '--json']);
    expectOk(rerun);
    const summary = json<{ rows: { rejected: number }; resumedRows: number }>(rerun);
    expect(summary.rows.rejected).toBeGreaterThan(0);
    expect(summary.resumedRows).toBeGreaterThan(0);
    expect((await readParquet(rejects)).rows).toHaveLength(summary.rows.rejected);
    expect(json<{ rejects: string }>(rerun).rejects).toBe(rejects);
    // Each rejected row is numbered as the input file numbers it, not among the window's rows.
    const [numbered] = await duck<{ n: bigint; wrong: bigint }>('SELECT count(*) AS n, count(*) FILTER (WHERE r.reject_row - 1 <> f.file_row_number) AS wrong FROM read_parquet($1) r JOIN read_parquet($2, file_row_number = true) f USING (txn_id)', [rejects, FIXTURE]);
    expect(numbered).toEqual({ n: BigInt(summary.rows.rejected), wrong: 0n });
    expect(await stagingLeftovers(out)).toEqual([]);
    // Nothing beside the window in the partition tree; its data files are the parts alone.
    expect((await readdir(dirname(out))).filter((n) => !n.startsWith('.'))).toEqual([basename(out)]);
    expect((await readdir(out)).filter((n) => n.endsWith('.parquet')).every((n) => n.startsWith('part-'))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------

describe.concurrent('signals and kill -9 mid-run on a 300k-row input', { timeout: TIMEOUT }, () => {
  it.each([
    ['SIGTERM', 143, true],
    ['SIGINT', 130, false],
  ] as const)('%s: exits %i within 5 s, no output, no lock, journal kept (rerun resumes: %s)', async (signal, exit, rerunToo) => {
    const out = join(await tmp.make(), 'scores.parquet');
    const args = await bigArgs(out);
    const run = startCli(args, HOLD_AFTER_FIRST_PART);
    await waitFor('a journaled part', () => journalHasPart(out), run);
    const sent = performance.now();
    run.child.kill(signal);
    const r = await run.result;
    const exitedAfter = performance.now() - sent;
    expect(r.code, describeResult(r)).toBe(exit);
    expect(exitedAfter).toBeLessThan(5000);
    expect(r.stderr).toMatch(new RegExp(`^batchinfer: INTERRUPTED: interrupted by ${signal}`, 'm'));
    expect(r.stderr).not.toContain('did not stop within');
    // --json: the interruption is reported as JSON too, with the signal's exit code.
    expect(expectFailureJson(r, exit, 'INTERRUPTED').actual).toBe(signal);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(lockOf(out))).toBe(false);
    expect(await journalHasPart(out)).toBe(true);
    if (!rerunToo) return;

    const rerun = await runCli(args);
    expectOk(rerun);
    const summary = json<{ resumedRows?: number; warnings: string[] }>(rerun);
    expect(summary.resumedRows).toBeGreaterThanOrEqual(20_000);
    expect(summary.resumedRows! % 20_000).toBe(0);
    // A clean interrupt releases its lock: no stale-lock takeover on the rerun.
    expect(summary.warnings.some((w) => w.includes('stale lock'))).toBe(false);
    await expectSameAsBigReference(out);
    expect(await stagingLeftovers(out)).toEqual([]);
  });

  it('SIGTERM during a backfill: exit 143, that window interrupted (partial), the rest not run', async () => {
    const { jobPath, out } = await stageBigDaily();
    const run = startCli(['backfill', jobPath, '--from', DAY, '--to', '2026-12-01', '--json'], HOLD_AFTER_FIRST_PART);
    await waitFor('a journaled part', () => journalHasPart(out), run);
    run.child.kill('SIGTERM');
    const r = await run.result;
    expect(r.code, describeResult(r)).toBe(143);
    const outcomes = json<Outcome[]>(r);
    expect(outcomes.map((o) => [o.start, o.status, o.error?.code])).toEqual([
      ['2026-11-29T00:00:00.000Z', 'failed', 'INTERRUPTED'],
      ['2026-11-30T00:00:00.000Z', 'not run', undefined],
    ]);
    expect(r.stderr).toContain('2 windows: 0 committed, 0 skipped, 1 failed, 1 not run');
    expect(existsSync(out)).toBe(false);
    expect(existsSync(lockOf(out))).toBe(false);
    expect((await statusOf(jobPath, DAY, '2026-12-01')).map((st) => st.state)).toEqual(['partial', 'missing']);
  });

  it('kill -9 on a timer once a part is journaled: the rerun resumes and equals an uninterrupted run', async () => {
    const out = join(await tmp.make(), 'scores.parquet');
    const args = await bigArgs(out);
    const run = startCli(args, HOLD_AFTER_FIRST_PART);
    await waitFor('a journaled part', () => journalHasPart(out), run);
    run.child.kill('SIGKILL');
    expect((await run.result).signal).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false);
    const rerun = await runCli(args);
    expectOk(rerun);
    expect(json<{ resumedRows: number }>(rerun).resumedRows).toBeGreaterThan(0);
    await expectSameAsBigReference(out);
    expect(await stagingLeftovers(out)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------

describe.concurrent('locks', { timeout: TIMEOUT }, () => {
  it('two concurrent runs of one window: one scores, the other exits 75 naming the holder', async () => {
    const { jobPath, out } = await stageBigDaily();
    // A holds its lock (paused after its first part) until B has met it, however fast A scores.
    const a = startCli(['run', jobPath, '--at', DAY, '--quiet', '--json'], { env: { ...process.env, BATCHINFER_FAILPOINT: 'part-written:1:pause=4000' } });
    await waitFor('the lock of run A', () => existsSync(lockOf(out)), a);
    const b = await runCli(['run', jobPath, '--at', DAY, '--quiet']);
    const message = expectCliError(b, 75, 'LOCKED');
    expect(message).toContain(`pid ${a.child.pid} on ${hostname()}`);
    expect(message).toContain(lockOf(out));
    const ra = await a.result;
    expectOk(ra);
    expect(json(ra)).toMatchObject({ status: 'ok', rows: { out: BIG_ROWS } });
    const [order] = await duck<{ n: bigint; misplaced: bigint }>(
      'WITH t AS (SELECT seq, row_number() OVER (ORDER BY filename, file_row_number) - 1 AS rn FROM read_parquet($1, filename = true, file_row_number = true)) SELECT count(*) AS n, count(*) FILTER (WHERE seq <> rn) AS misplaced FROM t',
      [join(out, '*.parquet')],
    );
    expect(order).toEqual({ n: BigInt(BIG_ROWS), misplaced: 0n });
    expect(await stagingLeftovers(out)).toEqual([]);
  });

  it('a stale lock (dead pid on this host) is taken over with a warning', async () => {
    const s = await stageHourly();
    const out = s.outputOf('02');
    const pid = deadPid();
    await mkdir(dirname(out), { recursive: true });
    await writeFile(lockOf(out), JSON.stringify({ pid, host: hostname(), startedAt: '2026-11-29T02:59:00.000Z', job: 'transactions-hourly' }) + '\n');
    const r = await runCli(['run', s.jobPath, '--at', at('02'), '--json']);
    expectOk(r);
    const warning = `took over a stale lock of pid ${pid} on ${hostname()} (started 2026-11-29T02:59:00.000Z)`;
    expect(json<{ warnings: string[] }>(r).warnings).toContain(warning);
    expect(r.stderr).toContain(`warning: ${warning}`);
    expect(existsSync(lockOf(out))).toBe(false);
    expect((await readParquet(out)).rows).toEqual(await windowBaseline());
  });

  it('a lock held by a live pid: exit 75, nothing written, the lock left alone; status says locked', async () => {
    const s = await stageHourly();
    const out = s.outputOf('02');
    await mkdir(dirname(out), { recursive: true });
    const lock = JSON.stringify({ pid: process.pid, host: hostname(), startedAt: '2026-11-29T03:00:01.000Z', job: 'transactions-hourly' }) + '\n';
    await writeFile(lockOf(out), lock);
    const message = expectCliError(await runCli(['run', s.jobPath, '--at', at('02')]), 75, 'LOCKED');
    expect(message).toContain(`pid ${process.pid} on ${hostname()} since 2026-11-29T03:00:01.000Z (job transactions-hourly)`);
    expect(existsSync(out)).toBe(false);
    expect(await readFile(lockOf(out), 'utf8')).toBe(lock);
    expect(await stagingLeftovers(out)).toEqual(['.hour=02.lock']);
    const [state] = await statusOf(s.jobPath, at('02'), at('03'));
    expect(state).toMatchObject({ state: 'locked', holder: { pid: process.pid } });
  });
});

// ---------------------------------------------------------------------------------------

describe.concurrent('backfill and status', { timeout: TIMEOUT }, () => {
  it('backfill 00:00Z..06:00Z commits 6 windows in order; a second backfill skips them all', async () => {
    const s = await stageHourly({ checkpoint_rows: 256, batch_size: 128 });
    const r = await runCli(['backfill', s.jobPath, '--from', at('00'), '--to', '2026-11-29T06:00:00Z', '--json']);
    expectOk(r);
    const outcomes = json<Outcome[]>(r);
    const counts = await Promise.all(HOURS.map(async (hh) => (await hourRows(hh)).length));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(outcomes.map((o) => [o.start, o.status, o.rows])).toEqual(HOURS.map((hh, i) => [`${DAY}T${hh}:00:00.000Z`, 'committed', counts[i]]));
    // A running line per window, in order, then the table.
    const lines = r.stderr.split('\n');
    const committedLines = lines.filter((l) => / committed, \d+ rows$/.test(l));
    expect(committedLines.map((l) => l.slice('batchinfer: window '.length, 'batchinfer: window '.length + 24))).toEqual(HOURS.map((hh) => `${DAY}T${hh}:00:00.000Z`));
    expect(r.stderr).toMatch(/^window start\s+status\s+rows\s+seconds$/m);
    expect(r.stderr).toContain('6 windows: 6 committed, 0 skipped, 0 failed, 0 not run');
    // Each window's output holds its hour's rows; the commits happened in window order.
    const finished: string[] = [];
    for (const [i, hh] of HOURS.entries()) {
      const manifest = JSON.parse(await readFile(join(s.outputOf(hh), '_SUCCESS'), 'utf8')) as { rows: { out: number }; finishedAt: string };
      expect(manifest.rows.out).toBe(counts[i]);
      finished.push(manifest.finishedAt);
      expect((await readParquet(s.outputOf(hh))).rows.map((row) => row['txn_id'])).toEqual((await hourRows(hh)).map((row) => row['txn_id']));
    }
    expect([...finished].sort()).toEqual(finished);

    const again = await runCli(['backfill', s.jobPath, '--from', at('00'), '--to', '2026-11-29T06:00:00Z', '--json']);
    expectOk(again);
    expect(json<Outcome[]>(again).map((o) => o.status)).toEqual(HOURS.map(() => 'skipped'));
    expect(again.stderr).toContain('6 windows: 0 committed, 6 skipped, 0 failed, 0 not run');

    expect((await statusOf(s.jobPath)).map((st) => [st.state, st.rows])).toEqual(counts.map((n) => ['committed', n]));
  });

  it('a failing window stops the backfill; --continue-on-error runs the rest and still fails', async () => {
    const dir = await tmp.make();
    await buildPartitions(dir, { corrupt: '03' });
    const s = await stageHourly({ input: 'in/dt={date}/hour={hour}/*.parquet', window_column: undefined }, dir);
    const range = ['--from', at('00'), '--to', '2026-11-29T06:00:00Z', '--json'];
    const r = await runCli(['backfill', s.jobPath, ...range]);
    expect(r.code, describeResult(r)).toBe(65);
    const outcomes = json<Outcome[]>(r);
    expect(outcomes.map((o) => o.status)).toEqual(['committed', 'committed', 'committed', 'failed', 'not run', 'not run']);
    expect(outcomes[3]!.error).toMatchObject({ code: 'INPUT_INVALID', exitCode: 65 });
    expect(outcomes[3]!.error!.message).toContain(`hour=03`);
    expect(r.stderr).toMatch(/batchinfer: window 2026-11-29T03:00:00.000Z failed: INPUT_INVALID: /);
    expect(r.stderr).toContain('6 windows: 3 committed, 0 skipped, 1 failed, 2 not run');
    for (const hh of ['03', '04', '05']) expect(existsSync(s.outputOf(hh))).toBe(false);
    expect(await stagingLeftovers(s.outputOf('03'))).toEqual(['.hour=03.failed.json']);
    expect((await statusOf(s.jobPath)).map((st) => st.state)).toEqual(['committed', 'committed', 'committed', 'failed', 'missing', 'missing']);

    const cont = await runCli(['backfill', s.jobPath, ...range, '--continue-on-error']);
    expect(cont.code, describeResult(cont)).toBe(65);
    expect(json<Outcome[]>(cont).map((o) => o.status)).toEqual(['skipped', 'skipped', 'skipped', 'failed', 'committed', 'committed']);
    expect(cont.stderr).toContain('6 windows: 2 committed, 3 skipped, 1 failed, 0 not run');
    expect(existsSync(s.outputOf('03'))).toBe(false);
    const states = await statusOf(s.jobPath);
    expect(states.map((st) => st.state)).toEqual(['committed', 'committed', 'committed', 'failed', 'committed', 'committed']);
    expect(states[3]!.error).toMatchObject({ code: 'INPUT_INVALID' });
  });

  it('status shows committed, missing, failed, partial and locked windows', async () => {
    const dir = await tmp.make();
    await buildPartitions(dir, { corrupt: '02' });
    const s = await stageHourly({ input: 'in/dt={date}/hour={hour}/*.parquet', window_column: undefined }, dir);
    expectOk(await runCli(['run', s.jobPath, '--at', at('00'), '--quiet']));
    // 01: never run (missing). 02: corrupt partition (failed).
    expectCliError(await runCli(['run', s.jobPath, '--at', at('02'), '--quiet']), 65, 'INPUT_INVALID');
    // 03: killed after its second part (partial).
    const crashed = await runCli(['run', s.jobPath, '--at', at('03'), '--quiet'], { env: { BATCHINFER_FAILPOINT: 'part-journaled:2' } });
    expect(crashed.signal).toBe('SIGKILL');
    // 04: a live process holds the lock (locked).
    await mkdir(dirname(s.outputOf('04')), { recursive: true });
    await writeFile(lockOf(s.outputOf('04')), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), job: 'transactions-hourly' }));
    // 05: its partition is gone (failed, INPUT_MISSING).
    await rm(join(dir, 'in', `dt=${DAY}`, 'hour=05'), { recursive: true });
    expectCliError(await runCli(['run', s.jobPath, '--at', at('05'), '--quiet']), 66, 'INPUT_MISSING');

    const states = await statusOf(s.jobPath);
    expect(states.map((st) => [st.start.slice(11, 13), st.state])).toEqual([
      ['00', 'committed'],
      ['01', 'missing'],
      ['02', 'failed'],
      ['03', 'partial'],
      ['04', 'locked'],
      ['05', 'failed'],
    ]);
    expect(states[0]!.rows).toBe((await hourRows('00')).length);
    expect(states[2]!.error).toMatchObject({ code: 'INPUT_INVALID' });
    expect(states[4]!.holder).toMatchObject({ pid: process.pid });
    expect(states[5]!.error).toMatchObject({ code: 'INPUT_MISSING' });
    for (const hh of ['01', '02', '03', '04', '05']) expect(existsSync(join(s.outputOf(hh), '_SUCCESS'))).toBe(false);

    const text = await runCli(['status', s.jobPath, '--from', at('00'), '--to', '2026-11-29T06:00:00Z']);
    expectOk(text);
    expect(text.stdout).toMatch(/^2026-11-29T03:00:00.000Z\s+partial\s+interrupted; the next run resumes$/m);
    expect(text.stdout).toMatch(new RegExp(`^2026-11-29T04:00:00.000Z\\s+locked\\s+pid ${process.pid} on `, 'm'));

    // The partial window resumes; then it is committed.
    const resumed = await runCli(['run', s.jobPath, '--at', at('03'), '--quiet', '--json']);
    expectOk(resumed);
    expect(json(resumed)).toMatchObject({ resumedRows: 256, rows: { out: (await hourRows('03')).length } });
    expect((await statusOf(s.jobPath, at('03'), at('04')))[0]!.state).toBe('committed');
  });
});

// ---------------------------------------------------------------------------------------

describe.concurrent('regressions', { timeout: TIMEOUT }, () => {
  it('two windows rendering one output path (the repeated hour of a DST fall-back) are refused, not skipped', async () => {
    // On 2026-10-25 Berlin's local hour 02 happens twice: 00:00Z (CEST) and 01:00Z (CET) both render hour=02.
    const s = await stageHourly({ timezone: 'Europe/Berlin' });
    const out = join(s.dir, 'out/hourly/dt=2026-10-25/hour=02');
    const first = await runCli(['run', s.jobPath, '--at', '2026-10-25T00:00:00Z', '--quiet', '--json']);
    expectOk(first);
    expect(json(first)).toMatchObject({ window: { start: '2026-10-25T00:00:00.000Z' }, rows: { out: 0 } });
    const files = await snapshot(out);
    for (const extra of [[], ['--force']]) {
      const second = await runCli(['run', s.jobPath, '--at', '2026-10-25T01:00:00Z', '--quiet', ...extra]);
      const message = expectCliError(second, 78, 'SPEC_INVALID');
      expect(message).toContain('holds window 2026-10-25T00:00:00.000Z');
      expect(message).toContain('2026-10-25T01:00:00.000Z');
      expect(await snapshot(out)).toEqual(files);
    }
    const states = await statusOf(s.jobPath, '2026-10-25T00:00:00Z', '2026-10-25T02:00:00Z');
    expect(states.map((st) => st.state)).toEqual(['committed', 'failed']);
    expect(states[1]!.error).toMatchObject({ code: 'SPEC_INVALID' });
  });

  it("a windowed job passes an input column named like the output's partition key through unchanged", async () => {
    // The window's rows are staged under `out/dt=2026-11-29/.hour=02.staging/`; read with hive
    // partitioning, DuckDB replaced the input's own `dt` ('batch-7') by the path's DATE 2026-11-29.
    const dir = await tmp.make();
    const input = join(dir, 'with-dt.parquet');
    await duck("COPY (SELECT *, 'batch-7' AS dt FROM read_parquet($1)) TO $2 (FORMAT parquet)", [FIXTURE, input]);
    const s = await stageHourly({ input, passthrough: ['txn_id', 'dt'] }, dir);
    expectOk(await runCli(['run', s.jobPath, '--at', at('02'), '--quiet']));
    const part = join(s.outputOf('02'), 'part-00000.parquet');
    expect(await physicalColumns(part)).toEqual(['txn_id', 'dt', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    const values = await duck<{ dt: unknown; n: bigint }>('SELECT dt, count(*) AS n FROM read_parquet($1, hive_partitioning = false) GROUP BY dt', [join(s.outputOf('02'), '*.parquet')]);
    expect(values).toEqual([{ dt: 'batch-7', n: 514n }]);
  });

  it('a file output under a key=value directory holds no hive partition columns from its path', async () => {
    // DuckDB reads `.../dt=2026-11-29/...` as a hive partition and adds a `dt` column; merging
    // the part files of `.scores.parquet.staging` under such a directory added it to the output.
    const out = join(await tmp.make(), `dt=${DAY}`, 'hour=02', 'scores.parquet');
    const r = await runCli(['run', ...PLAIN_ARGS, '--output', out, '--quiet', '--json']);
    expectOk(r);
    expect(json<{ output: { columns: string[] } }>(r).output.columns).toEqual(['txn_id', 'ts', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    expect(await physicalColumns(out)).toEqual(['txn_id', 'ts', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    const [rows] = await duck<{ n: bigint }>('SELECT count(*) AS n FROM read_parquet($1)', [out]);
    expect(rows!.n).toBe(3000n);
  });
});

/**
 * The execution plan: each decision a run makes before reading a row, checked on the
 * fixtures (transactions.parquet and .csv hold the same 3000 rows), and the thread budgets.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbThreadBudget, planExecution, profiledLanes, PROFILED_LANE_ROWS, workerBudget, contentionWarning, type PlannedFile } from '../../src/core/executionPlan.js';
import { prepareJob } from '../../src/core/prepare.js';
import { Db } from '../../src/db/duckdb.js';
import { parseJobSpec, type JobFile } from '../../src/spec/jobSpec.js';
import { FIXTURES_DIR } from '../helpers/reference.js';

let db: Db;
let dir: string;

beforeAll(async () => {
  db = await Db.open({ threads: 2 });
  dir = await mkdtemp(join(tmpdir(), 'batchinfer-plan-'));
});

afterAll(async () => {
  db?.close();
  await rm(dir, { recursive: true, force: true });
});

async function planOf(keys: JobFile, window: { start: Date; end: Date } | null = null, cores = 4) {
  const spec = parseJobSpec(
    { model: join(FIXTURES_DIR, 'models', 'mlp.onnx'), input: join(FIXTURES_DIR, 'data', 'transactions.parquet'), output: join(dir, 'out.parquet'), features: ['amount', 'f0', 'f1', 'risk score'], fill_null: 0, ...keys },
    { baseDir: dir, name: 't' },
  );
  const job = await prepareJob(db, spec, window ? { windowed: true, window } : {});
  return planExecution(db, job, { window, cores });
}

describe('planExecution', () => {
  it('a Parquet input is read directly, its rows known from the footer', async () => {
    const plan = await planOf({ passthrough: ['txn_id'] });
    expect(plan.inputs).toEqual([{ index: 0, path: join(FIXTURES_DIR, 'data', 'transactions.parquet'), format: 'parquet', rows: { start: 0, end: 3000 }, read: 'direct' }]);
    expect(plan.window).toBeNull();
    // on_error fail leaves no row out: joined by position, in two lanes with passthrough columns.
    expect(plan.join).toEqual({ by: 'position', lanes: 2 });
    // A run that keeps a profile: two lanes (a profile each) only for large parts (below).
    expect((await planOf({ passthrough: ['txn_id'], profile: true })).join).toEqual({ by: 'position', lanes: 1 });
    expect((await planOf({ passthrough: ['txn_id'], profile: false })).join).toEqual({ by: 'position', lanes: 2 });
    expect(plan.output).toEqual({ path: join(dir, 'out.parquet'), mode: 'file', format: 'parquet', staging: join(dir, '.out.parquet.staging'), lock: join(dir, '.out.parquet.lock'), summary: join(dir, 'out.parquet.summary.json') });
    // It is plain data: what validate --json prints.
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('a CSV input is staged as a Parquet copy in the staging directory, its rows counted once staged', async () => {
    const plan = await planOf({ input: join(FIXTURES_DIR, 'data', 'transactions.csv'), on_error: 'quarantine', output: join(dir, 'o.csv') });
    expect(plan.inputs).toEqual([{ index: 0, path: join(FIXTURES_DIR, 'data', 'transactions.csv'), format: 'csv', rows: { start: 0, end: null }, read: 'staged', staged: join(dir, '.o.csv.staging', 'source-0.parquet') }]);
    expect(plan.join).toEqual({ by: 'row-number', lanes: 1 });
    expect(plan.output.format).toBe('csv');
    expect(plan.output.rejects).toBe(join(dir, 'o.csv.rejects.parquet'));
  });

  it("a window on a column stages its rows; the window's output is a directory with the summary inside", async () => {
    const window = { start: new Date('2026-11-29T01:00:00Z'), end: new Date('2026-11-29T02:00:00Z') };
    const plan = await planOf({ window_column: 'ts', schedule: '0 * * * *', timezone: 'UTC', output: join(dir, 'w') }, window);
    expect(plan.window).toEqual({ column: 'ts', start: '2026-11-29T01:00:00.000Z', end: '2026-11-29T02:00:00.000Z' });
    expect(plan.inputs[0]).toMatchObject({ read: 'staged', rows: { start: 0, end: null }, staged: join(dir, '.w.staging', 'source-0.parquet') });
    expect(plan.output).toMatchObject({ mode: 'directory', summary: join(dir, 'w', '_summary.json') });
    // Its rows unknown until staged, a window that keeps a profile (the default for a scheduled job) writes one lane; without one, two.
    const keys = { window_column: 'ts', schedule: '0 * * * *', timezone: 'UTC', output: join(dir, 'w'), passthrough: ['txn_id'], batch_size: 512, checkpoint_rows: 1024 };
    expect((await planOf(keys, window)).join).toEqual({ by: 'position', lanes: 1 });
    expect((await planOf({ ...keys, profile: false }, window)).join).toEqual({ by: 'position', lanes: 2 });
  });

  it('a run that keeps a profile writes two lanes when its parts hold more than PROFILED_LANE_ROWS rows: rows known, parts not cut smaller', () => {
    const file = (end: number | null): PlannedFile => ({ index: 0, path: 'x.parquet', format: 'parquet', rows: { start: 0, end }, read: end === null ? 'staged' : 'direct' });
    expect(profiledLanes([file(1_000_000)], 1 << 20)).toBe(true);
    expect(profiledLanes([file(PROFILED_LANE_ROWS)], 1 << 20)).toBe(false);
    expect(profiledLanes([file(PROFILED_LANE_ROWS + 1)], 1 << 20)).toBe(true);
    // Two files add up; parts cut at 100,000 rows stay small whatever the input.
    expect(profiledLanes([file(200_000), { ...file(200_000), index: 1 }], 1 << 20)).toBe(true);
    expect(profiledLanes([file(1_000_000)], 100_000)).toBe(false);
    // Rows not known until staged (a CSV, a window, a where).
    expect(profiledLanes([file(null)], 1 << 20)).toBe(false);
  });

  it('thread budgets: workers x intra-op threads fill the cores, DuckDB reads on what they leave', async () => {
    const plan = await planOf({ workers: 1, threads: 2, batch_size: 128, checkpoint_rows: 512 }, null, 4);
    expect(plan.threads).toEqual({ cores: 4, workers: 1, intraOpThreads: 2, duckdb: { reading: 2, writing: 2 } });
    // In flight: the rule for one worker, with the 4 features as the model takes them (float32: 16 bytes a row).
    expect(plan).toMatchObject({ batchSize: 128, checkpointRows: 512, inFlight: { workers: 1, rowBytes: 16 }, derivesInSql: expect.any(Boolean) });
  });
});

describe('workerBudget', () => {
  it.each([
    // cores, workers, threads asked -> workers, intra-op threads
    [4, undefined, undefined, 'cpu', { workers: 4, intraOpThreads: 1 }],
    [4, undefined, 2, 'cpu', { workers: 2, intraOpThreads: 2 }],
    [4, 1, undefined, 'cpu', { workers: 1, intraOpThreads: 4 }],
    [4, undefined, undefined, 'cuda:0', { workers: 1, intraOpThreads: 4 }],
  ])('%i cores, workers %s, threads %s on %s: %o', (cores, workers, threads, device, want) => {
    const spec = parseJobSpec({ model: 'm.onnx', input: 'x.parquet', output: 'o.parquet', features: ['a'], device, ...(workers ? { workers } : {}), ...(threads ? { threads } : {}) }, { baseDir: dir, name: 't' });
    expect(workerBudget(spec, cores)).toEqual(want);
  });

  it('warns when the workers ask for more threads than there are cores', () => {
    expect(contentionWarning({ cores: 2, workers: 2, intraOpThreads: 2, duckdb: { reading: 1, writing: 2 } })).toBe('2 workers x 2 threads exceeds 2 cores; expect contention');
    expect(contentionWarning({ cores: 4, workers: 2, intraOpThreads: 2, duckdb: { reading: 1, writing: 4 } })).toBeNull();
  });
});

describe('duckdbThreadBudget', () => {
  it.each([
    // cores, inference threads, DuckDB's own count -> while reading for the workers, writing alone
    [2, 2, 2, { reading: 1, writing: 2 }],
    [2, 1, 2, { reading: 1, writing: 2 }],
    [8, 2, 8, { reading: 6, writing: 8 }],
    [8, 8, 8, { reading: 1, writing: 8 }],
    // More inference threads than cores (--workers/--threads asked for it): still one.
    [2, 4, 2, { reading: 1, writing: 2 }],
    // DuckDB limited below the cores (a cgroup, a setting): never more than it has.
    [16, 2, 4, { reading: 4, writing: 4 }],
  ])('%i cores, %i inference threads, DuckDB %i: %o', (cores, inference, duckdb, want) => {
    expect(duckdbThreadBudget(cores, inference, duckdb)).toEqual(want);
  });
});

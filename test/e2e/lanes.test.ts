/**
 * Parts of at least 2 x MIN_LANE_ROWS rows with passthrough columns are written as two files
 * by two COPYs at once (PartWriter lanes). Through the real CLI:
 * - the output equals a run whose parts are too small to split, row for row, in input order;
 * - a file smaller than checkpoint_rows is split by its own rows (half each), not the setting's;
 * - a scheduled window (its rows staged by the window filter) commits its lanes as part files;
 * - a run killed after the first lane's part is journaled (the second not yet) resumes from
 *   exactly that row and commits the same output, Parquet and CSV (a staged copy) alike.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { data, describeResult, expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';
import { laneRowsFor, MIN_LANE_ROWS } from '../../src/sink/partWriter.js';

const tmp = useTempDirs('batchinfer-e2e-lanes-');
const COPIES = 20;
const ROWS = COPIES * 3000;
const BATCH = 1024;
/** Two lanes of MIN_LANE_ROWS each: 60k rows are parts of 32768 + 27232 rows, four files. */
const SPLIT = 2 * MIN_LANE_ROWS;

let inputs: Promise<{ parquet: string; csv: string }> | undefined;
/** 20 copies of the transactions fixture with a unique `seq` in file order, as Parquet and CSV. */
function bigInputs(): Promise<{ parquet: string; csv: string }> {
  inputs ??= (async () => {
    const dir = await tmp.make();
    const parquet = join(dir, 'big.parquet');
    const csv = join(dir, 'big.csv');
    await withDuckDb(async (query) => {
      const select = `SELECT r.range * 3000 + CAST(substr(t.txn_id, 2) AS INTEGER) AS seq, t.* FROM range(${COPIES}) r, read_parquet($1) t ORDER BY seq`;
      await query(`COPY (${select}) TO $2 (FORMAT parquet, ROW_GROUP_SIZE 10000)`, [data('transactions.parquet'), parquet]);
      await query(`COPY (${select}) TO $2 (FORMAT csv, HEADER)`, [data('transactions.parquet'), csv]);
    });
    return { parquet, csv };
  })();
  return inputs;
}

const args = (input: string, output: string, checkpoint: number): string[] => [
  ...['run', '--model', model('mlp'), '--input', input, '--output', output],
  ...['--features', 'amount,f0,f1,risk score', '--fill-null', '0', '--passthrough', 'seq,txn_id', '--labels', 'legit,fraud'],
  ...['--checkpoint-rows', String(checkpoint), '--batch-size', String(BATCH), '--quiet', '--json'],
];

let reference: Promise<string> | undefined;
/** The input scored with parts too small to split (one COPY each). */
function unsplit(): Promise<string> {
  reference ??= (async () => {
    expect(laneRowsFor(MIN_LANE_ROWS, BATCH)).toBe(0);
    const out = join(await tmp.make(), 'unsplit.parquet');
    expectOk(await runCli(args((await bigInputs()).parquet, out, MIN_LANE_ROWS)));
    return out;
  })();
  return reference;
}

async function expectSameAsUnsplit(output: string): Promise<void> {
  const [a, b] = [await readParquet(await unsplit()), await readParquet(output)];
  expect(b.columns).toEqual(a.columns);
  expect(b.rows.length).toBe(ROWS);
  expect(b.rows.map((r) => Number(r['seq']))).toEqual(Array.from({ length: ROWS }, (_, i) => i));
  expect(b.rows).toEqual(a.rows);
}

describe('parts written in two lanes', { timeout: 180_000 }, () => {
  it('split parts: the output equals unsplit parts, row for row, in input order', async () => {
    expect(laneRowsFor(SPLIT, BATCH)).toBe(MIN_LANE_ROWS);
    const out = join(await tmp.make(), 'split.parquet');
    const r = await runCli(args((await bigInputs()).parquet, out, SPLIT));
    expectOk(r);
    expect(JSON.parse(r.stdout).rows).toMatchObject({ in: ROWS, out: ROWS });
    await expectSameAsUnsplit(out);
    expect(await stagingLeftovers(out)).toEqual([]);
  });

  it('a part holding a whole file smaller than checkpoint_rows is split in halves of it', async () => {
    const dir = await tmp.make();
    const out = join(dir, 'whole.parquet');
    // Killed after the first lane's part: it holds half of the file (rounded to a batch).
    const crashed = await runCli(args((await bigInputs()).parquet, out, 1 << 20), { cwd: dir, env: { BATCHINFER_FAILPOINT: 'part-journaled:1' } });
    expect(crashed.signal, describeResult(crashed)).toBe('SIGKILL');
    const resumed = await runCli(args((await bigInputs()).parquet, out, 1 << 20), { cwd: dir, timeoutMs: 90_000 });
    expectOk(resumed);
    expect(JSON.parse(resumed.stdout).resumedRows).toBe(laneRowsFor(ROWS, BATCH));
    expect(laneRowsFor(ROWS, BATCH)).toBe(30_720);
    await expectSameAsUnsplit(out);
  });

  it('a scheduled window: the lanes are committed as part files, in order, equal to unsplit parts', async () => {
    const dir = await tmp.make();
    const job = {
      name: 'lanes-daily',
      schedule: '0 0 * * *',
      model: model('mlp'),
      input: (await bigInputs()).parquet,
      window_column: 'ts',
      output: join(dir, 'out/dt={date}/'),
      passthrough: ['seq', 'txn_id'],
      labels: ['legit', 'fraud'],
      inputs: { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fill_null: 0 } },
      batch_size: BATCH,
      checkpoint_rows: SPLIT,
      // A run keeping a profile (a scheduled job's default) writes each part whole.
      profile: false,
    };
    const jobPath = join(dir, 'daily.yaml');
    await writeFile(jobPath, YAML.stringify(job));
    // Every row of the fixture lies in the window of 2026-11-29.
    const r = await runCli(['run', jobPath, '--at', '2026-11-29', '--quiet', '--json']);
    expectOk(r);
    const out = join(dir, 'out/dt=2026-11-29');
    // 32768 rows as two lanes, then the 27232 left (too few to split).
    expect((await readdir(out)).sort()).toEqual(['_SUCCESS', '_summary.json', 'part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']);
    const rows = await withDuckDb((query) => query('SELECT * EXCLUDE (filename) FROM read_parquet($1, filename = true, hive_partitioning = false) ORDER BY filename, file_row_number', [join(out, '*.parquet')]));
    const reference = await readParquet(await unsplit());
    expect(rows.length).toBe(ROWS);
    expect(rows.map((row) => Object.fromEntries(Object.entries(row).filter(([k]) => k !== 'file_row_number')))).toEqual(reference.rows);
  });

  it.each(['parquet', 'csv'] as const)('%s: killed between the two lanes of a part, resumed from the first lane\'s end, same output', async (format) => {
    const input = (await bigInputs())[format];
    const dir = await tmp.make();
    const out = join(dir, 'scores.parquet');
    const crashed = await runCli(args(input, out, SPLIT), { cwd: dir, env: { BATCHINFER_FAILPOINT: 'part-journaled:1' } });
    expect(crashed.signal, describeResult(crashed)).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false);

    const resumed = await runCli(args(input, out, SPLIT), { cwd: dir, timeoutMs: 90_000 });
    expectOk(resumed);
    const summary = JSON.parse(resumed.stdout);
    expect(summary.resumedRows).toBe(MIN_LANE_ROWS);
    expect(summary.rows).toMatchObject({ in: ROWS, out: ROWS });
    await expectSameAsUnsplit(out);
    expect(await stagingLeftovers(out)).toEqual([]);
    expect(JSON.parse(await readFile(`${out}.summary.json`, 'utf8')).resumedRows).toBe(MIN_LANE_ROWS);
  });
});

/**
 * Bad input never crashes a run or loses a row. A CSV and a Parquet file with a known set of
 * bad rows of every reason (NULL_VALUE, PARSE_ERROR early and past DuckDB's 20480-row type
 * sample, NOT_FINITE, UNKNOWN_CATEGORY, OUT_OF_RANGE) and good rows around them, scored by
 * the mixed model under each on_error policy:
 *
 * - fail: exit 65 naming the first bad row's number, column and value; nothing written;
 * - skip: exactly the good rows, in order, predictions as the reference computes them;
 * - quarantine: the rejects file holds exactly the bad rows with their original values,
 *   row number, file, column, reason and message; the output exactly the rest;
 * - max_errors / max_error_rate: exceeded -> 65 and nothing committed, else exit 0;
 * - a quarantine run killed after its first part and resumed equals an uninterrupted one.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeResult, expectCliError, expectOk, runCli, type CliResult } from '../helpers/cli.js';
import { comparePredictions, expectedPredictions, type FeatureSpec } from '../helpers/expected.js';
import { readParquet, withDuckDb, type Row } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';
import { mixedJob, MIXED_LABELS, MIXED_VOCAB } from '../helpers/mixedJob.js';

const tmp = useTempDirs('batchinfer-e2e-rows-');

const LABELS = MIXED_LABELS;
const VOCAB = MIXED_VOCAB;
const REJECT_COLUMNS = ['reject_row', 'reject_file', 'reject_column', 'reject_reason', 'reject_message'];
/** DuckDB sniffs CSV column types from this many rows. */
const CSV_SAMPLE_ROWS = 20480;

type Reason = 'NULL_VALUE' | 'PARSE_ERROR' | 'NOT_FINITE' | 'UNKNOWN_CATEGORY' | 'OUT_OF_RANGE';
type Column = 'txn_id' | 'merchant_category' | 'amount' | 'f0' | 'f1';

/** One data row as its CSV text (an empty field is NULL). */
interface TextRow {
  txn_id: string;
  merchant_category: string;
  amount: string;
  f0: string;
  f1: string;
}

interface BadRow {
  /** 0-based data row. */
  index: number;
  column: Column;
  /** The text written into the column ('' = NULL). */
  text: string;
  reason: Reason;
  /** The reject message, exactly. */
  message: string;
}

const notFinite = (value: string, column: string) => `${value} in column ${column} is not finite (set allow_nan to pass NaN/Infinity)`;

/** The CSV's bad rows, one bad value each, in row order. */
const CSV_BAD: BadRow[] = [
  { index: 3, column: 'amount', text: '', reason: 'NULL_VALUE', message: 'NULL in column amount and fill_null is error' },
  { index: 10, column: 'f0', text: 'abc', reason: 'PARSE_ERROR', message: "'abc' in column f0 is not a number" },
  { index: 15, column: 'f0', text: 'NaN', reason: 'NOT_FINITE', message: notFinite('NaN', 'f0') },
  { index: 20, column: 'f1', text: 'inf', reason: 'NOT_FINITE', message: notFinite('inf', 'f1') },
  { index: 25, column: 'merchant_category', text: 'electronics', reason: 'UNKNOWN_CATEGORY', message: "'electronics' in column merchant_category is not in vocab and unknown is error" },
  { index: 30, column: 'amount', text: '5000', reason: 'OUT_OF_RANGE', message: '5000 in column amount is outside range [-1000, 1000]' },
  // Past DuckDB's type sample: f1 is sniffed as DOUBLE, then this value breaks the read.
  { index: 20600, column: 'f1', text: 'abc', reason: 'PARSE_ERROR', message: "'abc' in column f1 is not a number" },
  { index: 20700, column: 'amount', text: '-inf', reason: 'NOT_FINITE', message: notFinite('-inf', 'amount') },
  { index: 20900, column: 'merchant_category', text: 'toys', reason: 'UNKNOWN_CATEGORY', message: "'toys' in column merchant_category is not in vocab and unknown is error" },
];
const CSV_ROWS = 21000;

/** The Parquet file's bad rows (DOUBLE columns: NULL, NaN, ±Infinity, out of range; no parse errors). */
const PARQUET_BAD: BadRow[] = [
  { index: 4, column: 'amount', text: '', reason: 'NULL_VALUE', message: 'NULL in column amount and fill_null is error' },
  { index: 9, column: 'f0', text: 'NaN', reason: 'NOT_FINITE', message: notFinite('nan', 'f0') },
  { index: 1200, column: 'f1', text: 'Infinity', reason: 'NOT_FINITE', message: notFinite('inf', 'f1') },
  { index: 1500, column: 'amount', text: '-Infinity', reason: 'NOT_FINITE', message: notFinite('-inf', 'amount') },
  { index: 2222, column: 'merchant_category', text: 'electronics', reason: 'UNKNOWN_CATEGORY', message: "'electronics' in column merchant_category is not in vocab and unknown is error" },
  { index: 2500, column: 'f1', text: '-1000.5', reason: 'OUT_OF_RANGE', message: '-1000.5 in column f1 is outside range [-1000, 1000]' },
  { index: 2999, column: 'amount', text: '', reason: 'NULL_VALUE', message: 'NULL in column amount and fill_null is error' },
];
const PARQUET_ROWS = 3000;

/** Deterministic good values; numbers written in JS's shortest form so text and DOUBLE agree. */
function goodRow(i: number): TextRow {
  const amount = 10 + ((i * 37) % 500) + 0.25;
  const f0 = ((i * 7919) % 2000) / 1000 - 1;
  const f1 = ((i * 104729) % 2000) / 1000 - 1;
  return { txn_id: `r${String(i).padStart(5, '0')}`, merchant_category: VOCAB[i % 3]!, amount: String(amount), f0: String(f0), f1: String(f1) };
}

function makeRows(count: number, bad: readonly BadRow[]): TextRow[] {
  const rows = Array.from({ length: count }, (_, i) => goodRow(i));
  for (const b of bad) rows[b.index]![b.column] = b.text;
  return rows;
}

const COLUMNS: Column[] = ['txn_id', 'merchant_category', 'amount', 'f0', 'f1'];
const toCsv = (rows: readonly TextRow[]): string => COLUMNS.join(',') + '\n' + rows.map((r) => COLUMNS.map((c) => r[c]).join(',')).join('\n') + '\n';

/** Numbers as the reference needs them (good rows only). */
const numeric = (r: TextRow): Row => ({ txn_id: r.txn_id, merchant_category: r.merchant_category, amount: Number(r.amount), f0: Number(r.f0), f1: Number(r.f1) });

const SPECS: Record<string, FeatureSpec> = {
  x: { columns: ['amount', 'f0', 'f1'], fillNull: 'error' },
  merchant: { column: 'merchant_category', vocab: VOCAB, unknown: 'error' },
};

/** The job: mixed model, every check on, fill_null error (the default); batches of 4096. */
function job(input: string, output: string, extra: Record<string, unknown> = {}) {
  return mixedJob(input, output, { batch_size: 4096, ...extra });
}

const duck = withDuckDb;

let dataDir: string;
let csvPath: string;
let csvRows: TextRow[];
let parquetPath: string;
let parquetRows: TextRow[];
/** Only good rows, for the all-good quarantine run. */
let goodCsvPath: string;

beforeAll(async () => {
  dataDir = await tmp.make();
  csvRows = makeRows(CSV_ROWS, CSV_BAD);
  csvPath = join(dataDir, 'rows.csv');
  await writeFile(csvPath, toCsv(csvRows));
  goodCsvPath = join(dataDir, 'good.csv');
  await writeFile(goodCsvPath, toCsv(Array.from({ length: 500 }, (_, i) => goodRow(i))));
  // The Parquet file: the same kind of rows with typed columns (DOUBLE holds NaN and Infinity).
  parquetRows = makeRows(PARQUET_ROWS, PARQUET_BAD);
  const staged = join(dataDir, 'parquet-source.csv');
  await writeFile(staged, toCsv(parquetRows));
  parquetPath = join(dataDir, 'rows.parquet');
  await duck((q) =>
    q(
      `COPY (SELECT txn_id, merchant_category, CAST(NULLIF(amount, '') AS DOUBLE) AS amount, CAST(f0 AS DOUBLE) AS f0, CAST(f1 AS DOUBLE) AS f1
         FROM read_csv($1, header = true, all_varchar = true)) TO $2 (FORMAT parquet, ROW_GROUP_SIZE 1024)`,
      [staged, parquetPath],
    ),
  );
}, 60_000);

interface Run {
  dir: string;
  output: string;
  result: CliResult;
  summary: any;
}

/** Writes the job into a fresh temp dir and runs it; `summary` is the --json summary on success. */
async function runJob(input: string, extra: Record<string, unknown> = {}, flags: string[] = [], env?: NodeJS.ProcessEnv): Promise<Run> {
  const dir = await tmp.make();
  const output = join(dir, 'scores.parquet');
  const jobPath = join(dir, 'job.yaml');
  await writeFile(jobPath, YAML.stringify(job(input, output, extra)));
  const result = await runCli(['run', jobPath, '--quiet', '--json', ...flags], { cwd: dir, timeoutMs: 90_000, env });
  const summary = result.code === 0 ? JSON.parse(result.stdout) : null;
  return { dir, output, result, summary };
}

/** A failed run left nothing: no output, summary, rejects file, staging or lock; only the job file. */
async function expectNothingWritten(run: Run): Promise<void> {
  expect(existsSync(run.output)).toBe(false);
  expect(existsSync(`${run.output}.summary.json`)).toBe(false);
  expect(existsSync(`${run.output}.rejects.parquet`)).toBe(false);
  expect(await stagingLeftovers(run.output)).toEqual([]);
  expect(await readdir(run.dir)).toEqual(['job.yaml']);
}

function byReason(bad: readonly BadRow[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const b of bad) counts[b.reason] = (counts[b.reason] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** Output holds exactly `rows` (ids in order) with the reference's predictions. */
async function expectScored(output: string, rows: readonly TextRow[]): Promise<void> {
  const out = await readParquet(output);
  expect(out.columns.map((c) => c.name)).toEqual(['txn_id', 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
  expect(out.rows.map((r) => r['txn_id'])).toEqual(rows.map((r) => r.txn_id));
  const expected = expectedPredictions('mixed', rows.map(numeric), SPECS, { labels: LABELS });
  expect(comparePredictions(out.rows, expected)).toEqual([]);
}

const goodOf = (rows: readonly TextRow[], bad: readonly BadRow[]): TextRow[] => {
  const skip = new Set(bad.map((b) => b.index));
  return rows.filter((_, i) => !skip.has(i));
};

describe.concurrent('bad rows in a CSV', { timeout: 120_000 }, () => {
  it('the fixture really puts a bad value past DuckDB’s type sample', () => {
    expect(CSV_BAD.some((b) => b.index >= CSV_SAMPLE_ROWS && b.reason === 'PARSE_ERROR')).toBe(true);
    expect(CSV_BAD.some((b) => b.index < CSV_SAMPLE_ROWS && b.reason === 'PARSE_ERROR')).toBe(true);
    expect(new Set(CSV_BAD.map((b) => b.reason))).toEqual(new Set(['NULL_VALUE', 'PARSE_ERROR', 'NOT_FINITE', 'UNKNOWN_CATEGORY', 'OUT_OF_RANGE']));
  });

  it('on_error fail (the default): exit 65 naming the file, the first bad row, its column and value; nothing written', async () => {
    const run = await runJob(csvPath);
    const stderr = expectCliError(run.result, 65, 'BAD_DATA');
    expect(stderr).toContain(`${csvPath} row 4: NULL in column amount and fill_null is error`);
    expect(stderr).toContain('NULL_VALUE');
    await expectNothingWritten(run);
  });

  it('on_error fail with the only bad value past the type sample: row 20601, column f1, value abc', async () => {
    const dir = await tmp.make();
    const rows = makeRows(CSV_ROWS, CSV_BAD.filter((b) => b.index === 20600));
    const input = join(dir, 'late.csv');
    await writeFile(input, toCsv(rows));
    const run = await runJob(input);
    const stderr = expectCliError(run.result, 65, 'BAD_DATA');
    expect(stderr).toContain(`${input} row 20601: 'abc' in column f1 is not a number`);
    expect(stderr).toContain('PARSE_ERROR');
    await expectNothingWritten(run);
  });

  it('on_error skip: exit 0, exactly the good rows in order with the reference predictions, counts by reason', async () => {
    const run = await runJob(csvPath, { on_error: 'skip' });
    expectOk(run.result);
    await expectScored(run.output, goodOf(csvRows, CSV_BAD));
    expect(run.summary.rows).toEqual({ in: CSV_ROWS, out: CSV_ROWS - CSV_BAD.length, rejected: CSV_BAD.length, rejectedByReason: byReason(CSV_BAD) });
    expect(run.summary.rows.rejectedByReason).toEqual({ NOT_FINITE: 3, NULL_VALUE: 1, OUT_OF_RANGE: 1, PARSE_ERROR: 2, UNKNOWN_CATEGORY: 2 });
    expect(existsSync(`${run.output}.rejects.parquet`)).toBe(false);
    expect(run.summary.rejects).toBeUndefined();
  });

  it('on_error quarantine (--on-error): the rejects file holds exactly the bad rows, the output exactly the rest', async () => {
    const run = await runJob(csvPath, {}, ['--on-error', 'quarantine']);
    expectOk(run.result);
    await expectScored(run.output, goodOf(csvRows, CSV_BAD));
    expect(run.summary.rows).toEqual({ in: CSV_ROWS, out: CSV_ROWS - CSV_BAD.length, rejected: CSV_BAD.length, rejectedByReason: byReason(CSV_BAD) });
    const rejectsPath = `${run.output}.rejects.parquet`;
    expect(run.summary.rejects).toBe(rejectsPath);
    const rejects = await readParquet(rejectsPath);
    expect(rejects.columns.map((c) => c.name)).toEqual([...COLUMNS, ...REJECT_COLUMNS]);
    // A value past the type sample made the CSV re-read as text: the original values are the text.
    expect(rejects.rows).toEqual(
      CSV_BAD.map((b) => ({
        ...Object.fromEntries(COLUMNS.map((c) => [c, csvRows[b.index]![c] === '' ? null : csvRows[b.index]![c]])),
        reject_row: BigInt(b.index + 1),
        reject_file: csvPath,
        reject_column: b.column,
        reject_reason: b.reason,
        reject_message: b.message,
      })),
    );
    expect(await stagingLeftovers(run.output)).toEqual([]);
  });

  it('quarantine to a named rejects file (--rejects) in a directory that does not exist yet', async () => {
    const dir = await tmp.make();
    // Regression: the rejects file was renamed from the output's staging directory, which
    // failed (73, after scoring everything) for a new directory or another file system.
    const named = join(dir, 'new dir', 'bad rows.parquet');
    const run = await runJob(csvPath, { on_error: 'quarantine' }, ['--rejects', named]);
    expectOk(run.result);
    expect(run.summary.rejects).toBe(named);
    expect(existsSync(`${run.output}.rejects.parquet`)).toBe(false);
    const rejects = await readParquet(named);
    expect(rejects.rows.map((r) => r['txn_id'])).toEqual(CSV_BAD.map((b) => csvRows[b.index]!.txn_id));
  });

  it('an all-good quarantine run writes an empty rejects file with the input columns plus where and why', async () => {
    const run = await runJob(goodCsvPath, { on_error: 'quarantine' });
    expectOk(run.result);
    expect(run.summary.rows).toEqual({ in: 500, out: 500, rejected: 0, rejectedByReason: {} });
    await expectScored(run.output, Array.from({ length: 500 }, (_, i) => goodRow(i)));
    const rejects = await readParquet(`${run.output}.rejects.parquet`);
    expect(rejects.rows).toEqual([]);
    expect(rejects.columns).toEqual([
      { name: 'txn_id', type: 'VARCHAR' },
      { name: 'merchant_category', type: 'VARCHAR' },
      { name: 'amount', type: 'DOUBLE' },
      { name: 'f0', type: 'DOUBLE' },
      { name: 'f1', type: 'DOUBLE' },
      { name: 'reject_row', type: 'BIGINT' },
      { name: 'reject_file', type: 'VARCHAR' },
      { name: 'reject_column', type: 'VARCHAR' },
      { name: 'reject_reason', type: 'VARCHAR' },
      { name: 'reject_message', type: 'VARCHAR' },
    ]);
  });

  it('--allow-nan passes NaN and Infinity through (also past a range); the other bad rows are still skipped', async () => {
    const run = await runJob(csvPath, { on_error: 'skip' }, ['--allow-nan']);
    expectOk(run.result);
    const stillBad = CSV_BAD.filter((b) => b.reason !== 'NOT_FINITE');
    expect(run.summary.rows).toEqual({ in: CSV_ROWS, out: CSV_ROWS - stillBad.length, rejected: stillBad.length, rejectedByReason: byReason(stillBad) });
    const out = await readParquet(run.output);
    const kept = goodOf(csvRows, stillBad);
    expect(out.rows.map((r) => r['txn_id'])).toEqual(kept.map((r) => r.txn_id));
    const byId = new Map(out.rows.map((r) => [r['txn_id'], r]));
    for (const b of CSV_BAD.filter((x) => x.reason === 'NOT_FINITE')) {
      const row = byId.get(csvRows[b.index]!.txn_id)!;
      // A NaN or infinite feature makes the model's probabilities NaN: no prediction.
      expect(row['confidence']).toBeNaN();
      expect(row['prediction']).toBeNull();
    }
    // Every finite row still matches the reference.
    const finite = goodOf(csvRows, CSV_BAD);
    const finiteOut = out.rows.filter((r) => !CSV_BAD.some((b) => csvRows[b.index]!.txn_id === r['txn_id']));
    expect(comparePredictions(finiteOut, expectedPredictions('mixed', finite.map(numeric), SPECS, { labels: LABELS }))).toEqual([]);
  });

  it.each([
    ['max_errors', { max_errors: CSV_BAD.length - 1 }, /more than max_errors 8 bad rows/],
    ['max_error_rate', { max_error_rate: (CSV_BAD.length - 1) / CSV_ROWS }, /bad rows exceed max_error_rate/],
  ])('%s exceeded: exit 65, nothing at the output path and no rejects file', async (_name, limits, message) => {
    const run = await runJob(csvPath, { on_error: 'quarantine', ...limits });
    const stderr = expectCliError(run.result, 65, 'BAD_DATA');
    expect(stderr).toMatch(message);
    expect(stderr).toContain('nothing is committed');
    await expectNothingWritten(run);
  });

  it.each([
    ['--max-errors', String(CSV_BAD.length)],
    ['--max-error-rate', String(CSV_BAD.length / CSV_ROWS)],
  ])('%s not exceeded: exit 0 with the rejects file', async (flag, value) => {
    const run = await runJob(csvPath, { on_error: 'quarantine' }, [flag, value]);
    expectOk(run.result);
    expect(run.summary.rows.rejected).toBe(CSV_BAD.length);
    expect((await readParquet(`${run.output}.rejects.parquet`)).rows).toHaveLength(CSV_BAD.length);
  });

  it('max_errors with on_error skip counts the skipped rows too', async () => {
    const run = await runJob(csvPath, { on_error: 'skip' }, ['--max-errors', '0']);
    expectCliError(run.result, 65, 'BAD_DATA');
    await expectNothingWritten(run);
  });
});

describe.concurrent('bad rows in a Parquet file (typed DOUBLE columns)', { timeout: 120_000 }, () => {
  it('the fixture holds NaN, ±Infinity and NULLs in DOUBLE columns', async () => {
    const [row] = await duck((q) =>
      q(`SELECT count(*) FILTER (WHERE isnan(f0)) AS nan, count(*) FILTER (WHERE isinf(f1) OR isinf(amount)) AS inf, count(*) FILTER (WHERE amount IS NULL) AS nulls, any_value(typeof(f0)) AS type FROM read_parquet($1)`, [parquetPath]),
    );
    expect(row).toEqual({ nan: 1n, inf: 2n, nulls: 2n, type: 'DOUBLE' });
  });

  it('on_error fail: exit 65 at the first NULL (row 5), nothing written', async () => {
    const run = await runJob(parquetPath);
    const stderr = expectCliError(run.result, 65, 'BAD_DATA');
    expect(stderr).toContain(`${parquetPath} row 5: NULL in column amount and fill_null is error`);
    await expectNothingWritten(run);
  });

  it('on_error fail names a NaN value and its column', async () => {
    const run = await runJob(parquetPath, { inputs: { x: { columns: ['amount', 'f0', 'f1'], fill_null: 0 }, merchant: { column: 'merchant_category', vocab: VOCAB, unknown: 0 } } });
    const stderr = expectCliError(run.result, 65, 'BAD_DATA');
    expect(stderr).toContain(`${parquetPath} row 10: nan in column f0 is not finite`);
    expect(stderr).toContain('NOT_FINITE');
    await expectNothingWritten(run);
  });

  it('on_error skip: exactly the good rows with the reference predictions; counts by reason', async () => {
    const run = await runJob(parquetPath, { on_error: 'skip' });
    expectOk(run.result);
    await expectScored(run.output, goodOf(parquetRows, PARQUET_BAD));
    expect(run.summary.rows).toEqual({ in: PARQUET_ROWS, out: PARQUET_ROWS - PARQUET_BAD.length, rejected: PARQUET_BAD.length, rejectedByReason: byReason(PARQUET_BAD) });
  });

  it('on_error quarantine: typed original values (NaN, Infinity, NULL) in the rejects file', async () => {
    const run = await runJob(parquetPath, { on_error: 'quarantine' });
    expectOk(run.result);
    await expectScored(run.output, goodOf(parquetRows, PARQUET_BAD));
    const rejects = await readParquet(`${run.output}.rejects.parquet`);
    expect(rejects.columns.map((c) => `${c.name} ${c.type}`)).toEqual([
      'txn_id VARCHAR',
      'merchant_category VARCHAR',
      'amount DOUBLE',
      'f0 DOUBLE',
      'f1 DOUBLE',
      'reject_row BIGINT',
      'reject_file VARCHAR',
      'reject_column VARCHAR',
      'reject_reason VARCHAR',
      'reject_message VARCHAR',
    ]);
    expect(rejects.rows).toEqual(
      PARQUET_BAD.map((b) => {
        const r = parquetRows[b.index]!;
        return {
          txn_id: r.txn_id,
          merchant_category: r.merchant_category,
          amount: r.amount === '' ? null : Number(r.amount),
          f0: Number(r.f0),
          f1: Number(r.f1),
          reject_row: BigInt(b.index + 1),
          reject_file: parquetPath,
          reject_column: b.column,
          reject_reason: b.reason,
          reject_message: b.message,
        };
      }),
    );
  });

  it('--allow-nan with fill_null: only the unknown category and the out-of-range value are bad', async () => {
    const run = await runJob(parquetPath, { on_error: 'skip', allow_nan: true, fill_null: 0 });
    expectOk(run.result);
    const stillBad = PARQUET_BAD.filter((b) => b.reason === 'UNKNOWN_CATEGORY' || b.reason === 'OUT_OF_RANGE');
    expect(run.summary.rows).toEqual({ in: PARQUET_ROWS, out: PARQUET_ROWS - stillBad.length, rejected: stillBad.length, rejectedByReason: byReason(stillBad) });
    const out = await readParquet(run.output);
    expect(out.rows.map((r) => r['txn_id'])).toEqual(goodOf(parquetRows, stillBad).map((r) => r.txn_id));
  });

  it('max_error_rate exceeded: exit 65, nothing written', async () => {
    const run = await runJob(parquetPath, { on_error: 'quarantine', max_error_rate: 0.001 });
    expectCliError(run.result, 65, 'BAD_DATA');
    await expectNothingWritten(run);
  });

  it('max_errors not exceeded: exit 0', async () => {
    const run = await runJob(parquetPath, { on_error: 'skip', max_errors: PARQUET_BAD.length });
    expectOk(run.result);
    expect(run.summary.rows.rejected).toBe(PARQUET_BAD.length);
  });
});

describe('a resumed quarantine run', { timeout: 180_000 }, () => {
  it.each([
    ['CSV', () => csvPath],
    ['Parquet', () => parquetPath],
  ])('%s: killed after its first part, resumed, equals an uninterrupted run (output and rejects)', async (_name, input) => {
    const extra = { on_error: 'quarantine', batch_size: 500, checkpoint_rows: 1000 };
    const whole = await runJob(input(), extra);
    expectOk(whole.result);

    const dir = await tmp.make();
    const output = join(dir, 'scores.parquet');
    const jobPath = join(dir, 'job.yaml');
    await writeFile(jobPath, YAML.stringify(job(input(), output, extra)));
    const crashed = await runCli(['run', jobPath, '--quiet'], { cwd: dir, env: { BATCHINFER_FAILPOINT: 'part-journaled:1' } });
    expect(crashed.signal, describeResult(crashed)).toBe('SIGKILL');
    expect(existsSync(output)).toBe(false);
    expect(existsSync(`${output}.rejects.parquet`)).toBe(false);

    const resumed = await runCli(['run', jobPath, '--quiet', '--json'], { cwd: dir, timeoutMs: 90_000 });
    expectOk(resumed);
    const summary = JSON.parse(resumed.stdout);
    // The first part: 1000 scored rows plus the rejected rows in its span.
    expect(summary.resumedRows).toBeGreaterThan(1000);
    expect(summary.resumedRows).toBeLessThan(1100);
    expect(summary.warnings.join('\n')).toMatch(/resumed an interrupted run/);
    expect(summary.rows).toEqual(whole.summary.rows);

    const [a, b] = [await readParquet(whole.output), await readParquet(output)];
    expect(b.columns).toEqual(a.columns);
    expect(b.rows).toEqual(a.rows);
    const [ra, rb] = [await readParquet(`${whole.output}.rejects.parquet`), await readParquet(`${output}.rejects.parquet`)];
    expect(rb.columns).toEqual(ra.columns);
    expect(rb.rows).toEqual(ra.rows);
    expect(rb.rows.length).toBeGreaterThan(0);
    expect(await stagingLeftovers(output)).toEqual([]);
    const written = JSON.parse(await readFile(`${output}.summary.json`, 'utf8'));
    expect(written.rows).toEqual(whole.summary.rows);
  });
});

describe.concurrent('max_error_rate over several files', { timeout: 120_000 }, () => {
  /** a: 100 rows, the first 10 with a NaN amount; b: 10000 good rows. 10 of 10100 is 0.1%. */
  async function twoFiles(format: 'csv' | 'parquet'): Promise<string> {
    const work = await tmp.make();
    const a = ['txn_id,merchant_category,amount,f0,f1', ...Array.from({ length: 100 }, (_, i) => `a${i},grocery,${i < 10 ? 'NaN' : i + 0.5},0.1,0.2`)];
    const b = ['txn_id,merchant_category,amount,f0,f1', ...Array.from({ length: 10000 }, (_, i) => `b${i},fuel,${(i % 500) + 0.5},0.1,0.2`)];
    for (const [name, lines] of [['a', a], ['b', b]] as const) {
      const csv = join(work, `${name}.csv`);
      await writeFile(csv, lines.join('\n') + '\n');
      if (format === 'parquet') {
        await duck((q) => q(`COPY (SELECT * FROM read_csv($1, header = true)) TO $2 (FORMAT parquet)`, [csv, join(work, `${name}.parquet`)]));
      }
    }
    return join(work, `*.${format}`);
  }

  it('Parquet: judged on all the rows of all files (known up front): exit 0', async () => {
    const run = await runJob(await twoFiles('parquet'), { on_error: 'skip', max_error_rate: 0.01 });
    expectOk(run.result);
    expect(run.summary.rows).toEqual({ in: 10100, out: 10090, rejected: 10, rejectedByReason: { NOT_FINITE: 10 } });
  });

  // A CSV file's rows are only known once it is staged: the rate is judged at the end, over
  // every file, not against the first file alone (10 of 100 rows there, 0.1% overall).
  it('CSV: judged on all the rows too, not the first file alone: exit 0', async () => {
    const run = await runJob(await twoFiles('csv'), { on_error: 'skip', max_error_rate: 0.01 });
    expectOk(run.result);
    expect(run.summary.rows).toEqual({ in: 10100, out: 10090, rejected: 10, rejectedByReason: { NOT_FINITE: 10 } });
  });
});

describe('a bad value past the CSV type sample', { timeout: 120_000 }, () => {
  // One value past DuckDB's 20480-row sample that breaks a feature column's sniffed type:
  // only the feature columns are re-read as text; the passthrough columns keep their types,
  // so the output's schema does not depend on whether such a value exists.
  it('leaves the passthrough column types as sniffed', async () => {
    const dir = await tmp.make();
    const rows = makeRows(CSV_ROWS, CSV_BAD.filter((b) => b.index === 20600));
    const input = join(dir, 'late.csv');
    // An integer column `n` (1, 2, ...) in front of the usual columns.
    const lines = toCsv(rows).trimEnd().split('\n');
    await writeFile(input, lines.map((l, i) => (i === 0 ? `n,${l}` : `${i},${l}`)).join('\n') + '\n');
    const run = await runJob(input, { on_error: 'skip', passthrough: ['n', 'txn_id'] });
    expectOk(run.result);
    expect(run.summary.rows.rejected).toBe(1);
    const out = await readParquet(run.output);
    expect(out.columns.slice(0, 2)).toEqual([
      { name: 'n', type: 'BIGINT' },
      { name: 'txn_id', type: 'VARCHAR' },
    ]);
  });
});

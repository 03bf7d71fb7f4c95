/**
 * Redaction (issue 20, part 3): with `--redact`, no raw data value appears in stderr, the
 * `--json` output, the summary (its warnings) or the rejects file's `reject_message`; the
 * reason, row number and column name stay. Every bad-row reason (NULL_VALUE, PARSE_ERROR
 * early and past DuckDB's type sample, NOT_FINITE, UNKNOWN_CATEGORY, OUT_OF_RANGE) and the
 * file-level failures (a ragged CSV line, a character after a closing quote, a corrupt Parquet
 * page) run with planted unique values, and every output is searched for them. Without
 * `--redact` the messages name the values as before. `--rejects-columns` keeps only the
 * named columns of the rejected rows.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, expectOk, runCli, type CliResult } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';
import { mixedJob } from '../helpers/mixedJob.js';

const tmp = useTempDirs('batchinfer-e2e-redact-');

const COLUMNS = ['txn_id', 'merchant_category', 'amount', 'f0', 'f1'] as const;
type Column = (typeof COLUMNS)[number];
type Row = Record<Column, string>;

interface Planted {
  reason: string;
  column: Column;
  /** The bad value as the CSV holds it ('' = NULL). */
  text: string;
  /** What must not appear anywhere with --redact (the value itself, or the row's secret id). */
  secret: string;
  /** The redacted reject message. */
  message: string;
}

/** One bad row per reason; each bad row's txn_id is a secret too (the NULL has no value to plant). */
const PLANTED: Planted[] = [
  { reason: 'NULL_VALUE', column: 'amount', text: '', secret: 'zqxNullRowId', message: 'NULL in column amount and fill_null is error' },
  { reason: 'PARSE_ERROR', column: 'f0', text: 'zqxParse001', secret: 'zqxParse001', message: "'<redacted>' in column f0 is not a number" },
  { reason: 'NOT_FINITE', column: 'f1', text: '-inf', secret: '-inf', message: '<redacted> in column f1 is not finite (set allow_nan to pass NaN/Infinity)' },
  { reason: 'UNKNOWN_CATEGORY', column: 'merchant_category', text: 'zqxCategory002', secret: 'zqxCategory002', message: "'<redacted>' in column merchant_category is not in vocab and unknown is error" },
  { reason: 'OUT_OF_RANGE', column: 'amount', text: '98765.4321', secret: '98765.4321', message: '<redacted> in column amount is outside range [-1000, 1000]' },
];
/** Rows where PLANTED go, in order. */
const AT = [3, 10, 15, 25, 30];
const ROWS = 400;

const goodRow = (i: number): Row => ({ txn_id: `r${String(i).padStart(5, '0')}`, merchant_category: ['grocery', 'travel', 'fuel'][i % 3]!, amount: String(10 + (i % 50)), f0: String((i % 20) / 10 - 1), f1: '0.25' });
const toCsv = (rows: readonly Row[]): string => COLUMNS.join(',') + '\n' + rows.map((r) => COLUMNS.map((c) => r[c]).join(',')).join('\n') + '\n';

/** ROWS good rows with `planted` put at their rows (`at`), each bad row's id a secret of its own. */
function rowsWith(planted: readonly Planted[], at: readonly number[], count = ROWS): Row[] {
  const rows = Array.from({ length: count }, (_, i) => goodRow(i));
  planted.forEach((p, k) => {
    const row = rows[at[k]!]!;
    row[p.column] = p.text;
    row.txn_id = `zqxRowSecret${k}`;
  });
  return rows;
}

const SECRETS = [...PLANTED.map((p) => p.secret), ...PLANTED.map((_, k) => `zqxRowSecret${k}`)];

const job = mixedJob;

async function runJob(dir: string, input: string, flags: string[], extra: Record<string, unknown> = {}): Promise<{ result: CliResult; output: string }> {
  const output = join(dir, 'scores.parquet');
  const jobPath = join(dir, 'job.yaml');
  await writeFile(jobPath, YAML.stringify(job(input, output, extra)));
  return { result: await runCli(['run', jobPath, '--json', ...flags], { cwd: dir, timeoutMs: 90_000 }), output };
}

/** The planted values found in `text` (case-insensitive: DuckDB writes -inf as it likes). */
const found = (text: string, secrets: readonly string[] = SECRETS): string[] => secrets.filter((s) => text.toLowerCase().includes(s.toLowerCase()));

let dataDir: string;
let mixedCsv: string;

beforeAll(async () => {
  dataDir = await tmp.make();
  mixedCsv = join(dataDir, 'mixed.csv');
  await writeFile(mixedCsv, toCsv(rowsWith(PLANTED, AT)));
});

describe.concurrent('--redact', { timeout: 120_000 }, () => {
  it('quarantine: every reason; stdout, stderr, the summary and reject_message hold no planted value; reason, row and column stay', async () => {
    const dir = await tmp.make();
    const { result, output } = await runJob(dir, mixedCsv, ['--redact', '--on-error', 'quarantine']);
    expectOk(result);
    const summaryText = await readFile(`${output}.summary.json`, 'utf8');
    expect(found(result.stdout + result.stderr + summaryText)).toEqual([]);
    const rejects = await readParquet(`${output}.rejects.parquet`);
    expect(rejects.rows.map((r) => [r['reject_row'], r['reject_column'], r['reject_reason'], r['reject_message']])).toEqual(PLANTED.map((p, k) => [BigInt(AT[k]! + 2 - 1), p.column, p.reason, p.message]));
    expect(found(rejects.rows.map((r) => String(r['reject_message'])).join('\n'))).toEqual([]);
    // The rows' own columns are there (rejects_columns leaves them out).
    expect(rejects.rows.map((r) => r['txn_id'])).toEqual(PLANTED.map((_, k) => `zqxRowSecret${k}`));
  });

  it('without --redact the messages name the values, as before', async () => {
    const dir = await tmp.make();
    const { result, output } = await runJob(dir, mixedCsv, ['--on-error', 'quarantine']);
    expectOk(result);
    const messages = (await readParquet(`${output}.rejects.parquet`)).rows.map((r) => String(r['reject_message'])).join('\n');
    expect(found(messages, PLANTED.map((p) => p.secret))).toEqual(PLANTED.slice(1).map((p) => p.secret));
  });

  it('--rejects-columns txn_id: the rejects file holds txn_id and the reject_* columns only; an unknown column is SCHEMA_MISMATCH', async () => {
    const dir = await tmp.make();
    const { result, output } = await runJob(dir, mixedCsv, ['--redact', '--on-error', 'quarantine', '--rejects-columns', 'txn_id']);
    expectOk(result);
    const rejects = await readParquet(`${output}.rejects.parquet`);
    expect(rejects.columns.map((c) => c.name)).toEqual(['txn_id', 'reject_row', 'reject_file', 'reject_column', 'reject_reason', 'reject_message']);
    expect(found(JSON.stringify(rejects.rows, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)), PLANTED.map((p) => p.secret))).toEqual([]);
    const bad = await runJob(await tmp.make(), mixedCsv, ['--on-error', 'quarantine', '--rejects-columns', 'txn_id,nope']);
    expect(expectCliError(bad.result, 78, 'SCHEMA_MISMATCH')).toContain("rejects_columns: column 'nope' is not in the dataset");
  });

  it.each(PLANTED.map((p, k) => [p.reason, p, k] as const))('on_error fail, %s: BAD_DATA names row, column and reason but no value; without --redact the value is named', async (_reason, planted, k) => {
    const dir = await tmp.make();
    const input = join(dir, 'one.csv');
    await writeFile(input, toCsv(rowsWith([planted], [AT[k]!])));
    const { result } = await runJob(dir, input, ['--redact']);
    const stderr = expectCliError(result, 65, 'BAD_DATA');
    expect(stderr).toContain(`${input} row ${AT[k]! + 1}: `);
    expect(stderr).toContain(`column ${planted.column}`);
    expect(stderr).toContain(planted.reason);
    expect(found(result.stdout + result.stderr)).toEqual([]);
    expect(await readdir(dir)).toEqual(['job.yaml', 'one.csv']);
    if (planted.reason !== 'NULL_VALUE' && planted.reason !== 'NOT_FINITE') {
      const plain = await runJob(dir, input, []);
      expect(expectCliError(plain.result, 65, 'BAD_DATA')).toContain(planted.secret);
    }
  });

  it('on_error fail, a value that is no number past DuckDB\'s type sample (the CSV read again as text)', async () => {
    const dir = await tmp.make();
    const input = join(dir, 'late.csv');
    await writeFile(input, toCsv(rowsWith([PLANTED[1]!], [20600], 21000)));
    const { result } = await runJob(dir, input, ['--redact']);
    expect(expectCliError(result, 65, 'BAD_DATA')).toContain(`${input} row 20601: '<redacted>' in column f0 is not a number`);
    expect(found(result.stdout + result.stderr)).toEqual([]);
  });

  it('a ragged CSV line and a character after a closing quote: INPUT_INVALID naming the line, no value', async () => {
    const dir = await tmp.make();
    const lines = toCsv(rowsWith([], [])).trimEnd().split('\n');
    const ragged = join(dir, 'ragged.csv');
    await writeFile(ragged, lines.map((l, i) => (i === 101 ? `${l},zqxRagged005` : l)).join('\n') + '\n');
    const quote = join(dir, 'quote.csv');
    await writeFile(quote, lines.map((l, i) => (i === 44 ? l.replace(/,(grocery|travel|fuel),/, ',"$1"Zzqx,') : l)).join('\n') + '\n');
    for (const [input, says] of [[ragged, 'line 102 has 6 fields, the header has 5'], [quote, 'line 45: a character after a closing quote']] as const) {
      const plain = await runJob(dir, input, []);
      const { result } = await runJob(dir, input, ['--redact']);
      const stderr = expectCliError(result, 65, 'INPUT_INVALID');
      expect(stderr).toContain(says);
      expect(found(result.stdout + stderr, ['zqxRagged005', 'Zzqx'])).toEqual([]);
      // The character after the quote is named as it is (`got "Z"`), but not with --redact.
      expect(result.stdout + stderr).not.toContain('"Z"');
      if (input === quote) expect(expectCliError(plain.result, 65, 'INPUT_INVALID')).toContain('got "Z"');
      // validate reads the file too.
      const validated = await runCli(['validate', join(dir, 'job.yaml'), '--redact']);
      expect(validated.code).not.toBe(0);
      expect(found(validated.stdout + validated.stderr, ['zqxRagged005', 'Zzqx'])).toEqual([]);
      expect(validated.stderr).not.toContain('"Z"');
    }
  });

  it("a scheduled window failing on a bad row: its failure marker and status hold no value", async () => {
    const dir = await tmp.make();
    const input = join(dir, 'one.csv');
    await writeFile(input, toCsv(rowsWith([PLANTED[3]!], [7])));
    const jobPath = join(dir, 'hourly.yaml');
    await writeFile(jobPath, YAML.stringify({ ...job(input, join(dir, 'out/hour={hour}/')), schedule: '0 * * * *', redact: true }));
    const result = await runCli(['run', jobPath, '--at', '2026-11-29T01:00:00Z', '--json'], { cwd: dir });
    expectCliError(result, 65, 'BAD_DATA');
    const marker = await readFile(join(dir, 'out', '.hour=01.failed.json'), 'utf8');
    expect(marker).toContain('BAD_DATA');
    const status = await runCli(['status', jobPath, '--from', '2026-11-29T01:00:00Z', '--to', '2026-11-29T02:00:00Z', '--json'], { cwd: dir });
    expectOk(status);
    expect(status.stdout).toContain('failed');
    expect(found(result.stdout + result.stderr + marker + status.stdout)).toEqual([]);
  });

  it('a corrupt Parquet page: INPUT_INVALID, no planted value', async () => {
    const dir = await tmp.make();
    const clean = join(dir, 'clean.parquet');
    await withDuckDb((q) => q(`COPY (SELECT 'zqxPage' || i AS txn_id, 'grocery' AS merchant_category, 10.0 AS amount, 0.5 AS f0, 0.25 AS f1 FROM range(5000) t(i)) TO '${clean}' (FORMAT parquet)`));
    const [meta] = await withDuckDb((q) => q(`SELECT data_page_offset AS at FROM parquet_metadata('${clean}') WHERE path_in_schema = 'txn_id' AND row_group_id = 0`));
    const bytes = Buffer.from(await readFile(clean));
    const start = Number((meta as Record<string, unknown>)['at']) + 40;
    for (let i = start; i < start + 100; i += 7) bytes[i]! ^= 0x5a;
    const input = join(dir, 'corrupt.parquet');
    await writeFile(input, bytes);
    const { result } = await runJob(dir, input, ['--redact']);
    expect(result.code).not.toBe(0);
    expect(found(result.stdout + result.stderr, ['zqxPage'])).toEqual([]);
  });
});

/**
 * Hostile names: column names and paths with quotes, double quotes, semicolons, spaces,
 * unicode, line breaks and SQL keywords. Each either works correctly (predictions as the
 * reference computes them, passthrough values exact) or is refused cleanly with a documented
 * code. Nothing user-written may reach SQL as text: names go through quoteIdent, values and
 * paths are bound parameters.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { data, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { comparePredictions, expectedPredictions } from '../helpers/expected.js';
import { readInput, readParquet, withDuckDb, type Row } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-hostile-');

const DROP = 'x"; DROP TABLE t; --';
const SELECT = 'select';
const UNICODE = 'größe € 数';
const QUOTE = "it's; here";
/** The four mlp features under hostile names, in the order amount, f0, f1, risk score. */
const FEATURES = [DROP, SELECT, UNICODE, QUOTE];
/** A category column named by a keyword, with values full of quotes and comment markers. */
const FROM = 'from';
const CATEGORIES: Record<string, string> = { grocery: "it's", travel: '"tr;avel"', fuel: 'fuel -- x', electronics: "'); DROP TABLE t; --" };

const quoteIdent = (name: string): string => '"' + name.replace(/"/g, '""') + '"';

async function duck(sql: string, params: string[] = []): Promise<void> {
  await withDuckDb((query) => query(sql, params));
}

let dir: string;
/** The fixture's first 400 rows under hostile column names. */
let hostileParquet: string;
let hostileCsv: string;
let sourceRows: Row[];

beforeAll(async () => {
  dir = await tmp.make();
  hostileParquet = join(dir, 'names.parquet');
  hostileCsv = join(dir, 'names.csv');
  const category = `CASE merchant_category ${Object.entries(CATEGORIES)
    .map(([k, v]) => `WHEN '${k}' THEN '${v.replace(/'/g, "''")}'`)
    .join(' ')} END`;
  const select = `SELECT txn_id AS id, amount AS ${quoteIdent(DROP)}, f0 AS ${quoteIdent(SELECT)}, f1 AS ${quoteIdent(UNICODE)}, "risk score" AS ${quoteIdent(QUOTE)}, ${category} AS ${quoteIdent(FROM)}, n_items AS ${quoteIdent('a\nb')} FROM read_parquet($1) LIMIT 400`;
  await duck(`COPY (${select}) TO $2 (FORMAT parquet)`, [data('transactions.parquet'), hostileParquet]);
  await duck(`COPY (SELECT * FROM read_parquet($1)) TO $2 (FORMAT csv, HEADER)`, [hostileParquet, hostileCsv]);
  sourceRows = (await readInput(hostileParquet)).rows;
}, 60_000);

/** Reference inputs: the hostile columns under the names the fixture models expect. */
function asFixtureRows(rows: readonly Row[]): Row[] {
  const back = Object.fromEntries(Object.entries(CATEGORIES).map(([k, v]) => [v, k]));
  return rows.map((r) => ({ amount: r[DROP], f0: r[SELECT], f1: r[UNICODE], 'risk score': r[QUOTE], merchant_category: back[String(r[FROM])] }));
}

async function runJob(job: Record<string, unknown>, jobDir?: string): Promise<{ output: string; result: Awaited<ReturnType<typeof runCli>>; summary: any }> {
  const work = jobDir ?? (await tmp.make());
  const jobPath = join(work, 'job.yaml');
  await writeFile(jobPath, YAML.stringify(job));
  const result = await runCli(['run', jobPath, '--quiet', '--json'], { cwd: work, timeoutMs: 90_000 });
  return { output: String(job['output']), result, summary: result.code === 0 ? JSON.parse(result.stdout) : null };
}

describe.concurrent('hostile column names', { timeout: 120_000 }, () => {
  it.each([
    ['Parquet', () => hostileParquet],
    ['CSV', () => hostileCsv],
  ])('%s: features and passthrough named with quotes, ";", "--", a keyword, unicode and a line break', async (_name, input) => {
    const work = await tmp.make();
    const output = join(work, 'out.parquet');
    const passthrough = ['id', DROP, SELECT, UNICODE, QUOTE, FROM, 'a\nb'];
    const { result } = await runJob({ model: model('mlp'), input: input(), output, passthrough, labels: ['legit', 'fraud'], inputs: { x: { columns: FEATURES, fill_null: 0 } } }, work);
    expectOk(result);
    const out = await readParquet(output);
    expect(out.columns.map((c) => c.name)).toEqual([...passthrough, 'prediction', 'confidence', 'prob_legit', 'prob_fraud']);
    // Passthrough values exact, in order.
    expect(out.rows.map((r) => passthrough.map((c) => r[c]))).toEqual(sourceRows.map((r) => passthrough.map((c) => (c === 'a\nb' && input().endsWith('.csv') ? BigInt(r[c] as number) : r[c]))));
    const expected = expectedPredictions('mlp', asFixtureRows(sourceRows), { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fillNull: 0 } }, { labels: ['legit', 'fraud'] });
    expect(comparePredictions(out.rows, expected)).toEqual([]);
  });

  it('a vocabulary of values with quotes and comment markers, on a column named `from`', async () => {
    const work = await tmp.make();
    const output = join(work, 'out.parquet');
    const vocab = [CATEGORIES['grocery']!, CATEGORIES['travel']!, CATEGORIES['fuel']!];
    const { result, summary } = await runJob(
      {
        model: model('mixed'),
        input: hostileParquet,
        output,
        passthrough: ['id'],
        labels: ['legit', 'fraud'],
        on_error: 'skip',
        inputs: { x: { columns: [DROP, SELECT, UNICODE], fill_null: 0 }, merchant: { column: FROM, vocab, unknown: 'error' } },
      },
      work,
    );
    expectOk(result);
    const unknown = sourceRows.filter((r) => r[FROM] === CATEGORIES['electronics']);
    expect(unknown.length).toBeGreaterThan(0);
    expect(summary.rows.rejectedByReason).toEqual({ UNKNOWN_CATEGORY: unknown.length });
    const kept = sourceRows.filter((r) => r[FROM] !== CATEGORIES['electronics']);
    const out = await readParquet(output);
    expect(out.rows.map((r) => r['id'])).toEqual(kept.map((r) => r['id']));
    const expected = expectedPredictions('mixed', asFixtureRows(kept), { x: { columns: ['amount', 'f0', 'f1'], fillNull: 0 }, merchant: { column: 'merchant_category', vocab: ['grocery', 'travel', 'fuel'], unknown: 'error' } }, { labels: ['legit', 'fraud'] });
    expect(comparePredictions(out.rows, expected)).toEqual([]);
  });

  it('labels with quotes, semicolons and SQL become prob_ columns as written', async () => {
    const work = await tmp.make();
    const output = join(work, 'out.parquet');
    const labels = ["it's ok", '"fraud"; DROP TABLE p; --'];
    const { result } = await runJob({ model: model('mlp'), input: hostileParquet, output, labels, inputs: { x: { columns: FEATURES, fill_null: 0 } } }, work);
    expectOk(result);
    const out = await readParquet(output);
    expect(out.columns.map((c) => c.name)).toEqual(['prediction', 'confidence', ...labels.map((l) => `prob_${l}`)]);
    const expected = expectedPredictions('mlp', asFixtureRows(sourceRows), { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fillNull: 0 } }, { labels });
    expect(comparePredictions(out.rows, expected)).toEqual([]);
  });

  it('a bad value in a hostile column is named (one line) in the error and in the rejects file', async () => {
    const work = await tmp.make();
    const output = join(work, 'out.parquet');
    const job = { model: model('mlp'), input: hostileCsv, output, passthrough: ['id'], inputs: { x: { columns: FEATURES } } };
    const failed = await runJob(job, work);
    const stderr = expectCliError(failed.result, 65, 'BAD_DATA');
    expect(stderr).toContain(`NULL in column ${DROP} and fill_null is error`);
    const { result, summary } = await runJob({ ...job, on_error: 'quarantine' }, work);
    expectOk(result);
    const nulls = sourceRows.filter((r) => r[DROP] === null);
    expect(summary.rows.rejectedByReason).toEqual({ NULL_VALUE: nulls.length });
    const rejects = await readParquet(`${output}.rejects.parquet`);
    expect(rejects.rows.map((r) => [r['id'], r['reject_column']])).toEqual(nulls.map((r) => [r['id'], DROP]));
  });

  it('a column name with a line break in an error message stays on one line', async () => {
    const work = await tmp.make();
    const result = await runCli(['run', '--model', model('mlp'), '--input', hostileParquet, '--output', join(work, 'out.parquet'), '--features', `${SELECT},${SELECT},${SELECT},no\nsuch`, '--quiet'], { cwd: work });
    const stderr = expectCliError(result, 78, 'SCHEMA_MISMATCH');
    expect(stderr).toContain("column 'no\\nsuch' is not in the dataset");
  });
});

describe.concurrent('hostile paths', { timeout: 120_000 }, () => {
  /** `<tmp>/data [1]*` holding `it's here.csv` (and nothing else). */
  async function hostileDir(): Promise<{ root: string; inputDir: string; input: string }> {
    const root = await tmp.make();
    const inputDir = join(root, 'data [1]*');
    await mkdir(inputDir);
    const input = join(inputDir, "it's here.csv");
    await copyFile(hostileCsv, input);
    return { root, inputDir, input };
  }

  const job = (input: string, output: string, extra: Record<string, unknown> = {}) => ({
    model: model('mlp'),
    input,
    output,
    passthrough: ['id'],
    inputs: { x: { columns: FEATURES } },
    on_error: 'quarantine',
    ...extra,
  });

  it.each([
    ['a file called "it\'s here.csv" in a directory "data [1]*"', (d: { input: string }) => d.input],
    ['that directory as the input', (d: { inputDir: string }) => d.inputDir + '/'],
  ])('%s, scored to an output path with spaces, quotes and a semicolon (quarantine)', async (_name, pick) => {
    const d = await hostileDir();
    const outDir = join(d.root, 'out dir; "x"');
    const output = join(outDir, `it's "scores"; --.parquet`);
    const { result, summary } = await runJob(job(pick(d), output), d.root);
    expectOk(result);
    const nulls = sourceRows.filter((r) => r[DROP] === null);
    const kept = sourceRows.filter((r) => r[DROP] !== null);
    expect(summary.rows).toEqual({ in: 400, out: kept.length, rejected: nulls.length, rejectedByReason: { NULL_VALUE: nulls.length } });
    const out = await readParquet(output);
    expect(out.rows.map((r) => r['id'])).toEqual(kept.map((r) => r['id']));
    expect(comparePredictions(out.rows, expectedPredictions('mlp', asFixtureRows(kept), { x: { columns: ['amount', 'f0', 'f1', 'risk score'] } }, {}))).toEqual([]);
    const rejects = await readParquet(`${output}.rejects.parquet`);
    expect(new Set(rejects.rows.map((r) => r['reject_file']))).toEqual(new Set([d.input]));
    expect(rejects.rows.map((r) => r['id'])).toEqual(nulls.map((r) => r['id']));
    expect((await readdir(outDir)).sort()).toEqual([`it's "scores"; --.parquet`, `it's "scores"; --.parquet.rejects.parquet`, `it's "scores"; --.parquet.summary.json`]);
    // The input directory is untouched.
    expect(await readdir(d.inputDir)).toEqual(["it's here.csv"]);
  });

  it('a job file in that directory with relative paths', async () => {
    const d = await hostileDir();
    const { result } = await runJob(job("it's here.csv", "../scores 'a'.parquet", { on_error: 'skip' }), d.inputDir);
    expectOk(result);
    expect((await readParquet(join(d.root, "scores 'a'.parquet"))).rows.length).toBe(sourceRows.filter((r) => r[DROP] !== null).length);
  });

  it('a glob inside a directory whose name holds glob characters matches nothing: 66', async () => {
    const d = await hostileDir();
    const output = join(d.root, 'out.parquet');
    const { result } = await runJob(job(join(d.inputDir, '*.csv'), output), d.root);
    const stderr = expectCliError(result, 66, 'INPUT_MISSING');
    expect(stderr).toContain('matches no Parquet or CSV file');
    expect(existsSync(output)).toBe(false);
    expect(await stagingLeftovers(output)).toEqual([]);
  });
});

describe.concurrent('column names batchinfer reserves are refused up front', { timeout: 120_000 }, () => {
  it.each([
    ['file_row_number (any case), always', 'File_Row_Number', {}],
    ['batchinfer_rn, with passthrough', 'batchinfer_rn', { passthrough: ['id'], on_error: 'skip' }],
    ['batchinfer_reject, with quarantine', 'batchinfer_reject', { on_error: 'quarantine' }],
  ])('%s: exit 65 naming the column, nothing written', async (_name, column, extra) => {
    const work = await tmp.make();
    const input = join(work, 'reserved.parquet');
    await duck(`COPY (SELECT txn_id AS id, amount, f0, f1, "risk score", n_items AS ${quoteIdent(column)} FROM read_parquet($1) LIMIT 50) TO $2 (FORMAT parquet)`, [data('transactions.parquet'), input]);
    const output = join(work, 'out.parquet');
    const { result } = await runJob({ model: model('mlp'), input, output, inputs: { x: { columns: ['amount', 'f0', 'f1', 'risk score'], fill_null: 0 } }, ...extra }, work);
    const stderr = expectCliError(result, 65, 'INPUT_INVALID');
    expect(stderr).toContain(`column '${column}' has a name batchinfer reserves`);
    expect((await readdir(work)).sort()).toEqual(['job.yaml', 'reserved.parquet']);
  });

  it('an input that was a rejects file (reject_* columns) scores; its rejects get suffixed names', async () => {
    const work = await tmp.make();
    const input = join(work, 'old-rejects.parquet');
    await duck(`COPY (SELECT txn_id AS id, amount, f0, f1, "risk score", 7 AS reject_row, 'x' AS reject_reason FROM read_parquet($1) LIMIT 50) TO $2 (FORMAT parquet)`, [data('transactions.parquet'), input]);
    const output = join(work, 'out.parquet');
    const { result, summary } = await runJob({ model: model('mlp'), input, output, passthrough: ['id', 'reject_row'], on_error: 'quarantine', inputs: { x: { columns: ['amount', 'f0', 'f1', 'risk score'] } } }, work);
    expectOk(result);
    expect(summary.rows.rejected).toBeGreaterThan(0);
    const rejects = await readParquet(`${output}.rejects.parquet`);
    expect(rejects.columns.map((c) => c.name)).toEqual(['id', 'amount', 'f0', 'f1', 'risk score', 'reject_row', 'reject_reason', 'reject_row_1', 'reject_file', 'reject_column', 'reject_reason_1', 'reject_message']);
    expect(rejects.rows.every((r) => r['reject_row'] === 7 && r['reject_reason_1'] === 'NULL_VALUE')).toBe(true);
  });
});

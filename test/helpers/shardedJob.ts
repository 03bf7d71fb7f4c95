/**
 * Jobs for the sharded-run tests: a multi-file Parquet job (several row groups per file, rows
 * with a NULL amount quarantined) and a CSV job (five files of uneven sizes), each written into
 * a temp directory with its output under `out/`; the output of one process running the same
 * job (`single/`) to compare a sharded run's with; and that comparison, read back with DuckDB.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { data, expectOk, model, runCli } from './cli.js';
import { withDuckDb } from './parquet.js';

export interface ShardedJob {
  dir: string;
  /** The job file (output `out/scores.parquet`). */
  job: string;
  output: string;
  inputs: string[];
  /** The same job with output `single/scores.parquet`, run by one process. */
  single: { job: string; output: string; rejects?: string };
  rejects?: string;
}

/**
 * Parquet: a.parquet holds the fixture's 3000 rows three times (9000 rows), b.parquet twice
 * (6000), both in row groups of 2048 rows (DuckDB, one thread): 5 and 3 row groups; c.parquet
 * none (a file of no rows: its shard writes it a part of zero rows).
 */
export async function parquetJob(dir: string): Promise<ShardedJob> {
  await mkdir(join(dir, 'in'));
  const inputs = [join(dir, 'in', 'a.parquet'), join(dir, 'in', 'b.parquet'), join(dir, 'in', 'c.parquet')];
  const db = await Db.open({ threads: 1 });
  try {
    for (const [path, copies] of [[inputs[0]!, 3], [inputs[1]!, 2], [inputs[2]!, 0]] as const) {
      if (copies === 0) {
        await db.exec(`COPY (SELECT txn_id, amount, f0, f1, "risk score" FROM read_parquet($1) LIMIT 0) TO $2 (FORMAT parquet)`, [data('transactions.parquet'), path]);
        continue;
      }
      const union = Array.from({ length: copies }, (_, k) => `SELECT txn_id || '-${k}' AS txn_id, amount, f0, f1, "risk score" FROM read_parquet($1)`).join(' UNION ALL ');
      await db.exec(`COPY (${union}) TO $2 (FORMAT parquet, ROW_GROUP_SIZE 2048)`, [data('transactions.parquet'), path]);
    }
  } finally {
    db.close();
  }
  const body = (output: string, rejects: string) => [
    'name: sharded-parquet',
    `model: ${model('mlp')}`,
    `input: ${join(dir, 'in')}/`,
    `output: ${output}`,
    'passthrough: [txn_id]',
    'labels: [legit, fraud]',
    'inputs:',
    '  x:',
    "    columns: [amount, f0, f1, 'risk score']",
    'on_error: quarantine',
    `rejects: ${rejects}`,
    'batch_size: 256',
    'checkpoint_rows: 1000',
    '',
  ];
  return writeJobs(dir, inputs, body, true);
}

/** CSV: the fixture's rows in five files of 900, 700, 600, 500 and 300 rows, each a unit of its own; `directory`: a directory output (one file per input). */
export async function csvJob(dir: string, options: { directory?: boolean } = {}): Promise<ShardedJob> {
  await mkdir(join(dir, 'in'));
  const sizes = [900, 700, 600, 500, 300];
  const inputs: string[] = [];
  const db = await Db.open({ threads: 1 });
  try {
    let start = 0;
    for (const [k, n] of sizes.entries()) {
      const path = join(dir, 'in', `t${k}.csv`);
      await db.exec(`COPY (SELECT * FROM read_csv($1, header = true) LIMIT ${n} OFFSET ${start}) TO $2 (FORMAT csv, HEADER)`, [data('transactions.csv'), path]);
      inputs.push(path);
      start += n;
    }
  } finally {
    db.close();
  }
  const body = (output: string) => [
    'name: sharded-csv',
    `model: ${model('mixed')}`,
    `input: ${join(dir, 'in')}/*.csv`,
    `output: ${output}`,
    'passthrough: [txn_id, merchant_category]',
    'labels: [legit, fraud]',
    'inputs:',
    '  x:',
    '    columns: [amount, f0, f1]',
    '    fill_null: 0',
    '  merchant:',
    '    column: merchant_category',
    '    vocab: [grocery, travel, fuel]',
    '    unknown: 0',
    'batch_size: 128',
    'checkpoint_rows: 250',
    '',
  ];
  return writeJobs(dir, inputs, body, false, options.directory ?? false);
}

async function writeJobs(dir: string, inputs: string[], body: (output: string, rejects: string) => string[], quarantine: boolean, directory = false): Promise<ShardedJob> {
  const name = directory ? 'scores/' : 'scores.parquet';
  const output = join(dir, 'out', name);
  const rejects = join(dir, 'out', 'rejects.parquet');
  const single = { job: join(dir, 'single.yaml'), output: join(dir, 'single', name), rejects: join(dir, 'single', 'rejects.parquet') };
  const job = join(dir, 'job.yaml');
  await writeFile(job, body(output, rejects).join('\n'));
  await writeFile(single.job, body(single.output, single.rejects).join('\n'));
  expectOk(await runCli(['run', single.job, '--quiet']));
  return { dir, job, output, inputs, single: { ...single, ...(quarantine ? {} : { rejects: undefined }) }, ...(quarantine ? { rejects } : {}) };
}

/**
 * A scheduled job, hourly on `ts`: the fixture's rows dealt into three Parquet files (row k to
 * file k mod 3), so every hour has rows in each; rows with a NULL amount quarantined.
 */
export async function windowJob(dir: string, at: string): Promise<ShardedJob> {
  await mkdir(join(dir, 'in'));
  const inputs = [0, 1, 2].map((k) => join(dir, 'in', `p${k}.parquet`));
  const db = await Db.open({ threads: 1 });
  try {
    for (const [k, path] of inputs.entries()) await db.exec(`COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet($1, file_row_number = true) WHERE file_row_number % 3 = ${k}) TO $2 (FORMAT parquet)`, [data('transactions.parquet'), path]);
  } finally {
    db.close();
  }
  const body = (root: string) => [
    'name: sharded-hourly',
    'schedule: "0 * * * *"',
    'timezone: UTC',
    `model: ${model('mlp')}`,
    `input: ${join(dir, 'in')}/*.parquet`,
    'window_column: ts',
    `output: ${join(dir, root)}/dt={date}/hour={hour}/`,
    'passthrough: [txn_id, ts]',
    'labels: [legit, fraud]',
    'inputs:',
    '  x:',
    "    columns: [amount, f0, f1, 'risk score']",
    'on_error: quarantine',
    'batch_size: 64',
    'checkpoint_rows: 100',
    '',
  ];
  const job = join(dir, 'job.yaml');
  const single = join(dir, 'single.yaml');
  await writeFile(job, body('out').join('\n'));
  await writeFile(single, body('single').join('\n'));
  expectOk(await runCli(['run', single, '--at', at, '--quiet']));
  const hour = at.slice(11, 13);
  const window = (root: string) => join(dir, root, `dt=${at.slice(0, 10)}`, `hour=${hour}`);
  return { dir, job, output: window('out'), inputs, single: { job: single, output: window('single'), rejects: join(window('single'), '_rejects', 'rejects.parquet') }, rejects: join(window('out'), '_rejects', 'rejects.parquet') };
}

/**
 * The two Parquet files hold the same rows in the same order: every column equal, floats within
 * `tolerance` (read with DuckDB, joined on position in file order).
 */
export async function expectSameRows(actual: string, expected: string, tolerance = 1e-6): Promise<void> {
  await withDuckDb(async (q) => {
    const columns = (await q('SELECT column_name AS name, column_type AS type FROM (DESCRIBE SELECT * FROM read_parquet($1))', [expected])).map((c) => ({ name: String(c['name']), type: String(c['type']) }));
    const actualColumns = (await q('SELECT column_name AS name, column_type AS type FROM (DESCRIBE SELECT * FROM read_parquet($1))', [actual])).map((c) => ({ name: String(c['name']), type: String(c['type']) }));
    expect(actualColumns).toEqual(columns);
    const counts = await q('SELECT (SELECT count(*) FROM read_parquet($1)) AS a, (SELECT count(*) FROM read_parquet($2)) AS e', [actual, expected]);
    expect(Number(counts[0]!['a'])).toBe(Number(counts[0]!['e']));
    const differs = columns.map((c) => {
      const [a, e] = [`a."${c.name}"`, `e."${c.name}"`];
      return /FLOAT|DOUBLE/.test(c.type) ? `abs(${a} - ${e}) > ${tolerance} OR (${a} IS NULL) <> (${e} IS NULL)` : `${a} IS DISTINCT FROM ${e}`;
    });
    // A glob of part files: in file name order, each in row order.
    const ordered = (n: number) => `(SELECT * EXCLUDE (filename, file_row_number) FROM read_parquet($${n}, filename = true, file_row_number = true) ORDER BY filename, file_row_number)`;
    const rows = await q(`SELECT count(*) AS n FROM ${ordered(1)} a POSITIONAL JOIN ${ordered(2)} e WHERE ${differs.join(' OR ')}`, [actual, expected]);
    expect(Number(rows[0]!['n']), `rows of ${actual} differing from ${expected}`).toBe(0);
  });
}

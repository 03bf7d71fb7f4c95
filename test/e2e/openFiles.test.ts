/**
 * The open-files limit: the commit of a single output file from many parts opens them a few
 * at a time, so a run of thousands of input files does not need `ulimit -n` above that. Parts
 * of differing schemas are merged by DuckDB, which opens them a few at a time too.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data, expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-open-files-');
const TRANSACTIONS = data('transactions.parquet');

const args = (input: string, output: string): string[] => ['run', '--model', model('logreg'), '--input', input, '--output', output, '--features', 'f0,f1,f2,risk score', '--passthrough', 'txn_id', '--quiet'];

describe('the open-files limit', { timeout: 120_000 }, () => {
  it('300 input files into one output under ulimit -n 200: parts are opened a few at a time, every row committed', async () => {
    const dir = await tmp.make();
    const inputs = join(dir, 'in');
    await mkdir(inputs);
    await withDuckDb(async (q) => {
      await q('CREATE TABLE t AS SELECT * FROM read_parquet($1) LIMIT 300', [TRANSACTIONS]);
      for (let i = 0; i < 300; i++) await q(`COPY (SELECT * FROM t LIMIT 1 OFFSET ${i}) TO '${join(inputs, `in-${String(i).padStart(3, '0')}.parquet`)}' (FORMAT parquet)`);
    });
    const output = join(dir, 'o.parquet');
    const r = await runCli(args(join(inputs, '*.parquet'), output), { openFiles: 200 });
    expectOk(r);
    const ids = (await readParquet(TRANSACTIONS)).rows.slice(0, 300).map((row) => row['txn_id']);
    expect((await readParquet(output)).rows.map((row) => row['txn_id'])).toEqual(ids);
    expect(await stagingLeftovers(output)).toEqual([]);
  });

  it('300 CSV inputs whose parts differ in type (DuckDB merges them, widening) under ulimit -n 200: every row committed', async () => {
    const dir = await tmp.make();
    const inputs = join(dir, 'in');
    await mkdir(inputs);
    // An id that is a number in some files and text in others: the parts' schemas differ.
    for (let i = 0; i < 300; i++) await writeFile(join(inputs, `in-${String(i).padStart(3, '0')}.csv`), `id,f0,f1,f2,risk score\n${i % 2 ? `x${i}` : i},0.1,0.2,0.3,0.4\n`);
    const output = join(dir, 'o.parquet');
    const r = await runCli(['run', '--model', model('logreg'), '--input', join(inputs, '*.csv'), '--output', output, '--features', 'f0,f1,f2,risk score', '--passthrough', 'id', '--quiet'], { openFiles: 200 });
    expectOk(r);
    const out = await readParquet(output);
    expect(out.columns[0]).toEqual({ name: 'id', type: 'VARCHAR' });
    expect(out.rows.map((row) => row['id'])).toEqual(Array.from({ length: 300 }, (_, i) => (i % 2 ? `x${i}` : String(i))));
  });
});

/**
 * `computed` columns and the `where` filter (issue 19 part 2), end to end: a model that returns
 * its features, so every written value is compared with a reference computed here in JS from
 * the rows (the ratio, the hour, the filter), the filtered rows counted in the summary, a
 * computed column passed through, the CSV route, a changed `where` not resuming old parts,
 * and every injection attempt refused (78 SPEC_INVALID) by `validate` and `run` alike with
 * nothing left behind.
 */
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../../scripts/fixtures/onnxBuilder.js';
import { expectCliError, expectOk, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-computed-');
const ROWS = 240;

interface DataRow {
  id: number;
  amount: number;
  income: number;
  hourOfDay: number;
  country: string;
}

function dataRows(): DataRow[] {
  return Array.from({ length: ROWS }, (_, i) => ({
    id: i,
    amount: ((i * 37) % 200) - 40 + 0.5,
    income: i % 9 === 0 ? 0 : (i % 13) * 100 + 50,
    hourOfDay: (i * 5) % 24,
    country: ['DE', 'FR', 'DE', 'US'][i % 4]!,
  }));
}

const COMPUTED = { ratio: 'amount / nullif(income, 0)', hour: 'hour(ts)' };
const WHERE = "country = 'DE' AND amount > 0";
/** The reference: the rows the filter keeps, with their features [amount, ratio (NULL -> -1), hour]. */
const keeps = (r: DataRow, minAmount = 0): boolean => r.country === 'DE' && r.amount > minAmount;
const features = (r: DataRow): number[] => [r.amount, r.income === 0 ? -1 : r.amount / r.income, r.hourOfDay];
const ratio = (r: DataRow): number | null => (r.income === 0 ? null : r.amount / r.income);

describe('computed columns and the where filter', () => {
  let dir: string;
  const rows = dataRows();

  beforeAll(async () => {
    dir = await tmp.make();
    const x = { name: 'x', elemType: 'float32' as const, shape: ['N', 3] };
    const bytes = encodeModel({ name: 'features', description: 'returns its features', inputs: [x], outputs: [{ ...x, name: 'value' }], nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['value'] }], params: {}, features: {} });
    await writeFile(join(dir, 'features.onnx'), bytes);
    await writeFile(join(dir, 'rows.json'), rows.map((r) => JSON.stringify(r)).join('\n'));
    await withDuckDb(async (q) => {
      const select = `SELECT id::INTEGER AS id, amount::DOUBLE AS amount, income::DOUBLE AS income, TIMESTAMP '2026-11-29 00:00:00' + to_hours(hourOfDay::BIGINT) + INTERVAL 17 MINUTE AS ts, country::VARCHAR AS country FROM read_json($1, format = 'newline_delimited') ORDER BY id`;
      await q(`COPY (${select}) TO '${join(dir, 'in.parquet')}' (FORMAT parquet)`, [join(dir, 'rows.json')]);
      await q(`COPY (${select}) TO '${join(dir, 'in.csv')}' (FORMAT csv, HEADER)`, [join(dir, 'rows.json')]);
    });
  });

  const job = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    model: 'features.onnx',
    input: 'in.parquet',
    output: `${name}.parquet`,
    task: 'regression',
    computed: COMPUTED,
    where: WHERE,
    inputs: { x: { columns: ['amount', 'ratio', 'hour'], fill_null: -1 } },
    passthrough: ['id', 'ratio'],
    ...extra,
  });

  async function run(name: string, extra: Record<string, unknown> = {}, env?: NodeJS.ProcessEnv) {
    const jobPath = join(dir, `${name}.yaml`);
    await writeFile(jobPath, YAML.stringify(job(name, extra)));
    return runCli(['run', jobPath, '--quiet', '--json'], { cwd: dir, timeoutMs: 90_000, ...(env ? { env: { ...process.env, ...env } } : {}) });
  }

  function expectReference(out: Record<string, unknown>[], minAmount = 0): void {
    const kept = rows.filter((r) => keeps(r, minAmount));
    expect(out.map((r) => r['id'])).toEqual(kept.map((r) => r.id));
    out.forEach((row, i) => {
      const r = kept[i]!;
      const ref = ratio(r);
      if (ref === null) expect(row['ratio']).toBeNull();
      else expect(Number(row['ratio'])).toBeCloseTo(ref, 12);
      features(r).forEach((v, k) => expect(Number(row[`prediction_${k}`]), `row ${r.id} position ${k}`).toBeCloseTo(Math.fround(v), 5));
    });
  }

  it('scores only the rows the filter keeps, with the computed features and passthrough, counting the filtered ones', async () => {
    const result = await run('p');
    expectOk(result);
    expectReference((await readParquet(join(dir, 'p.parquet'))).rows);
    const kept = rows.filter((r) => keeps(r)).length;
    const summary = JSON.parse(result.stdout);
    expect(summary.rows).toMatchObject({ in: kept, out: kept, rejected: 0, filtered: ROWS - kept });
    // A NULL ratio (income 0) took the input's fill_null: some kept rows have one.
    expect(rows.filter((r) => keeps(r) && r.income === 0).length).toBeGreaterThan(0);
  });

  it('the summary for people says how many rows the where left out', async () => {
    const jobPath = join(dir, 'people.yaml');
    await writeFile(jobPath, YAML.stringify(job('people')));
    const result = await runCli(['run', jobPath], { cwd: dir, timeoutMs: 90_000 });
    expectOk(result);
    const kept = rows.filter((r) => keeps(r)).length;
    expect(result.stderr).toContain(`where left out ${ROWS - kept} rows (kept ${kept})`);
  });

  it('a CSV input gives the same rows (its staged copy holds the computed columns)', async () => {
    const result = await run('c', { input: 'in.csv' });
    expectOk(result);
    expectReference((await readParquet(join(dir, 'c.parquet'))).rows.map((r) => ({ ...r, id: Number(r['id']) })));
    expect(JSON.parse(result.stdout).rows.filtered).toBe(ROWS - rows.filter((r) => keeps(r)).length);
  });

  it('quarantine: a bad computed value is a rejected row of the filtered rows, the rejects file holds the computed column', async () => {
    // fill_null error: a NULL ratio (income 0) is a bad row, numbered in the filtered rows.
    const result = await run('q', { on_error: 'quarantine', inputs: { x: { columns: ['amount', 'ratio', 'hour'], fill_null: 'error' } } });
    expectOk(result);
    const kept = rows.filter((r) => keeps(r));
    const bad = kept.filter((r) => r.income === 0);
    expect(JSON.parse(result.stdout).rows).toMatchObject({ in: kept.length, out: kept.length - bad.length, rejected: bad.length, filtered: ROWS - kept.length });
    const rejects = (await readParquet(join(dir, 'q.parquet.rejects.parquet'))).rows;
    expect(rejects.map((r) => [r['id'], r['ratio'], r['reject_reason'], r['reject_column']])).toEqual(bad.map((r) => [r.id, null, 'NULL_VALUE', 'ratio']));
    // Numbered as the input numbers them, not among the rows kept.
    expect(rejects.map((r) => Number(r['reject_row']))).toEqual(bad.map((r) => rows.indexOf(r) + 1));
  });

  it('quarantine of a CSV input: the rejects file numbers the rows as the CSV does (its data rows), not among the rows kept', async () => {
    const result = await run('qc', { input: 'in.csv', on_error: 'quarantine', inputs: { x: { columns: ['amount', 'ratio', 'hour'], fill_null: 'error' } } });
    expectOk(result);
    const bad = rows.filter((r) => keeps(r) && r.income === 0);
    const rejects = (await readParquet(join(dir, 'qc.parquet.rejects.parquet'))).rows;
    expect(rejects.map((r) => [Number(r['id']), Number(r['reject_row'])])).toEqual(bad.map((r) => [r.id, rows.indexOf(r) + 1]));
  });

  it('a CSV glob whose files type a column the expressions read differently (BIGINT, DOUBLE) keeps each file\'s numbers', async () => {
    await writeFile(join(dir, 'glob-a.csv'), 'id,amount,income,hourOfDay\n1,10,4,1\n2,20,0,2\n3,-30,6,3\n');
    await writeFile(join(dir, 'glob-b.csv'), 'id,amount,income,hourOfDay\n4,10,2.5,4\n5,20,0.5,5\n');
    const result = await run('g', { input: 'glob-*.csv', computed: { ratio: COMPUTED.ratio }, where: 'amount > 0', inputs: { x: { columns: ['amount', 'ratio', 'hourOfDay'], fill_null: -1 } }, passthrough: ['id', 'income', 'ratio'] });
    expectOk(result);
    const out = (await readParquet(join(dir, 'g.parquet'))).rows.map((r) => [Number(r['id']), r['income'], r['ratio'], r['prediction_1']]);
    expect(out).toEqual([[1, 4, 2.5, 2.5], [2, 0, null, -1], [4, 2.5, 4, 4], [5, 0.5, 40, 40]]);
    expect(JSON.parse(result.stdout).rows.filtered).toBe(1);
  });

  it('a computed column may read the ones before it, and the where any of them', async () => {
    const result = await run('chain', { computed: { ...COMPUTED, scaled: 'coalesce(ratio, 0) * 10 + hour' }, where: 'scaled > 5', inputs: { x: { columns: ['amount', 'scaled', 'hour'] } }, passthrough: ['id'] });
    expectOk(result);
    const scaled = (r: DataRow): number => (ratio(r) ?? 0) * 10 + r.hourOfDay;
    const kept = rows.filter((r) => scaled(r) > 5);
    const out = (await readParquet(join(dir, 'chain.parquet'))).rows;
    expect(out.map((r) => r['id'])).toEqual(kept.map((r) => r.id));
    out.forEach((row, i) => expect(Number(row['prediction_1'])).toBeCloseTo(Math.fround(scaled(kept[i]!)), 4));
    expect(JSON.parse(result.stdout).rows.filtered).toBe(ROWS - kept.length);
  });

  it('fail: a bad row is named by its row number in the input, not among the rows the where keeps', async () => {
    const result = await run('f', { inputs: { x: { columns: ['amount', 'ratio', 'hour'], fill_null: 'error' } } });
    const stderr = expectCliError(result, 65, 'BAD_DATA');
    const kept = rows.filter((r) => keeps(r));
    const first = kept.find((r) => r.income === 0)!;
    expect(kept.indexOf(first)).not.toBe(rows.indexOf(first));
    expect(stderr).toContain(`in.parquet row ${rows.indexOf(first) + 1}: NULL in column ratio`);
    expect(existsSync(join(dir, 'f.parquet'))).toBe(false);
  });

  it('computed columns without a where read the Parquet file in place; no filtered count', async () => {
    const result = await run('n', { where: undefined });
    expectOk(result);
    const out = (await readParquet(join(dir, 'n.parquet'))).rows;
    expect(out.map((r) => r['id'])).toEqual(rows.map((r) => r.id));
    expect(JSON.parse(result.stdout).rows.filtered).toBeUndefined();
  });

  it('--where filters a one-off run', async () => {
    const result = await runCli(['run', '--model', 'features.onnx', '--input', 'in.parquet', '--output', 'flag.parquet', '--features', 'amount,income,id', '--task', 'regression', '--where', WHERE, '--json', '--quiet'], { cwd: dir, timeoutMs: 90_000 });
    expectOk(result);
    const out = (await readParquet(join(dir, 'flag.parquet'))).rows;
    expect(out.map((r) => Number(r['prediction_2']))).toEqual(rows.filter((r) => keeps(r)).map((r) => r.id));
  });

  it('a rerun with a changed where starts over instead of resuming the old parts; the same where resumes', async () => {
    const small = { batch_size: 4, checkpoint_rows: 8 };
    const crashed = await run('r', small, { BATCHINFER_FAILPOINT: 'part-journaled:1' });
    expect(crashed.signal).toBe('SIGKILL');
    const changed = await run('r', { ...small, where: "country = 'DE' AND amount > 50" });
    expectOk(changed);
    const summary = JSON.parse(changed.stdout);
    expect(summary.warnings.join('\n')).toMatch(/started over: .*where differs/);
    expect(summary.resumedRows ?? 0).toBe(0);
    expectReference((await readParquet(join(dir, 'r.parquet'))).rows, 50);

    const again = await run('r2', small, { BATCHINFER_FAILPOINT: 'part-journaled:1' });
    expect(again.signal).toBe('SIGKILL');
    const resumed = await run('r2', small);
    expectOk(resumed);
    expect(JSON.parse(resumed.stdout).warnings.join('\n')).toMatch(/resumed an interrupted run: 8 rows/);
    expectReference((await readParquet(join(dir, 'r2.parquet'))).rows);
    expect(JSON.parse(resumed.stdout).rows.filtered).toBe(ROWS - rows.filter((r) => keeps(r)).length);
  });

  it('validate shows the computed columns and the filter', async () => {
    const jobPath = join(dir, 'v.yaml');
    await writeFile(jobPath, YAML.stringify(job('v')));
    const result = await runCli(['validate', jobPath, '--json'], { cwd: dir });
    expectOk(result);
    const report = JSON.parse(result.stdout);
    expect(report.input.computed).toEqual([
      { name: 'ratio', type: 'DOUBLE', sql: '("amount" / nullif("income", 0))' },
      { name: 'hour', type: 'BIGINT', sql: 'hour("ts")' },
    ]);
    expect(report.input.where).toBe(`(("country" = 'DE') AND ("amount" > 0))`);
  });

  it('inspect --job shows the computed columns and the filter, and samples the rows it keeps', async () => {
    const jobPath = join(dir, 'i.yaml');
    await writeFile(jobPath, YAML.stringify(job('i')));
    const result = await runCli(['inspect', 'features.onnx', '--data', 'in.parquet', '--job', 'i.yaml'], { cwd: dir });
    expectOk(result);
    expect(result.stdout).toContain('computed ratio (DOUBLE) = ("amount" / nullif("income", 0))');
    expect(result.stdout).toContain(`where (("country" = 'DE') AND ("amount" > 0))`);
    const kept = rows.filter((r) => keeps(r));
    expect(result.stdout).toContain(`sample: first ${kept.length} rows of the first file, 0 bad`);
    const hour = result.stdout.split('\n').find((l) => l.trimStart().startsWith('[2] hour'))!;
    expect(hour).toContain(`max ${Math.max(...kept.map((r) => r.hourOfDay))}`);
  });

  describe('refuses every expression that is not a checked scalar one (78), in validate and run, leaving nothing', () => {
    const attempts: [string, string][] = [
      ['1); DROP TABLE x; --', 'not an SQL expression'],
      ["read_csv('/etc/passwd')", 'read_csv(), which'],
      ['(SELECT max(amount) FROM in_table)', 'subquery'],
      ["getenv('HOME')", 'getenv()'],
      ["current_setting('threads')", 'current_setting()'],
      ['amount /* */ ) ; --', 'not an SQL expression'],
      ['('.repeat(10_000) + 'amount' + ')'.repeat(10_000), 'longer than 4096'],
      ['no_such_column * 2', "'no_such_column', which is not in the dataset"],
      ['no_such_function(amount)', 'no_such_function()'],
    ];
    for (const [i, [text, reason]] of attempts.entries()) {
      it(JSON.stringify(text.slice(0, 40)), async () => {
        const name = `bad${i}`;
        const jobPath = join(dir, `${name}.yaml`);
        await writeFile(jobPath, YAML.stringify(job(name, { computed: { ...COMPUTED, ratio: text } })));
        for (const command of ['validate', 'run']) {
          const stderr = expectCliError(await runCli([command, jobPath], { cwd: dir, timeoutMs: 60_000 }), 78, 'SPEC_INVALID');
          expect(stderr).toContain('computed.ratio');
          expect(stderr).toContain(reason);
          // The refusal alone: not also every use of the computed columns as "not in the dataset".
          expect(stderr).not.toContain('is not in the dataset (expected');
        }
        const flag = await runCli(['run', '--model', 'features.onnx', '--input', 'in.parquet', '--output', `${name}-flag.parquet`, '--features', 'amount,income,id', '--where', text], { cwd: dir, timeoutMs: 60_000 });
        expect(expectCliError(flag, 78, 'SPEC_INVALID')).toContain('where');
        const left = (await readdir(dir)).filter((f) => f.startsWith(name));
        expect(left).toEqual([`${name}.yaml`]);
        expect(existsSync(join(dir, `.${name}.parquet.staging`))).toBe(false);
      });
    }
  });

  it('a where that is no condition, and a computed column using a later one or itself, are refused naming the key', async () => {
    const jobPath = join(dir, 'kinds.yaml');
    await writeFile(jobPath, YAML.stringify(job('kinds', { where: 'amount + 1' })));
    expect(expectCliError(await runCli(['validate', jobPath], { cwd: dir }), 78, 'SPEC_INVALID')).toContain('where: must be a condition');
    await writeFile(jobPath, YAML.stringify(job('kinds', { computed: { twice: 'ratio * 2', ...COMPUTED } })));
    expect(expectCliError(await runCli(['validate', jobPath], { cwd: dir }), 78, 'SPEC_INVALID')).toContain("computed.twice: uses 'ratio', a computed column defined after it");
    await writeFile(jobPath, YAML.stringify(job('kinds', { computed: { ...COMPUTED, self: 'self + 1' } })));
    expect(expectCliError(await runCli(['validate', jobPath], { cwd: dir }), 78, 'SPEC_INVALID')).toContain("computed.self: uses 'self' itself");
    await writeFile(jobPath, YAML.stringify(job('kinds', { computed: { ...COMPUTED, amount: 'income * 2' } })));
    expect(expectCliError(await runCli(['validate', jobPath], { cwd: dir }), 78, 'SPEC_INVALID')).toContain('computed.amount: names a column the dataset');
    await writeFile(jobPath, YAML.stringify(job('kinds', { computed: { ...COMPUTED, hour: 'hour(amount)' } })));
    expect(expectCliError(await runCli(['validate', jobPath], { cwd: dir }), 78, 'SPEC_INVALID')).toContain('computed.hour: does not apply to the dataset');
  });
});

/**
 * `run --evaluate COLUMN` and `run --expect GOLDEN`: a run checks the output it committed.
 * Metrics go beside the summary and equal what `batchinfer evaluate` says of the same output;
 * a failed gate or a difference exits 1 with the output committed; wrong uses fail before
 * anything is scored.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-runchecks-');
let input: string;

beforeAll(async () => {
  input = join(await tmp.make(), 'in.parquet');
  // A label the features explain in part: the MLP's scores rank it better than chance, not perfectly.
  await withDuckDb((q) =>
    q(`COPY (SELECT i AS id, (i % 97) / 10.0 AS a, (i % 13) / 13.0 AS b, (i % 7) / 7.0 AS c, 0.5 AS d,
        CASE WHEN (i % 97) > 60 OR i % 11 = 0 THEN 'fraud' ELSE 'legit' END AS truth, CASE WHEN i % 2 = 0 THEN 'north' ELSE 'south' END AS region,
        TIMESTAMP '2026-11-29 00:00:00' + to_minutes(i) AS ts
        FROM range(2000) t(i)) TO '${input}' (FORMAT parquet)`),
  );
});

/** Deep equality with numbers equal within a relative 1e-9. */
function expectClose(actual: unknown, expected: unknown, at = '$'): void {
  if (typeof expected === 'number' && typeof actual === 'number') {
    expect(Math.abs(actual - expected), at).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(expected)));
  } else if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', at).toBe(true);
    expect(Object.keys(actual as object).sort(), at).toEqual(Object.keys(expected).sort());
    for (const [k, v] of Object.entries(expected)) expectClose((actual as Record<string, unknown>)[k], v, `${at}.${k}`);
  } else {
    expect(actual, at).toEqual(expected);
  }
}

const run = (output: string, ...extra: string[]) => runCli(['run', '--model', model('mlp'), '--input', input, '--output', output, '--features', 'a,b,c,d', '--labels', 'legit,fraud', '--passthrough', 'id,truth,region', '--quiet', ...extra]);

describe.concurrent('run --evaluate', { timeout: 60_000 }, () => {
  it('writes <output>.metrics.json, equal to what evaluate reports of the same output, and puts it in --json', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    const r = await run(output, '--evaluate', 'truth', '--group-by', 'region', '--json');
    expectOk(r);
    const written = JSON.parse(await readFile(`${output}.metrics.json`, 'utf8'));
    const alone = await runCli(['evaluate', output, '--label', 'truth', '--group-by', 'region', '--json']);
    expectOk(alone);
    // Equal but for the last digits of float sums, which DuckDB adds up in thread order.
    expectClose(written, JSON.parse(alone.stdout));
    expect(written.rows.evaluated).toBe(2000);
    expect(written.groups).toHaveLength(2);
    expectClose(JSON.parse(r.stdout).evaluation, { ...written, path: `${output}.metrics.json` });
  });

  it('a failed gate exits 1, names the metric and its bound, and leaves the output committed', async () => {
    const output = join(await tmp.make(), 'scores.parquet');
    const r = await run(output, '--evaluate', 'truth', '--fail-below', 'accuracy=0.999');
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/gate failed: accuracy [\d.]+ is below 0\.999/);
    expect(r.stderr).toContain('batchinfer: the output is committed, but a check failed (exit 1)');
    expect((await readParquet(output)).rows).toHaveLength(2000);
    expect(existsSync(`${output}.summary.json`)).toBe(true);
  });

  it('a label column that is not passed through: 78 before anything is scored', async () => {
    const dir = await tmp.make();
    const r = await runCli(['run', '--model', model('mlp'), '--input', input, '--output', join(dir, 'o.parquet'), '--features', 'a,b,c,d', '--evaluate', 'truth', '--quiet']);
    expect(expectCliError(r, 78, 'SPEC_INVALID')).toContain("--evaluate: column 'truth' is not a passthrough column");
    expect(existsSync(join(dir, 'o.parquet'))).toBe(false);
  });

  it("a scheduled window keeps its metrics inside it, as _metrics.json", async () => {
    const dir = await tmp.make();
    const job = join(dir, 'hourly.json');
    await writeFile(job, JSON.stringify({ schedule: '0 * * * *', window_column: 'ts', model: model('mlp'), input, output: join(dir, 'out', 'hour={hour}/'), features: ['a', 'b', 'c', 'd'], labels: ['legit', 'fraud'], passthrough: ['id', 'truth'] }));
    expectOk(await runCli(['run', job, '--at', '2026-11-29T02:00:00Z', '--evaluate', 'truth', '--quiet']));
    const metrics = JSON.parse(await readFile(join(dir, 'out', 'hour=02', '_metrics.json'), 'utf8'));
    expect(metrics.rows.evaluated).toBe(60);
  });

  it('gates without --evaluate: a usage error (2)', async () => {
    expectCliError(await run(join(await tmp.make(), 'o.parquet'), '--fail-below', 'accuracy=0.9'), 2, 'USAGE');
  });
});

describe.concurrent('run --expect', { timeout: 60_000 }, () => {
  it('equal to the golden output: exit 0; another threshold: exit 1 naming the differing column, the output committed', async () => {
    const dir = await tmp.make();
    const golden = join(dir, 'golden.parquet');
    expectOk(await run(golden));
    expectOk(await run(join(dir, 'again.parquet'), '--expect', golden, '--tolerance', '0'));
    const changed = join(dir, 'changed.parquet');
    const r = await run(changed, '--expect', golden, '--expect-key', 'id', '--threshold', '0.2', '--json');
    expect(r.code, r.stderr).toBe(1);
    const comparison = JSON.parse(r.stdout).comparison;
    expect(comparison.equal).toBe(false);
    expect(comparison.differences.map((d: { column: string }) => d.column)).toContain('prediction');
    expect(r.stderr).toContain(`compared with ${golden}`);
    expect((await readParquet(changed)).rows).toHaveLength(2000);
  });
});

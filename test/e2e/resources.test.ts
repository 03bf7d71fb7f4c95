/**
 * Inputs that need more memory than DuckDB may use are not bad data: with the default
 * `memory_limit` (half the machine's memory) plain DuckDB reads them, and so do we; under a
 * limit too small for them the run stops with RESOURCE_LIMIT (71) naming the limit and the
 * setting to raise, and leaves nothing behind: no output, no staging, no spill files.
 */
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-resources-');

let wideCsv: string;
let bigStrings: string;

beforeAll(async () => {
  const dir = await tmp.make();
  // 30,000 columns x 10 rows: DuckDB's CSV sniffer needs ~1.5 GB for its header.
  wideCsv = join(dir, 'wide.csv');
  const cols = 30_000;
  const lines = [Array.from({ length: cols }, (_, i) => `c${i}`).join(',')];
  for (let r = 0; r < 10; r++) lines.push(Array.from({ length: cols }, (_, i) => ((r * i) % 97) / 10).join(','));
  await writeFile(wideCsv, lines.join('\n') + '\n');
  // 40 rows with a 10 MB string each, passed through.
  bigStrings = join(dir, 'big.parquet');
  await withDuckDb((q) =>
    q(`COPY (SELECT i AS id, repeat(chr((65 + i % 26)::INTEGER), 10000000) AS s, i / 40.0 AS a, 0.5 AS b, 0.25 AS c, 1.0 AS d FROM range(40) t(i)) TO '${bigStrings}' (FORMAT parquet)`),
  );
}, 120_000);

describe.concurrent('memory_limit', { timeout: 120_000 }, () => {
  const cases = [
    ['a 30,000-column CSV', () => ['--input', wideCsv, '--features', 'c0,c1,c2,c3'], 10],
    ['40 rows of 10 MB strings, passed through', () => ['--input', bigStrings, '--features', 'a,b,c,d', '--passthrough', 'id,s'], 40],
  ] as const;

  it.each(cases)('%s scores with the default limit', async (_name, args, rows) => {
    const dir = await tmp.make();
    const output = join(dir, 'out.parquet');
    expectOk(await runCli(['run', '--model', model('mlp'), ...args(), '--output', output, '--quiet', '--fill-null', '0'], { env: { TMPDIR: dir } }));
    expect((await readParquet(output)).rows).toHaveLength(rows);
  });

  it.each(cases)('%s under memory_limit 1GB: 71 RESOURCE_LIMIT naming the setting, nothing left behind', async (_name, args) => {
    const dir = await tmp.make();
    const output = join(dir, 'out.parquet');
    const r = await runCli(['run', '--model', model('mlp'), ...args(), '--output', output, '--quiet', '--fill-null', '0', '--memory-limit', '1GB'], { env: { TMPDIR: dir } });
    const stderr = expectCliError(r, 71, 'RESOURCE_LIMIT');
    expect(stderr).toContain('DuckDB reached its memory limit of 953.7 MiB: raise memory_limit (job key) or --memory-limit');
    expect(existsSync(output)).toBe(false);
    expect(await stagingLeftovers(output)).toEqual([]);
    expect((await readdir(dir)).filter((n) => n.startsWith('batchinfer-spill'))).toEqual([]);
  });

  it.each(['12', '1XB', '0%', '1MB'])('memory_limit %j is a spec error (78) naming the accepted forms', async (value) => {
    const dir = await tmp.make();
    const r = await runCli(['run', '--model', model('mlp'), '--input', bigStrings, '--features', 'a,b,c,d', '--output', join(dir, 'o.parquet'), '--memory-limit', value]);
    expect(expectCliError(r, 78, 'SPEC_INVALID')).toContain('memory_limit: is not a memory size DuckDB can work in (expected a size such as 512MB, 4GiB or 50%');
  });
});

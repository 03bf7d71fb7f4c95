/**
 * What a rerun leaves beside its output (issue 15's rough edges): never another run's
 * rejects file.
 */
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectOk, model, runCli } from '../helpers/cli.js';
import { readParquet, withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-e2e-reruns-');
let input: string;

beforeAll(async () => {
  input = join(await tmp.make(), 'in.parquet');
  await withDuckDb((q) => q(`COPY (SELECT i AS id, CASE WHEN i % 100 = 7 THEN NULL ELSE i / 1000.0 END AS a, 0.5 AS b, 0.5 AS c, 0.5 AS d FROM range(1000) t(i)) TO '${input}' (FORMAT parquet)`));
});

const run = (output: string, ...extra: string[]) => runCli(['run', '--model', model('mlp'), '--input', input, '--output', output, '--features', 'a,b,c,d', '--passthrough', 'id', '--quiet', ...extra]);

describe.concurrent('a rerun and the rejects file of the run before', { timeout: 60_000 }, () => {
  it('quarantine, then skip: the new output has no rejects file beside it', async () => {
    const output = join(await tmp.make(), 'o.parquet');
    expectOk(await run(output, '--on-error', 'quarantine'));
    expect((await readParquet(`${output}.rejects.parquet`)).rows).toHaveLength(10);
    expectOk(await run(output, '--on-error', 'skip'));
    expect(existsSync(`${output}.rejects.parquet`)).toBe(false);
    expect((await readParquet(output)).rows).toHaveLength(990);
  });

  it('quarantine to another file: the earlier default one goes, the named one holds this run\'s rows', async () => {
    const dir = await tmp.make();
    const output = join(dir, 'o.parquet');
    expectOk(await run(output, '--on-error', 'quarantine'));
    expectOk(await run(output, '--on-error', 'quarantine', '--rejects', join(dir, 'bad.parquet')));
    expect(existsSync(`${output}.rejects.parquet`)).toBe(false);
    expect((await readParquet(join(dir, 'bad.parquet'))).rows).toHaveLength(10);
  });

  it("a path the earlier run's summary names as its rejects file but that is this run's input now is left alone", async () => {
    const dir = await tmp.make();
    const output = join(dir, 'o.parquet');
    expectOk(await run(output, '--on-error', 'quarantine', '--rejects', join(dir, 'x.parquet')));
    await copyFile(input, join(dir, 'x.parquet'));
    expectOk(await runCli(['run', '--model', model('mlp'), '--input', join(dir, 'x.parquet'), '--output', output, '--features', 'a,b,c,d', '--fill-null', '0', '--quiet']));
    expect((await readParquet(join(dir, 'x.parquet'))).rows).toHaveLength(1000);
  });
});

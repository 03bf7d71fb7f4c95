/**
 * Parts written behind (a positional join, unencrypted): each part's COPY runs while the next
 * part fills, in parts of at most WRITE_BEHIND_ROWS rows ending at multiples of it. Through
 * the real CLI:
 * - the output is the same bytes whatever batch sizes `auto` picks (the same as a run at the
 *   job's fixed batch size), its row groups those of the parts and their lanes, and its rows
 *   the input's in order beside their predictions;
 * - a run killed between the two lanes of its second part resumes there and writes the same bytes;
 * - a part whose COPY fails while the next part is being scored fails the run with the
 *   COPY's error (the input's: exit 65 naming it), and leaves nothing at the output path.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeResult, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { rowGroupSizes, withDuckDb } from '../helpers/parquet.js';
import { stagingLeftovers, useTempDirs } from '../helpers/tempDir.js';
import { WRITE_BEHIND_ROWS } from '../../src/core/executionPlan.js';
import { DEFAULT_BATCH_SIZE } from '../../src/spec/jobSpec.js';

const tmp = useTempDirs('batchinfer-e2e-write-behind-');
/** A whole part and a short last one. */
const ROWS = WRITE_BEHIND_ROWS + 54_240;

let input: Promise<string> | undefined;
/** `ROWS` rows: a unique text `id` in file order and four features, in row groups of 50,000 rows. */
function bigInput(): Promise<string> {
  input ??= (async () => {
    const path = join(await tmp.make(), 'in.parquet');
    await withDuckDb(async (query) => {
      const select = `SELECT 'r' || range AS id, sin(range)::FLOAT AS a, cos(range)::FLOAT AS b, (range % 97)::FLOAT / 97 AS c, (range % 13)::FLOAT AS d FROM range(${ROWS})`;
      await query(`COPY (${select}) TO $1 (FORMAT parquet, ROW_GROUP_SIZE 50000)`, [path]);
    });
    return path;
  })();
  return input;
}

const args = (input: string, output: string, extra: string[] = []): string[] => ['run', '--model', model('mlp'), '--input', input, '--output', output, '--features', 'a,b,c,d', '--passthrough', 'id', '--labels', 'legit,fraud', '--quiet', '--json', '--write-behind', ...extra];

const sha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');

let reference: Promise<string> | undefined;
/** The input scored at batch size 2048 (what an `auto` job plans with: DEFAULT_BATCH_SIZE). */
function referenceRun(): Promise<string> {
  reference ??= (async () => {
    const out = join(await tmp.make(), 'reference.parquet');
    expectOk(await runCli(args(await bigInput(), out, ['--batch-size', String(DEFAULT_BATCH_SIZE)])));
    return out;
  })();
  return reference;
}

describe('parts written behind', { timeout: 180_000 }, () => {
  it('the same bytes whatever batch sizes auto picks; row groups of the parts and lanes; the input rows in order', async () => {
    const ref = await referenceRun();
    // Each part in two lanes (two COPYs at once): halves of a whole part, then of the last
    // (in whole vectors of 2048 rows).
    const half = WRITE_BEHIND_ROWS / 2;
    const last = ROWS - WRITE_BEHIND_ROWS;
    const lastLane = Math.ceil(last / 2 / 2048) * 2048;
    // A lane is one row group of DuckDB's writer.
    expect(half).toBe(122_880);
    expect(await rowGroupSizes(ref)).toEqual([half, half, lastLane, last - lastLane]);
    const [check] = await withDuckDb((query) => query(`SELECT count(*) AS n, count(*) FILTER (WHERE id <> 'r' || file_row_number) AS misplaced, count(*) FILTER (WHERE prediction IS NULL OR NOT isfinite(confidence)) AS unscored FROM read_parquet($1, file_row_number = true)`, [ref]));
    expect(check).toEqual({ n: BigInt(ROWS), misplaced: 0n, unscored: 0n });
    // Neither 3000 nor 5000 divides a lane's 122,880 rows: batches end at the part and lane
    // boundaries anyway. `auto` tries 1024 and 4096 on this many rows, then keeps one.
    for (const size of ['3000', '5000', 'auto']) {
      const out = join(await tmp.make(), `b${size}.parquet`);
      expectOk(await runCli(args(await bigInput(), out, ['--batch-size', size])));
      expect(await sha256(out), `batch size ${size}`).toBe(await sha256(ref));
    }
  });

  it('killed between the two lanes of its second part: resumed from there, the same bytes', async () => {
    const dir = await tmp.make();
    const out = join(dir, 'scores.parquet');
    const crashed = await runCli(args(await bigInput(), out), { cwd: dir, env: { BATCHINFER_FAILPOINT: 'part-journaled:3' } });
    expect(crashed.signal, describeResult(crashed)).toBe('SIGKILL');
    expect(existsSync(out)).toBe(false);
    const resumed = await runCli(args(await bigInput(), out), { cwd: dir, timeoutMs: 90_000 });
    expectOk(resumed);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ resumedRows: WRITE_BEHIND_ROWS + Math.ceil((ROWS - WRITE_BEHIND_ROWS) / 2 / 2048) * 2048, rows: { in: ROWS, out: ROWS } });
    expect(await sha256(out)).toBe(await sha256(await referenceRun()));
    expect(await stagingLeftovers(out)).toEqual([]);
  });

  it('a part whose COPY fails while the next is scored fails the run with its error; nothing at the output', async () => {
    const dir = await tmp.make();
    const damaged = join(dir, 'damaged.parquet');
    // 10240 rows in row groups of 2048; parts of 2048 rows. The features read well; the `id`
    // values of row group 3 (read only by its part's COPY) do not decompress.
    await withDuckDb(async (query) => {
      await query(`COPY (SELECT 'row ' || range || repeat('x', 40) AS id, sin(range)::FLOAT AS a, cos(range)::FLOAT AS b, 0.5::FLOAT AS c, 1::FLOAT AS d FROM range(10240)) TO $1 (FORMAT parquet, ROW_GROUP_SIZE 2048, COMPRESSION zstd)`, [damaged]);
      const [chunk] = await query(`SELECT data_page_offset AS at, total_compressed_size AS size FROM parquet_metadata($1) WHERE row_group_id = 3 AND path_in_schema = 'id'`, [damaged]);
      const handle = await open(damaged, 'r+');
      try {
        // Past the page header: the compressed values themselves.
        await handle.write(Buffer.alloc(Number(chunk!['size']) - 64, 0xab), 0, Number(chunk!['size']) - 64, Number(chunk!['at']) + 32);
      } finally {
        await handle.close();
      }
    });
    const out = join(dir, 'out.parquet');
    const r = await runCli(args(damaged, out, ['--batch-size', '256', '--checkpoint-rows', '2048']));
    const stderr = expectCliError(r, 65, 'INPUT_INVALID');
    expect(stderr).toContain(damaged);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.summary.json`)).toBe(false);
  });
});

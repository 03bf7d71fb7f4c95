/**
 * `batch_size: auto` (the default) through the real CLI: a run large enough to measure tries
 * the candidate sizes on its first rows and says in its summary which it kept and the rows/s
 * of each (a logistic regression, whose workers are mostly idle, one more, and the largest not
 * clearly slower); its output is the same, row for row and bit for bit, as a run with a fixed size; a
 * model whose activations grow with the batch stops before a size whose memory would pass the
 * budget, and says so; a small run keeps 2048; a fixed `batch_size` wins; a bad value is a spec error.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { data, expectCliError, expectOk, model, runCli } from '../helpers/cli.js';
import { withDuckDb } from '../helpers/parquet.js';
import { useTempDirs } from '../helpers/tempDir.js';
import { AUTO_CANDIDATES, MEMORY_BUDGET } from '../../src/infer/batchSizer.js';
import { DEFAULT_BATCH_SIZE } from '../../src/spec/jobSpec.js';

const tmp = useTempDirs('batchinfer-e2e-batchsize-');
/**
 * Enough rows for the two smallest candidates, each with its lead-in, in a quarter of the rows,
 * and a third (16384) in a third of them (infer/batchSizer.ts tuningPlan: 847,872 with two workers).
 */
const ROWS = 850_000;
const FEATURES = Array.from({ length: 30 }, (_, i) => `f${i}`).join(',');

let input: Promise<string> | undefined;
function bigInput(): Promise<string> {
  input ??= (async () => {
    const path = join(await tmp.make(), 'big.parquet');
    const features = Array.from({ length: 30 }, (_, i) => `((hash(i, ${i}) % 2001)::DOUBLE / 1000.0 - 1.0)::FLOAT AS f${i}`).join(', ');
    await withDuckDb((query) => query(`COPY (SELECT i AS id, ${features} FROM range(${ROWS}) t(i)) TO $1 (FORMAT parquet)`, [path]));
    return path;
  })();
  return input;
}

async function score(output: string, extra: string[] = []): Promise<Record<string, any>> {
  const r = await runCli(['run', '--model', model('logreg30'), '--input', await bigInput(), '--output', output, '--features', FEATURES, '--passthrough', 'id', '--labels', 'legit,fraud', '--json', '--quiet', ...extra]);
  expectOk(r);
  return JSON.parse(r.stdout);
}

describe('batch_size: auto', () => {
  it('measures the candidates on the first rows, keeps the fastest, and scores exactly what a fixed size scores', async () => {
    const dir = await tmp.make();
    const auto = await score(join(dir, 'auto.parquet'));
    expect(auto.batchSizing.mode).toBe('auto');
    const tried = auto.batchSizing.candidates.map((c: { batchSize: number }) => c.batchSize);
    // A logistic regression leaves its workers mostly idle (the reader bounds the run): past
    // 1024 and 4096, the run tries 16384 too, unless a burst of load on the machine made 4096
    // look clearly slower than 1024 (under 0.85 of its rate), which ends any tuning.
    const [small, next] = auto.batchSizing.candidates;
    expect(tried).toEqual(next.rowsPerSecond >= 0.85 * small.rowsPerSecond ? [1024, 4096, 16384] : [1024, 4096]);
    expect(AUTO_CANDIDATES).toEqual(expect.arrayContaining(tried));
    for (const c of auto.batchSizing.candidates) {
      expect(c.rows).toBeGreaterThan(0);
      expect(c.rowsPerSecond).toBeGreaterThan(0);
      // A logistic regression's activations are a few numbers a row, and its 30 float features
      // 120 bytes (16384 rows with two workers: 9.4 MB of feeds in the four batches in flight and
      // the one being filled): its memory never stops the tuning.
      expect(c.memoryMb).toBeGreaterThan((c.batchSize * 120 * (2 * auto.workers + 1)) / 2 ** 20);
      expect(c.memoryMb).toBeLessThan(MEMORY_BUDGET / 2 ** 20 / 2);
    }
    expect(auto.batchSizing.notTried).toBeUndefined();
    // Its workers mostly idle, the run keeps the largest candidate within 0.85 of the fastest's rate.
    const best = Math.max(...auto.batchSizing.candidates.map((c: any) => c.rowsPerSecond));
    const kept = Math.max(...auto.batchSizing.candidates.filter((c: any) => c.rowsPerSecond >= 0.85 * best).map((c: any) => c.batchSize));
    expect(auto.batchSize).toBe(kept);
    expect(auto.batchSizing.chosen).toBe(kept);

    const fixed = await score(join(dir, 'fixed.parquet'), ['--batch-size', '1000']);
    expect(fixed.batchSizing).toEqual({ mode: 'fixed', chosen: 1000, candidates: [] });
    expect(fixed.batchSize).toBe(1000);
    // Once the size is kept, each worker holds at least 16,384 rows of batches (two batches at
    // least; 120-byte rows stay far under 4 MiB): 17 batches of 1000 rows a worker.
    const inFlight = (workers: number, size: number): number => workers * Math.max(2, Math.ceil(16384 / size));
    expect(fixed.batchesInFlight).toBe(inFlight(fixed.workers, 1000));
    expect(auto.batchesInFlight).toBe(inFlight(auto.workers, auto.batchSize));
    const [diff] = await withDuckDb((query) =>
      query(`SELECT count(*) AS n, count(*) FILTER (WHERE a.id <> b.id OR a.prob_fraud <> b.prob_fraud OR a.prediction <> b.prediction) AS differ FROM read_parquet($1) a POSITIONAL JOIN read_parquet($2) b`, [join(dir, 'auto.parquet'), join(dir, 'fixed.parquet')]),
    );
    expect(diff).toEqual({ n: BigInt(ROWS), differ: 0n });
  });

  it("a model whose activations grow with the batch (30-256-256-2) stops before the size whose memory is projected past the budget, and says so", async () => {
    const output = join(await tmp.make(), 'mlp.parquet');
    const r = await runCli(['run', '--model', model('mlp30'), '--input', await bigInput(), '--output', output, '--features', FEATURES, '--passthrough', 'id', '--labels', 'legit,fraud']);
    expectOk(r);
    const auto = JSON.parse(await readFile(`${output}.summary.json`, 'utf8'));
    const [small, next] = auto.batchSizing.candidates;
    expect([small.batchSize, next.batchSize]).toEqual([1024, 4096]);
    // Two 256-wide float activations a row on each of the two workers: 4 KiB a row, 16 MiB at
    // 4096 rows, whatever else the process allocated meanwhile (infer/batchSizer.ts concurrentGrowth).
    expect(next.memoryMb).toBeGreaterThanOrEqual(16);
    expect(small.memoryMb).toBeLessThan(next.memoryMb);
    expect(auto.batchSizing.notTried).toEqual({ batchSize: 16384, projectedMb: expect.any(Number), budgetMb: MEMORY_BUDGET / 2 ** 20 });
    expect(auto.batchSizing.notTried.projectedMb).toBeGreaterThan(MEMORY_BUDGET / 2 ** 20);
    expect(auto.batchSizing.candidates).toHaveLength(2);
    // The size kept (1024 or 4096) then runs with 16,384 rows of batches at each worker.
    expect(auto.batchesInFlight).toBe(auto.workers * (16384 / auto.batchSize));
    // For people, on stderr: each size's rate and memory, and why the tuning stopped.
    const { projectedMb } = auto.batchSizing.notTried;
    expect(r.stderr).toContain(`measured: 1024 at ${small.rowsPerSecond.toLocaleString('en-US')} rows/s (${small.memoryMb} MB), 4096 at ${next.rowsPerSecond.toLocaleString('en-US')} rows/s (${next.memoryMb} MB); 16384 not tried: ~${projectedMb} MB projected for the model and its feeds, over 64 MB`);
  });

  it('a run too small to measure two candidates keeps the default size and lists none', async () => {
    const out = join(await tmp.make(), 'small.parquet');
    const r = await runCli(['run', '--model', model('mlp'), '--input', data('transactions.parquet'), '--output', out, '--features', 'amount,f0,f1,risk score', '--fill-null', '0', '--json', '--quiet']);
    expectOk(r);
    const summary = JSON.parse(r.stdout);
    expect(summary.batchSizing).toEqual({ mode: 'auto', chosen: DEFAULT_BATCH_SIZE, candidates: [] });
    expect(summary.batchSize).toBe(DEFAULT_BATCH_SIZE);
  });

  it('batch_size: auto in a job file is accepted, and a word other than auto is a spec error naming the key', async () => {
    const dir = await tmp.make();
    const job = (size: string): string => `model: ${model('mlp')}\ninput: ${data('transactions.parquet')}\noutput: ${join(dir, 'out.parquet')}\nfeatures: [amount, f0, f1, risk score]\nfill_null: 0\nbatch_size: ${size}\n`;
    await writeFile(join(dir, 'auto.yaml'), job('auto'));
    expectOk(await runCli(['validate', join(dir, 'auto.yaml')]));
    await writeFile(join(dir, 'fast.yaml'), job('fast'));
    const message = expectCliError(await runCli(['validate', join(dir, 'fast.yaml')]), 78, 'SPEC_INVALID');
    expect(message).toContain('batch_size');
    const flag = expectCliError(await runCli(['run', join(dir, 'auto.yaml'), '--batch-size', 'fast']), 2, 'USAGE');
    expect(flag).toContain('--batch-size');
  });
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { WorkerPool } from '../../src/infer/workerPool.js';
import { COUNT, MAX, MEAN, MIN, profileBatch, STATS, type TensorColumn } from '../../src/profile/batchProfile.js';
import { QuantileSketch, takeLevels } from '../../src/profile/quantileSketch.js';
import { SAMPLE_LEVEL, type SampledValues } from '../../src/profile/rowSample.js';
import { uniform } from '../helpers/seeded.js';
import { buildFeatureFeeds, FIXTURES_DIR, loadReference, readFixtureRows, type BuiltFeed } from '../helpers/reference.js';

const TOLERANCE = 1e-5;

let mlpBytes: Uint8Array;
let x: BuiltFeed;
let reference: number[][];
let pool: WorkerPool;

beforeAll(async () => {
  mlpBytes = await readFile(join(FIXTURES_DIR, 'models', 'mlp.onnx'));
  const rows = (await readFixtureRows()).slice(0, 600);
  const { sidecar, forward } = loadReference('mlp');
  x = buildFeatureFeeds(sidecar, rows).x!;
  const xRows: number[][] = [];
  for (let i = 0; i < x.data.length; i += 4) xRows.push(x.data.slice(i, i + 4));
  reference = forward({ x: xRows }).probabilities!;
  pool = await WorkerPool.start({ model: mlpBytes, workers: 2, intraOpThreads: 1, outputNames: ['probabilities'] });
}, 20_000);

afterAll(async () => {
  await pool?.close();
});

/** Rows [start, end) of the fixture features as a float32 [n,4] feed. */
function feed(start: number, end: number) {
  return { x: { type: 'float32' as const, dims: [end - start, 4], data: Float32Array.from(x.data.slice(start * 4, end * 4)) } };
}

describe('WorkerPool on mlp.onnx', () => {
  it('reports the runtime signature', () => {
    expect(pool.inputs).toEqual([{ name: 'x', isTensor: true, type: 'float32', shape: ['N', 4] }]);
    expect(pool.outputs).toEqual([{ name: 'probabilities', isTensor: true, type: 'float32', shape: ['N', 2] }]);
  });

  it('runs several batches concurrently; each result matches the reference for its rows', async () => {
    const bounds = [
      [0, 100],
      [100, 101],
      [101, 350],
      [350, 351],
      [351, 500],
      [500, 600],
    ] as const;
    const results = await Promise.all(bounds.map(([s, e]) => pool.run(feed(s, e))));
    results.forEach((result, i) => {
      const [s, e] = bounds[i]!;
      const out = result.outputs.probabilities!;
      expect(Object.keys(result.outputs)).toEqual(['probabilities']);
      expect(out.type).toBe('float32');
      expect(out.dims).toEqual([e - s, 2]);
      expect(out.data).toBeInstanceOf(Float32Array);
      expect(out.data.length).toBe((e - s) * 2);
      const data = out.data as Float32Array;
      for (let r = 0; r < e - s; r++) {
        expect(Math.abs(data[r * 2]! - reference[s + r]![0]!)).toBeLessThan(TOLERANCE);
        expect(Math.abs(data[r * 2 + 1]! - reference[s + r]![1]!)).toBeLessThan(TOLERANCE);
      }
      expect(result.ms).toBeGreaterThanOrEqual(0);
    });
  });

  it("says when its worker was done with each batch, on this thread's clock: after the batch was sent, before its result arrived", async () => {
    const sent = performance.now();
    const timed = await Promise.all([0, 1, 2, 3].map(async (i) => {
      const result = await pool.run(feed(100 * i, 100 * i + 100));
      return { doneAt: result.doneAt, arrived: performance.now(), ms: result.ms };
    }));
    for (const { doneAt, arrived, ms } of timed) {
      expect(doneAt).toBeGreaterThanOrEqual(sent + ms);
      expect(doneAt).toBeLessThanOrEqual(arrived);
    }
  });

  it('transfers the feed buffers: they are detached after run', async () => {
    const feeds = feed(0, 10);
    const data = feeds.x.data;
    const promise = pool.run(feeds);
    expect(data.buffer.byteLength).toBe(0);
    expect(data.length).toBe(0);
    const result = await promise;
    expect(result.outputs.probabilities!.dims).toEqual([10, 2]);
  });

  it('a feed that is a view of a larger buffer is scored from its own rows', async () => {
    const backing = new Float32Array(4 * 20);
    backing.set(Float32Array.from(x.data.slice(0, 80)));
    const view = backing.subarray(4 * 5, 4 * 8);
    const result = await pool.run({ x: { type: 'float32', dims: [3, 4], data: view } });
    const data = result.outputs.probabilities!.data as Float32Array;
    for (let r = 0; r < 3; r++) expect(Math.abs(data[r * 2 + 1]! - reference[5 + r]![1]!)).toBeLessThan(TOLERANCE);
    // The input's buffer went to the worker (detached here) and comes back for reuse.
    expect(backing.byteLength).toBe(0);
    expect(result.returned.map((b) => b.byteLength)).toEqual([4 * 20 * 4]);
  });

  it('a run that onnxruntime refuses rejects with INFERENCE_FAILED and the pool keeps working', async () => {
    const bad = pool.run({ x: { type: 'float32', dims: [2, 3], data: new Float32Array(6) } });
    await expect(bad).rejects.toBeInstanceOf(BatchinferError);
    await expect(bad).rejects.toMatchObject({ code: 'INFERENCE_FAILED', message: expect.stringMatching(/^onnxruntime failed: /) });
    const ok = await pool.run(feed(0, 2));
    expect(ok.outputs.probabilities!.dims).toEqual([2, 2]);
  });
});

describe('WorkerPool profiling a run', () => {
  const columns: TensorColumn[] = [0, 1, 2, 3].map((position) => ({ name: `f${position}`, type: 'FLOAT', kind: 'numeric', feed: 'x', position, width: 4, nanIsNull: true, countValues: false }));

  it('profiles the batches it scores when asked (the columns sent once), as the scoring thread would; not otherwise', async () => {
    pool.profileInputs(columns);
    const bounds = [[0, 250], [250, 600]] as const;
    const results = await Promise.all(bounds.map(([s, e]) => pool.run(feed(s, e), { rows: e - s, file: 0, rowStart: s })));
    results.forEach((result, i) => {
      const [s, e] = bounds[i]!;
      const local = profileBatch(columns, feed(s, e), { rows: e - s, file: 0, rowStart: s });
      expect(result.profile).toEqual(local);
      // Column f2 of these rows, from its definition.
      const values = Array.from({ length: e - s }, (_, r) => Math.fround(x.data[(s + r) * 4 + 2]!));
      const stats = result.profile!.stats.subarray(2 * STATS, 3 * STATS);
      expect([stats[COUNT], stats[MIN], stats[MAX]]).toEqual([e - s, Math.min(...values), Math.max(...values)]);
      expect(stats[MEAN]).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 12);
    });
    expect((await pool.run(feed(0, 10))).profile).toBeUndefined();
    pool.profileInputs(null);
    expect((await pool.run(feed(0, 10), { rows: 10, file: 0, rowStart: 0 })).profile).toBeUndefined();
  });

  it("builds the sketches of a part's sample on a worker: each column's values joined across its batches, in the order asked; none asked, none built", async () => {
    const u = uniform(4);
    // Per batch and column, [exact, sampled] value counts: two input columns in three batches, one prediction column in two.
    const inputs = [[[3000, 800], [3000, 0]], [[0, 70_000], [0, 0]], [[5, 2], [1, 1]]].map((sizes) => sampledValues(sizes, u));
    const predicted = [[[2500, 10]], [[0, 4000]]].map((sizes) => sampledValues(sizes, u));
    const joined = (batches: Batch[], c: number, weighted: 0 | 1) => Float64Array.from(batches.flatMap((b) => b.columns[c]![weighted]));
    const want = [[inputs, 0], [inputs, 1], [predicted, 0]].map(([batches, c]) => {
      const sketch = QuantileSketch.ofSorted(joined(batches as Batch[], c as number, 0).sort(), 0);
      const weighted = joined(batches as Batch[], c as number, 1);
      if (weighted.length > 0) sketch.merge(QuantileSketch.ofSorted(weighted.sort(), SAMPLE_LEVEL));
      return sketch.toJSON();
    });
    const sample = { groups: [inputs.map((b) => b.values), predicted.map((b) => b.values)], columns: Int32Array.of(0, 0, 0, 1, 1, 0) };
    const sketches = await pool.sketch(sample);
    expect(sketches).toEqual(want);
    // Each comes with its levels as arrays (transferred), the items its text encodes.
    for (const sketch of sketches) expect(takeLevels(sketch)!.map((items) => Buffer.from(items.buffer).toString('base64'))).toEqual(sketch.levels);
    expect(sketches[0]!.n).toBe(3005 + 70_802 * 2 ** SAMPLE_LEVEL);
    // Transferred, not copied: the batches' buffers are gone from this thread.
    expect(sample.groups.flat().map((b) => b.values.byteLength)).toEqual([0, 0, 0, 0, 0]);
    expect(await pool.sketch({ groups: [], columns: new Int32Array(0) })).toEqual([]);
  });
});

/** A batch's sampled values (batchProfile.ts layout) and, per column, its exact and sampled values as plain arrays. */
interface Batch {
  values: SampledValues;
  columns: [number[], number[]][];
}

function sampledValues(sizes: number[][], u: () => number): Batch {
  const columns = sizes.map(([exact, sampled]) => [Array.from({ length: exact! }, () => Math.fround(u())), Array.from({ length: sampled! }, () => Math.fround(u()))] as [number[], number[]]);
  const ends = new Int32Array(2 * sizes.length);
  let end = 0;
  columns.forEach(([exact, sampled], c) => {
    ends[2 * c] = end += exact.length;
    ends[2 * c + 1] = end += sampled.length;
  });
  return { values: { values: Float64Array.from(columns.flatMap(([e, s]) => [...e, ...s])), ends }, columns };
}

describe('WorkerPool lifecycle', () => {
  it('bytes that are not an ONNX model fail start with MODEL_INVALID', async () => {
    const bytes = new TextEncoder().encode('definitely not an onnx model');
    const err = await WorkerPool.start({ model: bytes, workers: 2, intraOpThreads: 1, outputNames: ['y'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchinferError);
    expect(err).toMatchObject({ code: 'MODEL_INVALID' });
    expect((err as Error).message).toMatch(/^onnxruntime cannot load the model: /);
  });

  it('providers: one per worker; auto without a CUDA provider falls back to cpu and says why; cuda is SPEC_INVALID', async () => {
    expect([pool.providers, pool.fallback]).toEqual([['cpu', 'cpu'], undefined]);
    const auto = await WorkerPool.start({ model: mlpBytes, workers: 1, intraOpThreads: 1, outputNames: ['probabilities'], device: 'auto' });
    try {
      expect(auto.providers).toEqual(['cpu']);
      expect(auto.fallback).toMatch(/libonnxruntime_providers_cuda\.so/);
      expect((await auto.run(feed(0, 3))).outputs.probabilities!.dims).toEqual([3, 2]);
    } finally {
      await auto.close();
    }
    const err = await WorkerPool.start({ model: mlpBytes, workers: 1, intraOpThreads: 1, outputNames: ['probabilities'], device: 'cuda:0' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SPEC_INVALID', exitCode: 78 });
    expect((err as Error).message).toMatch(/^device cuda:0: onnxruntime's CUDA execution provider did not load/);
  });

  it('close() is idempotent and later runs are refused', async () => {
    const own = await WorkerPool.start({ model: mlpBytes, workers: 1, intraOpThreads: 1, outputNames: ['probabilities'] });
    const result = await own.run(feed(0, 3));
    expect(result.outputs.probabilities!.dims).toEqual([3, 2]);
    const started = performance.now();
    await own.close();
    await own.close();
    await Promise.all([own.close(), own.close()]);
    expect(performance.now() - started).toBeLessThan(5000);
    await expect(own.run(feed(0, 1))).rejects.toThrow(/closed/);
  });
});

describe('WorkerPool: the memory a batch size takes', () => {
  it("says how much the process grew on a worker's first batch of a row count (onnxruntime's arena for its activations), and not on the next one of that count", async () => {
    // mlp30 is 30-256-256-2: at 16,384 rows its two hidden activations are 16 MiB each, both
    // live while the second layer runs.
    const wide = await WorkerPool.start({ model: await readFile(join(FIXTURES_DIR, 'models', 'mlp30.onnx')), workers: 1, intraOpThreads: 1, outputNames: ['probabilities'] });
    const batch = (rows: number) => ({ x: { type: 'float32' as const, dims: [rows, 30], data: new Float32Array(rows * 30).fill(0.5) } });
    try {
      const first = await wide.run(batch(16_384));
      const again = await wide.run(batch(16_384));
      const smaller = await wide.run(batch(1000));
      expect(first.grew).toBeGreaterThanOrEqual(16_384 * 256 * 4);
      expect(again.grew).toBeUndefined();
      // A new count is measured too; the arena already holds enough for it.
      expect(smaller.grew).toBeGreaterThanOrEqual(0);
      expect(smaller.grew).toBeLessThan(first.grew!);
    } finally {
      await wide.close();
    }
  });
});

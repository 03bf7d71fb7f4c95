/**
 * The run's profiler from its definitions: counts and moments of every row (computed here
 * directly), values read back through a column's affine map and vocabulary, NaN as NULL or
 * as NaN, the deterministic row sample, and parts of whole batches.
 */
import { describe, expect, it } from 'vitest';
import { profileBatch } from '../../src/profile/batchProfile.js';
import { ARGMAX } from '../../src/profile/kernels.js';
import { EXACT_ROWS, sampleBatch, sampled, SAMPLE_LEVEL, sketchPart, type PartSample } from '../../src/profile/rowSample.js';
import { RunProfiler, type TensorColumn } from '../../src/profile/runProfiler.js';
import { uniform } from '../helpers/seeded.js';

const numeric = (name: string, position: number, width: number, extra: Partial<TensorColumn> = {}): TensorColumn => ({ name, type: 'DOUBLE', kind: 'numeric', feed: 'x', position, width, nanIsNull: false, countValues: false, ...extra });

function moments(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) };
}

/** Per column of a part's sample, how many values its batches hold for it (exact and sampled). */
function valuesPerColumn(sample: PartSample): number[] {
  const counts: number[] = [];
  for (let j = 0; j < sample.columns.length; j += 2) {
    const c = sample.columns[j + 1]!;
    counts.push(sample.groups[sample.columns[j]!]!.reduce((n, b) => n + b.ends[2 * c + 1]! - (c > 0 ? b.ends[2 * c - 1]! : 0), 0));
  }
  return counts;
}

describe('RunProfiler', () => {
  // A float32 tensor's columns are scanned by the WebAssembly kernel, a float64 one's in JavaScript.
  it.each([
    { Tensor: Float64Array, offset: 1e9 },
    { Tensor: Float32Array, offset: 1e4 },
  ])('counts every row of a row-major tensor ($Tensor.name): NaN as NULL (missing-value inputs) or as NaN, infinities, min, max, mean, std', ({ Tensor, offset }) => {
    const u = uniform(3);
    const rows = 5000;
    const data = new Tensor(rows * 2);
    for (let r = 0; r < rows; r++) {
      data[2 * r] = offset + u();
      data[2 * r + 1] = r % 100 === 0 ? NaN : r % 250 === 1 ? -Infinity : u() * 10;
    }
    const profiler = new RunProfiler([numeric('big', 0, 2), numeric('holes', 1, 2, { nanIsNull: true })], null);
    for (let r = 0; r < rows; r += 1000) profiler.addBatch({ x: { data: data.subarray(2 * r, 2 * (r + 1000)) } }, 1000, 0, r);
    const [big, holes] = profiler.takePart(rows, 't').columns;
    const bigValues = Array.from({ length: rows }, (_, r) => data[2 * r]!);
    expect(big).toMatchObject({ rows, nulls: 0, nan: 0, inf: 0, numeric: { count: rows, min: Math.min(...bigValues), max: Math.max(...bigValues) } });
    expect(big!.numeric!.mean).toBeCloseTo(moments(bigValues).mean, 4);
    expect(big!.numeric!.std! / moments(bigValues).std).toBeCloseTo(1, 6);
    const finite = Array.from({ length: rows }, (_, r) => data[2 * r + 1]!).filter(Number.isFinite);
    expect(holes).toMatchObject({ rows, nulls: 50, nan: 0, inf: 20, numeric: { count: finite.length, min: Math.min(...finite), max: Math.max(...finite) } });
    expect(holes!.numeric!.mean).toBeCloseTo(moments(finite).mean, 10);
    expect(holes!.numeric!.std).toBeCloseTo(moments(finite).std, 10);
  });

  it("reads values back through the column's affine map and vocabulary; booleans and strings as categories", () => {
    const columns: TensorColumn[] = [
      numeric('scaled', 0, 1, { feed: 's', affine: { a: 2, b: 10 } }),
      { name: 'merchant', type: 'VARCHAR', kind: 'categorical', feed: 'm', position: 0, width: 1, vocab: ['grocery', 'travel'], nanIsNull: false, countValues: false },
      { name: 'flag', type: 'BOOLEAN', kind: 'categorical', feed: 'b', position: 0, width: 1, nanIsNull: false, countValues: false },
      { name: 'city', type: 'VARCHAR', kind: 'categorical', feed: 'c', position: 0, width: 1, nanIsNull: false, countValues: false },
    ];
    const profiler = new RunProfiler(columns, null);
    profiler.addBatch({ s: { data: Float32Array.of(-1, 0, 1, 2) }, m: { data: BigInt64Array.of(0n, 1n, 1n, 7n) }, b: { data: Uint8Array.of(1, 0, 1, 1) }, c: { data: ['a', 'b', 'a', 'a'] } }, 4, 0, 0);
    const [scaled, merchant, flag, city] = profiler.takePart(4, 't').columns;
    expect(scaled!.numeric).toMatchObject({ count: 4, min: 8, max: 14, mean: 11 });
    expect(scaled!.numeric!.std).toBeCloseTo(2 * moments([-1, 0, 1, 2]).std, 12);
    expect(merchant!.categories).toEqual({ values: [['travel', 2], ['grocery', 1]], other: 1, truncated: false });
    expect(flag!.categories).toEqual({ values: [['true', 3], ['false', 1]], other: 0, truncated: false });
    expect(city!.categories).toEqual({ values: [['a', 3], ['b', 1]], other: 0, truncated: false });
  });

  it('a part takes whole batches in order, with their predictions; a part of no rows lists every column empty', () => {
    const profiler = new RunProfiler([numeric('v', 0, 1)], { classes: ['no', 'yes'], review: true, numeric: ['confidence'] });
    for (const [r, values] of [[0, [1, 2]], [2, [3, 4]], [4, [5]]] as const) {
      profiler.addBatch({ x: { data: Float64Array.from(values) } }, values.length, 0, r);
    }
    profiler.addPredictions(2, { kind: 'decided', classIndex: Int32Array.of(0, 1), review: Uint8Array.of(1, 0), numeric: [Float32Array.of(0.5, 0.75)] });
    profiler.addPredictions(2, { kind: 'decided', classIndex: Int32Array.of(1, -1), review: Uint8Array.of(0, 0), numeric: [Float32Array.of(0.5, NaN)] });
    const first = profiler.takePart(4, 't');
    expect(first.rows).toBe(4);
    expect(first.columns[0]!.numeric).toMatchObject({ count: 4, min: 1, max: 4, mean: 2.5 });
    expect(first.prediction).toEqual({ rows: 3, classes: { no: 1, yes: 2 }, review: 1, review_rate: 1 / 3 });
    expect(first.columns[1]).toMatchObject({ name: 'confidence', nan: 1, numeric: { count: 3, min: 0.5, max: 0.75 } });
    profiler.addPredictions(1, { kind: 'decided', classIndex: Int32Array.of(0), review: Uint8Array.of(1), numeric: [Float32Array.of(1)] });
    expect(profiler.takePart(1, 't')).toMatchObject({ rows: 1, prediction: { rows: 1, classes: { no: 1, yes: 0 }, review: 1 } });
    const empty = profiler.takePart(0, 't');
    expect(empty).toMatchObject({ rows: 0, prediction: { rows: 0, review: 0, review_rate: null } });
    expect(empty.columns.map((c) => [c.name, c.rows, c.numeric!.count, c.numeric!.mean])).toEqual([['v', 0, 0, null], ['confidence', 0, 0, null]]);
  });
});

describe("a two-class classifier's predictions profiled by the kernel", () => {
  it('give the part profile of the same rows decided here: the argmax, confidence and both probabilities, NaN rows in no class', () => {
    const u = uniform(14);
    const layout = { classes: ['no', 'yes'], review: false, numeric: ['confidence', 'prob_no', 'prob_yes'] };
    const kernel = new RunProfiler([numeric('v', 0, 1)], layout);
    const here = new RunProfiler([numeric('v', 0, 1)], layout);
    // Batches across the file's first EXACT_ROWS rows and past them: the sample's exact rows and its weighted ones.
    for (let r = 0, n = 5000; r < 40_000; r += n) {
      const p1 = Float32Array.from({ length: n }, () => (u() < 0.02 ? NaN : u()));
      const p0 = p1.map((p) => 1 - p);
      const feeds = { x: { data: Float64Array.from({ length: n }, () => u()) } };
      kernel.addBatch(feeds, n, 0, r);
      here.addBatch(feeds, n, 0, r);
      kernel.addPredictions(n, { kind: 'two-class', p0: null, p1, rule: ARGMAX });
      const classIndex = Int32Array.from(p1, (p, i) => (Number.isNaN(p) ? -1 : p > p0[i]! ? 1 : 0));
      here.addPredictions(n, { kind: 'decided', classIndex, review: null, numeric: [p1.map((p, i) => Math.max(p, p0[i]!)), p0, p1] });
    }
    const [a, b] = [kernel.takePart(40_000, 't'), here.takePart(40_000, 't')];
    expect(a).toEqual(b);
    expect(a.columns[3]).toMatchObject({ name: 'prob_yes', nan: expect.any(Number) as number });
    expect(a.columns[3]!.nan).toBeGreaterThan(0);
    expect(a.prediction!.rows).toBe(40_000 - a.columns[3]!.nan);
  });
});

describe("RunProfiler fed by the workers' batch profiles", () => {
  it('a batch profile posted from another thread (cloned, buffers transferred) and sketches built elsewhere give the part profile of the feeds themselves', async () => {
    const u = uniform(5);
    const rows = 40_000;
    const data = Float32Array.from({ length: rows * 3 }, () => u() * 4 - 2);
    const columns = [numeric('a', 0, 3), numeric('b', 2, 3, { affine: { a: -2, b: 1 } })];
    const layout = { classes: ['no', 'yes'], review: false, numeric: ['confidence'] };
    const local = new RunProfiler(columns, layout);
    const posted = new RunProfiler(columns, layout);
    const asked: number[] = [];
    for (let r = 0; r < rows; r += 3000) {
      const n = Math.min(3000, rows - r);
      const feeds = { x: { data: data.subarray(3 * r, 3 * (r + n)) } };
      local.addBatch(feeds, n, 1, r);
      const batch = profileBatch(columns, feeds, { rows: n, file: 1, rowStart: r });
      posted.addProfile(structuredClone(batch, { transfer: [batch.stats.buffer, batch.values.buffer, batch.ends.buffer, batch.sample.rows.buffer] as ArrayBuffer[] }));
      const predictions = { kind: 'decided' as const, classIndex: new Int32Array(n).fill(1), review: null, numeric: [Float32Array.from({ length: n }, (_, i) => data[3 * (r + i)]!)] };
      local.addPredictions(n, predictions);
      posted.addPredictions(n, predictions);
    }
    const sketcher = async (sample: PartSample) => {
      asked.push(...valuesPerColumn(sample));
      return sketchPart(structuredClone(sample));
    };
    for (const part of [21_000, 19_000]) expect(await posted.takePartWith(part, 't', sketcher)).toEqual(local.takePart(part, 't'));
    // Three numeric columns per part: the first part samples every row of the file's first EXACT_ROWS rows, the second about 1 in 2^SAMPLE_LEVEL.
    expect(asked).toHaveLength(6);
    for (const n of asked.slice(0, 3)) expect(n).toBeGreaterThan(EXACT_ROWS);
    for (const n of asked.slice(3)) expect(Math.abs(n - 19_000 / 2 ** SAMPLE_LEVEL)).toBeLessThan(150);
  });
});

describe('the row sample', () => {
  it("takes every row of a file's first EXACT_ROWS rows, then about 1 in 2^SAMPLE_LEVEL, the same rows whatever the batches", () => {
    const whole = sampleBatch(2, 0, 200_000);
    expect(whole.exact).toBe(EXACT_ROWS);
    const rate = (whole.rows.length - EXACT_ROWS) / (200_000 - EXACT_ROWS);
    expect(Math.abs(rate - 1 / 2 ** SAMPLE_LEVEL)).toBeLessThan(0.002);
    const pieces: number[] = [];
    for (let r = 0; r < 200_000; r += 3000) pieces.push(...sampleBatch(2, r, Math.min(3000, 200_000 - r)).rows.map((i) => i + r));
    expect(pieces).toEqual([...whole.rows]);
    // Rows left out (skipped rows): tensor row i is file row rowNumbers[i].
    const rowNumbers = BigInt64Array.from([...Array(5000).keys()].map((i) => BigInt(20_000 + 3 * i)));
    expect([...sampleBatch(2, 20_000, 5000, rowNumbers).rows].map((i) => 20_000 + 3 * i)).toEqual([...Array(5000).keys()].map((i) => 20_000 + 3 * i).filter((row) => sampled(2, row)));
    // Rows on both sides of 2^32 (the hash's seed changes with the high 32 bits).
    const far = Array.from({ length: 4000 }, (_, i) => 2 ** 32 - 2000 + i);
    expect([...sampleBatch(1, 0, far.length, BigInt64Array.from(far.map(BigInt))).rows].map((i) => far[i])).toEqual(far.filter((row) => sampled(1, row)));
    expect(far.filter((row) => sampled(1, row)).some((row) => row >= 2 ** 32)).toBe(true);
    // Another file samples other rows.
    expect([...sampleBatch(3, 0, 200_000).rows]).not.toEqual([...whole.rows]);
  });

  it('a batch of consecutive rows (sampled in the kernel) takes the rows `sampled` picks, at the start of a file, past it and on both sides of 2^32', () => {
    for (const [file, rowStart, rows] of [[0, 0, 40_000], [4, 16_000, 1000], [2, 1_000_000, 70_000], [1, 2 ** 32 - 30_000, 25_000], [1, 2 ** 32 + 5, 30_000], [1, 2 ** 32 - 2000, 4000], [0, 5, 0]] as const) {
      const want = [...Array(rows).keys()].filter((i) => rowStart + i < EXACT_ROWS || sampled(file, rowStart + i));
      const got = sampleBatch(file, rowStart, rows);
      expect([...got.rows], `file ${file} rows ${rowStart}+${rows}`).toEqual(want);
      expect(got.exact).toBe(Math.max(0, Math.min(rows, EXACT_ROWS - rowStart)));
    }
  });
});

describe('profileBatch of a float32 tensor (one pass of the kernels: figures and sampled values)', () => {
  it('equals the JavaScript pass over the same values as float64: affine maps, NaN as NULL, categories, integer counts, two feeds, pieces of rows', () => {
    const u = uniform(17);
    // 160,000 rows x 9 float32 columns is 5.8 MB: the kernel takes it in two pieces of at most 4 MB.
    for (const [rowStart, rows] of [[0, 160_000], [16_000, 3000], [500_000, 20_000], [7, 1]] as const) {
      const width = 9;
      const x = Float32Array.from({ length: rows * width }, (_, i) => {
        const c = i % width;
        if (c === 2 && i % 97 === 0) return NaN;
        if (c === 3 && i % 1001 === 0) return -Infinity;
        if (c === 4) return Math.floor(u() * 3);
        if (c === 5) return Math.round(u() * 4);
        return (u() - 0.5) * 10 ** c;
      });
      const z = Float32Array.from({ length: rows * 2 }, () => u());
      const columns: TensorColumn[] = [
        numeric('a', 0, width),
        { ...numeric('z1', 1, 2), feed: 'z' },
        numeric('scaled', 1, width, { affine: { a: -2.5, b: 7 } }),
        numeric('holes', 2, width, { nanIsNull: true }),
        numeric('inf', 3, width),
        { ...numeric('city', 4, width), kind: 'categorical', vocab: ['x', 'y'] },
        numeric('count', 5, width, { countValues: true, type: 'INTEGER' }),
        { ...numeric('z0', 0, 2), feed: 'z', affine: { a: 3, b: -1 } },
        numeric('last', 8, width),
      ];
      const kernel = profileBatch(columns, { x: { data: x }, z: { data: z } }, { rows, file: 1, rowStart });
      const plain = profileBatch(columns, { x: { data: Float64Array.from(x) }, z: { data: Float64Array.from(z) } }, { rows, file: 1, rowStart });
      expect(kernel, `rows ${rowStart}+${rows}`).toEqual(plain);
      if (rows > 1000) expect(kernel.values.length).toBeGreaterThan(1000);
      // Every numeric column in the one float32 tensor: the kernel's regions joined in place, the
      // same values and ends; with identity columns only, as float32.
      const asPlain = (p: ReturnType<typeof profileBatch>) => ({ ...p, values: Array.from(p.values) });
      for (const only of [columns.filter((c) => c.feed === 'x'), columns.filter((c) => c.feed === 'x' && !c.affine)]) {
        const one = profileBatch(only, { x: { data: x } }, { rows, file: 1, rowStart });
        expect(asPlain(one), `rows ${rowStart}+${rows}, ${only.length} columns`).toEqual(asPlain(profileBatch(only, { x: { data: Float64Array.from(x) } }, { rows, file: 1, rowStart })));
        expect(one.values).toBeInstanceOf(only.some((c) => c.affine) ? Float64Array : Float32Array);
      }
    }
  });

  it('keeps the sampled values as float32 when every numeric column is a float32 tensor value as it is, and their sketches are the float64 ones', () => {
    const u = uniform(23);
    const rows = 60_000;
    const width = 4;
    // With -0 among them: the kernel gathers it as +0, as a t + b does in the float64 pass.
    const x = Float32Array.from({ length: rows * width }, (_, i) => (i % 389 === 0 ? NaN : i % 251 === 0 ? -0 : (u() - 0.5) * 10 ** (i % width)));
    const z = Float32Array.from({ length: rows * 2 }, () => u());
    const identity = [numeric('a', 0, width), numeric('b', 1, width, { affine: { a: 1, b: 0 } }), numeric('holes', 3, width, { nanIsNull: true }), { ...numeric('z1', 1, 2), feed: 'z' }, { ...numeric('city', 2, width), kind: 'categorical' as const, vocab: ['x'] }];
    const batch = { rows, file: 0, rowStart: 0 };
    const narrow = profileBatch(identity, { x: { data: x }, z: { data: z } }, batch);
    const wide = profileBatch(identity, { x: { data: Float64Array.from(x) }, z: { data: Float64Array.from(z) } }, batch);
    expect(narrow.values).toBeInstanceOf(Float32Array);
    expect(wide.values).toBeInstanceOf(Float64Array);
    expect({ ...narrow, values: Array.from(narrow.values) }).toEqual({ ...wide, values: Array.from(wide.values) });
    const sample = (values: Float32Array | Float64Array): PartSample => ({ groups: [[{ values, ends: narrow.ends }]], columns: Int32Array.of(0, 0, 0, 1, 0, 2, 0, 3) });
    expect(sketchPart(sample(narrow.values))).toEqual(sketchPart(sample(Float64Array.from(narrow.values))));
    // An affine map other than the identity, or a tensor that is not float32, keeps them float64.
    const scaled = [numeric('a', 0, width, { affine: { a: 2, b: 0 } }), numeric('b', 1, width)];
    expect(profileBatch(scaled, { x: { data: x } }, batch).values).toBeInstanceOf(Float64Array);
    expect(profileBatch([numeric('a', 0, width), { ...numeric('z1', 1, 2), feed: 'z' }], { x: { data: x }, z: { data: Float64Array.from(z) } }, batch).values).toBeInstanceOf(Float64Array);
  });
});


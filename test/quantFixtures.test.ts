/**
 * The quantized fixtures (mlp_qdq, mlp_dynamic) run with onnxruntime directly against the
 * hand-written quantized reference (test/helpers/quantReference.ts): with graph
 * optimizations off (ORT runs QuantizeLinear, MatMulInteger, ... one by one) and on, as
 * the CLI opens its sessions (ORT fuses them into QGemm and DynamicQuantizeMatMul).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { integerInitializer } from '../scripts/fixtures/onnxBuilder.js';
import { INT8_WEIGHT_LIMIT, UINT8_WEIGHT_LIMIT, quantizeAsymmetricU8, quantizeSymmetric } from '../scripts/fixtures/quantModels.js';
import { loadQuantReference } from './helpers/quantReference.js';
import { FIXTURES_DIR, buildFeatureFeeds, feedRows, loadSidecar, readFixtureRows } from './helpers/reference.js';

const MODELS = ['mlp_qdq', 'mlp_dynamic'] as const;
type QuantModel = (typeof MODELS)[number];
/**
 * The integer parts agree exactly (the fixtures are built for it, see quantModels.ts); what
 * is left is float32 Softmax against float64, measured at under 1e-7. One quantization step
 * off anywhere moves a probability by far more than 1e-5.
 */
const TOLERANCE = 1e-5;
const modelPath = (name: string) => join(FIXTURES_DIR, 'models', `${name}.onnx`);

let x: number[][];
beforeAll(async () => {
  const rows = await readFixtureRows();
  // Both models take the same x [N,4]; build it as the sidecar describes.
  x = feedRows(buildFeatureFeeds(loadSidecar('mlp_qdq'), rows).x!) as number[][];
  expect(feedRows(buildFeatureFeeds(loadSidecar('mlp_dynamic'), rows).x!)).toEqual(x);
});

/** Runs the model on consecutive batches of `batchSize` rows, as the CLI cuts a file. */
async function runOrt(name: QuantModel, level: 'disabled' | 'all', batchSize: number): Promise<number[][]> {
  const session = await ort.InferenceSession.create(modelPath(name), { graphOptimizationLevel: level });
  try {
    const out: number[][] = [];
    for (let start = 0; start < x.length; start += batchSize) {
      const batch = x.slice(start, start + batchSize);
      const result = await session.run({ x: new ort.Tensor('float32', Float32Array.from(batch.flat()), [batch.length, 4]) });
      const probs = result['probabilities']!;
      expect(probs.dims).toEqual([batch.length, 2]);
      const data = probs.data as Float32Array;
      for (let i = 0; i < batch.length; i++) out.push([data[2 * i]!, data[2 * i + 1]!]);
    }
    return out;
  } finally {
    await session.release();
  }
}

function maxDifference(a: readonly number[][], b: readonly number[][]): number {
  expect(a).toHaveLength(b.length);
  let worst = 0;
  a.forEach((row, i) => row.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - b[i]![k]!)))));
  return worst;
}

describe.each(MODELS)('%s.onnx', (name) => {
  it.each([
    ['disabled', 3000],
    ['disabled', 250],
    ['all', 3000],
    ['all', 250],
  ] as const)('matches the quantized reference (optimizations %s, batches of %i)', async (level, batchSize) => {
    const expected = loadQuantReference(name).forward(x, { batchSize }).probabilities;
    const actual = await runOrt(name, level, batchSize);
    expect(maxDifference(actual, expected)).toBeLessThan(TOLERANCE);
  });

  it('stores int8 weights within +-63 and uint8 weights within 0..127', () => {
    const params = loadQuantReference(name).params;
    const weights = Object.entries(params).filter(([p]) => /^W\d_q$/.test(p));
    expect(weights.length).toBe(2);
    for (const [p, w] of weights) {
      const [lo, hi] = w.elemType === 'int8' ? [-INT8_WEIGHT_LIMIT, INT8_WEIGHT_LIMIT] : [0, UINT8_WEIGHT_LIMIT];
      expect(w.elemType, p).toMatch(/^u?int8$/);
      expect(Math.min(...w.data), p).toBeGreaterThanOrEqual(lo);
      expect(Math.max(...w.data), p).toBeLessThanOrEqual(hi);
    }
  });

  it('predicts both classes with spread probabilities', () => {
    const p = loadQuantReference(name).forward(x).probabilities.map((r) => r[1]!);
    const fraud = p.filter((v) => v > 0.5).length;
    expect(fraud).toBeGreaterThan(50);
    expect(fraud).toBeLessThan(p.length - 50);
    expect(new Set(p).size).toBeGreaterThan(100);
  });
});

describe('the delicate cases are exercised', () => {
  it('mlp_qdq: ties where round-half-to-even differs from half-away, and saturation', () => {
    const { trace } = loadQuantReference('mlp_qdq').forward(x);
    // Power-of-two scales make exact .5 quotients common (hidden, logits, and amounts
    // such as 58.00 -> 58 / 128 / 2^-5 = 14.5); every one of them must round to even.
    expect(trace.tiesHalfEvenMatters).toBeGreaterThan(100);
    // x saturates at 255 for amounts above 510 and f1 from 3.98 up; the hidden layer too.
    expect(trace.saturated).toBeGreaterThan(6);
  });

  it('mlp_dynamic: a row’s probabilities depend on the other rows of its batch', async () => {
    const ref = loadQuantReference('mlp_dynamic');
    const oneBatch = ref.forward(x, { batchSize: 3000 }).probabilities;
    const batches = ref.forward(x, { batchSize: 250 });
    expect(batches.trace.batches).toBe(12);
    // So a reference (or a CLI) that cut the rows differently would be caught.
    expect(maxDifference(batches.probabilities, oneBatch)).toBeGreaterThan(1e-3);
    const changed = batches.probabilities.filter((r, i) => Math.abs(r[0]! - oneBatch[i]![0]!) > TOLERANCE).length;
    expect(changed).toBeGreaterThan(2900);
    // ORT agrees: the same rows scored whole and in batches differ the same way.
    expect(maxDifference(await runOrt('mlp_dynamic', 'all', 250), batches.probabilities)).toBeLessThan(TOLERANCE);
  });
});

describe('what onnxruntime runs', () => {
  /** The op types of the graph ORT runs after its optimizations at `level`. */
  async function optimizedOps(name: QuantModel, level: 'disabled' | 'all'): Promise<string[]> {
    const dir = await mkdtemp(join(tmpdir(), 'batchinfer-quant-'));
    try {
      const optimizedModelFilePath = join(dir, `${name}.onnx`);
      // logSeverityLevel 3: ORT warns that an 'all'-optimized model is hardware specific.
      const session = await ort.InferenceSession.create(modelPath(name), { graphOptimizationLevel: level, optimizedModelFilePath, logSeverityLevel: 3 });
      await session.release();
      const model = onnxProto.onnx.ModelProto.decode(await readFile(optimizedModelFilePath));
      return (model.graph?.node ?? []).map((n) => n.opType ?? '');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  // Documents which kernels the tests above cover: the CLI opens sessions with 'all'.
  it.each([
    ['mlp_qdq', 'disabled', ['Mul', 'QuantizeLinear', 'DequantizeLinear', 'Gemm', 'Relu', 'Softmax']],
    ['mlp_qdq', 'all', ['Mul', 'QuantizeLinear', 'QGemm', 'DequantizeLinear', 'Softmax']],
    ['mlp_dynamic', 'disabled', ['Mul', 'DynamicQuantizeLinear', 'MatMulInteger', 'Cast', 'Add', 'Relu', 'Softmax']],
    ['mlp_dynamic', 'all', ['Mul', 'DynamicQuantizeMatMul', 'Relu', 'Softmax']],
  ] as const)('%s with optimizations %s runs %j', async (name, level, ops) => {
    expect(new Set(await optimizedOps(name, level))).toEqual(new Set(ops));
  });
});

describe('weight quantization in the fixture builder', () => {
  const data = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.fround(Math.sin(seed * 7919 + i * 104729) * (seed + 1) * 0.37));

  it('never leaves +-63 for int8 or 0..127 for uint8, whatever the range', () => {
    for (let seed = 0; seed < 200; seed++) {
      const param = { shape: [64], data: data(64, seed) };
      const sym = quantizeSymmetric(param);
      const asym = quantizeAsymmetricU8(param);
      expect(Math.max(...sym.q.data.map(Math.abs))).toBeLessThanOrEqual(INT8_WEIGHT_LIMIT);
      // The scale is the finest power of two that fits, so at least half the range is used.
      expect(Math.max(...sym.q.data.map(Math.abs))).toBeGreaterThan(INT8_WEIGHT_LIMIT / 2);
      expect(Math.min(...asym.q.data)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...asym.q.data)).toBeLessThanOrEqual(UINT8_WEIGHT_LIMIT);
      expect(Number.isInteger(Math.log2(sym.scale))).toBe(true);
      expect(Number.isInteger(Math.log2(asym.scale))).toBe(true);
    }
  });

  it('refuses integer initializers that would wrap or truncate', () => {
    expect(() => integerInitializer('w', { shape: [2], data: [127, 128], elemType: 'int8' })).toThrow(/w\[1\] = 128 is not a int8/);
    expect(() => integerInitializer('z', { shape: [], data: [-1], elemType: 'uint8' })).toThrow(/not a uint8/);
    expect(() => integerInitializer('b', { shape: [1], data: [1.5], elemType: 'int32' })).toThrow(/not a int32/);
    expect(integerInitializer('b', { shape: [2], data: [-2, 300], elemType: 'int32' }).rawData).toEqual(new Uint8Array([254, 255, 255, 255, 44, 1, 0, 0]));
  });

  it('keeps u8 x s8 pair sums inside int16 (the non-VNNI vpmaddubsw bound)', () => {
    expect(2 * 255 * INT8_WEIGHT_LIMIT).toBeLessThanOrEqual(32767);
    expect(2 * 255 * 127).toBeGreaterThan(32767);
  });
});

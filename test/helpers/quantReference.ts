/**
 * An independent reference for the quantized fixtures (fixtures/models/mlp_qdq.json and
 * mlp_dynamic.json): the quantized arithmetic written out by hand from the ONNX operator
 * definitions. Only the numbers (integer weights, scales, zero points, biases) come from
 * the sidecar; the wiring is restated here, so a graph that connects the wrong scale to a
 * node disagrees with this file even though it agrees with its own sidecar.
 *
 * Integers are exact in JS numbers. Where ONNX defines a float32 result that a later
 * rounding decision depends on (a scale, x / scale, the dequantized matmul), the value is
 * rounded to float32 with Math.fround, as onnxruntime computes it; without that a value a
 * hair from a .5 boundary could quantize one step away. Softmax stays float64.
 *
 * @example
 *   const ref = loadQuantReference('mlp_dynamic');
 *   ref.forward(x, { batchSize: 8192 }).probabilities[0]; // [0.61..., 0.38...]
 */
import { loadSidecar } from './reference.js';

/** A parameter as the sidecar stores it; integer tensors name their type. */
export interface QuantParam {
  shape: number[];
  data: number[];
  elemType?: 'int8' | 'uint8' | 'int32';
}

/** How often the delicate cases occurred, so tests can assert they were exercised. */
export interface QuantTrace {
  /** Quantizations of an exact .5 (e.g. 2.5): round half to even decided the value. */
  ties: number;
  /** Of those, the ones where rounding half away from zero would have given another value. */
  tiesHalfEvenMatters: number;
  /** Values clamped to the integer type's range. */
  saturated: number;
  /** Batches whose dynamic scales were computed (dynamic model only). */
  batches: number;
}

export interface QuantResult {
  probabilities: number[][];
  trace: QuantTrace;
}

export interface QuantReference {
  name: string;
  params: Record<string, QuantParam>;
  /**
   * Probabilities for rows of x (float32 values, [amount, f0, f1, risk score]). The dynamic
   * model quantizes each batch with its own scales: pass the batch size the rows were scored
   * with (rows are cut into consecutive batches of that size, the last one shorter).
   */
  forward(x: readonly number[][], options?: { batchSize?: number }): QuantResult;
}

const RANGES = { int8: [-128, 127], uint8: [0, 255], int32: [-(2 ** 31), 2 ** 31 - 1] } as const;
type IntType = keyof typeof RANGES;

/** Reads `fixtures/models/NAME.json` and returns the reference for that quantized model. */
export function loadQuantReference(name: 'mlp_qdq' | 'mlp_dynamic'): QuantReference {
  const sidecar = loadSidecar(name) as unknown as { params: Record<string, QuantParam> };
  const params = sidecar.params;
  const forward = name === 'mlp_qdq' ? qdqForward(params) : dynamicForward(params);
  return { name, params, forward };
}

/** Round half to even (ONNX QuantizeLinear, onnxruntime's RoundHalfToEven / cvtps2dq). */
export function roundHalfEven(v: number): number {
  const floor = Math.floor(v);
  const frac = v - floor;
  if (frac < 0.5) return floor;
  if (frac > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

function newTrace(): QuantTrace {
  return { ties: 0, tiesHalfEvenMatters: 0, saturated: 0, batches: 0 };
}

/** ONNX QuantizeLinear: saturate(round_half_even(x / scale) + zero_point), x / scale in float32. */
function quantize(v: number, scale: number, zeroPoint: number, type: IntType, trace: QuantTrace): number {
  const scaled = Math.fround(v / scale);
  const rounded = roundHalfEven(scaled);
  if (Math.abs(scaled - Math.trunc(scaled)) === 0.5) {
    trace.ties++;
    if (rounded !== Math.sign(scaled) * Math.round(Math.abs(scaled))) trace.tiesHalfEvenMatters++;
  }
  const [lo, hi] = RANGES[type];
  const q = rounded + zeroPoint;
  if (q < lo || q > hi) trace.saturated++;
  return Math.min(hi, Math.max(lo, q));
}

/** ONNX DequantizeLinear: (q - zero_point) * scale in float32. */
function dequantize(q: number, scale: number, zeroPoint: number): number {
  return Math.fround((q - zeroPoint) * scale);
}

function param(params: Record<string, QuantParam>, name: string, elemType?: IntType): QuantParam {
  const p = params[name];
  if (!p) throw new Error(`quant reference: sidecar has no parameter ${name}`);
  if (p.elemType !== elemType) throw new Error(`quant reference: ${name} is ${p.elemType ?? 'float32'}, expected ${elemType ?? 'float32'}`);
  return p;
}

function scalar(params: Record<string, QuantParam>, name: string, elemType?: IntType): number {
  const p = param(params, name, elemType);
  if (p.shape.length !== 0 || p.data.length !== 1) throw new Error(`quant reference: ${name} should be a scalar, shape ${JSON.stringify(p.shape)}`);
  return p.data[0]!;
}

/** [rows][k] x [k][m] with values produced by `at(i, p, j)`; returns [rows][m]. */
function matmul(rows: number, k: number, m: number, term: (i: number, p: number, j: number) => number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const row: number[] = [];
    for (let j = 0; j < m; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += term(i, p, j);
      row.push(sum);
    }
    out.push(row);
  }
  return out;
}

function softmax(row: readonly number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((v) => Math.exp(v - max));
  const sum = exps.reduce((s, v) => s + v, 0);
  return exps.map((v) => v / sum);
}

function scaleFeatures(params: Record<string, QuantParam>, x: readonly number[][]): number[][] {
  const featureScale = param(params, 'feature_scale').data;
  return x.map((row) => {
    if (row.length !== featureScale.length) throw new Error(`quant reference: a row has ${row.length} features, expected ${featureScale.length}`);
    return row.map((v, k) => Math.fround(Math.fround(v) * featureScale[k]!));
  });
}

/**
 * Gemm(A, B, C) with dequantized operands. The fixture's power-of-two scales make every
 * product and partial sum exact in float32, so summation order cannot matter; this checks
 * that instead of assuming it.
 */
function exactGemm(a: number[][], b: QuantParam, bDq: number[], c: number[]): number[][] {
  const [k, m] = b.shape as [number, number];
  const out = matmul(a.length, k, m, (i, p, j) => a[i]![p]! * bDq[p * m + j]!).map((row) => row.map((v, j) => v + c[j]!));
  for (const row of out) {
    for (const v of row) if (Math.fround(v) !== v) throw new Error(`quant reference: Gemm result ${v} is not float32-exact; the fixture's scales are no longer powers of two`);
  }
  return out;
}

/** mlp_qdq: static scales, so each row's result is independent of its batch. */
function qdqForward(params: Record<string, QuantParam>): QuantReference['forward'] {
  const xScale = scalar(params, 'x_scale');
  const xZero = scalar(params, 'x_zero_point', 'uint8');
  const hScale = scalar(params, 'hidden_scale');
  const hZero = scalar(params, 'hidden_zero_point', 'uint8');
  const lScale = scalar(params, 'logits_scale');
  const lZero = scalar(params, 'logits_zero_point', 'int8');
  const layer = (w: string, b: string) => {
    const W = param(params, `${w}_q`, 'int8');
    const wScale = scalar(params, `${w}_scale`);
    const wZero = scalar(params, `${w}_zero_point`, 'int8');
    const B = param(params, `${b}_q`, 'int32');
    const bScale = scalar(params, `${b}_scale`);
    return { W, Wdq: W.data.map((q) => dequantize(q, wScale, wZero)), bDq: B.data.map((q) => dequantize(q, bScale, 0)) };
  };
  const l1 = layer('W1', 'b1');
  const l2 = layer('W2', 'b2');
  return (x) => {
    const trace = newTrace();
    const qdq = (rows: number[][], scale: number, zero: number, type: IntType) => rows.map((r) => r.map((v) => dequantize(quantize(v, scale, zero, type, trace), scale, zero)));
    const xDq = qdq(scaleFeatures(params, x), xScale, xZero, 'uint8');
    const hidden = exactGemm(xDq, l1.W, l1.Wdq, l1.bDq).map((r) => r.map((v) => Math.max(0, v)));
    const hDq = qdq(hidden, hScale, hZero, 'uint8');
    const logits = qdq(exactGemm(hDq, l2.W, l2.Wdq, l2.bDq), lScale, lZero, 'int8');
    return { probabilities: logits.map(softmax), trace };
  };
}

/**
 * ONNX DynamicQuantizeLinear on a whole tensor (one batch): the range is widened to include
 * 0, scale = (max - min) / 255 and zero point = round(0 - min / scale) clamped to 0..255,
 * every step in float32 as onnxruntime computes it.
 */
function dynamicQuantize(rows: readonly number[][], trace: QuantTrace): { q: number[][]; scale: number; zeroPoint: number } {
  let min = 0;
  let max = 0;
  for (const row of rows) for (const v of row) [min, max] = [Math.min(min, v), Math.max(max, v)];
  const scale = max === min ? 1 : Math.fround(Math.fround(max - min) / 255);
  const initialZero = Math.fround(0 - Math.fround(min / scale));
  const zeroPoint = roundHalfEven(Math.min(255, Math.max(0, initialZero)));
  return { q: rows.map((r) => r.map((v) => quantize(v, scale, zeroPoint, 'uint8', trace))), scale, zeroPoint };
}

/**
 * One dynamically quantized layer: MatMulInteger(a, W) with both zero points (exact integers),
 * Cast to float, Mul by float32(a_scale * w_scale), Add the float bias, each rounded to float32.
 */
function integerLayer(a: { q: number[][]; scale: number; zeroPoint: number }, W: QuantParam, wScale: number, wZero: number, bias: number[]): number[][] {
  const [k, m] = W.shape as [number, number];
  const acc = matmul(a.q.length, k, m, (i, p, j) => (a.q[i]![p]! - a.zeroPoint) * (W.data[p * m + j]! - wZero));
  const scale = Math.fround(a.scale * wScale);
  return acc.map((row) =>
    row.map((v, j) => {
      if (Math.abs(v) >= 2 ** 24) throw new Error(`quant reference: MatMulInteger sum ${v} is not float32-exact`);
      return Math.fround(Math.fround(v * scale) + bias[j]!);
    }),
  );
}

/** mlp_dynamic: scales from each batch's min and max. */
function dynamicForward(params: Record<string, QuantParam>): QuantReference['forward'] {
  const W1 = param(params, 'W1_q', 'int8');
  const w1Scale = scalar(params, 'W1_scale');
  const w1Zero = scalar(params, 'W1_zero_point', 'int8');
  const b1 = param(params, 'b1').data;
  const W2 = param(params, 'W2_q', 'uint8');
  const w2Scale = scalar(params, 'W2_scale');
  const w2Zero = scalar(params, 'W2_zero_point', 'uint8');
  const b2 = param(params, 'b2').data;
  return (x, options = {}) => {
    const trace = newTrace();
    const batchSize = options.batchSize ?? Math.max(1, x.length);
    const scaled = scaleFeatures(params, x);
    const probabilities: number[][] = [];
    for (let start = 0; start < scaled.length; start += batchSize) {
      trace.batches++;
      const batch = scaled.slice(start, start + batchSize);
      const hidden = integerLayer(dynamicQuantize(batch, trace), W1, w1Scale, w1Zero, b1).map((r) => r.map((v) => Math.max(0, v)));
      const logits = integerLayer(dynamicQuantize(hidden, trace), W2, w2Scale, w2Zero, b2);
      probabilities.push(...logits.map(softmax));
    }
    return { probabilities, trace };
  };
}

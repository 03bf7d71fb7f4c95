/**
 * Score arithmetic on row-major [N,C] outputs: probabilities-or-logits detection, softmax,
 * sigmoid and argmax. Pure functions over typed arrays.
 */

type Numeric = ArrayLike<number>;

/** True when every row is within [0,1] and (for C >= 2) sums to 1 within `tolerance`. */
export function looksLikeProbabilities(data: Numeric, rows: number, classes: number, tolerance = 1e-3): boolean {
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const v = data[r * classes + c]!;
      if (!(v >= 0 && v <= 1)) return false;
      sum += v;
    }
    if (classes >= 2 && Math.abs(sum - 1) > tolerance) return false;
  }
  return true;
}

/** Row-wise softmax in float64, stable against large logits. NaN rows stay NaN. */
export function softmaxRows(data: Numeric, rows: number, classes: number): Float64Array {
  const out = new Float64Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const base = r * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, data[base + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp(data[base + c]! - max);
      out[base + c] = e;
      sum += e;
    }
    for (let c = 0; c < classes; c++) out[base + c]! /= sum;
  }
  return out;
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Index of the largest value in row `r`; the first one wins ties; -1 for an all-NaN row. */
export function argmaxRow(data: Numeric, r: number, classes: number): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let c = 0; c < classes; c++) {
    const v = data[r * classes + c]!;
    if (v > bestValue) {
      bestValue = v;
      best = c;
    }
  }
  return best;
}

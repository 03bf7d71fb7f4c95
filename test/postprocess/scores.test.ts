import { describe, expect, it } from 'vitest';
import { argmaxRow, looksLikeProbabilities, sigmoid, softmaxRows } from '../../src/postprocess/scores.js';

describe('looksLikeProbabilities', () => {
  it('accepts rows in [0,1] summing to 1', () => {
    expect(looksLikeProbabilities([0.2, 0.8, 1, 0, 0.5, 0.5], 3, 2)).toBe(true);
    expect(looksLikeProbabilities(new Float32Array([0.1, 0.2, 0.7]), 1, 3)).toBe(true);
  });

  it('tolerates float32 rounding up to 1e-3 and no more', () => {
    expect(looksLikeProbabilities([0.3, 0.7009], 1, 2)).toBe(true);
    expect(looksLikeProbabilities([0.3, 0.6991], 1, 2)).toBe(true);
    expect(looksLikeProbabilities([0.3, 0.7011], 1, 2)).toBe(false);
    expect(looksLikeProbabilities([0.3, 0.6989], 1, 2)).toBe(false);
    expect(looksLikeProbabilities([0.3, 0.702], 1, 2, 0.01)).toBe(true);
  });

  it('refuses a single row out of range or not summing to 1 anywhere in the batch', () => {
    const good = [0.5, 0.5];
    expect(looksLikeProbabilities([...good, ...good, -0.0001, 1.0001], 3, 2)).toBe(false);
    expect(looksLikeProbabilities([...good, 0.2, 0.2], 2, 2)).toBe(false);
    expect(looksLikeProbabilities([1.5, -0.5], 1, 2)).toBe(false);
  });

  it('refuses NaN and infinities', () => {
    expect(looksLikeProbabilities([NaN, 1], 1, 2)).toBe(false);
    expect(looksLikeProbabilities([NaN], 1, 1)).toBe(false);
    expect(looksLikeProbabilities([Infinity, 0], 1, 2)).toBe(false);
  });

  it('one column: only the range matters', () => {
    expect(looksLikeProbabilities([0, 0.3, 1], 3, 1)).toBe(true);
    expect(looksLikeProbabilities([0.3, 1.2], 2, 1)).toBe(false);
    expect(looksLikeProbabilities([-2.3], 1, 1)).toBe(false);
  });

  it('only reads the given rows', () => {
    expect(looksLikeProbabilities([0.5, 0.5, 9, 9], 1, 2)).toBe(true);
  });

  it('zero rows look like anything', () => {
    expect(looksLikeProbabilities([], 0, 2)).toBe(true);
  });
});

describe('softmaxRows', () => {
  it('matches the textbook formula for small logits, row by row', () => {
    const out = softmaxRows([1, 2, 3, 0, 0, 0], 2, 3);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const s = e[0]! + e[1]! + e[2]!;
    expect(out[0]).toBeCloseTo(e[0]! / s, 15);
    expect(out[1]).toBeCloseTo(e[1]! / s, 15);
    expect(out[2]).toBeCloseTo(e[2]! / s, 15);
    expect([...out.subarray(3)]).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('is stable with large logits (no Infinity or NaN)', () => {
    const out = softmaxRows(new Float32Array([1000, 1001, -1000, -1001, 3e38, 3e38]), 3, 2);
    const p = 1 / (1 + Math.exp(1));
    expect(out[0]).toBeCloseTo(p, 12);
    expect(out[1]).toBeCloseTo(1 - p, 12);
    expect(out[2]).toBeCloseTo(1 - p, 12);
    expect(out[3]).toBeCloseTo(p, 12);
    expect([out[4], out[5]]).toEqual([0.5, 0.5]);
    for (const v of out) expect(Number.isFinite(v)).toBe(true);
  });

  it('extreme differences give exact 0 and 1', () => {
    expect([...softmaxRows([0, 800], 1, 2)]).toEqual([0, 1]);
  });

  it('rows sum to 1 and are float64', () => {
    const data = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i) * 20);
    const out = softmaxRows(data, 10, 4);
    expect(out).toBeInstanceOf(Float64Array);
    for (let r = 0; r < 10; r++) expect(out[r * 4]! + out[r * 4 + 1]! + out[r * 4 + 2]! + out[r * 4 + 3]!).toBeCloseTo(1, 12);
  });

  it('a row with NaN stays NaN and does not affect the others', () => {
    const out = softmaxRows([NaN, 1, 0, 0], 2, 2);
    expect(out[0]).toBeNaN();
    expect(out[1]).toBeNaN();
    expect([out[2], out[3]]).toEqual([0.5, 0.5]);
  });
});

describe('sigmoid', () => {
  it('is 1/2 at 0, symmetric, and exact at the extremes', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(2)).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    expect(sigmoid(-2)).toBeCloseTo(1 - sigmoid(2), 15);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(Number.isNaN(sigmoid(-1000))).toBe(false);
    expect(sigmoid(-745)).toBeGreaterThan(0);
  });
});

describe('argmaxRow', () => {
  it('finds the largest value of the row', () => {
    const data = [0.1, 0.7, 0.2, 0.5, 0.1, 0.4];
    expect(argmaxRow(data, 0, 3)).toBe(1);
    expect(argmaxRow(data, 1, 3)).toBe(0);
  });

  it('the first of tied values wins', () => {
    expect(argmaxRow([0.5, 0.5], 0, 2)).toBe(0);
    expect(argmaxRow([0.1, 0.45, 0.45], 0, 3)).toBe(1);
    expect(argmaxRow([-1, -1, -1], 0, 3)).toBe(0);
  });

  it('skips NaN; an all-NaN row is -1', () => {
    expect(argmaxRow([NaN, 0.2, 0.8], 0, 3)).toBe(2);
    expect(argmaxRow([0.9, NaN, 0.1], 0, 3)).toBe(0);
    expect(argmaxRow([NaN, NaN], 0, 2)).toBe(-1);
  });

  it('handles -Infinity as a value', () => {
    expect(argmaxRow([-Infinity, -5], 0, 2)).toBe(1);
  });
});

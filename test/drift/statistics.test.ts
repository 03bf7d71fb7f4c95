/**
 * Drift statistics against worked examples from their definitions and values of the
 * distributions computed independently (closed forms, or scipy's published values with their
 * derivation in a comment).
 */
import { describe, expect, it } from 'vitest';
import { chiSquareSurvival, gammaQ, kolmogorovSurvival, ksPValue } from '../../src/drift/distributions.js';
import { binShares, chiSquare, decileEdges, jensenShannon, ksStatistic, psi, wasserstein, type WeightedSample } from '../../src/drift/statistics.js';

/** An unweighted sample as the statistics read it. */
function sample(values: number[]): WeightedSample {
  const items = Float64Array.from(values).sort();
  return { items, weights: new Float64Array(items.length).fill(1), total: items.length };
}

describe('PSI', () => {
  it('is 0 for identical shares', () => {
    expect(psi([0.1, 0.2, 0.7], [0.1, 0.2, 0.7])).toBe(0);
  });
  it('is sum (c - r) ln(c / r): [0.5, 0.5] to [0.25, 0.75] is 0.25 ln 2 + 0.25 ln 1.5', () => {
    expect(psi([0.5, 0.5], [0.25, 0.75])).toBeCloseTo(0.25 * Math.log(2) + 0.25 * Math.log(1.5), 12);
  });
  it('an empty bin counts as 1e-4', () => {
    expect(psi([0.5, 0.5, 0], [0.4, 0.5, 0.1])).toBeCloseTo(-0.1 * Math.log(0.8) + (0.1 - 1e-4) * Math.log(0.1 / 1e-4), 12);
  });
  it('deciles of 1..100 are 10, 20, ..., 90 and a shifted sample moves a tenth per bin', () => {
    const ref = sample(Array.from({ length: 100 }, (_, i) => i + 1));
    const edges = decileEdges(ref);
    expect(edges).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(binShares(ref, edges)).toEqual(Array(10).fill(0.1).map((v, i) => expect.closeTo(v, 12) as unknown as number));
    const cur = sample(Array.from({ length: 100 }, (_, i) => i + 6));
    expect(binShares(cur, edges)[0]).toBeCloseTo(0.05, 12);
    expect(binShares(cur, edges)[9]).toBeCloseTo(0.15, 12);
  });
});

describe('KS', () => {
  it('is 1 for disjoint samples and 0 for identical ones', () => {
    expect(ksStatistic(sample([1, 2, 3]), sample([4, 5, 6, 7]))).toBe(1);
    expect(ksStatistic(sample([1, 2, 3]), sample([3, 2, 1]))).toBe(0);
  });
  it('is the largest CDF difference: {1,2,3,4} vs {3,4,5,6} is 0.5 (at x = 2)', () => {
    expect(ksStatistic(sample([1, 2, 3, 4]), sample([3, 4, 5, 6]))).toBe(0.5);
  });
  it('the Kolmogorov survival function matches its series and scipy', () => {
    // scipy.stats.kstwobign.sf(1.0) = 0.26999967167735456 = 2 sum (-1)^(j-1) exp(-2 j^2).
    const series = 2 * Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 1 : -1) * Math.exp(-2 * (i + 1) ** 2)).reduce((a, b) => a + b, 0);
    expect(series).toBeCloseTo(0.26999967167735456, 14);
    expect(kolmogorovSurvival(1)).toBeCloseTo(0.26999967167735456, 12);
    // scipy.stats.kstwobign.sf(0.5) = 0.9639452436648751 (below 1.18 the other theta series is used).
    expect(kolmogorovSurvival(0.5)).toBeCloseTo(0.9639452436648751, 12);
    // At 1.18 (the alternating series) it equals the other theta series, 1 - sqrt(2 pi)/l sum exp(-(2j-1)^2 pi^2 / (8 l^2)).
    const theta = 1 - (Math.sqrt(2 * Math.PI) / 1.18) * Array.from({ length: 30 }, (_, j) => Math.exp(-((2 * j + 1) ** 2) * Math.PI ** 2 / (8 * 1.18 ** 2))).reduce((a, b) => a + b, 0);
    expect(kolmogorovSurvival(1.18)).toBeCloseTo(theta, 12);
    // scipy.stats.kstwobign.isf(0.05) = 1.3580986393225505.
    expect(kolmogorovSurvival(1.3580986393225505)).toBeCloseTo(0.05, 12);
    expect(kolmogorovSurvival(0)).toBe(1);
  });
  it('the p-value uses the effective n = n m / (n + m)', () => {
    // n = m = 200: en = 100, so D = 0.1 gives lambda = 1.
    expect(ksPValue(0.1, 200, 200)).toBeCloseTo(0.26999967167735456, 12);
  });
});

describe('Wasserstein', () => {
  it('a shift by d is d', () => {
    const a = [0, 1, 2, 3, 7.5];
    expect(wasserstein(sample(a), sample(a.map((v) => v + 0.25)))).toBeCloseTo(0.25, 12);
    expect(wasserstein(sample(a), sample(a))).toBe(0);
  });
  it('is the area between the CDFs: {0} vs {0, 2} is 1', () => {
    expect(wasserstein(sample([0]), sample([0, 2]))).toBeCloseTo(1, 12);
  });
});

describe('chi-square', () => {
  it('the survival function matches closed forms and scipy', () => {
    for (const x of [0.5, 2, 7.3, 40]) {
      expect(chiSquareSurvival(x, 2)).toBeCloseTo(Math.exp(-x / 2), 12);
      expect(chiSquareSurvival(x, 4)).toBeCloseTo(Math.exp(-x / 2) * (1 + x / 2), 12);
    }
    // scipy.stats.chi2.isf(0.05, 1) = 3.841458820694124; chi2.isf(0.01, 1) = 6.6348966010212145.
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquareSurvival(6.6348966010212145, 1)).toBeCloseTo(0.01, 12);
    // scipy.stats.chi2.isf(0.05, 10) = 18.307038053275146; chi2.isf(0.01, 15) = 30.57791416689249.
    expect(chiSquareSurvival(18.307038053275146, 10)).toBeCloseTo(0.05, 11);
    expect(chiSquareSurvival(30.57791416689249, 15)).toBeCloseTo(0.01, 11);
    expect(gammaQ(3, 0)).toBe(1);
  });
  it('a 2 x 3 table: [20, 30, 50] vs [30, 30, 40]', () => {
    // Row totals 100 and 100, column totals 50, 60, 90: expected 25, 30, 45 in both rows.
    // chi2 = 2 (25/25 + 0/30 + 25/45) = 28/9, dof 2, p = exp(-14/9) = 0.21107...
    const r = chiSquare([20, 30, 50], [30, 30, 40]);
    expect(r.statistic).toBeCloseTo(28 / 9, 12);
    expect(r.dof).toBe(2);
    expect(r.pValue).toBeCloseTo(Math.exp(-14 / 9), 12);
  });
  it('a category neither row has is left out', () => {
    expect(chiSquare([20, 0, 30, 50], [30, 0, 30, 40])).toEqual(chiSquare([20, 30, 50], [30, 30, 40]));
  });
});

describe('Jensen-Shannon distance (base 2)', () => {
  it('is 0 for identical and 1 for disjoint distributions', () => {
    expect(jensenShannon([3, 1], [6, 2])).toBe(0);
    expect(jensenShannon([1, 0], [0, 1])).toBe(1);
  });
  it('[1, 0] vs [0.5, 0.5] is sqrt of (log2(4/3) + 0.5 log2(2/3) + 0.5) / 2', () => {
    // M = [0.75, 0.25]: KL(P||M) = log2(1/0.75), KL(Q||M) = 0.5 log2(0.5/0.75) + 0.5 log2(0.5/0.25).
    const expected = Math.sqrt((Math.log2(4 / 3) + 0.5 * Math.log2(2 / 3) + 0.5) / 2);
    expect(jensenShannon([1, 0], [0.5, 0.5])).toBeCloseTo(expected, 12);
    // scipy.spatial.distance.jensenshannon([1, 0], [0.5, 0.5], base=2) = 0.5579230452...
    expect(jensenShannon([1, 0], [0.5, 0.5])).toBeCloseTo(0.557923, 5);
  });
});

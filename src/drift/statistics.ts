/**
 * Drift statistics from their definitions, over distributions as profiles hold them: numbers
 * as weighted sorted samples (a quantile sketch's items) and categories as counts.
 * docs/drift.md gives each definition, its epsilon and its normalisation.
 */
import { chiSquareSurvival } from './distributions.js';

/** A distribution of numbers: sorted values with their weights (a sketch's items); `total` is the number of values. */
export interface WeightedSample {
  items: Float64Array;
  weights: Float64Array;
  total: number;
}

/** Shares below this count as this in PSI and the bins' shares never reach 0: ln(0) has no value. */
export const PSI_EPSILON = 1e-4;

/**
 * Population stability index: sum over bins of (cur - ref) ln(cur / ref), each share clipped
 * below at PSI_EPSILON. 0 for identical shares.
 */
export function psi(reference: readonly number[], current: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i]!, PSI_EPSILON);
    const c = Math.max(current[i]!, PSI_EPSILON);
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}

/** Share of the sample <= x. */
export function sampleCdf(s: WeightedSample, x: number): number {
  let lo = 0;
  let hi = s.items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s.items[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  let weight = 0;
  for (let i = 0; i < lo; i++) weight += s.weights[i]!;
  return s.total === 0 ? 0 : weight / s.total;
}

/** The lowest value whose cumulative share reaches q. */
export function sampleQuantile(s: WeightedSample, q: number): number {
  let cumulative = 0;
  const target = q * s.total;
  for (let i = 0; i < s.items.length; i++) {
    cumulative += s.weights[i]!;
    if (cumulative >= target && cumulative > 0) return s.items[i]!;
  }
  return s.items[s.items.length - 1] ?? NaN;
}

/** Bin edges of the reference's deciles (its 10%, ..., 90% quantiles), repeated edges once (a discrete column has fewer bins). */
export function decileEdges(reference: WeightedSample): number[] {
  const edges: number[] = [];
  for (let i = 1; i < 10; i++) {
    const q = sampleQuantile(reference, i / 10);
    if (edges.length === 0 || q > edges[edges.length - 1]!) edges.push(q);
  }
  return edges;
}

/** Shares of the bins (-inf, e1], (e1, e2], ..., (ek, inf). */
export function binShares(s: WeightedSample, edges: readonly number[]): number[] {
  const below = edges.map((e) => sampleCdf(s, e));
  return [...below, 1].map((b, i) => b - (i === 0 ? 0 : below[i - 1]!));
}

/** Calls `visit(x, cdfA(x), cdfB(x), next)` at every distinct value of the two samples, in order. */
function sweep(a: WeightedSample, b: WeightedSample, visit: (x: number, fa: number, fb: number, next: number) => void): void {
  let i = 0;
  let j = 0;
  let wa = 0;
  let wb = 0;
  while (i < a.items.length || j < b.items.length) {
    const x = Math.min(a.items[i] ?? Infinity, b.items[j] ?? Infinity);
    while (i < a.items.length && a.items[i]! <= x) wa += a.weights[i++]!;
    while (j < b.items.length && b.items[j]! <= x) wb += b.weights[j++]!;
    const next = Math.min(a.items[i] ?? Infinity, b.items[j] ?? Infinity);
    visit(x, wa / a.total, wb / b.total, next);
  }
}

/** The two-sample Kolmogorov-Smirnov statistic: the largest difference of the two CDFs. */
export function ksStatistic(a: WeightedSample, b: WeightedSample): number {
  let d = 0;
  sweep(a, b, (_x, fa, fb) => {
    d = Math.max(d, Math.abs(fa - fb));
  });
  return d;
}

/** The Wasserstein-1 distance: the area between the two CDFs. */
export function wasserstein(a: WeightedSample, b: WeightedSample): number {
  let area = 0;
  sweep(a, b, (x, fa, fb, next) => {
    if (Number.isFinite(next)) area += Math.abs(fa - fb) * (next - x);
  });
  return area;
}

/**
 * Pearson's chi-square test of homogeneity of two rows of counts over the same categories
 * (no continuity correction); categories with no count in either row are left out.
 */
export function chiSquare(reference: readonly number[], current: readonly number[]): { statistic: number; dof: number; pValue: number } {
  const keep = reference.map((r, i) => r + current[i]! > 0);
  const ref = reference.filter((_, i) => keep[i]);
  const cur = current.filter((_, i) => keep[i]);
  const nRef = ref.reduce((s, v) => s + v, 0);
  const nCur = cur.reduce((s, v) => s + v, 0);
  const n = nRef + nCur;
  let statistic = 0;
  for (let i = 0; i < ref.length; i++) {
    const total = ref[i]! + cur[i]!;
    for (const [observed, rowTotal] of [[ref[i]!, nRef], [cur[i]!, nCur]] as const) {
      const expected = (total * rowTotal) / n;
      statistic += ((observed - expected) ** 2) / expected;
    }
  }
  const dof = ref.length - 1;
  return { statistic, dof, pValue: dof < 1 ? 1 : chiSquareSurvival(statistic, dof) };
}

/** Jensen-Shannon distance in base 2 (the square root of the divergence): 0 identical, 1 disjoint. */
export function jensenShannon(p: readonly number[], q: readonly number[]): number {
  const sp = p.reduce((s, v) => s + v, 0);
  const sq = q.reduce((s, v) => s + v, 0);
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i]! / sp;
    const b = q[i]! / sq;
    const m = (a + b) / 2;
    if (a > 0) divergence += 0.5 * a * Math.log2(a / m);
    if (b > 0) divergence += 0.5 * b * Math.log2(b / m);
  }
  return Math.sqrt(Math.max(0, Math.min(1, divergence)));
}

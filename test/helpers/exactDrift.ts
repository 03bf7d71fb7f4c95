/**
 * Exact drift statistics of two samples, from their definitions, and the seeded pairs of
 * samples the sketches' accuracy is checked on (test/profile) and measured on (bench/).
 */
import { binShares, decileEdges, ksStatistic, psi } from '../../src/drift/statistics.js';
import { QuantileSketch } from '../../src/profile/quantileSketch.js';
import { normals, uniform } from './seeded.js';

/** Sums of two seeded uniform integers in 0..spread-1: ties. */
function integers(seed: number, n: number, spread: number): Float64Array {
  const u = uniform(seed);
  return Float64Array.from({ length: n }, () => Math.floor(u() * spread) + Math.floor(u() * spread));
}

/** The reference and current samples (n values each) of the sketch accuracy checks, by name. */
export function accuracyCases(n: number): [string, () => [Float64Array, Float64Array]][] {
  return [
    ['normal, shifted by 0.1 sd', () => [normals(1, n), normals(2, n, 0.1, 1.1)]],
    ['large offset (1e6 + normal), shifted', () => [normals(3, n, 1e6, 1), normals(4, n, 1e6 + 0.05, 1)]],
    ['integers with ties (sum of two uniform 0..19)', () => [integers(5, n, 20), integers(6, n, 21)]],
    ['same distribution', () => [normals(7, n), normals(8, n)]],
  ];
}

/** Values <= x in a sorted array. */
export function countAtMost(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** KS of sorted samples by one merge pass; PSI over the reference's exact deciles, shares clipped at 1e-4. */
export function exactKsPsi(ref: Float64Array, cur: Float64Array): { ks: number; psi: number } {
  let [i, j, ks] = [0, 0, 0];
  while (i < ref.length || j < cur.length) {
    const x = Math.min(ref[i] ?? Infinity, cur[j] ?? Infinity);
    while (i < ref.length && ref[i]! <= x) i++;
    while (j < cur.length && cur[j]! <= x) j++;
    ks = Math.max(ks, Math.abs(i / ref.length - j / cur.length));
  }
  const edges: number[] = [];
  for (let d = 1; d < 10; d++) {
    const q = ref[Math.ceil((d / 10) * ref.length) - 1]!;
    if (edges.length === 0 || q > edges.at(-1)!) edges.push(q);
  }
  const shares = (s: Float64Array): number[] => {
    const below = [...edges.map((e) => countAtMost(s, e) / s.length), 1];
    return below.map((b, k) => Math.max(b - (k === 0 ? 0 : below[k - 1]!), 1e-4));
  };
  const r = shares(ref);
  const c = shares(cur);
  return { ks, psi: r.reduce((sum, rk, k) => sum + (c[k]! - rk) * Math.log(c[k]! / rk), 0) };
}

/** A current sketch's KS and decile PSI (`got`, as `drift` computes them against the reference's full sketch), the exact figures (`want`), and the errors. */
export interface SketchErrors {
  got: { ks: number; psi: number };
  want: { ks: number; psi: number };
  ks: number;
  psi: number;
}

/** How far a sketch of `current` takes KS and PSI from their exact values against `reference` (its full sketch, decile bins). */
export function sketchErrorsAgainst(reference: Float64Array, current: Float64Array): (sketch: QuantileSketch) => SketchErrors {
  const want = exactKsPsi(Float64Array.from(reference).sort(), Float64Array.from(current).sort());
  const full = new QuantileSketch();
  full.addArray(reference);
  const r = full.sorted();
  const edges = decileEdges(r);
  return (sketch) => {
    const c = sketch.sorted();
    const got = { ks: ksStatistic(r, c), psi: psi(binShares(r, edges), binShares(c, edges)) };
    return { got, want, ks: Math.abs(got.ks - want.ks), psi: Math.abs(got.psi - want.psi) };
  };
}

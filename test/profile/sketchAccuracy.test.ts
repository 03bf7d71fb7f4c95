/**
 * The quantile sketch is accurate enough for drift: on 1M seeded values the KS statistic and
 * the PSI on the reference's deciles computed from two sketches are within 0.005 of the exact
 * values computed here from the sorted data, also when the sketches are merged from parts;
 * built value by value (`addArray`) and as a dataset's profile builds them (ColumnProfiler:
 * chunks of 2048, sorted runs thinned at once and merged).
 */
import { describe, expect, it } from 'vitest';
import { ColumnProfiler } from '../../src/profile/columnProfile.js';
import { QuantileSketch } from '../../src/profile/quantileSketch.js';
import { binShares, decileEdges, ksStatistic, psi } from '../../src/drift/statistics.js';
import { normals } from '../helpers/seeded.js';
import { accuracyCases, countAtMost } from '../helpers/exactDrift.js';

const N = 1_000_000;


/** sup |F_a - F_b| over every value of either sample, from the definition. */
function exactKs(a: Float64Array, b: Float64Array): number {
  let d = 0;
  for (const x of [a, b]) for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(countAtMost(a, x[i]!) / a.length - countAtMost(b, x[i]!) / b.length));
  return d;
}

/** PSI over the exact deciles of `ref` (the lowest value of rank >= q n), shares clipped at 1e-4. */
function exactPsi(ref: Float64Array, cur: Float64Array): number {
  const edges: number[] = [];
  for (let i = 1; i < 10; i++) {
    const q = ref[Math.ceil((i / 10) * ref.length) - 1]!;
    if (edges.length === 0 || q > edges.at(-1)!) edges.push(q);
  }
  const shares = (s: Float64Array): number[] => {
    const below = [...edges.map((e) => countAtMost(s, e) / s.length), 1];
    return below.map((b, i) => b - (i === 0 ? 0 : below[i - 1]!));
  };
  const r = shares(ref);
  const c = shares(cur);
  return r.reduce((sum, ri, i) => sum + (Math.max(c[i]!, 1e-4) - Math.max(ri, 1e-4)) * Math.log(Math.max(c[i]!, 1e-4) / Math.max(ri, 1e-4)), 0);
}

type Build = 'addArray' | 'dataset profile';

/** The sketch of `values` built one way or the other. */
function built(values: Float64Array, build: Build): QuantileSketch {
  if (build === 'addArray') {
    const s = new QuantileSketch();
    s.addArray(values);
    return s;
  }
  const column = new ColumnProfiler('x', 'DOUBLE', 'numeric');
  for (let i = 0; i < values.length; i += 2048) column.addNumbers(values.subarray(i, Math.min(values.length, i + 2048)));
  return QuantileSketch.fromJSON(column.toJSON().numeric!.sketch);
}

function sketchOf(values: Float64Array, parts = 1, build: Build = 'addArray'): QuantileSketch {
  const size = Math.ceil(values.length / parts);
  const sketches = Array.from({ length: parts }, (_, p) => built(values.subarray(p * size, Math.min(values.length, (p + 1) * size)), build));
  const merged = sketches[0]!;
  for (const s of sketches.slice(1)) merged.merge(QuantileSketch.fromJSON(JSON.parse(JSON.stringify(s.toJSON()))));
  return merged;
}

function bySketch(ref: QuantileSketch, cur: QuantileSketch): { ks: number; psi: number } {
  const r = ref.sorted();
  const c = cur.sorted();
  const edges = decileEdges(r);
  return { ks: ksStatistic(r, c), psi: psi(binShares(r, edges), binShares(c, edges)) };
}


describe('quantile sketch accuracy on 1M values', () => {
  for (const [name, make] of accuracyCases(N)) {
    it(`${name}: KS and PSI within 0.005 of exact, one sketch and merged from 4 parts, both ways of building`, () => {
      const [ref, cur] = make();
      const sortedRef = Float64Array.from(ref).sort();
      const sortedCur = Float64Array.from(cur).sort();
      const exact = { ks: exactKsFast(sortedRef, sortedCur), psi: exactPsi(sortedRef, sortedCur) };
      for (const build of ['addArray', 'dataset profile'] as const) {
        for (const parts of [1, 4]) {
          const got = bySketch(sketchOf(ref, parts, build), sketchOf(cur, parts, build));
          expect(Math.abs(got.ks - exact.ks), `KS ${got.ks} vs ${exact.ks}, ${parts} part(s), ${build}`).toBeLessThan(0.005);
          expect(Math.abs(got.psi - exact.psi), `PSI ${got.psi} vs ${exact.psi}, ${parts} part(s), ${build}`).toBeLessThan(0.005);
        }
      }
    }, 60_000);
  }

  it('the exact KS helper agrees with its definition on a small sample', () => {
    const a = Float64Array.from(normals(9, 300)).sort();
    const b = Float64Array.from(normals(10, 200, 0.3)).sort();
    expect(exactKsFast(a, b)).toBeCloseTo(exactKs(a, b), 12);
  });

  it.each(['addArray', 'dataset profile'] as const)('quantiles are within 0.002 in rank of the exact ones (%s)', (build) => {
    const values = normals(11, N);
    const sorted = Float64Array.from(values).sort();
    const sketch = sketchOf(values, 3, build);
    for (let q = 0.01; q < 1; q += 0.01) {
      const rank = countAtMost(sorted, sketch.quantile(q)) / N;
      expect(Math.abs(rank - q), `q ${q}`).toBeLessThan(0.002);
    }
    expect(sketch.n).toBe(N);
  }, 60_000);
});

/** KS of sorted samples by one merge pass: the same supremum as exactKs, in linear time. */
function exactKsFast(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < a.length || j < b.length) {
    const x = Math.min(a[i] ?? Infinity, b[j] ?? Infinity);
    while (i < a.length && a[i]! <= x) i++;
    while (j < b.length && b[j]! <= x) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

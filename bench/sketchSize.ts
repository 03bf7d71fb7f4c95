/**
 * How a run's sketch size (k, the top compactor's capacity) bears on its accuracy: KS and
 * decile PSI errors of a run's sampled sketch (rowSample.ts: a file's first 16,384 rows whole,
 * then 1 in 16 at level 4) of 1M seeded values, in one part and in four merged, against the
 * exact figures from the sorted data, for k = 2048 (the default), 1024, 512 and 256. The cases
 * are those of test/profile/runSketchAccuracy.test.ts.
 *
 *   npx tsx bench/sketchSize.ts
 */
import { binShares, decileEdges, ksStatistic, psi } from '../src/drift/statistics.js';
import { QuantileSketch } from '../src/profile/quantileSketch.js';
import { EXACT_ROWS, sampled, SAMPLE_LEVEL } from '../src/profile/rowSample.js';
import { exactKsPsi } from '../test/helpers/exactDrift.js';
import { normals, uniform } from '../test/helpers/seeded.js';

const N = 1_000_000;
const SIZES = [2048, 1024, 512, 256];

function integers(seed: number, spread: number): Float64Array {
  const u = uniform(seed);
  return Float64Array.from({ length: N }, () => Math.floor(u() * spread) + Math.floor(u() * spread));
}

const CASES: [string, () => [Float64Array, Float64Array]][] = [
  ['normal, shifted by 0.1 sd', () => [normals(1, N), normals(2, N, 0.1, 1.1)]],
  ['1e6 + normal, shifted', () => [normals(3, N, 1e6, 1), normals(4, N, 1e6 + 0.05, 1)]],
  ['integers with ties', () => [integers(5, 20), integers(6, 21)]],
  ['same distribution', () => [normals(7, N), normals(8, N)]],
];

/** The sketch a run keeps of `values` (one input file) in `parts` parts of k = `k`, merged as a run's profile is. */
function runSketch(values: Float64Array, parts: number, k: number): QuantileSketch {
  const per = Math.ceil(N / parts);
  let merged: QuantileSketch | null = null;
  for (let p = 0; p < parts; p++) {
    const exact: number[] = [];
    const weighted: number[] = [];
    for (let r = p * per; r < Math.min(N, (p + 1) * per); r++) {
      if (r < EXACT_ROWS) exact.push(values[r]!);
      else if (sampled(0, r)) weighted.push(values[r]!);
    }
    const sketch = QuantileSketch.ofSorted(Float64Array.from(exact).sort(), 0, k);
    if (weighted.length > 0) sketch.merge(QuantileSketch.ofSorted(Float64Array.from(weighted).sort(), SAMPLE_LEVEL, k));
    const part = QuantileSketch.fromJSON(sketch.toJSON());
    if (merged) merged.merge(part);
    else merged = part;
  }
  return merged!;
}

console.log(`| data | parts | ${SIZES.map((k) => `KS, PSI error at k = ${k}`).join(' | ')} |`);
console.log(`|---|---:|${SIZES.map(() => '---:').join('|')}|`);
for (const [name, make] of CASES) {
  const [reference, current] = make();
  const want = exactKsPsi(Float64Array.from(reference).sort(), Float64Array.from(current).sort());
  const full = new QuantileSketch();
  full.addArray(reference);
  const r = full.sorted();
  const edges = decileEdges(r);
  for (const parts of [1, 4]) {
    const errors = SIZES.map((k) => {
      const c = runSketch(current, parts, k).sorted();
      const ks = Math.abs(ksStatistic(r, c) - want.ks);
      const p = Math.abs(psi(binShares(r, edges), binShares(c, edges)) - want.psi);
      return `${ks.toFixed(4)}, ${p.toFixed(4)}`;
    });
    console.log(`| ${name} | ${parts} | ${errors.join(' | ')} |`);
  }
}

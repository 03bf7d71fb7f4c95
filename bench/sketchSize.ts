/**
 * How a run's sketch size (k, the top compactor's capacity) bears on its accuracy: KS and
 * decile PSI errors of a run's sampled sketch (rowSample.ts: a file's first 16,384 rows whole,
 * then 1 in 16 at level 4) of 1M seeded values, in one part and in four merged, against the
 * exact figures from the sorted data, for k = 2048 (the default), 1024, 512 and 256. The cases
 * are those of test/profile/runSketchAccuracy.test.ts.
 *
 *   npx tsx bench/sketchSize.ts
 */
import { QuantileSketch } from '../src/profile/quantileSketch.js';
import { EXACT_ROWS, sampled, SAMPLE_LEVEL } from '../src/profile/rowSample.js';
import { accuracyCases, sketchErrorsAgainst } from '../test/helpers/exactDrift.js';

const N = 1_000_000;
const SIZES = [2048, 1024, 512, 256];


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
for (const [name, make] of accuracyCases(N)) {
  const [reference, current] = make();
  const errorsOf = sketchErrorsAgainst(reference, current);
  for (const parts of [1, 4]) {
    const errors = SIZES.map((k) => {
      const { ks, psi } = errorsOf(runSketch(current, parts, k));
      return `${ks.toFixed(4)}, ${psi.toFixed(4)}`;
    });
    console.log(`| ${name} | ${parts} | ${errors.join(' | ')} |`);
  }
}

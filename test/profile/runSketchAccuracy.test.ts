/**
 * A run's sampled sketch (every row of a file's first 16,384 rows, then 1 in 16 at weight 16)
 * is accurate enough for drift: on 1M seeded values, KS and the decile PSI of a run's profile
 * against the full sketch of a reference are within 0.005 of the exact values from the sorted
 * data (test/helpers/exactDrift.ts; the definitions are those of sketchAccuracy.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../src/profile/quantileSketch.js';
import { RunProfiler } from '../../src/profile/runProfiler.js';
import { accuracyCases, sketchErrorsAgainst } from '../helpers/exactDrift.js';

const N = 1_000_000;

/** The run's sketch of `values` fed as a run feeds it: batches of 2048 rows of one input file, in `parts` parts merged. */
function runSketch(values: Float64Array, parts: number): QuantileSketch {
  const profiler = new RunProfiler([{ name: 'v', type: 'DOUBLE', kind: 'numeric', feed: 'x', position: 0, width: 1, nanIsNull: false, countValues: false }], null);
  for (let r = 0; r < values.length; r += 2048) profiler.addBatch({ x: { data: values.subarray(r, r + 2048) } }, Math.min(2048, values.length - r), 0, r);
  const perPart = Math.ceil(values.length / parts / 2048) * 2048;
  const sketches = Array.from({ length: parts }, () => QuantileSketch.fromJSON(profiler.takePart(perPart, 'v').columns[0]!.numeric!.sketch));
  for (const s of sketches.slice(1)) sketches[0]!.merge(s);
  return sketches[0]!;
}


describe("a run's sampled sketch on 1M values", () => {
  for (const [name, make] of accuracyCases(N)) {
    it(`${name}: KS and PSI against a full reference sketch within 0.005 of exact, one part and four`, () => {
      const [ref, cur] = make();
      const errors = sketchErrorsAgainst(ref, cur);
      for (const parts of [1, 4]) {
        const sketch = runSketch(cur, parts);
        expect(sketch.n).toBeGreaterThan(0.97 * N);
        expect(sketch.n).toBeLessThan(1.03 * N);
        const { got, want, ks, psi } = errors(sketch);
        expect(ks, `KS ${got.ks} vs ${want.ks}, ${parts} part(s)`).toBeLessThan(0.005);
        expect(psi, `PSI ${got.psi} vs ${want.psi}, ${parts} part(s)`).toBeLessThan(0.005);
      }
    }, 60_000);
  }
});

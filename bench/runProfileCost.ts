/**
 * A run's profile, in isolation (one thread, no workers): the CPU it adds per 1M rows of the
 * bench's MLP input (30 float32 features, batches of 2048, 3 prediction columns, one part),
 * split into the per-batch hook and the part's profile (sketches built, JSON written, merged
 * at the commit); and the accuracy of its sampled sketch: KS and decile PSI of an in-run
 * profile of 1M seeded values against a full profile of other 1M values, next to the exact
 * figures from the sorted data. Median of 5 after a first run, whose time is shown too (a run
 * profiles once per process, with code V8 has not optimized yet).
 *
 *   npx tsx bench/runProfileCost.ts
 */
import { accuracyCases, sketchErrorsAgainst } from '../test/helpers/exactDrift.js';
import { binShares, decileEdges, ksStatistic, psi } from '../src/drift/statistics.js';
import { mergeProfiles } from '../src/profile/profile.js';
import { QuantileSketch } from '../src/profile/quantileSketch.js';
import { ARGMAX } from '../src/profile/kernels.js';
import { RunProfiler, type TensorColumn } from '../src/profile/runProfiler.js';
import { uniform } from '../test/helpers/seeded.js';

const N = 1_000_000;
const K = 30;
const BATCH = 2048;

/** The first run's time (the code not yet optimized, as in a run), and the median of 5 after it. */
function timed(run: () => number): { first: number; median: number } {
  const first = run();
  const ms = Array.from({ length: 5 }, run).sort((a, b) => a - b);
  return { first, median: ms[2]! };
}

function cost(): void {
  const columns: TensorColumn[] = Array.from({ length: K }, (_, j) => ({ name: `f${j}`, type: 'FLOAT', kind: 'numeric', feed: 'x', position: j, width: K, nanIsNull: true, countValues: false }));
  const u = uniform(1);
  const batches = Array.from({ length: 8 }, () => Float32Array.from({ length: BATCH * K }, () => u() * 2 - 1));
  const probs = Float32Array.from({ length: BATCH }, () => u());
  let hook = 0;
  let part = 0;
  const total = timed(() => {
    const profiler = new RunProfiler(columns, { classes: ['legit', 'fraud'], review: false, numeric: ['confidence', 'prob_legit', 'prob_fraud'] });
    const started = performance.now();
    for (let r = 0, b = 0; r < N; r += BATCH, b++) {
      const rows = Math.min(BATCH, N - r);
      profiler.addBatch({ x: { data: batches[b % batches.length]! } }, rows, 0, r);
      profiler.addPredictions(rows, { kind: 'two-class', p0: null, p1: probs, rule: ARGMAX });
    }
    const hooked = performance.now();
    const profile = profiler.takePart(N, 'bench');
    const text = JSON.stringify(profile);
    JSON.stringify(mergeProfiles([JSON.parse(text)], 'bench'));
    const done = performance.now();
    hook = hooked - started;
    part = done - hooked;
    return done - started;
  });
  console.log(`run profile of 1M rows x 30 float32 features + 3 prediction columns: ${total.median.toFixed(0)} ms (per-batch hook ${hook.toFixed(0)} ms, part profile + merge ${part.toFixed(0)} ms); the first time, its code not yet optimized: ${total.first.toFixed(0)} ms`);
}


function inRunSketch(values: Float64Array): QuantileSketch {
  const profiler = new RunProfiler([{ name: 'v', type: 'DOUBLE', kind: 'numeric', feed: 'x', position: 0, width: 1, nanIsNull: false, countValues: false }], null);
  for (let r = 0; r < values.length; r += BATCH) profiler.addBatch({ x: { data: values.subarray(r, r + BATCH) } }, Math.min(BATCH, values.length - r), 0, r);
  return QuantileSketch.fromJSON(profiler.takePart(values.length, 'bench').columns[0]!.numeric!.sketch);
}

function accuracy(): void {
  console.log('| data (reference vs current) | exact KS | KS error | exact PSI | PSI error |');
  for (const [name, make] of accuracyCases(N)) {
    const [ref, cur] = make();
    const { want, ks, psi } = sketchErrorsAgainst(ref, cur)(inRunSketch(cur));
    console.log(`| ${name} | ${want.ks.toFixed(4)} | ${ks.toFixed(4)} | ${want.psi.toPrecision(3)} | ${psi.toPrecision(2)} |`);
  }
}

cost();
accuracy();

/**
 * Merging profiles as a run's commit does: the two lanes' part profiles of a 1M-row run (30
 * float32 features and 3 prediction columns, each lane's sample sketched as a run does), merged
 * 30 times in one process: the first merge (its code not yet optimized) and the median of the
 * rest. Also the part's sketches: 33 columns of a 1M-row part's sample, 10 times.
 *
 *   npx tsx bench/profileMerge.ts
 */
import { mergeProfiles, type Profile } from '../src/profile/profile.js';
import { sketchPart } from '../src/profile/rowSample.js';
import { ARGMAX } from '../src/profile/kernels.js';
import { RunProfiler, type TensorColumn } from '../src/profile/runProfiler.js';
import { uniform } from '../test/helpers/seeded.js';

const K = 30;
const BATCH = 16_384;
const LANE = 500_000;

function laneProfile(seed: number, rowStart: number): Profile {
  const columns: TensorColumn[] = Array.from({ length: K }, (_, j) => ({ name: `f${j}`, type: 'FLOAT', kind: 'numeric', feed: 'x', position: j, width: K, nanIsNull: true, countValues: false }));
  const profiler = new RunProfiler(columns, { classes: ['legit', 'fraud'], review: false, numeric: ['confidence', 'prob_legit', 'prob_fraud'] });
  const u = uniform(seed);
  for (let r = 0; r < LANE; r += BATCH) {
    const rows = Math.min(BATCH, LANE - r);
    const data = Float32Array.from({ length: rows * K }, () => u() * 2 - 1);
    const probs = Float32Array.from({ length: rows }, () => u());
    profiler.addBatch({ x: { data } }, rows, 0, rowStart + r);
    profiler.addPredictions(rows, { kind: 'two-class', p0: null, p1: probs, rule: ARGMAX });
  }
  return JSON.parse(JSON.stringify(profiler.takePart(LANE, 'bench'))) as Profile;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const lanes = [laneProfile(1, 0), laneProfile(2, LANE)];
const merges = Array.from({ length: 30 }, () => {
  const started = performance.now();
  mergeProfiles(lanes, 'bench');
  return performance.now() - started;
});
console.log(`merge of two lanes' profiles: first ${merges[0]!.toFixed(1)} ms, median of the rest ${median(merges.slice(1)).toFixed(1)} ms`);

const u = uniform(3);
const sample = (n: number): Float64Array => Float64Array.from({ length: n }, () => Math.fround(u() * 2 - 1));
const sketches = Array.from({ length: 10 }, () => {
  const batches = Array.from({ length: K + 3 }, () => ({ values: Float64Array.from([...sample(16_384), ...sample(61_500)]), ends: Int32Array.of(16_384, 77_884) }));
  const part = { groups: batches.map((b) => [b]), columns: Int32Array.from(batches.flatMap((_, g) => [g, 0])) };
  const started = performance.now();
  sketchPart(part);
  return performance.now() - started;
});
console.log(`sketches of 33 columns' samples (78k values each): first ${sketches[0]!.toFixed(1)} ms, median ${median(sketches).toFixed(1)} ms`);

/**
 * The cost of profiling numbers: milliseconds per 1M values of a column, in chunks of 2048
 * (DuckDB's vector size) as a run would add them, for the quantile sketch alone and for a
 * whole column profile (counts, moments, sketch). Median of 5 after a warm-up pass.
 *
 *   npx tsx bench/profileCost.ts
 */
import { ColumnProfiler } from '../src/profile/columnProfile.js';
import { QuantileSketch } from '../src/profile/quantileSketch.js';

const N = 1_000_000;
const CHUNK = 2048;
const values = new Float32Array(N);
let seed = 1;
for (let i = 0; i < N; i++) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  values[i] = seed / 2147483648;
}

function time(label: string, run: () => void): void {
  run();
  const ms: number[] = [];
  for (let r = 0; r < 5; r++) {
    const started = performance.now();
    run();
    ms.push(performance.now() - started);
  }
  ms.sort((a, b) => a - b);
  console.log(`${label}: ${ms[2]!.toFixed(1)} ms per 1M values`);
}

time('moments only (a categorical-free profile without a sketch)', () => {
  let sum = 0;
  for (let start = 0; start < N; start += CHUNK) {
    const chunk = values.subarray(start, Math.min(N, start + CHUNK));
    let s = 0;
    for (let i = 0; i < chunk.length; i++) s += chunk[i]!;
    const mean = s / chunk.length;
    let m2 = 0;
    for (let i = 0; i < chunk.length; i++) m2 += (chunk[i]! - mean) ** 2;
    sum += m2;
  }
  if (sum < 0) console.log(sum);
});
time('quantile sketch (k = 2048)', () => {
  const sketch = new QuantileSketch();
  for (let start = 0; start < N; start += CHUNK) sketch.addArray(values.subarray(start, Math.min(N, start + CHUNK)));
});
time('column profile (counts, moments, sketch)', () => {
  const profile = new ColumnProfiler('x', 'FLOAT', 'numeric');
  for (let start = 0; start < N; start += CHUNK) profile.addNumbers(values.subarray(start, Math.min(N, start + CHUNK)));
});

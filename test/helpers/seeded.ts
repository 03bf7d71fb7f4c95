/**
 * Seeded random numbers for statistics tests: mulberry32 (scripts/fixtures/rng.ts) for
 * uniforms, Box-Muller for normals, so a test's data is the same on every run.
 */
import { mulberry32 } from '../../scripts/fixtures/rng.js';

export const uniform = mulberry32;

/** `n` draws of a normal distribution of mean `mean` and standard deviation `sd`. */
export function normals(seed: number, n: number, mean = 0, sd = 1): Float64Array {
  const u = uniform(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + sd * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

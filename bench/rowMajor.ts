/**
 * The reader's copy of a chunk's feature columns into a row-major float32 tensor: the
 * JavaScript strided copy it had (each value moved and checked finite with v - v, as
 * readBatches.ts did before the kernel) against src/source/rowMajor.ts `copyRowMajor`, for
 * 1M rows of 30 FLOAT and of 30 DOUBLE columns in DuckDB's chunks of 2048 rows. The first
 * run's time (V8 has not optimized the loop yet, as in a run) and the median of 5 after it.
 *
 *   npx tsx bench/rowMajor.ts
 */
import { copyRowMajor, type FloatColumns } from '../src/source/rowMajor.js';

const ROWS = 1_000_000;
const WIDTH = 30;
const CHUNK = 2048;

/** readBatches.ts's `copyFinite` before the kernel, column by column. */
function javascript(columns: FloatColumns, out: Float32Array): boolean {
  let finite = true;
  columns.forEach((source: Float32Array | Float64Array, j: number) => {
    let sum = 0;
    for (let i = 0, o = j; i < CHUNK; i++, o += WIDTH) {
      const v = source[i]!;
      out[o] = v;
      sum += v - v;
    }
    finite &&= sum === 0;
  });
  return finite;
}

function kernel(columns: FloatColumns, out: Float32Array): boolean {
  return copyRowMajor(columns, 0, CHUNK, out, 0).every((c) => c === 0);
}

function timed(copy: (columns: FloatColumns, out: Float32Array) => boolean, columns: FloatColumns): string {
  const out = new Float32Array(CHUNK * WIDTH);
  const run = (): number => {
    const started = performance.now();
    for (let done = 0; done < ROWS; done += CHUNK) if (!copy(columns, out)) throw new Error('not finite');
    return performance.now() - started;
  };
  const first = run();
  const ms = Array.from({ length: 5 }, run).sort((a, b) => a - b);
  return `first ${first.toFixed(1)} ms, then ${ms[2]!.toFixed(1)} ms`;
}

for (const wide of [false, true]) {
  const values = (j: number): number[] => Array.from({ length: CHUNK }, (_, i) => Math.sin(i * 0.37 + j) * 100);
  const columns: FloatColumns = wide ? Array.from({ length: WIDTH }, (_, j) => Float64Array.from(values(j))) : Array.from({ length: WIDTH }, (_, j) => Float32Array.from(values(j)));
  console.log(`${wide ? 'DOUBLE' : 'FLOAT'} columns, 1M rows x ${WIDTH}: JavaScript ${timed(javascript, columns)}; kernel ${timed(kernel, columns)}`);
}

/**
 * A chunk's feature columns (FLOAT, or DOUBLE narrowed) copied into a float32 row-major tensor
 * by the reader's kernels (wasm/readerKernels.ts `interleave32`, `interleave64`): the columns
 * are copied into linear memory one after the other, interleaved there four at a time, and the
 * rows copied out in one piece. The strided copy in JavaScript it replaces cost the scoring
 * thread 40-70 ms per 1M rows of 30 columns (docs/performance.md, "The row-major copy in
 * WebAssembly").
 *
 * @example
 *   const checks = copyRowMajor([f0, f1, f2, f3], 0, 2048, tensor, 4096 * 4);
 *   checks[j] === 0; // column j's values copied are all finite
 */
import { READER_KERNELS_WASM } from './readerKernelsWasm.generated.js';
import { BASE, WasmKernels, type WasmMemory } from '../util/wasmKernels.js';

interface Exports {
  memory: WasmMemory;
  interleave32(cols: number, rows: number, width: number, out: number, checks: number): void;
  interleave64(cols: number, rows: number, width: number, out: number, checks: number): void;
}

/** A feed's columns, all FLOAT or all DOUBLE. */
export type FloatColumns = readonly Float32Array[] | readonly Float64Array[];

const kernels = new WasmKernels<Exports>(READER_KERNELS_WASM);

/** The most values a call puts through linear memory at once (4 MB of float32). */
export const PIECE_VALUES = 1 << 20;

/** Feeds at least this wide go through the kernel (it interleaves four columns at a time); narrower ones are copied in JavaScript. */
export const ROW_MAJOR_MIN_WIDTH = 4;

/**
 * Copies rows [from, from + count) of `columns` into `out` from element `start`, row-major
 * (out[start + i * width + j] = columns[j][from + i], width = columns.length; a float64 value
 * rounded to float32 as a Float32Array store rounds it). Returns each column's check: 0 when
 * every value copied is finite (after rounding), NaN when one is not. The checks are a view of
 * this thread's linear memory, valid until its next kernel call.
 */
export function copyRowMajor(columns: FloatColumns, from: number, count: number, out: Float32Array, start: number): Float32Array {
  const width = columns.length;
  const wide = columns[0] instanceof Float64Array;
  const size = wide ? 8 : 4;
  // Rows go through linear memory in pieces of at most PIECE_VALUES values: a feed of
  // thousands of columns does not grow every thread's memory by megabytes per column.
  const piece = Math.max(1, Math.min(count, Math.floor(PIECE_VALUES / width)));
  const k = kernels.withMemory((size + 4) * piece * width + 4 * width);
  const memory = new Float32Array(k.memory.buffer);
  const checks = BASE + (size + 4) * piece * width;
  memory.fill(0, checks / 4, checks / 4 + width);
  for (let done = 0; done < count; done += piece) {
    const rows = Math.min(piece, count - done);
    const values = rows * width;
    const cols = BASE;
    const interleaved = cols + size * values;
    const source = wide ? new Float64Array(k.memory.buffer, cols, values) : new Float32Array(k.memory.buffer, cols, values);
    columns.forEach((column: Float32Array | Float64Array, j: number) => source.set(column.subarray(from + done, from + done + rows), j * rows));
    (wide ? k.interleave64 : k.interleave32)(cols, rows, width, interleaved, checks);
    out.set(memory.subarray(interleaved / 4, interleaved / 4 + values), start + done * width);
  }
  return memory.subarray(checks / 4, checks / 4 + width);
}

/**
 * A chunk's feature columns (FLOAT, or DOUBLE narrowed) copied into a float32 row-major tensor
 * by the reader's kernels (wasm/readerKernels.ts `interleave32`, `interleave64`): the columns
 * are copied into linear memory one after the other, interleaved there four at a time, and the
 * rows copied out in one piece. The
 * strided copy in JavaScript it replaces cost the scoring thread 40-70 ms per 1M rows of 30
 * columns (docs/performance.md, "The row-major copy in WebAssembly").
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
  const values = count * width;
  const wide = columns[0] instanceof Float64Array;
  const size = wide ? 8 : 4;
  const k = kernels.withMemory((size + 4) * values + 4 * width);
  const cols = BASE;
  const rows = cols + size * values;
  const checks = rows + 4 * values;
  const source = wide ? new Float64Array(k.memory.buffer, cols, values) : new Float32Array(k.memory.buffer, cols, values);
  columns.forEach((column: Float32Array | Float64Array, j: number) => source.set(column.subarray(from, from + count), j * count));
  const memory = new Float32Array(k.memory.buffer);
  memory.fill(0, checks / 4, checks / 4 + width);
  (wide ? k.interleave64 : k.interleave32)(cols, count, width, rows, checks);
  out.set(memory.subarray(rows / 4, rows / 4 + values), start);
  return memory.subarray(checks / 4, checks / 4 + width);
}

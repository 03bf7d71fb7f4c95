/**
 * The reader's hot loop in WebAssembly (AssemblyScript, compiled by scripts/wasm.mjs into
 * src/source/readerKernelsWasm.generated.ts; loaded by src/source/rowMajor.ts): the copy of a
 * chunk's float32 feature columns into a row-major tensor. In V8 the strided copy cost the
 * scoring thread 40-70 ms per 1M rows of 30 columns; here it is 4x4 transposes of vectors
 * (docs/performance.md, "The row-major copy in WebAssembly").
 *
 * No allocation here: the caller lays out linear memory and passes byte offsets.
 */

/**
 * Copies `width` float32 columns of `rows` values each (column j at cols + j * rows * 4) into
 * `out` row-major (row i, column j at out + (i * width + j) * 4), and adds v - v of each value
 * into its column's float32 at `checks` + j * 4: it stays 0 while every value is finite and is
 * NaN from the first NaN or infinity on.
 */
export function interleave32(cols: usize, rows: i32, width: i32, out: usize, checks: usize): void {
  interleave<f32>(cols, rows, width, out, checks);
}

/**
 * `interleave32` of float64 columns (column j at cols + j * rows * 8), each value narrowed to
 * float32 as it is copied (rounded to nearest, as a Float32Array store and DuckDB's cast do); the
 * checks are of the narrowed values, so a value past float32's range counts as infinite.
 */
export function interleave64(cols: usize, rows: i32, width: i32, out: usize, checks: usize): void {
  interleave<f64>(cols, rows, width, out, checks);
}

/** The columns' values are T (f32 or f64: a type argument, so each kernel has its own loops). */
function interleave<T>(cols: usize, rows: i32, width: i32, out: usize, checks: usize): void {
  const n = <usize>rows;
  const w = <usize>width;
  const colBytes = n * sizeof<T>();
  const rowBytes = w << 2;
  let j: usize = 0;
  for (; j + 4 <= w; j += 4) interleaveFour<T>(cols + j * colBytes, colBytes, n, out + (j << 2), rowBytes, checks + (j << 2));
  for (; j < w; j++) interleaveOne<T>(cols + j * colBytes, n, out + (j << 2), rowBytes, checks + (j << 2));
}

/** Four rows of a column from `at` (float32, or float64 narrowed). */
// @ts-ignore: decorator
@inline
function fourRows<T>(at: usize): v128 {
  if (sizeof<T>() == 4) return v128.load(at);
  return v128.shuffle<i32>(f32x4.demote_f64x2_zero(v128.load(at)), f32x4.demote_f64x2_zero(v128.load(at, 16)), 0, 1, 4, 5);
}

/** One value of a column (float32, or float64 narrowed). */
// @ts-ignore: decorator
@inline
function oneRow<T>(at: usize): f32 {
  return <f32>load<T>(at);
}

/** Four adjacent columns: four rows at a time, a 4x4 transpose of vectors. */
function interleaveFour<T>(first: usize, colBytes: usize, n: usize, out: usize, rowBytes: usize, checks: usize): void {
  const c1 = first + colBytes;
  const c2 = c1 + colBytes;
  const c3 = c2 + colBytes;
  const size = sizeof<T>();
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  let r: usize = 0;
  for (; r + 4 <= n; r += 4) {
    const at = r * size;
    const v0 = fourRows<T>(first + at);
    const v1 = fourRows<T>(c1 + at);
    const v2 = fourRows<T>(c2 + at);
    const v3 = fourRows<T>(c3 + at);
    a0 = f32x4.add(a0, f32x4.sub(v0, v0));
    a1 = f32x4.add(a1, f32x4.sub(v1, v1));
    a2 = f32x4.add(a2, f32x4.sub(v2, v2));
    a3 = f32x4.add(a3, f32x4.sub(v3, v3));
    // Rows r, r+1 of columns 0-1 and 2-3, then of rows r+2, r+3.
    const t0 = v128.shuffle<i32>(v0, v1, 0, 4, 1, 5);
    const t1 = v128.shuffle<i32>(v0, v1, 2, 6, 3, 7);
    const t2 = v128.shuffle<i32>(v2, v3, 0, 4, 1, 5);
    const t3 = v128.shuffle<i32>(v2, v3, 2, 6, 3, 7);
    const row = out + r * rowBytes;
    v128.store(row, v128.shuffle<i64>(t0, t2, 0, 2));
    v128.store(row + rowBytes, v128.shuffle<i64>(t0, t2, 1, 3));
    v128.store(row + 2 * rowBytes, v128.shuffle<i64>(t1, t3, 0, 2));
    v128.store(row + 3 * rowBytes, v128.shuffle<i64>(t1, t3, 1, 3));
  }
  addLanes(checks, a0);
  addLanes(checks + 4, a1);
  addLanes(checks + 8, a2);
  addLanes(checks + 12, a3);
  // The last rows (fewer than four), one value at a time.
  for (; r < n; r++) {
    for (let k: usize = 0; k < 4; k++) {
      const v = oneRow<T>(first + k * colBytes + r * size);
      store<f32>(out + r * rowBytes + (k << 2), v);
      store<f32>(checks + (k << 2), load<f32>(checks + (k << 2)) + (v - v));
    }
  }
}

/** A column left over after the groups of four. */
function interleaveOne<T>(column: usize, n: usize, out: usize, rowBytes: usize, check: usize): void {
  let s: f32 = 0;
  for (let r: usize = 0; r < n; r++) {
    const v = oneRow<T>(column + r * sizeof<T>());
    store<f32>(out + r * rowBytes, v);
    s += v - v;
  }
  store<f32>(check, load<f32>(check) + s);
}

/** Adds the four lanes of `v` to the float32 at `at`. */
function addLanes(at: usize, v: v128): void {
  store<f32>(at, load<f32>(at) + f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

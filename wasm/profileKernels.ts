/**
 * The profile's hot loops in WebAssembly (AssemblyScript, compiled by scripts/wasm.mjs into
 * src/profile/kernelsWasm.generated.ts; loaded by src/profile/kernels.ts): a run's profile
 * spends most of its CPU sorting sampled values and scanning tensor columns, and these loops
 * in V8's JIT cost 2-4 times the native speed plus their compiling in every thread
 * (docs/performance.md, "Profile kernels in WebAssembly").
 *
 * No allocation here: the caller lays out linear memory and passes byte offsets.
 */

const BUCKETS: i32 = 2048;
const BUCKET_BYTES: usize = <usize>BUCKETS << 2;

/**
 * Sorts n float64 values at `values` in place, ascending (-0 before +0; no NaN): an LSD radix
 * sort of their bits made order-preserving as unsigned integers, 11 bits a pass, a pass
 * skipped when every value has the same digit there. 32-bit keys (three passes) when every
 * value is a float32's, else 64-bit ones (six). `scratch` holds 6 * 2048 counts and two key
 * arrays of n * 8 bytes.
 */
export function sortFloat64(values: usize, n: i32, scratch: usize): void {
  if (float32Exact(values, n)) sort32<f64>(values, n, scratch);
  else sort64(values, n, scratch);
}

function float32Exact(values: usize, n: i32): bool {
  for (let i: usize = 0, end = <usize>n << 3; i < end; i += 8) {
    const v = load<f64>(values + i);
    if (<f64>(<f32>v) != v) return false;
  }
  return true;
}

/**
 * Sorts n float32 values at `values` in place, as `sortFloat64` sorts (no NaN): their 32-bit
 * keys, three passes. `scratch` holds 3 * 2048 counts and two key arrays of n * 4 bytes.
 */
export function sortFloat32(values: usize, n: i32, scratch: usize): void {
  sort32<f32>(values, n, scratch);
}

/**
 * The 32-bit radix sort of n float32 values (T f32) or of float64 values that are all float32's
 * (T f64). The keys are made from the values as the first pass reads them and turned back into
 * values as the last one writes them: no pass of its own for either.
 */
function sort32<T>(values: usize, n: i32, scratch: usize): void {
  const size = <usize>sizeof<T>();
  const counts = clearCounts(scratch, 3);
  const keys = counts + 3 * BUCKET_BYTES;
  const spare = keys + (<usize>n << 2);
  for (let i: usize = 0; i < <usize>n; i++) countDigits<u32>(counts, key32<T>(values + i * size), 3);
  // The passes that move anything: a pass whose digit is the same in every key is skipped.
  const first = key32<T>(values);
  let left = 0;
  for (let pass = 0; pass < 3; pass++) {
    if (load<u32>(counts + <usize>pass * BUCKET_BYTES + (<usize>digit(first, pass) << 2)) != <u32>n) left |= 1 << pass;
  }
  if (left == 0) return;
  let from = keys;
  let to = spare;
  let read = true;
  for (let pass = 0; pass < 3; pass++) {
    if (!(left & (1 << pass))) continue;
    const base = counts + <usize>pass * BUCKET_BYTES;
    prefixSums(base);
    const last = left >> (pass + 1) == 0;
    if (read && last) {
      // The one pass that moves anything: from the values to keys, then back.
      scatterFromValues<T>(values, size, to, base, n, pass);
      unkeys<T>(to, values, size, n);
      return;
    }
    if (read) scatterFromValues<T>(values, size, to, base, n, pass);
    else if (last) scatterToValues<T>(from, values, size, base, n, pass);
    else scatterKeys(from, to, base, n, pass);
    read = false;
    const t = from;
    from = to;
    to = t;
  }
}

/** The order-preserving unsigned key of the float32 value at `at` (T f32, or a float64 holding a float32). */
// @ts-ignore: decorator
@inline
function key32<T>(at: usize): u32 {
  const x = reinterpret<u32>(<f32>load<T>(at));
  return x & 0x80000000 ? ~x : x | 0x80000000;
}

/** The value of a key (`key32` undone). */
// @ts-ignore: decorator
@inline
function unkey32(key: u32): f32 {
  return reinterpret<f32>(key & 0x80000000 ? key & 0x7fffffff : ~key);
}

// @ts-ignore: decorator
@inline
function digit(key: u32, pass: i32): u32 {
  return (key >>> (<u32>pass * 11)) & 0x7ff;
}

/** A counting-sort pass of the values' keys into `to`. */
function scatterFromValues<T>(values: usize, size: usize, to: usize, base: usize, n: i32, pass: i32): void {
  for (let i: usize = 0; i < <usize>n; i++) {
    const key = key32<T>(values + i * size);
    const slot = base + (<usize>digit(key, pass) << 2);
    const at = load<u32>(slot);
    store<u32>(slot, at + 1);
    store<u32>(to + (<usize>at << 2), key);
  }
}

/** A counting-sort pass of keys into keys. */
function scatterKeys(from: usize, to: usize, base: usize, n: i32, pass: i32): void {
  for (let i: usize = 0; i < <usize>n; i++) {
    const key = load<u32>(from + (i << 2));
    const slot = base + (<usize>digit(key, pass) << 2);
    const at = load<u32>(slot);
    store<u32>(slot, at + 1);
    store<u32>(to + (<usize>at << 2), key);
  }
}

/** The last counting-sort pass: keys into the values they stand for. */
function scatterToValues<T>(from: usize, values: usize, size: usize, base: usize, n: i32, pass: i32): void {
  for (let i: usize = 0; i < <usize>n; i++) {
    const key = load<u32>(from + (i << 2));
    const slot = base + (<usize>digit(key, pass) << 2);
    const at = load<u32>(slot);
    store<u32>(slot, at + 1);
    store<T>(values + <usize>at * size, <T>unkey32(key));
  }
}

/** Sorted keys back into values. */
function unkeys<T>(keys: usize, values: usize, size: usize, n: i32): void {
  for (let i: usize = 0; i < <usize>n; i++) store<T>(values + i * size, <T>unkey32(load<u32>(keys + (i << 2))));
}

function sort64(values: usize, n: i32, scratch: usize): void {
  const counts = clearCounts(scratch, 6);
  const keys = counts + 6 * BUCKET_BYTES;
  const sign: u64 = 0x8000000000000000;
  for (let i: usize = 0; i < <usize>n; i++) {
    const x = load<u64>(values + (i << 3));
    const key = x & sign ? ~x : x | sign;
    store<u64>(keys + (i << 3), key);
    countDigits<u64>(counts, key, 6);
  }
  const sorted = radixPasses<u64>(keys, keys + (<usize>n << 3), counts, n, 6);
  for (let i: usize = 0; i < <usize>n; i++) {
    const key = load<u64>(sorted + (i << 3));
    store<u64>(values + (i << 3), key & sign ? key & ~sign : ~key);
  }
}

function clearCounts(counts: usize, passes: i32): usize {
  memory.fill(counts, 0, <usize>passes * BUCKET_BYTES);
  return counts;
}

/** Counts each pass's 11-bit digit of `key`. */
// @ts-ignore: decorator
@inline
function countDigits<K>(counts: usize, key: K, passes: i32): void {
  for (let pass = 0; pass < passes; pass++) count(counts + <usize>pass * BUCKET_BYTES, <u32>((key >>> (<K>pass * 11)) & 0x7ff));
}

/** The counting-sort passes over n keys of type K, between `keys` and `spare`; returns where the sorted keys are. */
function radixPasses<K>(keys: usize, spare: usize, counts: usize, n: i32, passes: i32): usize {
  const size = <usize>sizeof<K>();
  for (let pass = 0; pass < passes; pass++) {
    const shift = <K>pass * 11;
    const base = counts + <usize>pass * BUCKET_BYTES;
    if (load<u32>(base + (<usize>((load<K>(keys) >>> shift) & 0x7ff) << 2)) == <u32>n) continue;
    prefixSums(base);
    for (let i: usize = 0; i < <usize>n; i++) {
      const key = load<K>(keys + i * size);
      const slot = base + (<usize>((key >>> shift) & 0x7ff) << 2);
      const at = load<u32>(slot);
      store<u32>(slot, at + 1);
      store<K>(spare + <usize>at * size, key);
    }
    const t = keys;
    keys = spare;
    spare = t;
  }
  return keys;
}

// @ts-ignore: decorator
@inline
function count(base: usize, digit: u32): void {
  const slot = base + (<usize>digit << 2);
  store<u32>(slot, load<u32>(slot) + 1);
}

/** A pass's digit counts to each digit's first position. */
function prefixSums(base: usize): void {
  let sum: u32 = 0;
  for (let b: usize = 0; b < BUCKET_BYTES; b += 4) {
    const c = load<u32>(base + b);
    store<u32>(base + b, sum);
    sum += c;
  }
}

/** Rows a scan takes through all its columns before the next rows: 256 rows of 30 floats stay in L1. */
const TILE: i32 = 256;
/** Per 4 columns: running sums (low and high pair of columns), sums of squares, minima, maxima, and the first row (the shift). */
const GROUP_BYTES: usize = 7 * 16;

/**
 * One pass over the columns of a row-major float32 tensor (rows x width at `data`, rows > 0):
 * per column, the sum of its values and of their squares, both shifted by its first value (so
 * the squares do not cancel for values far from 0), its minimum and maximum, as four float64
 * at out + 32 c. Four columns a vector, in tiles of rows; each column's sums add its values in
 * row order, as a scalar loop would. The minimum and maximum compare as `v < min` and
 * `v > max` do (wasm's pmin and pmax, one instruction each where min and max, which propagate
 * NaN, take several and made the scan twice as slow): the first of -0 and +0 stays, as in
 * batchProfile.ts `scanColumn`. NaN or an infinity makes a column's sums non-finite (the
 * caller then counts that column again, minimum and maximum too).
 *
 * A tensor may come in pieces of rows, in order: `start` with the first (its first row is the
 * shift), and the figures at `out` are the running ones after each piece. `scratch` holds the
 * running figures between pieces: 112 bytes per 4 columns, 8 per column left over.
 */
export function scanColumns(data: usize, rows: i32, width: i32, out: usize, scratch: usize, start: bool): void {
  const groups = width >> 2;
  const stride = <usize>width << 2;
  const shifts = scratch + <usize>groups * GROUP_BYTES;
  if (start) {
    for (let g = 0; g < groups; g++) startGroup(scratch + <usize>g * GROUP_BYTES, v128.load(data + (<usize>g << 4)));
    for (let c = groups << 2; c < width; c++) startOne(load<f32>(data + (<usize>c << 2)), out + (<usize>c << 5), shifts + (<usize>(c - (groups << 2)) << 3));
  }
  for (let r = 0; r < rows; r += TILE) {
    const rowData = data + <usize>r * stride;
    const tile = min(TILE, rows - r);
    // Two groups a loop; a last group alone, one.
    let g = 0;
    for (; g + 1 < groups; g += 2) scanPair(scratch + <usize>g * GROUP_BYTES, rowData + (<usize>g << 4), tile, stride);
    if (g < groups) scanGroup(scratch + <usize>g * GROUP_BYTES, rowData + (<usize>g << 4), tile, stride);
  }
  for (let g = 0; g < groups; g++) endGroup(scratch + <usize>g * GROUP_BYTES, out + (<usize>g << 7));
  for (let c = groups << 2; c < width; c++) scanOne(data + (<usize>c << 2), rows, stride, out + (<usize>c << 5), load<f64>(shifts + (<usize>(c - (groups << 2)) << 3)));
}

function startGroup(acc: usize, first: v128): void {
  const zero = f64x2.splat(0);
  v128.store(acc, zero);
  v128.store(acc, zero, 16);
  v128.store(acc, zero, 32);
  v128.store(acc, zero, 48);
  v128.store(acc, first, 64);
  v128.store(acc, first, 80);
  v128.store(acc, first, 96);
}

/**
 * `rows` rows of two neighbouring groups of four columns from their running figures at `acc`:
 * two vectors a row, twice the independent sums for the CPU to overlap.
 */
function scanPair(acc: usize, at: usize, rows: i32, stride: usize): void {
  const b = acc + GROUP_BYTES;
  const second: usize = 16;
  let sumLo = v128.load(acc);
  let sumHi = v128.load(acc, 16);
  let sqLo = v128.load(acc, 32);
  let sqHi = v128.load(acc, 48);
  let lo = v128.load(acc, 64);
  let hi = v128.load(acc, 80);
  let sumLo2 = v128.load(b);
  let sumHi2 = v128.load(b, 16);
  let sqLo2 = v128.load(b, 32);
  let sqHi2 = v128.load(b, 48);
  let lo2 = v128.load(b, 64);
  let hi2 = v128.load(b, 80);
  const shift = v128.load(acc, 96);
  const shift2 = v128.load(b, 96);
  const shiftLo = f64x2.promote_low_f32x4(shift);
  const shiftHi = f64x2.promote_low_f32x4(i32x4.shuffle(shift, shift, 2, 3, 2, 3));
  const shiftLo2 = f64x2.promote_low_f32x4(shift2);
  const shiftHi2 = f64x2.promote_low_f32x4(i32x4.shuffle(shift2, shift2, 2, 3, 2, 3));
  for (let i = 0; i < rows; i++) {
    const v = v128.load(at);
    const w = v128.load(at + second);
    at += stride;
    lo = f32x4.pmin(lo, v);
    hi = f32x4.pmax(hi, v);
    lo2 = f32x4.pmin(lo2, w);
    hi2 = f32x4.pmax(hi2, w);
    const dLo = f64x2.sub(f64x2.promote_low_f32x4(v), shiftLo);
    const dHi = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)), shiftHi);
    const eLo = f64x2.sub(f64x2.promote_low_f32x4(w), shiftLo2);
    const eHi = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(w, w, 2, 3, 2, 3)), shiftHi2);
    sumLo = f64x2.add(sumLo, dLo);
    sumHi = f64x2.add(sumHi, dHi);
    sumLo2 = f64x2.add(sumLo2, eLo);
    sumHi2 = f64x2.add(sumHi2, eHi);
    sqLo = f64x2.add(sqLo, f64x2.mul(dLo, dLo));
    sqHi = f64x2.add(sqHi, f64x2.mul(dHi, dHi));
    sqLo2 = f64x2.add(sqLo2, f64x2.mul(eLo, eLo));
    sqHi2 = f64x2.add(sqHi2, f64x2.mul(eHi, eHi));
  }
  v128.store(acc, sumLo);
  v128.store(acc, sumHi, 16);
  v128.store(acc, sqLo, 32);
  v128.store(acc, sqHi, 48);
  v128.store(acc, lo, 64);
  v128.store(acc, hi, 80);
  v128.store(b, sumLo2);
  v128.store(b, sumHi2, 16);
  v128.store(b, sqLo2, 32);
  v128.store(b, sqHi2, 48);
  v128.store(b, lo2, 64);
  v128.store(b, hi2, 80);
}

/** `rows` rows of one group of four columns (a tensor's last, when their number is odd) from its running figures at `acc`. */
function scanGroup(acc: usize, at: usize, rows: i32, stride: usize): void {
  let sumLo = v128.load(acc);
  let sumHi = v128.load(acc, 16);
  let sqLo = v128.load(acc, 32);
  let sqHi = v128.load(acc, 48);
  let lo = v128.load(acc, 64);
  let hi = v128.load(acc, 80);
  const shift = v128.load(acc, 96);
  const shiftLo = f64x2.promote_low_f32x4(shift);
  const shiftHi = f64x2.promote_low_f32x4(i32x4.shuffle(shift, shift, 2, 3, 2, 3));
  for (let i = 0; i < rows; i++) {
    const v = v128.load(at);
    at += stride;
    lo = f32x4.pmin(lo, v);
    hi = f32x4.pmax(hi, v);
    const dLo = f64x2.sub(f64x2.promote_low_f32x4(v), shiftLo);
    const dHi = f64x2.sub(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)), shiftHi);
    sumLo = f64x2.add(sumLo, dLo);
    sumHi = f64x2.add(sumHi, dHi);
    sqLo = f64x2.add(sqLo, f64x2.mul(dLo, dLo));
    sqHi = f64x2.add(sqHi, f64x2.mul(dHi, dHi));
  }
  v128.store(acc, sumLo);
  v128.store(acc, sumHi, 16);
  v128.store(acc, sqLo, 32);
  v128.store(acc, sqHi, 48);
  v128.store(acc, lo, 64);
  v128.store(acc, hi, 80);
}

/** A group's four columns' figures to out: sum, squares, min, max per column. */
function endGroup(acc: usize, out: usize): void {
  for (let k: usize = 0; k < 4; k++) {
    const column = out + (k << 5);
    store<f64>(column, load<f64>(acc + (k << 3)));
    store<f64>(column, load<f64>(acc + 32 + (k << 3)), 8);
    store<f64>(column, <f64>load<f32>(acc + 64 + (k << 2)), 16);
    store<f64>(column, <f64>load<f32>(acc + 80 + (k << 2)), 24);
  }
}

/** A column left over from the groups of four: its figures start at its first value, kept as its shift. */
function startOne(first: f32, out: usize, shift: usize): void {
  store<f64>(out, 0);
  store<f64>(out, 0, 8);
  store<f64>(out, first, 16);
  store<f64>(out, first, 24);
  store<f64>(shift, first);
}

/** `rows` more rows of a column left over from the groups of four, scalar, into its figures at `out`. */
function scanOne(at: usize, rows: i32, stride: usize, out: usize, shift: f64): void {
  let sum = load<f64>(out);
  let squares = load<f64>(out, 8);
  let lo = load<f64>(out, 16);
  let hi = load<f64>(out, 24);
  for (let i = 0; i < rows; i++) {
    const v = <f64>load<f32>(at);
    at += stride;
    const d = v - shift;
    sum += d;
    squares += d * d;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  store<f64>(out, sum);
  store<f64>(out, squares, 8);
  store<f64>(out, lo, 16);
  store<f64>(out, hi, 24);
}

/**
 * A two-class classifier's prediction columns as its part files hold them (the SQL of
 * src/sink/partWriter.ts `predictionsRelation`, `decided` and `predictionSelect`), for the run
 * profile: from the float32 probabilities at `p1` and `p0` (0: p0 is 1 - p1 in float32), per
 * row confidence, p0, p1 and a 0 as four float32 at out + 16 r (a tensor `scanColumns` takes
 * in one group), and at `counts` three u32: the rows of class 0, of class 1, and of those the
 * rows to review.
 *
 * The class: with `threshold` NaN the argmax (class 0 when p0 is a number above -Infinity,
 * class 1 when p1 is a number above that, else none), else class `positive` when its
 * probability is at least `threshold`, the other when below, none when NaN. Confidence is the
 * class's probability, NaN without one. A row is to review when `below` is a number and its
 * confidence is below it or NaN, or when p_positive lies in [lo, hi] (NaN: no band). The
 * bounds compare as float64, as the SQL's do.
 *
 * Four rows a vector, decided by masks: a class decided by a coin's toss costs no mispredicted
 * jump (V8 turns a scalar float select into one). `rows` is a multiple of 4: the caller pads
 * the probabilities with NaN, a row with no class and no review.
 */
export function twoClasses(p0: usize, p1: usize, rows: i32, out: usize, counts: usize, threshold: f64, positive: i32, below: f64, lo: f64, hi: f64): void {
  const argmax = threshold != threshold;
  const flagLow = v128.splat<i32>(below == below ? -1 : 0);
  const one = f32x4.splat(1);
  const nan = f32x4.splat(NaN);
  const negInf = f32x4.splat(-Infinity);
  let zeros = i32x4.splat(0);
  let ones = i32x4.splat(0);
  let review = i32x4.splat(0);
  for (let r: usize = 0; r < <usize>rows; r += 4) {
    const b = v128.load(p1 + (r << 2));
    const a = p0 ? v128.load(p0 + (r << 2)) : f32x4.sub(one, b);
    const p = positive ? b : a;
    let classZero: v128;
    let classOne: v128;
    let confidence: v128;
    if (argmax) {
      const some = f32x4.gt(a, negInf);
      classOne = f32x4.gt(b, v128.bitselect(a, negInf, some));
      classZero = v128.andnot(some, classOne);
      confidence = v128.bitselect(b, v128.bitselect(a, nan, some), classOne);
    } else {
      const above = atLeast(p, threshold);
      const number = f32x4.eq(p, p);
      const other = v128.andnot(number, above);
      classOne = positive ? above : other;
      classZero = positive ? other : above;
      confidence = v128.bitselect(v128.bitselect(p, positive ? a : b, above), nan, number);
    }
    zeros = i32x4.sub(zeros, classZero);
    ones = i32x4.sub(ones, classOne);
    // NOT (x >= bound) is x < bound or x NaN.
    const low = v128.andnot(flagLow, atLeast(confidence, below));
    const inBand = v128.andnot(atLeast(p, lo), above64(p, hi));
    review = i32x4.sub(review, v128.and(v128.or(classZero, classOne), v128.or(low, inBand)));
    const pair = v128.shuffle<i32>(confidence, a, 0, 4, 1, 5);
    const pairHigh = v128.shuffle<i32>(confidence, a, 2, 6, 3, 7);
    const third = v128.shuffle<i32>(b, i32x4.splat(0), 0, 4, 1, 5);
    const thirdHigh = v128.shuffle<i32>(b, i32x4.splat(0), 2, 6, 3, 7);
    const row = out + (r << 4);
    v128.store(row, v128.shuffle<i32>(pair, third, 0, 1, 4, 5));
    v128.store(row, v128.shuffle<i32>(pair, third, 2, 3, 6, 7), 16);
    v128.store(row, v128.shuffle<i32>(pairHigh, thirdHigh, 0, 1, 4, 5), 32);
    v128.store(row, v128.shuffle<i32>(pairHigh, thirdHigh, 2, 3, 6, 7), 48);
  }
  store<u32>(counts, laneSum(zeros));
  store<u32>(counts, laneSum(ones), 4);
  store<u32>(counts, laneSum(review), 8);
}

/** Per lane, v >= bound, the float32 lanes compared as float64 (false for NaN on either side). */
function atLeast(v: v128, bound: f64): v128 {
  const t = f64x2.splat(bound);
  const low = f64x2.ge(f64x2.promote_low_f32x4(v), t);
  const high = f64x2.ge(f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 2, 3)), t);
  return v128.shuffle<i32>(low, high, 0, 2, 4, 6);
}

/** Per lane, v > bound, as float64 (false for NaN on either side). */
function above64(v: v128, bound: f64): v128 {
  const t = f64x2.splat(bound);
  const low = f64x2.gt(f64x2.promote_low_f32x4(v), t);
  const high = f64x2.gt(f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 2, 3)), t);
  return v128.shuffle<i32>(low, high, 0, 2, 4, 6);
}

function laneSum(v: v128): u32 {
  return <u32>(i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3));
}

/** murmur3's 32-bit finaliser, as src/profile/rowSample.ts `fmix`. */
// @ts-ignore: decorator
@inline
function fmix(h: u32): u32 {
  h ^= h >>> 16;
  h *= 0x85ebca6b;
  h ^= h >>> 13;
  h *= 0xc2b2ae35;
  return h ^ (h >>> 16);
}

/**
 * The rows of a batch its profile samples (src/profile/rowSample.ts `sampleBatch`, for rows
 * numbered from the batch's first): the first `exactRows` rows, then each row whose file row's
 * low 32 bits, `first + i`, hash under `seed` to 0 in the low bits `mask`. The caller keeps the
 * file rows' high 32 bits the same across the batch. Writes the tensor row indices as i32 to
 * `out`; returns how many.
 */
export function sampleRows(first: u32, rows: i32, exactRows: i32, seed: u32, mask: u32, out: usize): i32 {
  let n = 0;
  for (; n < exactRows; n++) store<i32>(out + (<usize>n << 2), n);
  for (let i = exactRows; i < rows; i++) {
    const picked = (fmix((first + <u32>i) ^ seed) & mask) == 0;
    store<i32>(out + (<usize>n << 2), i);
    n += <i32>picked;
  }
  return n;
}

/**
 * Gathers the sampled rows of a piece of a row-major float32 tensor (`rows` rows of `width`
 * columns at `data`, tensor rows from `pieceStart`): for the sample's row indices at `picked`
 * from index `k`, while below `stop` and inside the piece, each of `count` columns (tensor
 * positions as i32 at `positions`) takes the row's value when finite, as a t + b (float64 pairs
 * at `affine`), into its region of `capacity` float64 from `regions` at its cursor (i32 at
 * `cursors`). Returns the next index of `picked`. `gatherRows32` writes float32 regions: for
 * columns whose a t + b is t itself (it reads no `affine`), so nothing is rounded.
 */
export function gatherRows(data: usize, pieceStart: i32, rows: i32, width: i32, picked: usize, k: i32, stop: i32, positions: usize, count: i32, affine: usize, cursors: usize, regions: usize, capacity: i32): i32 {
  return gatherInto<f64>(data, pieceStart, rows, width, picked, k, stop, positions, count, affine, cursors, regions, capacity);
}

export function gatherRows32(data: usize, pieceStart: i32, rows: i32, width: i32, picked: usize, k: i32, stop: i32, positions: usize, count: i32, affine: usize, cursors: usize, regions: usize, capacity: i32): i32 {
  return gatherInto<f32>(data, pieceStart, rows, width, picked, k, stop, positions, count, affine, cursors, regions, capacity);
}

// @ts-ignore: decorator
@inline
function gatherInto<T>(data: usize, pieceStart: i32, rows: i32, width: i32, picked: usize, k: i32, stop: i32, positions: usize, count: i32, affine: usize, cursors: usize, regions: usize, capacity: i32): i32 {
  const size = <usize>sizeof<T>();
  const end = pieceStart + rows;
  for (; k < stop; k++) {
    const row = load<i32>(picked + (<usize>k << 2));
    if (row >= end) break;
    const at = data + (<usize>(row - pieceStart) * <usize>width << 2);
    for (let j = 0; j < count; j++) {
      const v = load<f32>(at + (<usize>load<i32>(positions + (<usize>j << 2)) << 2));
      const cursor = cursors + (<usize>j << 2);
      const next = load<i32>(cursor);
      const to = regions + (<usize>j * <usize>capacity + <usize>next) * size;
      // Written always, counted when finite: a NaN or an infinity is overwritten by the next value.
      // Float32 regions are t itself (1 t + 0 computed as float32: -0 turns +0, as in float64).
      if (size == 4) store<f32>(to, v + 0);
      else store<f64>(to, load<f64>(affine + (<usize>j << 4)) * <f64>v + load<f64>(affine + (<usize>j << 4), 8));
      store<i32>(cursor, next + <i32>(v - v == 0));
    }
  }
  return k;
}

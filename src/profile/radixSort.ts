/**
 * Sorts float64 values in place, ascending (-0 before +0; the caller leaves NaN out): an LSD
 * radix sort of the values' bits made order-preserving as unsigned integers, in passes of 11
 * bits, each skipped when every value has the same digit there: three passes over 32-bit keys
 * when every value is a float32 (a float32 tensor's, the usual case), else six over 64 bits. Below
 * RADIX_MIN values V8's typed-array sort is faster (the six histograms cost more than the
 * values). Measured against V8's sort: docs/performance.md ("Profiles").
 *
 * Each loop is a function of its own: a function of several long loops is optimized loop by
 * loop on its first calls (on-stack replacement) and dropped back to the interpreter at the
 * next loop, which has no type feedback yet (dozens of times in a run's profile, each time
 * compiled again: docs/performance.md, "A run's profile").
 */

const RADIX_MIN = 2048;
const BITS = 11;
const BUCKETS = 1 << BITS;
const PASSES = 6;

export function sortFloat64(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_MIN) return values.sort();
  if (float32Exact(values)) return sortAsFloat32(values);
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  const counts = new Uint32Array(BUCKETS * PASSES);
  toKeys64(words, lo, hi, counts);
  let lo2 = new Uint32Array(n);
  let hi2 = new Uint32Array(n);
  for (let pass = 0; pass < PASSES; pass++) {
    const base = pass * BUCKETS;
    if (counts[base + digit(lo[0]!, hi[0]!, pass)] === n) continue;
    prefixSums(counts, base);
    if (pass === 2) scatterMixed(lo, hi, lo2, hi2, counts, base);
    else scatter(pass < 2 ? lo : hi, lo, hi, lo2, hi2, counts, base, SHIFTS[pass]!);
    [lo, lo2] = [lo2, lo];
    [hi, hi2] = [hi2, hi];
  }
  fromKeys64(words, lo, hi);
  return values;
}

/** Float64 bits (little-endian word pairs) to order-preserving 64-bit keys hi:lo (negative values have every bit flipped, positive ones the sign bit), counting each pass's digits. */
function toKeys64(words: Uint32Array, lo: Uint32Array, hi: Uint32Array, counts: Uint32Array): void {
  for (let i = 0; i < lo.length; i++) {
    const w0 = words[2 * i]!;
    const w1 = words[2 * i + 1]!;
    const negative = (w1 & 0x80000000) !== 0;
    const l = negative ? ~w0 >>> 0 : w0;
    const h = negative ? ~w1 >>> 0 : (w1 | 0x80000000) >>> 0;
    lo[i] = l;
    hi[i] = h;
    counts[l & 0x7ff]!++;
    counts[BUCKETS + ((l >>> 11) & 0x7ff)]!++;
    counts[2 * BUCKETS + (((l >>> 22) | (h << 10)) & 0x7ff)]!++;
    counts[3 * BUCKETS + ((h >>> 1) & 0x7ff)]!++;
    counts[4 * BUCKETS + ((h >>> 12) & 0x7ff)]!++;
    counts[5 * BUCKETS + (h >>> 23)]!++;
  }
}

function fromKeys64(words: Uint32Array, lo: Uint32Array, hi: Uint32Array): void {
  for (let i = 0; i < lo.length; i++) {
    const h = hi[i]!;
    if (h & 0x80000000) {
      words[2 * i] = lo[i]!;
      words[2 * i + 1] = h & 0x7fffffff;
    } else {
      words[2 * i] = ~lo[i]! >>> 0;
      words[2 * i + 1] = ~h >>> 0;
    }
  }
}

function float32Exact(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (Math.fround(values[i]!) !== values[i]!) return false;
  return true;
}

/** Values a float32 holds exactly (a float32 tensor's, widened): 32-bit keys in three passes of 11, 11 and 10 bits. */
function sortAsFloat32(values: Float64Array): Float64Array {
  const n = values.length;
  // set() converts in bulk; Float32Array.from would iterate.
  const floats = new Float32Array(n);
  floats.set(values);
  let keys = new Uint32Array(floats.buffer);
  const counts = new Uint32Array(BUCKETS * 3);
  toKeys32(keys, counts);
  let spare = new Uint32Array(n);
  for (let pass = 0; pass < 3; pass++) {
    const shift = pass * 11;
    const base = pass * BUCKETS;
    if (counts[base + ((keys[0]! >>> shift) & 0x7ff)] === n) continue;
    prefixSums(counts, base);
    scatter32(keys, spare, counts, base, shift);
    [keys, spare] = [spare, keys];
  }
  fromKeys32(keys);
  values.set(new Float32Array(keys.buffer, keys.byteOffset, n));
  return values;
}

/** Float32 bits to order-preserving keys (negative values have every bit flipped, positive ones the sign bit), counting each pass's digits. */
function toKeys32(keys: Uint32Array, counts: Uint32Array): void {
  for (let i = 0; i < keys.length; i++) {
    const x = keys[i]!;
    const key = x & 0x80000000 ? ~x >>> 0 : (x | 0x80000000) >>> 0;
    keys[i] = key;
    counts[key & 0x7ff]!++;
    counts[BUCKETS + ((key >>> 11) & 0x7ff)]!++;
    counts[2 * BUCKETS + (key >>> 22)]!++;
  }
}

function fromKeys32(keys: Uint32Array): void {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    keys[i] = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  }
}

/** counts[base ..] from digit counts to each digit's first position. */
function prefixSums(counts: Uint32Array, base: number): void {
  let sum = 0;
  for (let b = base; b < base + BUCKETS; b++) {
    const c = counts[b]!;
    counts[b] = sum;
    sum += c;
  }
}

function scatter32(keys: Uint32Array, spare: Uint32Array, counts: Uint32Array, base: number, shift: number): void {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    spare[counts[base + ((key >>> shift) & 0x7ff)]!++] = key;
  }
}

/** Per pass, the shift of its digit in its word (lo for passes 0-1, hi for 3-5; pass 2 spans both). */
const SHIFTS = [0, 11, 22, 1, 12, 23];

/** One counting-sort pass on the digit of `key` (lo or hi) at `shift`. */
function scatter(key: Uint32Array, lo: Uint32Array, hi: Uint32Array, lo2: Uint32Array, hi2: Uint32Array, counts: Uint32Array, base: number, shift: number): void {
  for (let i = 0; i < key.length; i++) {
    const at = counts[base + ((key[i]! >>> shift) & 0x7ff)]!++;
    lo2[at] = lo[i]!;
    hi2[at] = hi[i]!;
  }
}

function scatterMixed(lo: Uint32Array, hi: Uint32Array, lo2: Uint32Array, hi2: Uint32Array, counts: Uint32Array, base: number): void {
  for (let i = 0; i < lo.length; i++) {
    const l = lo[i]!;
    const h = hi[i]!;
    const at = counts[base + (((l >>> 22) | (h << 10)) & 0x7ff)]!++;
    lo2[at] = l;
    hi2[at] = h;
  }
}

/** The pass's 11 bits of the 64-bit key hi:lo (bits 0-10, 11-21, 22-32, 33-43, 44-54, 55-63). */
function digit(lo: number, hi: number, pass: number): number {
  switch (pass) {
    case 0:
      return lo & 0x7ff;
    case 1:
      return (lo >>> 11) & 0x7ff;
    case 2:
      return ((lo >>> 22) | (hi << 10)) & 0x7ff;
    case 3:
      return (hi >>> 1) & 0x7ff;
    case 4:
      return (hi >>> 12) & 0x7ff;
    default:
      return hi >>> 23;
  }
}

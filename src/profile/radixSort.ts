/**
 * Sorts float64 values in place, ascending (-0 before +0; the caller leaves NaN out): an LSD
 * radix sort of the values' bits made order-preserving as unsigned integers, in passes of 11
 * bits, each skipped when every value has the same digit there: three passes over 32-bit keys
 * when every value is a float32 (a float32 tensor's, the usual case), else six over 64 bits. Below
 * RADIX_MIN values V8's typed-array sort is faster (the six histograms cost more than the
 * values). Measured against V8's sort: docs/performance.md ("Profiles").
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
  // Order-preserving keys: negative values have every bit flipped, positive ones the sign bit.
  for (let i = 0; i < n; i++) {
    const l = words[2 * i]!;
    const h = words[2 * i + 1]!;
    if (h & 0x80000000) {
      lo[i] = ~l >>> 0;
      hi[i] = ~h >>> 0;
    } else {
      lo[i] = l;
      hi[i] = (h | 0x80000000) >>> 0;
    }
  }
  const counts = new Uint32Array(BUCKETS * PASSES);
  for (let i = 0; i < n; i++) {
    const l = lo[i]!;
    const h = hi[i]!;
    counts[l & 0x7ff]!++;
    counts[BUCKETS + ((l >>> 11) & 0x7ff)]!++;
    counts[2 * BUCKETS + (((l >>> 22) | (h << 10)) & 0x7ff)]!++;
    counts[3 * BUCKETS + ((h >>> 1) & 0x7ff)]!++;
    counts[4 * BUCKETS + ((h >>> 12) & 0x7ff)]!++;
    counts[5 * BUCKETS + (h >>> 23)]!++;
  }
  let lo2 = new Uint32Array(n);
  let hi2 = new Uint32Array(n);
  for (let pass = 0; pass < PASSES; pass++) {
    const base = pass * BUCKETS;
    if (counts[base + digit(lo[0]!, hi[0]!, pass)] === n) continue;
    let sum = 0;
    for (let b = 0; b < BUCKETS; b++) {
      const c = counts[base + b]!;
      counts[base + b] = sum;
      sum += c;
    }
    if (pass === 2) scatterMixed(lo, hi, lo2, hi2, counts, base);
    else scatter(pass < 2 ? lo : hi, lo, hi, lo2, hi2, counts, base, SHIFTS[pass]!);
    [lo, lo2] = [lo2, lo];
    [hi, hi2] = [hi2, hi];
  }
  for (let i = 0; i < n; i++) {
    const h = hi[i]!;
    if (h & 0x80000000) {
      words[2 * i] = lo[i]!;
      words[2 * i + 1] = h & 0x7fffffff;
    } else {
      words[2 * i] = ~lo[i]! >>> 0;
      words[2 * i + 1] = ~h >>> 0;
    }
  }
  return values;
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
  const counts = [new Uint32Array(BUCKETS), new Uint32Array(BUCKETS), new Uint32Array(BUCKETS / 2)];
  for (let i = 0; i < n; i++) {
    const x = keys[i]!;
    const key = x & 0x80000000 ? ~x >>> 0 : (x | 0x80000000) >>> 0;
    keys[i] = key;
    counts[0]![key & 0x7ff]!++;
    counts[1]![(key >>> 11) & 0x7ff]!++;
    counts[2]![key >>> 22]!++;
  }
  let spare = new Uint32Array(n);
  for (let pass = 0; pass < 3; pass++) {
    const shift = pass * 11;
    const count = counts[pass]!;
    if (count[(keys[0]! >>> shift) & 0x7ff] === n) continue;
    let sum = 0;
    for (let b = 0; b < count.length; b++) {
      const c = count[b]!;
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const key = keys[i]!;
      spare[count[(key >>> shift) & 0x7ff]!++] = key;
    }
    [keys, spare] = [spare, keys];
  }
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    keys[i] = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  }
  values.set(new Float32Array(keys.buffer, keys.byteOffset, n));
  return values;
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

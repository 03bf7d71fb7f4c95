/**
 * A mergeable quantile sketch with rank accuracy (KLL: Karnin, Lang and Liberty, "Optimal
 * Quantile Approximation in Streams", 2016), for the KS statistic and quantile-binned PSI of
 * `drift`. Why this design and its measured accuracy and cost: docs/drift.md.
 *
 * Values live in compactors, one per level; an item at level h stands for 2^h values. A full
 * compactor is sorted and every other item moves up a level (levels above the intake are kept
 * sorted, items moving up are merged in: only the intake is ever sorted). The offset (odd or even items)
 * alternates per level instead of being drawn at random, so a sketch of the same values in
 * the same order is the same sketch (profiles are reproducible) and the errors of two
 * consecutive compactions of a level cancel. Capacities shrink by 2/3 per level below the
 * top, as in KLL, so the sketch holds about 3k items whatever the number of values.
 *
 * Values are added from typed arrays, without allocating per value; NaN must be left out by
 * the caller (column profiles count NaN apart).
 *
 * @example
 *   const s = new QuantileSketch();
 *   s.addArray(float32Values, rows);
 *   s.quantile(0.5); s.cdf(1.0);
 */

/** Capacity of the top compactor: measured rank error about 1e-3 on 1M values (docs/drift.md). */
export const DEFAULT_K = 2048;
const SHRINK = 2 / 3;
const MIN_CAPACITY = 8;

/** The sketch as a profile stores it: each level's items (sorted), base64 of little-endian float64. */
export interface SketchJson {
  k: number;
  n: number;
  levels: string[];
  /** Per level: compactions so far modulo 2 (the next offset). */
  parity: number[];
}

export class QuantileSketch {
  /** Items per level; level 0 is the unsorted intake buffer. */
  private levels: Float64Array[] = [];
  private sizes: number[] = [];
  private parity: number[] = [];
  private capacities: number[] = [];
  /** Per level, the buffer a merge writes into before the two swap. */
  private spare: (Float64Array | undefined)[] = [];
  /** The items a compaction moves up. */
  private up = new Float64Array(0);
  private retained = 0;
  private maxRetained = 0;
  /** Values added (the total weight). */
  n = 0;

  constructor(readonly k = DEFAULT_K) {
    this.grow();
  }

  /** Adds `count` values of `values` (all of it by default); the caller leaves NaN out. */
  addArray(values: ArrayLike<number>, count = values.length): void {
    let i = 0;
    while (i < count) {
      const room = Math.min(count - i, this.capacities[0]! - this.sizes[0]!, this.maxRetained - this.retained);
      if (room <= 0) {
        this.compress();
        continue;
      }
      const level0 = this.levels[0]!;
      let size = this.sizes[0]!;
      // A typed array is copied (and widened to float64) in bulk.
      if (ArrayBuffer.isView(values)) level0.set((values as Float32Array | Float64Array).subarray(i, i + room), size);
      else for (let j = 0; j < room; j++) level0[size + j] = values[i + j]!;
      size += room;
      this.sizes[0] = size;
      this.retained += room;
      this.n += room;
      i += room;
      if (this.retained >= this.maxRetained || size >= this.capacities[0]!) this.compress();
    }
  }

  /**
   * The sketch of `sorted` values, each standing for 2^level values (a 1-in-2^level sample at
   * level > 0), built at once where adding and compacting them would move every item up level
   * by level: every 2^d-th value at level + d, d the least that leaves at most k (the top
   * compactor's capacity), each the middle of its block of 2^d (the lower and the upper middle
   * in turn, so the errors cancel as KLL's alternating offsets do: at most half a block, as d
   * compactions would leave); the values past the last whole block one item per binary digit
   * of their count, at that digit's level, so the items weigh what the values do.
   */
  static ofSorted(sorted: Float32Array | Float64Array, level: number, k = DEFAULT_K): QuantileSketch {
    const sketch = new QuantileSketch(k);
    const n = sorted.length;
    if (n === 0) return sketch;
    let d = 0;
    while (Math.floor(n / 2 ** d) > k) d++;
    while (sketch.levels.length <= level + d) sketch.grow();
    const block = 2 ** d;
    const whole = Math.floor(n / block);
    const top = new Float64Array(whole);
    pickMiddles(sorted, block, top);
    if (level + d === 0) sketch.append(0, top);
    else sketch.adopt(level + d, top);
    let at = whole * block;
    for (let j = d - 1; j >= 0; j--) {
      if (((n - whole * block) & (2 ** j)) === 0) continue;
      sketch.append(level + j, Float64Array.of(sorted[at + Math.max(0, 2 ** (j - 1) - 1)]!));
      at += 2 ** j;
    }
    sketch.n = n * 2 ** level;
    while (sketch.retained >= sketch.maxRetained) sketch.compress();
    return sketch;
  }

  add(value: number): void {
    this.addArray([value], 1);
  }

  /** Adds every item of `other` (the sketch of other values); `other` is left as it was. */
  merge(other: QuantileSketch): void {
    while (this.levels.length < other.levels.length) this.grow();
    for (let h = 0; h < other.levels.length; h++) {
      this.append(h, other.levels[h]!.subarray(0, other.sizes[h]!));
      this.parity[h] = (this.parity[h]! + other.parity[h]!) % 2;
    }
    this.n += other.n;
    while (this.retained >= this.maxRetained) this.compress();
  }

  /** Share of the values <= x (0 for an empty sketch). */
  cdf(x: number): number {
    if (this.n === 0) return 0;
    let weight = 0;
    for (let h = 0; h < this.levels.length; h++) {
      const items = this.levels[h]!;
      const size = this.sizes[h]!;
      let below = 0;
      for (let i = 0; i < size; i++) if (items[i]! <= x) below++;
      weight += below * 2 ** h;
    }
    return weight / this.n;
  }

  /** The value below which a share q of the values lie (the lowest item of rank >= q n); NaN when empty. */
  quantile(q: number): number {
    return this.quantiles([q])[0]!;
  }

  quantiles(qs: readonly number[]): number[] {
    const { items, weights, total } = this.sorted();
    return qs.map((q) => {
      if (items.length === 0) return NaN;
      const target = Math.max(q, 0) * total;
      let cumulative = 0;
      for (let i = 0; i < items.length; i++) {
        cumulative += weights[i]!;
        if (cumulative >= target && cumulative > 0) return items[i]!;
      }
      return items[items.length - 1]!;
    });
  }

  /** Every item with its weight, sorted by value: a weighted sample whose CDF approximates the values'. */
  sorted(): { items: Float64Array; weights: Float64Array; total: number } {
    const order: { v: number; w: number }[] = [];
    for (let h = 0; h < this.levels.length; h++) {
      const items = this.levels[h]!;
      for (let i = 0; i < this.sizes[h]!; i++) order.push({ v: items[i]!, w: 2 ** h });
    }
    order.sort((a, b) => a.v - b.v);
    const items = new Float64Array(order.length);
    const weights = new Float64Array(order.length);
    order.forEach((o, i) => {
      items[i] = o.v;
      weights[i] = o.w;
    });
    return { items, weights, total: this.n };
  }

  toJSON(): SketchJson {
    // Levels above the intake are sorted already and encoded where they are; the intake is
    // sorted in a copy (the sketch keeps taking values into it unsorted).
    const levels = this.levels.map((items, h) => (h === 0 ? Float64Array.from(items.subarray(0, this.sizes[0]!)).sort() : items.subarray(0, this.sizes[h]!)));
    return sketchJsonOfText(this.k, this.n, [...this.parity], encodeLevels(levels));
  }

  static fromJSON(json: SketchJson): QuantileSketch {
    const sketch = new QuantileSketch(json.k);
    // Sorted as written; sorted again only if not (a hand-edited file must not break the levels' order).
    // The attached arrays when there are (the text is then not even read: it may be made only when read).
    const levels = takeLevels(json) ?? json.levels.map(sortedItems);
    while (sketch.levels.length < levels.length) sketch.grow();
    levels.forEach((sorted, h) => {
      // A level above the intake keeps the decoded array itself (nothing else holds it).
      if (h === 0) sketch.append(h, sorted);
      else sketch.adopt(h, sorted);
      sketch.parity[h] = json.parity[h] ?? 0;
    });
    sketch.n = json.n;
    while (sketch.retained >= sketch.maxRetained) sketch.compress();
    return sketch;
  }

  /**
   * Adds a level on top; every capacity is then recomputed from its depth below the top. Only
   * the intake is given its capacity here (`addArray` writes into it); a level above grows as
   * items reach it (`append`): most levels hold a few items, and reserving each its capacity at
   * every growth made allocation the largest cost of merging profiles.
   */
  private grow(): void {
    this.levels.push(new Float64Array(0));
    this.sizes.push(0);
    this.parity.push(0);
    this.capacities = capacitiesOf(this.k, this.levels.length);
    this.maxRetained = this.capacities.reduce((a, b) => a + b, 0);
    this.reserve(0, this.capacities[0]!);
  }

  private reserve(h: number, size: number): void {
    const items = this.levels[h]!;
    if (items.length >= size) return;
    const bigger = new Float64Array(Math.max(size, items.length * 2));
    bigger.set(items.subarray(0, this.sizes[h]!));
    this.levels[h] = bigger;
  }

  /** Empty level h >= 1 takes sorted `items` as its storage. */
  private adopt(h: number, items: Float64Array): void {
    this.levels[h] = items;
    this.sizes[h] = items.length;
    this.retained += items.length;
  }

  /** Adds items to level h: appended to the unsorted intake (h = 0), merged into a sorted level (h >= 1; `items` sorted). */
  private append(h: number, items: Float64Array): void {
    const size = this.sizes[h]!;
    this.reserve(h, size + items.length);
    if (h === 0 || size === 0) this.levels[h]!.set(items, size);
    else this.mergeSorted(h, items);
    this.sizes[h] = size + items.length;
    this.retained += items.length;
  }

  /** Merges sorted `items` into sorted level h through its spare buffer (no allocation once the buffers have grown). */
  private mergeSorted(h: number, items: Float64Array): void {
    const a = this.levels[h]!;
    const na = this.sizes[h]!;
    let out = this.spare[h];
    if (!out || out.length < a.length) out = this.spare[h] = new Float64Array(a.length);
    mergeInto(out, a, na, items);
    this.spare[h] = a;
    this.levels[h] = out;
  }

  /** Compacts the lowest full level (growing a level when it is the top), as KLL's lazy compress. */
  private compress(): void {
    for (let h = 0; h < this.levels.length; h++) {
      if (this.sizes[h]! < this.capacities[h]!) continue;
      if (h + 1 >= this.levels.length) this.grow();
      this.compact(h);
      if (this.retained < this.maxRetained && this.sizes[0]! < this.capacities[0]!) return;
    }
  }

  /** Sorts level h (the intake; higher levels are kept sorted) and moves every other item up; an odd item out stays. */
  private compact(h: number): void {
    const size = this.sizes[h]!;
    const items = this.levels[h]!.subarray(0, size);
    if (h === 0) items.sort();
    const pairs = size - (size % 2);
    const offset = this.parity[h]!;
    this.parity[h] = 1 - offset;
    if (this.up.length < pairs / 2) this.up = new Float64Array(pairs);
    const up = this.up.subarray(0, pairs / 2);
    everyOther(items, offset, up);
    // The odd item (the largest) stays at this level.
    if (size % 2 === 1) items[0] = items[size - 1]!;
    this.sizes[h] = size % 2;
    this.retained -= size;
    this.retained += size % 2;
    this.append(h + 1, up);
  }
}

/** A level's items from their text (base64 of little-endian float64), sorted. */
function sortedItems(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  const items = new Float64Array(bytes.byteLength / 8);
  new Uint8Array(items.buffer).set(bytes);
  return isSorted(items) ? items : items.sort();
}

/**
 * Sketch JSON whose levels this thread also holds as arrays (`attachLevels`): `fromJSON` takes
 * them once instead of decoding the text. A run's part sketches come back from the worker that
 * built them with their levels beside them, and the run's profile merges them at once.
 */
const attachedLevels = new WeakMap<SketchJson, Float64Array[]>();

/** `levels[h]` holds exactly the sorted items `json.levels[h]` encodes; `fromJSON` of `json` takes them (and may write to them). */
export function attachLevels(json: SketchJson, levels: Float64Array[]): void {
  attachedLevels.set(json, levels);
}

/** The arrays attached to `json`, taken off it; undefined when it has none. */
export function takeLevels(json: SketchJson): Float64Array[] | undefined {
  const levels = attachedLevels.get(json);
  attachedLevels.delete(json);
  return levels;
}

/**
 * A sketch's levels as a profile file writes them, in bytes: the base64 of each level's items
 * one after another, level h ending at ends[h]. Made once, where the levels are (an inference
 * worker for a part's sketches); the file's writer copies the bytes as they are (profileJson.ts
 * `profileBytes`), and a worker transfers them: a part's megabyte or two of level text is then
 * never strings on the scoring thread, copied between threads, promoted and traced by its
 * collector (docs/performance.md, "A sketch's levels as bytes").
 */
export interface LevelText {
  bytes: Uint8Array;
  ends: Int32Array;
}

const levelTexts = new WeakMap<SketchJson, LevelText>();

/** The level text of `levels` (each a level's sorted items). */
export function encodeLevels(levels: readonly Float64Array[]): LevelText {
  return joinedText(levels.map((items) => Buffer.from(items.buffer, items.byteOffset, items.byteLength).toString('base64')));
}

/** Base64 texts one after another, as bytes (one a character). */
function joinedText(texts: readonly string[]): LevelText {
  const ends = new Int32Array(texts.length);
  let size = 0;
  texts.forEach((text, h) => (ends[h] = size += text.length));
  // An ArrayBuffer of its own (not Buffer's shared pool): it may be transferred.
  const bytes = new Uint8Array(size);
  const out = Buffer.from(bytes.buffer, 0, size);
  texts.forEach((text, h) => out.write(text, h === 0 ? 0 : ends[h - 1]!, 'latin1'));
  return { bytes, ends };
}

/**
 * Sketch JSON whose levels are `text`'s: the level strings are made when `levels` is first read
 * (JSON.stringify of the whole profile, a sketch decoded without its arrays), and until then
 * `levelText` gives the bytes themselves. Once the strings are out (and may be changed) they are
 * the levels, and the bytes are dropped.
 */
export function sketchJsonOfText(k: number, n: number, parity: number[], text: LevelText): SketchJson {
  const json = { k, n } as SketchJson;
  let levels: string[] | null = null;
  // Defined in SketchJson's order (k, n, levels, parity): JSON.stringify writes them so.
  Object.defineProperty(json, 'levels', {
    enumerable: true,
    get: () => {
      levelTexts.delete(json);
      return (levels ??= splitText(text));
    },
    set: (value: string[]) => {
      levelTexts.delete(json);
      levels = value;
    },
  });
  json.parity = parity;
  levelTexts.set(json, text);
  return json;
}

function splitText({ bytes, ends }: LevelText): string[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from(ends, (end, h) => buffer.toString('latin1', h === 0 ? 0 : ends[h - 1]!, end));
}

/** The bytes of `json`'s levels when it was made from them (`sketchJsonOfText`); undefined for a sketch read from a file. */
export function levelText(json: SketchJson): LevelText | undefined {
  return levelTexts.get(json);
}

/** The level text of any sketch JSON: its own bytes, or its level strings' (base64: one byte a character). */
export function levelTextOf(json: SketchJson): LevelText {
  return levelTexts.get(json) ?? joinedText(json.levels);
}

/**
 * A sketch as a worker posts it: its level text and its levels' arrays (`attachLevels`), all
 * transferred, none copied (`postedSketch` on the worker, `receivedSketch` where it arrives).
 */
export interface PostedSketch {
  k: number;
  n: number;
  parity: number[];
  text: LevelText;
  levels: Float64Array[] | null;
}

/** `json` to post, and the buffers to transfer with it (its level text and attached arrays, taken). */
export function postedSketch(json: SketchJson): { posted: PostedSketch; transfer: ArrayBuffer[] } {
  const text = levelTextOf(json);
  const levels = takeLevels(json) ?? null;
  const transfer = [text.bytes.buffer, text.ends.buffer, ...(levels ?? []).map((items) => items.buffer)] as ArrayBuffer[];
  return { posted: { k: json.k, n: json.n, parity: json.parity, text, levels }, transfer };
}

/** A posted sketch as sketch JSON, its levels' arrays attached. */
export function receivedSketch(posted: PostedSketch): SketchJson {
  const json = sketchJsonOfText(posted.k, posted.n, posted.parity, posted.text);
  if (posted.levels) attachLevels(json, posted.levels);
  return json;
}

/** The capacity of each level of a sketch `height` levels high: k at the top, 2/3 of the one above below it, at least MIN_CAPACITY. */
function capacitiesOf(k: number, height: number): number[] {
  return Array.from({ length: height }, (_, h) => Math.max(MIN_CAPACITY, Math.ceil(k * SHRINK ** (height - h - 1))));
}

/** n sorted values of `level` for `sketchJsonOfSorted`. */
export interface SortedPiece {
  n: number;
  level: number;
}

/**
 * Where `ofSorted` puts a piece's values: the middles of its blocks of `block` at level `top`,
 * and one value at each of `singles` (level and index into the sorted values).
 */
interface Placement {
  top: number;
  block: number;
  whole: number;
  singles: { level: number; index: number }[];
  /** The levels of its sketch, and the items it keeps. */
  height: number;
  retained: number;
}

/** `ofSorted`'s placement of n sorted values of `level` (its arithmetic alone). */
function placementOf({ n, level }: SortedPiece, k: number): Placement {
  if (n === 0) return { top: level, block: 1, whole: 0, singles: [], height: 1, retained: 0 };
  let d = 0;
  while (Math.floor(n / 2 ** d) > k) d++;
  const block = 2 ** d;
  const whole = Math.floor(n / block);
  const singles: Placement['singles'] = [];
  let at = whole * block;
  for (let j = d - 1; j >= 0; j--) {
    if (((n - whole * block) & (2 ** j)) === 0) continue;
    singles.push({ level: level + j, index: at + Math.max(0, 2 ** (j - 1) - 1) });
    at += 2 ** j;
  }
  return { top: level + d, block, whole, singles, height: level + d + 1, retained: whole + singles.length };
}

/** The placements' items go straight to their levels: no two pieces share a level, and no sketch on the way (each piece's, their merge) would compact. */
function placedAtOnce(placements: readonly Placement[], height: number, k: number): boolean {
  const used = new Set<number>();
  let retained = 0;
  for (const p of placements) {
    if (p.retained >= maxRetainedOf(k, p.height)) return false;
    retained += p.retained;
    for (const level of p.whole > 0 ? [p.top, ...p.singles.map((s) => s.level)] : []) {
      if (used.has(level)) return false;
      used.add(level);
    }
  }
  return retained < maxRetainedOf(k, height);
}

function maxRetainedOf(k: number, height: number): number {
  return capacitiesOf(k, height).reduce((a, b) => a + b, 0);
}

/**
 * The JSON of the sketch `ofSorted` makes of each piece, merged in order: written straight from
 * the pieces' picked values where their levels do not meet and nothing would be compacted (a
 * part's sample: its exact values below SAMPLE_LEVEL, its weighted ones from it), with no
 * sketch built; else built and merged. `sorted(i)` gives piece i's n values sorted, read before
 * the next call (a view of linear memory).
 */
export function sketchJsonOfSorted(pieces: readonly SortedPiece[], sorted: (i: number) => Float32Array | Float64Array, k = DEFAULT_K): SketchJson {
  const placements = pieces.map((piece) => placementOf(piece, k));
  const height = Math.max(1, ...placements.map((p) => p.height));
  if (!placedAtOnce(placements, height, k)) {
    const sketch = new QuantileSketch(k);
    pieces.forEach((piece, i) => sketch.merge(QuantileSketch.ofSorted(sorted(i), piece.level, k)));
    return sketch.toJSON();
  }
  const levels: Float64Array[] = Array.from({ length: height }, () => new Float64Array(0));
  placements.forEach((p, i) => {
    if (p.whole === 0) return;
    const values = sorted(i);
    levels[p.top] = new Float64Array(p.whole);
    pickMiddles(values, p.block, levels[p.top]!);
    for (const single of p.singles) levels[single.level] = Float64Array.of(values[single.index]!);
  });
  const n = pieces.reduce((sum, piece) => sum + piece.n * 2 ** piece.level, 0);
  const json = sketchJsonOfText(k, n, levels.map(() => 0), encodeLevels(levels));
  attachLevels(json, levels);
  return json;
}

// The loops below are functions of their own: optimized on their first long call, where
// a loop inside a method would be optimized alone (on-stack replacement) and dropped back to
// the interpreter at the code after it.

/** out[b] = the middle of block b of `size` sorted items: the lower middle in even blocks, the upper in odd ones (the item itself for blocks of 1). */
function pickMiddles(sorted: Float32Array | Float64Array, size: number, out: Float64Array): void {
  const lower = Math.max(0, size / 2 - 1);
  const upper = size / 2 === lower + 1 ? size / 2 : lower;
  for (let b = 0; b < out.length; b++) out[b] = sorted[b * size + (b % 2 === 0 ? lower : upper)]!;
}

/** up[i] = items[2 i + offset]: every other item of a sorted compactor. */
function everyOther(items: Float64Array, offset: number, up: Float64Array): void {
  for (let i = 0; i < up.length; i++) up[i] = items[2 * i + offset]!;
}

/** out = the merge of sorted a[0, na) and sorted items (a's items first among equals). */
function mergeInto(out: Float64Array, a: Float64Array, na: number, items: Float64Array): void {
  const n = na + items.length;
  let i = 0;
  let j = 0;
  for (let o = 0; o < n; o++) out[o] = j >= items.length || (i < na && a[i]! <= items[j]!) ? a[i++]! : items[j++]!;
}

function isSorted(items: Float64Array): boolean {
  for (let i = 1; i < items.length; i++) if (!(items[i - 1]! <= items[i]!)) return false;
  return true;
}

/**
 * The WebAssembly kernels against their definitions computed here: the sort against V8's
 * typed-array sort, the column scan against a plain loop of Σ(v - v₀), Σ(v - v₀)², min and max
 * per column (the kernel adds each column's values in row order, so the sums are equal, not
 * close), over widths that leave columns outside the kernel's vectors of four, row counts
 * across its tiles of 256 rows and tensors larger than the pieces it copies them in.
 */
import { describe, expect, it } from 'vitest';
import { ARGMAX, scanFloat32Columns, sortedRuns, sortFloat64, twoClassColumns } from '../../src/profile/kernels.js';
import { sampleBatch } from '../../src/profile/rowSample.js';
import { uniform } from '../helpers/seeded.js';

describe('sortFloat64', () => {
  it("sorts as V8's typed-array sort does: float32 values, doubles of every magnitude, signed zeros, infinities", () => {
    const u = uniform(9);
    for (const float32 of [true, false]) {
      for (const n of [100, 5000, 70_000]) {
        const values = Float64Array.from({ length: n }, () => (float32 ? Math.fround((u() - 0.5) * 100) : (u() - 0.5) * 10 ** Math.floor(u() * 20 - 10)));
        values.set([-0, 0, Infinity, -Infinity, float32 ? 1e-45 : 5e-324, float32 ? -1e-45 : -5e-324, 7, 7]);
        const want = Float64Array.from(values).sort();
        // toEqual tells -0 from 0 (Object.is).
        expect(Array.from(sortFloat64(values))).toEqual(Array.from(want));
      }
    }
  });

  it('sorts a subarray in place and leaves the rest of its buffer alone', () => {
    const u = uniform(4);
    const all = Float64Array.from({ length: 10_000 }, () => u());
    const before = all.slice();
    const middle = all.subarray(1000, 9000);
    expect(sortFloat64(middle)).toBe(middle);
    expect(Array.from(middle)).toEqual(Array.from(before.subarray(1000, 9000)).sort((a, b) => a - b));
    expect(Array.from(all.subarray(0, 1000))).toEqual(Array.from(before.subarray(0, 1000)));
    expect(Array.from(all.subarray(9000))).toEqual(Array.from(before.subarray(9000)));
  });
});

describe('sortedRuns', () => {
  it('joins runs and sorts them as one array: empty runs among them, few values and many, float32 values and doubles', () => {
    const u = uniform(12);
    for (const float32 of [true, false]) {
      for (const lengths of [[], [0], [3, 0, 5], [1000, 0, 1047], [1000, 1048], [30_000, 7, 0, 41_000]]) {
        const runs = lengths.map((n) => Float64Array.from({ length: n }, () => (float32 ? Math.fround(u() * 8 - 4) : u() * 8 - 4)));
        const copies = runs.map((r) => r.slice());
        const want = Float64Array.from(runs.flatMap((r) => Array.from(r))).sort();
        expect(Array.from(sortedRuns(runs))).toEqual(Array.from(want));
        // The runs are read, not sorted in place.
        expect(runs).toEqual(copies);
        if (!float32) continue;
        // The same values as float32 runs: sorted as float32, the same order.
        const narrow = sortedRuns(runs.map((r) => Float32Array.from(r)));
        expect(narrow).toBeInstanceOf(Float32Array);
        expect(Array.from(narrow)).toEqual(Array.from(want));
      }
    }
    // Signed zeros and infinities as float32, past the size V8's sort takes: -0 before +0.
    const special = Float32Array.from({ length: 5000 }, (_, i) => [0, -0, Infinity, -Infinity, -1.5, 2 ** -140][i % 6]!);
    const sorted = Array.from(sortedRuns([special.subarray(0, 2500), special.subarray(2500)]));
    expect(sorted).toEqual(Array.from(Float64Array.from(special).sort()));
    expect(Object.is(sorted[1666], -0) && Object.is(sorted[2500], 0)).toBe(true);
    // Keys whose 11-bit digits are the same in some passes: those passes are skipped, the others
    // still read the values and write them back (one pass alone, the first or last of two, none).
    const bits = (make: (r: number) => number) => new Float32Array(Uint32Array.from({ length: 6000 }, (_, i) => make(Math.floor(u() * 2 ** 31) + i)).buffer);
    const layouts = {
      'pass 1 of 3': bits((r) => 0x3f800000 | (r & 0x7ff)),
      'pass 2 of 3': bits((r) => 0x3f800000 | ((r & 0x7ff) << 11)),
      'pass 3 of 3': bits((r) => ((r % 200) + 20) << 23),
      'passes 1 and 3': bits((r) => (((r % 200) + 20) << 23) | ((r >> 9) & 0x7ff)),
      // Negative keys are the bits inverted: every digit differs from the positive ones'.
      'signs': bits((r) => ((r & 1) << 31) | ((((r >> 1) % 200) + 20) << 23)),
      'passes 1 and 2': bits((r) => 0x3f800000 | (r & 0x3fffff)),
      'none': bits(() => 0x40490fdb),
    };
    for (const [layout, values] of Object.entries(layouts)) {
      const want = Array.from(Float32Array.from(values).sort());
      expect(Array.from(sortedRuns([values.subarray(0, 3000), values.subarray(3000)])), layout).toEqual(want);
      expect(Array.from(sortFloat64(Float64Array.from(values))), layout).toEqual(want);
    }
    // A float32 run among float64 ones: all sorted as float64.
    expect(sortedRuns([Float32Array.of(3, 1), Float64Array.of(0.1, 2)])).toEqual(Float64Array.of(0.1, 1, 2, 3));
  });
});

/** The definition: per column, Σ(v - v₀), Σ(v - v₀)², min, max, in row order. */
function scanHere(data: Float32Array, rows: number, width: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < width; c++) {
    const shift = data[c]!;
    let sum = 0;
    let squares = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let r = 0; r < rows; r++) {
      const d = data[r * width + c]! - shift;
      sum += d;
      squares += d * d;
      min = Math.min(min, d + shift);
      max = Math.max(max, d + shift);
    }
    out.push(sum, squares, min, max);
  }
  return out;
}

describe('scanFloat32Columns', () => {
  it('gives each column its shifted sums, sum of squares, min and max, at every width and across tiles', () => {
    const u = uniform(11);
    for (const width of [1, 3, 4, 5, 8, 9, 13, 30]) {
      for (const rows of [1, 2, 255, 256, 257, 1000]) {
        const data = Float32Array.from({ length: rows * width }, (_, i) => (u() - 0.3) * 10 ** ((i % width) - 2) + (i % width) * 1000);
        expect(Array.from(scanFloat32Columns(data, rows, width)), `${rows} x ${width}`).toEqual(scanHere(data, rows, width));
      }
    }
  });

  // 300,000 rows x 7 columns is 8.4 MB: it goes through linear memory in three pieces of 4 MB,
  // the figures (one group of four, three columns left over) carried from piece to piece.
  it('a tensor larger than a piece gives the figures of one pass; only the first `rows` rows count; smaller calls after it', () => {
    const u = uniform(12);
    const big = Float32Array.from({ length: 300_000 * 7 }, () => u() * 2 - 1);
    expect(Array.from(scanFloat32Columns(big, 300_000, 7))).toEqual(scanHere(big, 300_000, 7));
    expect(Array.from(scanFloat32Columns(big, 10, 7))).toEqual(scanHere(big, 10, 7));
    expect(Array.from(scanFloat32Columns(big, 0, 7))).toEqual(new Array(28).fill(0));
  });

  it('the minimum and maximum keep the first of -0 and +0, as `v < min` and `v > max` do, in vectors and in a column left over', () => {
    // Width 5: columns 0-3 go through a vector, column 4 through the scalar loop.
    const rows = [
      [0, -0, 0, -0, 0],
      [-0, 0, -0, 0, -0],
    ];
    for (const order of [rows, [...rows].reverse()]) {
      const data = Float32Array.from(order.flat());
      const figures = scanFloat32Columns(data, 2, 5);
      for (let c = 0; c < 5; c++) {
        expect(Object.is(figures[4 * c + 2], order[0]![c]), `min of column ${c}`).toBe(true);
        expect(Object.is(figures[4 * c + 3], order[0]![c]), `max of column ${c}`).toBe(true);
      }
    }
  });

  it('a column with NaN or an infinity has non-finite sums; its neighbours in the same vector are exact', () => {
    const rows = 600;
    const width = 6;
    const data = Float32Array.from({ length: rows * width }, (_, i) => (i % 97) / 7);
    data[300 * width + 1] = NaN;
    data[400 * width + 4] = -Infinity;
    const figures = scanFloat32Columns(data, rows, width);
    const want = scanHere(data, rows, width);
    for (const c of [1, 4]) expect(Number.isFinite(figures[4 * c]! + figures[4 * c + 1]!)).toBe(false);
    for (const c of [0, 2, 3, 5]) expect(Array.from(figures.subarray(4 * c, 4 * c + 4))).toEqual(want.slice(4 * c, 4 * c + 4));
  });
});

describe('twoClassColumns', () => {
  // The rules against the written rows on every edge value: test/sink/partWriter.test.ts.
  it('decides by the argmax, pads rows to its vectors of four with rows that count nowhere, and scans its columns', () => {
    const u = uniform(21);
    for (const rows of [0, 1, 3, 4, 5, 1001, 70_000]) {
      const p1 = Float32Array.from({ length: rows }, () => u());
      const { counts, columns, profile } = twoClassColumns(null, p1, rows, ARGMAX);
      const p0 = p1.map((p) => 1 - p);
      const ones = p1.filter((p, r) => p > p0[r]!).length;
      expect(counts, `${rows} rows`).toEqual([rows - ones, ones, 0]);
      const want = Float32Array.from({ length: 4 * rows }, (_, i) => [Math.max(p0[i >> 2]!, p1[i >> 2]!), p0[i >> 2]!, p1[i >> 2]!, 0][i % 4]!);
      expect(Array.from(columns)).toEqual(Array.from(want));
      expect(Array.from(profile.scan)).toEqual(rows > 0 ? scanHere(want, rows, 4) : new Array(16).fill(0));
    }
  });

  it('a threshold and review flags on two given probability columns; the rows after `rows` are not read', () => {
    const p0 = Float32Array.of(0.9, 0.4, 0.55, NaN, 0.2, 0.7);
    const p1 = Float32Array.of(0.1, 0.6, 0.45, 0.5, 0.8, 0.3);
    // Class 0 when p0 >= 0.5; review when confidence < 0.6 or p0 in [0.4, 0.6].
    const { counts, columns } = twoClassColumns(p0, p1, 5, { threshold: 0.5, positive: 0, below: 0.6, low: 0.4, high: 0.6 });
    expect(Array.from({ length: 5 }, (_, r) => columns[4 * r])).toEqual([Math.fround(0.9), Math.fround(0.6), Math.fround(0.55), NaN, Math.fround(0.8)]);
    expect(counts).toEqual([2, 2, 2]);
  });

  it("gathers the sample's rows of confidence, p0 and p1: finite values only, the exact rows' first", () => {
    const u = uniform(5);
    const rows = 70_000;
    const p1 = Float32Array.from({ length: rows }, () => (u() < 0.01 ? NaN : u()));
    const sample = sampleBatch(3, 16_000, rows);
    const { columns, profile } = twoClassColumns(null, p1, rows, ARGMAX, sample);
    const { values, capacity, exactEnds, ends } = profile;
    expect(capacity).toBe(sample.rows.length);
    for (let j = 0; j < 3; j++) {
      const at = (from: number, to: number) => Array.from(sample.rows.subarray(from, to), (r) => columns[4 * r + j]!).filter(Number.isFinite);
      const exact = at(0, sample.exact);
      const rest = at(sample.exact, sample.rows.length);
      expect([exactEnds[j], ends[j]]).toEqual([exact.length, exact.length + rest.length]);
      expect(Array.from(values.subarray(j * capacity, j * capacity + ends[j]!))).toEqual([...exact, ...rest]);
    }
    // 384 exact rows (to the file's 16,384th), then about 1 in 16; some NaN left out.
    expect(sample.exact).toBe(384);
    expect(ends[1]! - exactEnds[1]!).toBeLessThan(sample.rows.length - sample.exact);
  });
});

import { describe, expect, it } from 'vitest';
import { copyRowMajor, PIECE_VALUES, type FloatColumns } from '../../src/source/rowMajor.js';

/** The reference: the tensor a plain loop writes (a Float32Array store rounds as Math.fround). */
function naive(columns: FloatColumns, from: number, count: number, out: Float32Array, start: number): Float32Array {
  const expected = out.slice();
  const width = columns.length;
  columns.forEach((column: ArrayLike<number>, j: number) => {
    for (let i = 0; i < count; i++) expected[start + i * width + j] = column[from + i]!;
  });
  return expected;
}

/** Bit patterns, so -0 and 0 differ and NaN equals NaN. */
const bits = (a: Float32Array): number[] => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function columnsOf(width: number, rows: number, wide: boolean, seed: number): Float32Array[] | Float64Array[] {
  const next = seeded(seed);
  const make = (): number[] => Array.from({ length: rows }, () => (next() - 0.5) * 1e4);
  return wide ? Array.from({ length: width }, () => Float64Array.from(make())) : Array.from({ length: width }, () => Float32Array.from(make()));
}

describe('copyRowMajor', () => {
  for (const wide of [false, true]) {
    const kind = wide ? 'float64' : 'float32';
    it.each([1, 2, 3, 4, 5, 7, 8, 9, 30])(`${kind} columns, width %i: the tensor a plain loop writes, for any rows, offset and start`, (width) => {
      for (const [from, count] of [[0, 0], [0, 1], [0, 3], [1, 4], [2, 5], [0, 2048], [7, 2041], [0, 2049]] as const) {
        const columns = columnsOf(width, from + count + 3, wide, width * 1000 + count);
        const start = 5 * width + 1;
        const out = new Float32Array(start + (count + 2) * width).fill(-7);
        const expected = naive(columns, from, count, out, start);
        const checks = copyRowMajor(columns, from, count, out, start);
        expect(bits(out)).toEqual(bits(expected));
        expect([...checks]).toEqual(new Array(width).fill(0));
      }
    });
  }

  it('a NaN or an infinity marks its own column only, wherever it is: in a vector of four rows, in the last rows, in a column past the groups of four', () => {
    const width = 6;
    const rows = 11; // two groups of four rows, three rows left
    for (const bad of [NaN, Infinity, -Infinity]) {
      for (const row of [0, 3, 5, 8, 10]) {
        for (const col of [0, 3, 4, 5]) {
          const columns = columnsOf(width, rows, false, row * 31 + col) as Float32Array[];
          columns[col]![row] = bad;
          const out = new Float32Array(rows * width);
          const checks = copyRowMajor(columns, 0, rows, out, 0);
          expect(bits(out)).toEqual(bits(naive(columns, 0, rows, new Float32Array(rows * width), 0)));
          expect([...checks].map((c, j) => (j === col ? Number.isNaN(c) : c === 0))).toEqual(new Array(width).fill(true));
        }
      }
    }
  });

  it('rows outside [from, from + count) are neither copied nor checked', () => {
    const columns = columnsOf(4, 20, false, 5) as Float32Array[];
    columns[2]![3] = NaN;
    columns[1]![16] = Infinity;
    const out = new Float32Array(12 * 4);
    const checks = copyRowMajor(columns, 4, 12, out, 0);
    expect([...checks]).toEqual([0, 0, 0, 0]);
    expect(bits(out)).toEqual(bits(naive(columns, 4, 12, new Float32Array(48), 0)));
  });

  it('a float64 value is rounded to float32 as a Float32Array store rounds it, and one past float32 range is infinite', () => {
    const max = 3.4028234663852886e38;
    const edges = [0, -0, 1e-46, -1e-46, 1.4e-45, 1.1754942e-38, 0.1, 1 / 3, 16777217, 2 ** 24 + 3, max, -max, max * (1 + 2 ** -25), max * (1 + 2 ** -23), 1e39, -1e300, 5e-324];
    const columns = [0, 1, 2, 3, 4].map((shift) => Float64Array.from(edges.map((_, i) => edges[(i + shift) % edges.length]!)));
    const out = new Float32Array(edges.length * 5);
    const checks = copyRowMajor(columns, 0, edges.length, out, 0);
    expect(bits(out)).toEqual(bits(Float32Array.from({ length: edges.length * 5 }, (_, k) => Math.fround(columns[k % 5]![Math.floor(k / 5)]!))));
    // Every column holds 1e39 and -1e300 somewhere: all are flagged.
    expect([...checks].every(Number.isNaN)).toBe(true);
    const inRange = edges.filter((v) => Number.isFinite(Math.fround(v)));
    const fine = copyRowMajor([0, 1, 2, 3].map(() => Float64Array.from(inRange)), 0, inRange.length, new Float32Array(inRange.length * 4), 0);
    expect([...fine]).toEqual([0, 0, 0, 0]);
  });

  it('each call checks only its own rows (the checks start at 0), whether memory grew or not', () => {
    const bad = columnsOf(8, 4096, true, 1) as Float64Array[];
    bad[7]![4000] = NaN;
    expect(Number.isNaN(copyRowMajor(bad, 0, 4096, new Float32Array(4096 * 8), 0)[7])).toBe(true);
    const small = columnsOf(8, 3, true, 2);
    expect([...copyRowMajor(small, 0, 3, new Float32Array(24), 0)]).toEqual(new Array(8).fill(0));
    const large = columnsOf(8, 10_000, false, 3);
    const out = new Float32Array(80_000);
    expect([...copyRowMajor(large, 0, 10_000, out, 0)]).toEqual(new Array(8).fill(0));
    expect(bits(out)).toEqual(bits(naive(large, 0, 10_000, new Float32Array(80_000), 0)));
  });

  it('a feed too wide for one piece of linear memory is copied in pieces of rows, the checks over them all', () => {
    const width = 3000;
    const count = 500;
    expect(count * width).toBeGreaterThan(PIECE_VALUES);
    for (const wide of [false, true]) {
      const columns = columnsOf(width, count + 2, wide, 9);
      columns[2999]![count + 1] = NaN; // past the rows copied ([1, count + 1))
      columns[1234]![480] = -Infinity; // in the last piece
      const out = new Float32Array(3 + count * width);
      const checks = copyRowMajor(columns, 1, count, out, 3);
      expect(bits(out)).toEqual(bits(naive(columns, 1, count, new Float32Array(3 + count * width), 3)));
      expect([...checks].flatMap((c, j) => (c === 0 ? [] : [j]))).toEqual([1234]);
    }
  });
});


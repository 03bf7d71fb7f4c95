/**
 * The sketch as a profile stores and reads it: JSON round trips, merging a decoded copy is
 * merging the sketch itself, the merged sketch leaves its source as it was, and a decoded
 * sketch takes more values without losing rank accuracy.
 */
import { describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../src/profile/quantileSketch.js';
import { normals } from '../helpers/seeded.js';
import { countAtMost } from '../helpers/exactDrift.js';

function sketchOf(values: Float64Array): QuantileSketch {
  const sketch = new QuantileSketch();
  sketch.addArray(values);
  return sketch;
}

const sorted = (values: Float64Array): Float64Array => Float64Array.from(values).sort();

describe('QuantileSketch JSON and merge', () => {
  const a = normals(11, 200_000);
  const b = normals(12, 150_000, 0.5, 2);

  it('round-trips through JSON: the decoded sketch writes the same JSON', () => {
    const json = sketchOf(a).toJSON();
    expect(json.levels.length).toBeGreaterThan(5);
    expect(QuantileSketch.fromJSON(JSON.parse(JSON.stringify(json))).toJSON()).toEqual(json);
  });

  it('merging a decoded copy gives the sketch merging the original gives, and leaves the source as it was', () => {
    const source = sketchOf(b);
    const before = source.toJSON();
    const direct = sketchOf(a);
    direct.merge(source);
    const decoded = sketchOf(a);
    decoded.merge(QuantileSketch.fromJSON(before));
    expect(decoded.toJSON()).toEqual(direct.toJSON());
    expect(source.toJSON()).toEqual(before);
    expect(direct.n).toBe(a.length + b.length);
  });

  it('a decoded sketch takes more values and merges on, within its rank error of the union', () => {
    const sketch = QuantileSketch.fromJSON(sketchOf(a).toJSON());
    sketch.addArray(b);
    sketch.merge(QuantileSketch.fromJSON(sketchOf(a).toJSON()));
    const union = sorted(Float64Array.from([...a, ...b, ...a]));
    expect(sketch.n).toBe(union.length);
    for (const x of [-2, -1, 0, 0.5, 1, 2, 4]) expect(Math.abs(sketch.cdf(x) - countAtMost(union, x) / union.length)).toBeLessThan(0.005);
  });

  it('a hand-edited level out of order is sorted when read', () => {
    const json = sketchOf(a).toJSON();
    const top = json.levels.length - 1;
    const bytes = Uint8Array.from(Buffer.from(json.levels[top]!, 'base64'));
    const items = new Float64Array(bytes.buffer);
    items.reverse();
    const edited = { ...json, levels: json.levels.map((l, h) => (h === top ? Buffer.from(items.buffer).toString('base64') : l)) };
    expect(QuantileSketch.fromJSON(edited).toJSON()).toEqual(json);
  });
});

describe('QuantileSketch.ofSorted', () => {
  /** Every item of the sketch with its weight, as `sorted()` reads them. */
  const weights = (s: QuantileSketch): number => Array.from(s.sorted().weights).reduce((x, w) => x + w, 0);

  it('keeps a run of at most k values whole, at its level', () => {
    const values = sorted(normals(21, 1500));
    const s = QuantileSketch.ofSorted(values.slice(), 3);
    expect(s.n).toBe(1500 * 8);
    const { items, weights: w } = s.sorted();
    expect(Array.from(items)).toEqual(Array.from(values));
    expect(new Set(w)).toEqual(new Set([8]));
  });

  // From the definition: a value's count is (its index + 1) x 2^level for distinct sorted values;
  // keeping the middle of each block of 2^d errs by at most half a block (2^(d-1) values, each
  // of weight 2^level) at any value, in the whole blocks and in the tail's digit blocks alike.
  it.each([
    { n: 2048 * 4, level: 0 },
    { n: 61_266, level: 4 },
    { n: 16_383, level: 0 },
    { n: 100_001, level: 2 },
  ])('$n values at level $level: the items weigh n 2^level and every rank is within half a block', ({ n, level }) => {
    const values = sorted(normals(22 + n, n));
    const s = QuantileSketch.ofSorted(values.slice(), level);
    let d = 0;
    while (Math.floor(n / 2 ** d) > 2048) d++;
    expect(s.n).toBe(n * 2 ** level);
    expect(weights(s)).toBe(n * 2 ** level);
    const bound = 2 ** Math.max(0, d - 1) * 2 ** level;
    let worst = 0;
    for (let i = 0; i < n; i += 7) worst = Math.max(worst, Math.abs(s.cdf(values[i]!) * s.n - (i + 1) * 2 ** level));
    expect(worst).toBeLessThanOrEqual(bound + 1e-6); // cdf() is a share: n x share rounds
    // It is not trivially exact either: thinned runs do err.
    if (d > 0) expect(worst).toBeGreaterThan(0);
    // And it stays a sketch like any other: through JSON, merged.
    const again = QuantileSketch.fromJSON(s.toJSON());
    again.merge(QuantileSketch.ofSorted(values.slice(0, 1000), level));
    expect(again.n).toBe((n + 1000) * 2 ** level);
  });

  it('an empty run is an empty sketch of one level', () => {
    const s = QuantileSketch.ofSorted(new Float64Array(0), 4);
    expect(s.n).toBe(0);
    expect(s.toJSON().levels).toHaveLength(1);
  });
});

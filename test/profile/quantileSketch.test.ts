/**
 * The sketch as a profile stores and reads it: JSON round trips, merging a decoded copy is
 * merging the sketch itself, the merged sketch leaves its source as it was, and a decoded
 * sketch takes more values without losing rank accuracy.
 */
import { describe, expect, it } from 'vitest';
import { attachLevels, QuantileSketch, sketchJsonOfSorted, takeLevels } from '../../src/profile/quantileSketch.js';
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

describe('sketchJsonOfSorted', () => {
  /** What it stands for: `ofSorted` of each piece, merged into the first in order, as JSON. */
  const built = (pieces: { values: Float64Array; level: number }[]) => {
    const sketch = QuantileSketch.ofSorted(pieces[0]!.values, pieces[0]!.level);
    for (const p of pieces.slice(1)) sketch.merge(QuantileSketch.ofSorted(p.values, p.level));
    return sketch.toJSON();
  };

  it.each([
    // A part's sample: exact values at level 0, sampled ones at level 4 (rowSample.ts).
    { counts: [16_384, 15_627], levels: [0, 4] },
    { counts: [0, 61_266], levels: [0, 4] },
    { counts: [5000, 3], levels: [0, 4] },
    { counts: [2047], levels: [0] },
    { counts: [0], levels: [0] },
    { counts: [1, 1], levels: [0, 4] },
    { counts: [9, 100_001], levels: [0, 4] },
    // Written straight where nothing compacts; built where a piece fills its sketch (2048 items
    // in one level), where two pieces share a level, or where together they would compact.
    { counts: [2048], levels: [0] },
    { counts: [3000, 3000], levels: [0, 0] },
    { counts: [2048 * 8, 2048 * 8, 2048 * 8], levels: [1, 5, 9] },
  ])('$counts values at levels $levels: the JSON of building and merging their sketches', ({ counts, levels }) => {
    // With a -0 and a +0 among the values: they keep their order through the picks.
    const withZeros = (values: Float64Array): Float64Array => (values.length > 2 ? values.fill(0, 0, 1).fill(-0, 1, 2) : values);
    const pieces = counts.map((n, i) => ({ values: sorted(withZeros(normals(40 + n + i, n))), level: levels[i]! }));
    let reads = 0;
    const json = sketchJsonOfSorted(
      pieces.map((p) => ({ n: p.values.length, level: p.level })),
      (i) => {
        reads++;
        return pieces[i]!.values;
      },
    );
    expect(json).toEqual(built(pieces));
    // Written straight, its levels come as arrays too, the ones its text encodes.
    const attached = takeLevels(json);
    if (attached) expect(attached.map((items) => Buffer.from(items.buffer).toString('base64'))).toEqual(json.levels);
    expect(attached === undefined).toBe(['2048', '3000,3000', '16384,16384,16384'].includes(String(counts)));
    // Each piece with values is read once at most (a view of linear memory is read before the next).
    expect(reads).toBeLessThanOrEqual(counts.filter((n) => n > 0).length);
  });
});

describe('attached levels', () => {
  it('fromJSON takes the arrays attached to the JSON instead of its text, once: the same sketch either way', () => {
    const json = sketchOf(normals(51, 30_000)).toJSON();
    const decoded = (text: string) => Float64Array.from(new Float64Array(new Uint8Array(Buffer.from(text, 'base64')).buffer));
    const arrays = json.levels.map(decoded);
    attachLevels(json, arrays);
    const other = sketchOf(normals(52, 20_000, 1));
    const viaArrays = QuantileSketch.fromJSON(json);
    viaArrays.merge(other);
    // Taken: the next fromJSON reads the text.
    expect(takeLevels(json)).toBeUndefined();
    const viaText = QuantileSketch.fromJSON(json);
    viaText.merge(other);
    expect(viaArrays.toJSON()).toEqual(viaText.toJSON());
    // The arrays were what it took: a level above the intake is the attached array itself.
    const marked = json.levels.map(decoded);
    const top = marked.length - 1;
    marked[top]![0] = -1e300;
    attachLevels(json, marked);
    expect(QuantileSketch.fromJSON(json).quantile(0)).toBe(-1e300);
  });
});

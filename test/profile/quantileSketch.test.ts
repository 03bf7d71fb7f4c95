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

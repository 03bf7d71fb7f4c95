/**
 * The sketch as a profile stores and reads it: JSON round trips, merging a decoded copy is
 * merging the sketch itself, the merged sketch leaves its source as it was, and a decoded
 * sketch takes more values without losing rank accuracy.
 */
import { describe, expect, it } from 'vitest';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { attachLevels, encodeLevels, levelText, levelTextOf, postedSketch, QuantileSketch, receivedSketch, sketchJsonOfSorted, sketchJsonOfText, takeLevels, type SketchJson } from '../../src/profile/quantileSketch.js';
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

describe('level text', () => {
  /** The JSON toJSON wrote before its levels were bytes: each level's sorted items as base64 strings. */
  const plain = (sketch: QuantileSketch): SketchJson => JSON.parse(JSON.stringify(sketch.toJSON())) as SketchJson;
  const base64 = (items: Float64Array) => Buffer.from(items.buffer, items.byteOffset, items.byteLength).toString('base64');

  it('encodes each level as the base64 of its float64 items, one after another, and reads back as those strings', () => {
    // Lengths 0 to 4 items: every padding of base64 (8n bytes: 0, 8, 16, 24, 32).
    const levels = [0, 1, 2, 3, 4, 2047].map((n) => sorted(normals(60 + n, n)));
    const text = encodeLevels(levels);
    expect(Array.from(text.ends)).toEqual(levels.map((_, h) => levels.slice(0, h + 1).reduce((s, l) => s + base64(l).length, 0)));
    expect(Buffer.from(text.bytes).toString('latin1')).toBe(levels.map(base64).join(''));
    const json = sketchJsonOfText(8, 99, [0, 1, 0, 1, 0, 1], text);
    expect(json.levels).toEqual(levels.map(base64));
    expect(JSON.stringify(json)).toBe(JSON.stringify({ k: 8, n: 99, levels: levels.map(base64), parity: [0, 1, 0, 1, 0, 1] }));
  });

  it("toJSON's sketch: the same JSON as the strings were; once its strings are read, or set, they are its levels", () => {
    const sketch = sketchOf(normals(61, 50_000));
    const json = sketch.toJSON();
    const text = levelText(json)!;
    expect(Buffer.from(text.bytes).toString('latin1')).toBe(plain(sketch).levels.join(''));
    expect(json).toEqual(plain(sketch));
    expect(JSON.stringify(json)).toBe(JSON.stringify(plain(sketch)));
    // Its strings read, they are its levels (a caller may change them): the bytes are dropped.
    expect(levelText(json)).toBeUndefined();
    json.levels[0] = 'AAAAAAAAAAA=';
    expect(Buffer.from(levelTextOf(json).bytes).toString('latin1')).toBe(json.levels.join(''));
    const other = sketch.toJSON();
    other.levels = ['AAAAAAAAAAA='];
    expect(levelText(other)).toBeUndefined();
    expect(Buffer.from(levelTextOf(other).bytes).toString('latin1')).toBe('AAAAAAAAAAA=');
    expect(JSON.parse(JSON.stringify(other)).levels).toEqual(['AAAAAAAAAAA=']);
  });

  it('a sketch read from a file has its text made from its strings', () => {
    const json = plain(sketchOf(normals(62, 20_000)));
    expect(levelText(json)).toBeUndefined();
    const text = levelTextOf(json);
    expect(Array.from(text.ends, (end, h) => Buffer.from(text.bytes).toString('latin1', h === 0 ? 0 : text.ends[h - 1], end))).toEqual(json.levels);
  });

  it('fromJSON with attached arrays does not read the level text (it may be made only when read)', () => {
    const sketch = sketchOf(normals(63, 30_000));
    const json = sketch.toJSON();
    const arrays = plain(sketch).levels.map((t) => new Float64Array(new Uint8Array(Buffer.from(t, 'base64')).buffer));
    const guarded = { k: json.k, n: json.n, parity: json.parity } as SketchJson;
    Object.defineProperty(guarded, 'levels', { enumerable: true, get: () => expect.unreachable('levels read') });
    attachLevels(guarded, arrays);
    expect(QuantileSketch.fromJSON(guarded).toJSON()).toEqual(json);
  });

  it('posted between threads: transferred, not copied, and received as the same JSON with its arrays attached', () => {
    const pieces = [{ n: 16_384, level: 0 }, { n: 15_000, level: 4 }];
    const values = pieces.map((p, i) => sorted(normals(64 + i, p.n)));
    const json = sketchJsonOfSorted(pieces, (i) => values[i]!);
    const expected = JSON.parse(JSON.stringify(json)) as SketchJson;
    const { posted, transfer } = postedSketch(json);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(posted, transfer);
    // Transferred: the sender's buffers are detached.
    expect(transfer.every((b) => b.byteLength === 0)).toBe(true);
    expect(takeLevels(json)).toBeUndefined();
    const received = receivedSketch(receiveMessageOnPort(port2)!.message as typeof posted);
    port1.close();
    expect(received).toEqual(expected);
    expect(takeLevels(received)!.map(base64)).toEqual(expected.levels);
    // A sketch built the long way (no arrays attached) goes as its text alone.
    const built = postedSketch(sketchOf(normals(66, 5000)).toJSON());
    expect(built.posted.levels).toBeNull();
  });
});

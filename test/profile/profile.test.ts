/**
 * Column and prediction profiles: counts, moments against a direct two-pass computation,
 * category counts and their truncation, and merging parts = profiling the union.
 */
import { describe, expect, it } from 'vitest';
import { CATEGORY_LIMIT } from '../../src/profile/categoryTally.js';
import { ColumnProfiler } from '../../src/profile/columnProfile.js';
import { mergeProfiles, Profiler, type Profile } from '../../src/profile/profile.js';
import { QuantileSketch } from '../../src/profile/quantileSketch.js';
import { normals, uniform } from '../helpers/seeded.js';

function direct(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, std: Math.sqrt(variance) };
}

describe('column profile', () => {
  it('counts NULLs, NaN and Inf apart and summarises the finite values', () => {
    const p = new ColumnProfiler('x', 'DOUBLE', 'numeric');
    p.addNumbers(Float64Array.from([1, 2, NaN, 4, Infinity]));
    p.addNulls(2);
    p.addNumbers(new Float32Array([-Infinity, 10]));
    const json = p.toJSON();
    expect(json).toMatchObject({ rows: 9, nulls: 2, nan: 1, inf: 2, numeric: { count: 4, min: 1, max: 10 } });
    const { mean, std } = direct([1, 2, 4, 10]);
    expect(json.numeric!.mean).toBeCloseTo(mean, 12);
    expect(json.numeric!.std).toBeCloseTo(std, 12);
    expect(QuantileSketch.fromJSON(json.numeric!.sketch).quantiles([0, 0.5, 1])).toEqual([1, 2, 10]);
  });

  it('an empty or all-NULL column has null min, max, mean and std', () => {
    const p = new ColumnProfiler('x', 'DOUBLE', 'numeric');
    p.addNulls(3);
    expect(p.toJSON().numeric).toMatchObject({ count: 0, min: null, max: null, mean: null, std: null });
  });

  it('integer-coded columns count categories too; strings count NULL apart', () => {
    const ints = new ColumnProfiler('code', 'INTEGER', 'numeric', true);
    ints.addNumbers(Int32Array.from([3, 1, 3, 2, 3, 1]));
    expect(ints.toJSON().categories).toEqual({ values: [[3, 3], [1, 2], [2, 1]], other: 0, truncated: false });
    const strings = new ColumnProfiler('region', 'VARCHAR', 'categorical');
    strings.addValues(['b', 'a', null, 'b']);
    expect(strings.toJSON()).toMatchObject({ rows: 4, nulls: 1, numeric: null, categories: { values: [['b', 2], ['a', 1]], other: 0, truncated: false } });
  });

  it(`keeps ${CATEGORY_LIMIT} distinct values; later ones count as other`, () => {
    const p = new ColumnProfiler('id', 'VARCHAR', 'categorical');
    p.addValues(Array.from({ length: CATEGORY_LIMIT + 5 }, (_, i) => `v${i}`));
    const c = p.toJSON().categories!;
    expect(c.values).toHaveLength(CATEGORY_LIMIT);
    expect(c.other).toBe(5);
    expect(c.truncated).toBe(true);
  });
});

/** A profile of rows [from, to) of seeded columns: a number with NULLs and NaN, a category, predictions. */
function profileRows(values: Float64Array, from: number, to: number): Profile {
  const profiler = new Profiler(`rows ${from}-${to}`);
  const u = uniform(from + 1);
  const x = profiler.column('x', 'DOUBLE');
  const region = profiler.column('region', 'VARCHAR');
  const chunk = 1000;
  for (let start = from; start < to; start += chunk) {
    const end = Math.min(to, start + chunk);
    const numbers: number[] = [];
    let nulls = 0;
    for (let i = start; i < end; i++) {
      if (i % 97 === 0) nulls++;
      else numbers.push(i % 101 === 0 ? NaN : values[i]!);
    }
    x.addNulls(nulls);
    x.addNumbers(Float64Array.from(numbers));
    region.addValues(Array.from({ length: end - start }, (_, k) => ((start + k) % 13 === 0 ? null : `r${(start + k) % 7}`)));
    const classIndex = Int32Array.from({ length: end - start }, (_, k) => (start + k) % 3);
    profiler.addPredictions(classIndex, ['a', 'b', 'c'], end - start, Uint8Array.from({ length: end - start }, () => (u() < 0.1 ? 1 : 0)));
    profiler.addRows(end - start);
  }
  // Through JSON, as profile files are merged.
  return JSON.parse(JSON.stringify(profiler.profile()));
}

describe('Profiler, as a scoring run calls it per batch', () => {
  it('addColumn takes float32 or float64 arrays of a batch; addPredictions class indices and review flags', () => {
    const profiler = new Profiler('run');
    profiler.addColumn('amount', new Float32Array([1.5, 2.5, 99, 0]), 3);
    profiler.addColumn('amount', new Float32Array([4.5]));
    profiler.addColumn('score', Float64Array.from([0.25, 0.75]));
    profiler.addPredictions(Int32Array.from([0, 1, 1, -1]), ['legit', 'fraud'], 4, Uint8Array.from([1, 0, 1, 1]));
    profiler.addRows(4);
    const p = profiler.profile();
    expect(p.columns.map((c) => [c.name, c.type, c.rows, c.numeric!.min, c.numeric!.max])).toEqual([['amount', 'FLOAT', 4, 1.5, 99], ['score', 'DOUBLE', 2, 0.25, 0.75]]);
    // The row without a prediction (-1) is left out, its review flag too.
    expect(p.prediction).toEqual({ rows: 3, classes: { legit: 1, fraud: 2 }, review: 2, review_rate: 2 / 3 });
    expect(p.rows).toBe(4);
  });
});

describe('mergeProfiles', () => {
  it('merging parts gives the profile of the union: exact counts equal, moments and quantiles within rounding and sketch error', () => {
    const values = normals(21, 300_000, 5, 2);
    const whole = profileRows(values, 0, 300_000);
    // The union's review flags come from per-part seeds: compare those with the parts' sum.
    const parts = [profileRows(values, 0, 100_000), profileRows(values, 100_000, 250_000), profileRows(values, 250_000, 300_000)];
    const merged = mergeProfiles(parts);
    expect(merged.rows).toBe(whole.rows);
    for (const [m, w] of merged.columns.map((c, i) => [c, whole.columns[i]!] as const)) {
      expect(m.name).toBe(w.name);
      expect({ rows: m.rows, nulls: m.nulls, nan: m.nan, inf: m.inf, categories: m.categories }).toEqual({ rows: w.rows, nulls: w.nulls, nan: w.nan, inf: w.inf, categories: w.categories });
      if (!w.numeric) continue;
      expect({ count: m.numeric!.count, min: m.numeric!.min, max: m.numeric!.max }).toEqual({ count: w.numeric.count, min: w.numeric.min, max: w.numeric.max });
      expect(m.numeric!.mean).toBeCloseTo(w.numeric.mean!, 10);
      expect(m.numeric!.std).toBeCloseTo(w.numeric.std!, 10);
      const sorted = Float64Array.from(values.filter((_, i) => i % 97 !== 0 && i % 101 !== 0)).sort();
      const sketch = QuantileSketch.fromJSON(m.numeric!.sketch);
      for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99]) {
        const value = sketch.quantile(q);
        const rank = sorted.findIndex((v) => v > value) / sorted.length;
        expect(Math.abs(rank - q), `q ${q}`).toBeLessThan(0.002);
      }
    }
    expect(merged.prediction!.classes).toEqual(whole.prediction!.classes);
    expect(merged.prediction!.review).toBe(parts.reduce((s, p) => s + p.prediction!.review!, 0));
    expect(merged.prediction!.review_rate).toBeCloseTo(merged.prediction!.review! / 300_000, 15);
  });

  it('categories past the limit keep the values of the most rows over the parts', () => {
    const a = new ColumnProfiler('c', 'VARCHAR', 'categorical');
    // 'shared' is met first; a's last value is counted in other.
    a.addValues(['shared', 'shared', ...Array.from({ length: CATEGORY_LIMIT }, (_, i) => `a${i}`)]);
    const b = new ColumnProfiler('c', 'VARCHAR', 'categorical');
    b.addValues(['shared', 'b', 'b', 'b']);
    const profile = (p: ColumnProfiler): Profile => ({ profile_version: 1, source: 's', rows: p.rows, columns: [p.toJSON()], prediction: null });
    const merged = mergeProfiles([profile(a), profile(b)]).columns[0]!.categories!;
    expect(merged.values.slice(0, 2)).toEqual([['b', 3], ['shared', 3]]);
    expect(merged.values).toHaveLength(CATEGORY_LIMIT);
    expect(merged.values.reduce((s, [, n]) => s + n, 0) + merged.other).toBe(CATEGORY_LIMIT + 6);
    expect(merged.truncated).toBe(true);
  });

  it('a column two profiles give different kinds is an error naming it', () => {
    const num = new Profiler('a');
    num.column('x', 'DOUBLE').addNumbers([1]);
    const str = new Profiler('b');
    str.column('x', 'VARCHAR').addValues(['1']);
    expect(() => mergeProfiles([num.profile(), str.profile()])).toThrow(/profiles disagree on column x: numeric \(DOUBLE\) in one, categorical \(VARCHAR\) in b/);
  });
});

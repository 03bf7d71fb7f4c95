/**
 * compareProfiles' decisions: which method judges which column, the Bonferroni level of ks,
 * the categorical counterparts, dataset drift by share, prediction drift on its own, schema
 * changes, and columns with no value.
 */
import { describe, expect, it } from 'vitest';
import { compareProfiles } from '../../src/drift/drift.js';
import { Profiler, type Profile } from '../../src/profile/profile.js';

interface Columns {
  x?: number[];
  y?: number[];
  region?: (string | null)[];
  confidence?: number[];
}

function profileOf(columns: Columns, name = 'p', predictions?: string[]): Profile {
  const profiler = new Profiler(name);
  for (const key of ['x', 'y', 'confidence'] as const) if (columns[key]) profiler.column(key, 'DOUBLE').addNumbers(columns[key]);
  if (columns.region) profiler.column('region', 'VARCHAR').addValues(columns.region);
  if (predictions) {
    const classes = ['legit', 'fraud'];
    profiler.addPredictions(predictions.map((p) => classes.indexOf(p)), classes, predictions.length);
  }
  return profiler.profile();
}

const range = (n: number, shift = 0): number[] => Array.from({ length: n }, (_, i) => i + shift);

describe('compareProfiles', () => {
  it('psi judges by PSI > 0.2; the dataset drifts at the drift share', () => {
    const ref = profileOf({ x: range(1000), y: range(1000) });
    const cur = profileOf({ x: range(1000, 500), y: range(1000, 5) });
    const report = compareProfiles(ref, cur);
    expect(report.columns.map((c) => [c.column, c.drifted])).toEqual([['x', true], ['y', false]]);
    expect(report).toMatchObject({ method: 'psi', threshold: 0.2, drifted_columns: 1, drifted_share: 0.5, dataset_drift: true });
    expect(compareProfiles(ref, cur, { driftShare: 0.51 }).dataset_drift).toBe(false);
    // x moved by half its range: the last half of the reference bins is where all of it lies.
    expect(report.columns[0]!.wasserstein).toBeCloseTo(500 / Math.sqrt((1000 * 1001) / 12), 2);
  });

  it('ks divides the level by the number of columns (Bonferroni)', () => {
    // KS 0.1 between samples of 1000: p = Q(sqrt(500) 0.1) = 2 (e^-10 - e^-40 + ...) ~ 9.1e-5, below 0.05 / 2.
    const ref = profileOf({ x: range(1000), y: range(1000) });
    const cur = profileOf({ x: range(1000, 100), y: range(1000, 60) });
    const report = compareProfiles(ref, cur, { method: 'ks' });
    const [x, y] = report.columns;
    expect(x!.ks).toBeCloseTo(0.1, 12);
    expect(y!.ks).toBeCloseTo(0.06, 12);
    // y: p = Q(sqrt(500) 0.06) = 2 (e^-3.6 - e^-14.4 + ...) ~ 0.055: above 0.025.
    expect(y!.ks_p_value!).toBeGreaterThan(0.025);
    expect(x!.ks_p_value!).toBeLessThan(0.025);
    expect([x!.drifted, y!.drifted]).toEqual([true, false]);
    // With a level of 0.3, 0.15 per column: y's p ~ 0.055 is then below it.
    expect(compareProfiles(ref, cur, { method: 'ks', threshold: 0.3 }).columns[1]!.drifted).toBe(true);
  });

  it('categorical columns: chi-square for ks, JS for wasserstein; unseen categories', () => {
    const ref = profileOf({ region: [...Array(50).fill('a'), ...Array(50).fill('b')] });
    const cur = profileOf({ region: [...Array(10).fill('a'), ...Array(80).fill('b'), ...Array(10).fill('c')] });
    const [region] = compareProfiles(ref, cur, { method: 'ks' }).columns;
    expect(region).toMatchObject({ kind: 'categorical', ks: null, ks_p_value: null, wasserstein: null, drifted: true });
    expect(region!.chi2_p_value!).toBeLessThan(1e-6);
    expect(compareProfiles(ref, cur, { method: 'wasserstein' }).columns[0]!.drifted).toBe(region!.js! > 0.1);
    expect(compareProfiles(ref, cur).schema.unseen_categories).toEqual([{ column: 'region', values: ['c'], rows: 10 }]);
  });

  it('null rates are reported; a side without values has null statistics and does not drift', () => {
    const ref = profileOf({ region: ['a', 'b', null, null] });
    const cur = profileOf({ region: [null, null] });
    const [region] = compareProfiles(ref, cur).columns;
    expect(region).toMatchObject({ psi: null, js: null, chi2_p_value: null, null_rate: { reference: 0.5, current: 1 }, drifted: false });
  });

  it('schema: added, removed and retyped columns; a column of another kind is not compared', () => {
    const ref = profileOf({ x: [1, 2], y: [1, 2] });
    const cur = new Profiler('cur');
    cur.column('x', 'FLOAT').addNumbers(new Float32Array([1, 2]));
    cur.column('y', 'VARCHAR').addValues(['1', '2']);
    cur.column('z', 'DOUBLE').addNumbers([1]);
    const report = compareProfiles(ref, cur.profile());
    expect(report.columns.map((c) => c.column)).toEqual(['x']);
    expect(report.schema).toEqual({ added: [{ column: 'z', type: 'DOUBLE' }], removed: [], retyped: [{ column: 'x', reference: 'DOUBLE', current: 'FLOAT' }, { column: 'y', reference: 'DOUBLE', current: 'VARCHAR' }], unseen_categories: [] });
  });

  it('prediction drift on its own: class shares and confidence, not in the columns', () => {
    const ref = profileOf({ x: range(100), confidence: range(100).map((i) => 0.5 + i / 200) }, 'ref', [...Array(90).fill('legit'), ...Array(10).fill('fraud')]);
    const cur = profileOf({ x: range(100), confidence: range(100).map((i) => 0.5 + i / 200) }, 'cur', [...Array(50).fill('legit'), ...Array(50).fill('fraud')]);
    const report = compareProfiles(ref, cur);
    expect(report.columns.map((c) => c.column)).toEqual(['x']);
    expect(report.prediction).toMatchObject({ classes: { reference: { legit: 0.9, fraud: 0.1 }, current: { legit: 0.5, fraud: 0.5 }, drifted: true }, drifted: true });
    expect(report.prediction!.columns.map((c) => [c.column, c.drifted])).toEqual([['confidence', false]]);
    expect(report.dataset_drift).toBe(false);
  });

  it('bad options and columns are errors naming them', () => {
    const p = profileOf({ x: [1] });
    expect(() => compareProfiles(p, p, { method: 'ks', threshold: 1 })).toThrow(/--threshold for --method ks/);
    expect(() => compareProfiles(p, p, { driftShare: 1.5 })).toThrow(/--drift-share/);
    expect(() => compareProfiles(p, p, { columns: ['x', 'w'] })).toThrow(/the reference p has no column 'w'/);
  });
});

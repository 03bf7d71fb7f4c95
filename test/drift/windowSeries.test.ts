/** The statistic each method judges a column by, numeric and categorical, and a window's row. */
import { describe, expect, it } from 'vitest';
import type { ColumnDrift, DriftReport } from '../../src/drift/drift.js';
import { decidingStatistic, latestWindow, windowDrift } from '../../src/drift/windowSeries.js';

const numeric: ColumnDrift = { column: 'a', kind: 'numeric', psi: 0.3, ks: 0.2, ks_p_value: 0.01, wasserstein: 0.15, js: 0.12, chi2_p_value: null, null_rate: { reference: 0, current: 0 }, drifted: true };
const categorical: ColumnDrift = { column: 'c', kind: 'categorical', psi: 0.05, ks: null, ks_p_value: null, wasserstein: null, js: 0.02, chi2_p_value: 0.4, null_rate: { reference: 0, current: 0 }, drifted: false };

describe('decidingStatistic', () => {
  it('psi and js as they are; wasserstein and ks fall back to JS and the chi-square p-value for a categorical column', () => {
    expect((['psi', 'js', 'wasserstein', 'ks'] as const).map((m) => [decidingStatistic(numeric, m), decidingStatistic(categorical, m)])).toEqual([
      [0.3, 0.05],
      [0.12, 0.02],
      [0.15, 0.02],
      [0.01, 0.4],
    ]);
  });

  it('a window row keeps the statistic per column, the drifted ones, dataset and prediction drift', () => {
    const report = { method: 'ks', threshold: 0.05, columns: [numeric, categorical], drifted_columns: 1, drifted_share: 0.5, dataset_drift: true, prediction: null } as unknown as DriftReport;
    const row = windowDrift({ start: 's', end: 'e' }, report);
    expect(row).toEqual({ start: 's', end: 'e', dataset_drift: true, drifted_columns: 1, columns: { a: 0.01, c: 0.4 }, drifted: ['a'], prediction_drift: null });
    expect(latestWindow({ method: 'ks', threshold: 0.05, reference: 'r', windows: [{ ...row, start: 'first' }, row], missing: [] })).toBe(row);
    expect(latestWindow({ method: 'ks', threshold: 0.05, reference: 'r', windows: [], missing: [] })).toBeNull();
  });
});

/**
 * The drift of a scheduled job window by window: each window's profile compared with the one
 * reference, reduced to the statistic the method judges each column by, so a slow drift shows
 * as a column's value growing from window to window.
 */
import type { ColumnDrift, DriftMethod, DriftReport } from './drift.js';

/** One window's row of the series. */
export interface WindowDrift {
  start: string;
  end: string;
  dataset_drift: boolean;
  drifted_columns: number;
  /** The deciding statistic of each column compared (`decidingStatistic`); null where it cannot be computed. */
  columns: Record<string, number | null>;
  /** The columns that drifted in this window. */
  drifted: string[];
  /** Prediction drift (class shares, confidence); null when the profiles hold no predictions. */
  prediction_drift: boolean | null;
}

/** A window of the range without a row: committed without a profile, never run, or not committed (its state, as `status` says). */
export interface MissingWindow {
  start: string;
  end: string;
  reason: 'no profile' | 'not run' | 'failed' | 'locked' | 'partial' | 'sharding';
}

export interface DriftSeries {
  method: DriftMethod;
  /** The method's threshold (ks: the significance level, split over each window's columns). */
  threshold: number;
  /** The reference every window is compared with. */
  reference: string;
  windows: WindowDrift[];
  missing: MissingWindow[];
}

/**
 * The figure `method` judges a column by: PSI (psi), the Jensen-Shannon distance (js), the
 * normalised Wasserstein distance (wasserstein; JS for a categorical column), the KS p-value
 * (ks; the chi-square p-value for a categorical column).
 */
export function decidingStatistic(c: ColumnDrift, method: DriftMethod): number | null {
  switch (method) {
    case 'psi':
      return c.psi;
    case 'js':
      return c.js;
    case 'wasserstein':
      return c.kind === 'numeric' ? c.wasserstein : c.js;
    case 'ks':
      return c.kind === 'numeric' ? c.ks_p_value : c.chi2_p_value;
  }
}

/** The series row of one window's drift report. */
export function windowDrift(window: { start: string; end: string }, report: DriftReport): WindowDrift {
  return {
    start: window.start,
    end: window.end,
    dataset_drift: report.dataset_drift,
    drifted_columns: report.drifted_columns,
    columns: Object.fromEntries(report.columns.map((c) => [c.column, decidingStatistic(c, report.method)])),
    drifted: report.columns.filter((c) => c.drifted).map((c) => c.column),
    prediction_drift: report.prediction ? report.prediction.drifted : null,
  };
}

/** The window `--fail-on` judges: the latest (by start) with a profile; null when none has one. */
export function latestWindow(series: DriftSeries): WindowDrift | null {
  return series.windows.at(-1) ?? null;
}

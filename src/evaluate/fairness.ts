/**
 * Differences between groups, as Fairlearn defines them, over the groups with at least
 * `minGroupRows` rows (smaller groups are reported but left out):
 * - demographic parity difference and ratio: max - min and min / max of the selection rate
 *   (share of rows predicted positive) across groups;
 * - equalized odds difference: the larger of the gap (max - min) in true positive rate and
 *   the gap in false positive rate;
 * - the worst group for each metric: lowest for scores (accuracy, AUC, R², ...), highest for
 *   losses (log loss, Brier, ECE, MAE, RMSE, MAPE).
 * The parity figures need a binary output; they are null otherwise.
 */
import type { Metrics } from './confusion.js';

export interface GroupMetrics {
  group: Record<string, unknown>;
  rows: number;
  too_small: boolean;
  metrics: Metrics;
}

export interface WorstGroup {
  group: Record<string, unknown>;
  value: number;
}

export interface Fairness {
  min_group_rows: number;
  groups_compared: number;
  groups_too_small: number;
  demographic_parity_difference: number | null;
  demographic_parity_ratio: number | null;
  equalized_odds_difference: number | null;
  worst_group: Record<string, WorstGroup | null>;
}

const HIGHER_IS_BETTER = new Set(['accuracy', 'balanced_accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'average_precision', 'r2']);
const LOWER_IS_BETTER = new Set(['log_loss', 'brier', 'ece', 'mae', 'rmse', 'mape']);

export function fairness(groups: readonly GroupMetrics[], minGroupRows: number): Fairness {
  const compared = groups.filter((g) => !g.too_small);
  const values = (name: string): number[] => compared.map((g) => g.metrics[name]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const gap = (name: string): number | null => {
    const v = values(name);
    return v.length > 0 ? Math.max(...v) - Math.min(...v) : null;
  };
  const rates = values('selection_rate');
  const maxRate = rates.length > 0 ? Math.max(...rates) : null;
  const tprGap = gap('true_positive_rate');
  const fprGap = gap('false_positive_rate');
  const worst: Record<string, WorstGroup | null> = {};
  const names = new Set(compared.flatMap((g) => Object.keys(g.metrics)));
  for (const name of names) {
    if (!HIGHER_IS_BETTER.has(name) && !LOWER_IS_BETTER.has(name)) continue;
    let best: WorstGroup | null = null;
    for (const g of compared) {
      const v = g.metrics[name];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      if (!best || (HIGHER_IS_BETTER.has(name) ? v < best.value : v > best.value)) best = { group: g.group, value: v };
    }
    worst[name] = best;
  }
  return {
    min_group_rows: minGroupRows,
    groups_compared: compared.length,
    groups_too_small: groups.length - compared.length,
    demographic_parity_difference: gap('selection_rate'),
    demographic_parity_ratio: maxRate === null ? null : maxRate > 0 ? Math.min(...rates) / maxRate : null,
    equalized_odds_difference: tprGap === null && fprGap === null ? null : Math.max(tprGap ?? 0, fprGap ?? 0),
    worst_group: worst,
  };
}

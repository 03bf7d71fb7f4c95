/**
 * Every classification metric per key (`0` for the whole output, or the group id `g`): the
 * confusion matrix and what follows from it (confusion.ts), log loss, Brier and calibration
 * (probabilityMetrics.ts), ROC AUC and average precision (ranking.ts): of the positive class
 * for a binary output, one-vs-rest macro averages over the classes for a multiclass one.
 * Binary outputs also get the selection rate and true/false positive rates fairness uses.
 */
import type { Db } from '../db/duckdb.js';
import { confusionMetrics, type ClassMetrics, type Metrics } from './confusion.js';
import { probabilityMetrics, type ReliabilityBin } from './probabilityMetrics.js';
import { rankClass, type RankingResult } from './ranking.js';
import { ROWS_TABLE } from './scoredOutput.js';

export interface ClassificationResult {
  rows: number;
  metrics: Metrics;
  perClass: (ClassMetrics & { roc_auc: number | null; average_precision: number | null })[];
  matrix: number[][];
  reliability: ReliabilityBin[];
  warnings: string[];
}

export async function classificationMetrics(db: Db, classes: readonly string[], positive: number | null, key: '0' | 'g'): Promise<Map<number, ClassificationResult>> {
  const k = classes.length;
  const counts = await db.query<{ k: number | bigint; y: number; yhat: number; n: bigint }>(`SELECT ${key} AS k, y, yhat, count(*) AS n FROM ${ROWS_TABLE} GROUP BY ALL`);
  const probabilities = await probabilityMetrics(db, k, positive, key);
  const ranked: Map<number, RankingResult>[] = [];
  for (let c = 0; c < k; c++) ranked.push(positive === null || c === positive ? await rankClass(db, c, key) : new Map());
  const out = new Map<number, ClassificationResult>();
  for (const [id, prob] of probabilities) {
    const matrix = classes.map(() => classes.map(() => 0));
    const unmatched = classes.map(() => 0);
    for (const r of counts.filter((r) => Number(r.k) === id)) {
      if (r.yhat < 0) unmatched[r.y]! += Number(r.n);
      else matrix[r.y]![r.yhat]! += Number(r.n);
    }
    const confusion = confusionMetrics(matrix, classes, positive, unmatched);
    const ranks = ranked.map((m) => m.get(id) ?? null);
    const warnings = [...confusion.warnings];
    const metrics: Metrics = { ...confusion.metrics, ...rankingMetrics(ranks, positive, classes, warnings), log_loss: prob.log_loss, brier: prob.brier, ece: prob.ece };
    const rows = confusion.perClass.reduce((a, c) => a + c.support, 0);
    if (positive !== null) Object.assign(metrics, fairnessRates(matrix, unmatched, positive, rows));
    const perClass = confusion.perClass.map((c, i) => ({ ...c, roc_auc: ranks[i]?.roc_auc ?? null, average_precision: ranks[i]?.average_precision ?? null }));
    out.set(id, { rows, metrics, perClass, matrix, reliability: prob.reliability, warnings });
  }
  return out;
}

/** Binary: the positive class's AUC and AP; multiclass: their mean over the classes where defined. */
function rankingMetrics(ranks: (RankingResult | null)[], positive: number | null, classes: readonly string[], warnings: string[]): Metrics {
  if (positive !== null) {
    const r = ranks[positive]!;
    if (r.roc_auc === null) warnings.push(`roc_auc is undefined: every evaluated label is ${r.positives > 0 ? '' : 'not '}${classes[positive]} (one class only)`);
    if (r.average_precision === null) warnings.push(`average_precision is undefined: no row has the positive label ${classes[positive]}`);
    return { roc_auc: r.roc_auc, average_precision: r.average_precision };
  }
  const macro = (pick: (r: RankingResult) => number | null, name: string): number | null => {
    const defined = ranks.map((r) => (r ? pick(r) : null));
    const left = classes.filter((_, i) => defined[i] === null);
    if (left.length > 0) warnings.push(`${name}: class ${left.join(', ')} left out of the one-vs-rest average (only one of label = class and label != class occurs)`);
    const values = defined.filter((v): v is number => v !== null);
    return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;
  };
  return { roc_auc: macro((r) => r.roc_auc, 'roc_auc'), average_precision: macro((r) => r.average_precision, 'average_precision') };
}

/** Share predicted positive, and the true and false positive rates (Fairlearn's inputs). */
function fairnessRates(matrix: number[][], unmatched: number[], positive: number, rows: number): Metrics {
  const flagged = matrix.reduce((a, row) => a + row[positive]!, 0);
  const tp = matrix[positive]![positive]!;
  const positives = matrix[positive]!.reduce((a, b) => a + b, 0) + unmatched[positive]!;
  const negatives = rows - positives;
  return {
    selection_rate: rows > 0 ? flagged / rows : null,
    true_positive_rate: positives > 0 ? tp / positives : null,
    false_positive_rate: negatives > 0 ? (flagged - tp) / negatives : null,
  };
}

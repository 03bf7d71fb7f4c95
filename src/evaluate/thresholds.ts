/**
 * Decision thresholds of a binary output: a row is flagged (predicted positive) when
 * p(positive) >= t, the rule `run` applies with a threshold.
 * - the grid: precision, recall, F1 and the share flagged at t = 0, 0.05, ..., 1;
 * - picks over every distinct score (as scikit-learn's precision_recall_curve): the threshold
 *   with the highest F1 (the higher one on a tie), the lowest reaching `targetPrecision` (the
 *   most recall at that precision), the highest reaching `targetRecall` (the most precision).
 * Precision with nothing flagged is 0, as in the confusion metrics.
 */
import type { Db } from '../db/duckdb.js';
import { scoreStepsSql } from './ranking.js';
import { ROWS_TABLE } from './scoredOutput.js';

export const GRID_STEP = 0.05;

export interface ThresholdRow {
  threshold: number;
  precision: number;
  recall: number | null;
  f1: number;
  flagged_share: number;
}

export interface ThresholdPicks {
  max_f1: ThresholdRow | null;
  target_precision?: (ThresholdRow & { target: number }) | { target: number; reached: false };
  target_recall?: (ThresholdRow & { target: number }) | { target: number; reached: false };
}

function row(threshold: number, flagged: number, tp: number, positives: number, total: number): ThresholdRow {
  const precision = flagged > 0 ? tp / flagged : 0;
  const recall = positives > 0 ? tp / positives : null;
  return { threshold, precision, recall, f1: flagged + positives > 0 ? (2 * tp) / (flagged + positives) : 0, flagged_share: total > 0 ? flagged / total : 0 };
}

/** Precision, recall, F1 and share flagged at every multiple of 0.05 from 0 to 1. */
export async function thresholdGrid(db: Db, positive: number): Promise<ThresholdRow[]> {
  const grid = Array.from({ length: Math.round(1 / GRID_STEP) + 1 }, (_, i) => Math.round(i * GRID_STEP * 100) / 100);
  const aggregates = grid.map((_, i) => `count(*) FILTER (WHERE p${positive} >= $${i + 1}) AS f${i}, count(*) FILTER (WHERE p${positive} >= $${i + 1} AND y = ${positive}) AS t${i}`);
  const [r] = await db.query<Record<string, bigint>>(`SELECT count(*) AS n, count(*) FILTER (WHERE y = ${positive}) AS pos, ${aggregates.join(', ')} FROM ${ROWS_TABLE}`, grid);
  const n = Number(r!['n']);
  const pos = Number(r!['pos']);
  return grid.map((t, i) => row(t, Number(r![`f${i}`]), Number(r![`t${i}`]), pos, n));
}

/** The thresholds that maximise F1 and that reach the target precision or recall, over every distinct score. */
export async function pickThresholds(db: Db, positive: number, targets: { precision?: number; recall?: number }): Promise<ThresholdPicks> {
  const pick = async (where: string, order: string, params: number[] = []): Promise<ThresholdRow | null> => {
    const [r] = await db.query<{ s: number; flagged: number; tp: number; positives: number; total: number }>(
      `${scoreStepsSql(positive, '0')}, scored AS (SELECT s, flagged, tp, positives, total, CASE WHEN flagged > 0 THEN tp / flagged ELSE 0 END AS prec,
        CASE WHEN positives > 0 THEN tp / positives END AS rec, 2 * tp / (flagged + positives) AS f1 FROM steps)
       SELECT s, flagged, tp, positives, total FROM scored WHERE ${where} ORDER BY ${order} LIMIT 1`,
      params,
    );
    return r ? row(r.s, r.flagged, r.tp, r.positives, r.total) : null;
  };
  const picks: ThresholdPicks = { max_f1: await pick('true', 'f1 DESC, s DESC') };
  if (targets.precision !== undefined) {
    const found = await pick('prec >= $1', 's ASC', [targets.precision]);
    picks.target_precision = found ? { ...found, target: targets.precision } : { target: targets.precision, reached: false };
  }
  if (targets.recall !== undefined) {
    const found = await pick('rec >= $1', 's DESC', [targets.recall]);
    picks.target_recall = found ? { ...found, target: targets.recall } : { target: targets.recall, reached: false };
  }
  return picks;
}

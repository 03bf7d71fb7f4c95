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
import { buildSteps, stepsTable } from './ranking.js';
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

/**
 * Precision, recall, F1 and share flagged at every multiple of 0.05 from 0 to 1, from one
 * GROUP BY on the grid step each score reaches: the largest i with p >= i/20 (floor(p x 20),
 * moved by one where the float product rounds across a step), then counts from the top.
 */
export async function thresholdGrid(db: Db, positive: number): Promise<ThresholdRow[]> {
  const steps = Math.round(1 / GRID_STEP);
  const rows = await db.query<{ b: number; n: bigint; tp: bigint }>(
    `WITH f AS (SELECT p${positive} AS s, y, CAST(floor(p${positive} * ${steps}) AS INTEGER) AS b0 FROM ${ROWS_TABLE})
     SELECT least(greatest(CASE WHEN s < CAST(b0 AS DOUBLE) / ${steps} THEN b0 - 1 WHEN s >= CAST(b0 + 1 AS DOUBLE) / ${steps} THEN b0 + 1 ELSE b0 END, -1), ${steps}) AS b,
       count(*) AS n, count(*) FILTER (WHERE y = ${positive}) AS tp
     FROM f GROUP BY ALL`,
  );
  const total = rows.reduce((a, r) => a + Number(r.n), 0);
  const positives = rows.reduce((a, r) => a + Number(r.tp), 0);
  return Array.from({ length: steps + 1 }, (_, i) => {
    const reached = rows.filter((r) => r.b >= i);
    return row(i / steps, reached.reduce((a, r) => a + Number(r.n), 0), reached.reduce((a, r) => a + Number(r.tp), 0), positives, total);
  });
}

/**
 * The thresholds that maximise F1 and that reach the target precision or recall, over the
 * distinct scores some positive row has (between two of them only negatives are flagged:
 * F1 and precision fall while recall stays). Uses the steps table `rankClass` left for
 * the positive class over all rows, or builds it.
 */
export async function pickThresholds(db: Db, positive: number, targets: { precision?: number; recall?: number }): Promise<ThresholdPicks> {
  const table = (await tableExists(db, stepsTable(positive, '0'))) ? stepsTable(positive, '0') : await buildSteps(db, positive, '0');
  const [totals] = await db.query<{ n: bigint; p: bigint }>(`SELECT count(*) AS n, count(*) FILTER (WHERE y = ${positive}) AS p FROM ${ROWS_TABLE}`);
  const total = Number(totals!.n);
  const positives = Number(totals!.p);
  const pick = async (where: string, order: string, params: number[] = []): Promise<ThresholdRow | null> => {
    const [r] = await db.query<{ s: number; flagged: number; tp: number }>(
      `SELECT s, flagged, tp FROM (SELECT s, flagged, tp, tp / flagged AS prec, tp / ${positives} AS rec, 2 * tp / (flagged + ${positives}) AS f1 FROM ${table}) WHERE ${where} ORDER BY ${order} LIMIT 1`,
      params,
    );
    return r ? row(r.s, r.flagged, r.tp, positives, total) : null;
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

async function tableExists(db: Db, name: string): Promise<boolean> {
  return Number(await db.exec('SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = $1', [name])) > 0;
}

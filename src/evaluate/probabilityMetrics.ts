/**
 * Metrics of the probabilities themselves, aggregated in DuckDB per key (`0` or the group id):
 * - log loss: mean of -ln p(true class), p clipped to [1e-15, 1 - 1e-15], in double;
 * - Brier score: binary, mean (p(positive) - [label is positive])^2 (scikit-learn's
 *   brier_score_loss); multiclass, mean over rows of the sum over classes of
 *   (p(class) - [label is class])^2;
 * - expected calibration error over 10 equal-width bins: binary, of p(positive) against the
 *   share of positive labels (scikit-learn's calibration_curve); multiclass, of the top
 *   probability against the share predicted right. Bin i holds [i/10, (i+1)/10), the last
 *   also 1. ECE = sum over bins of (rows in bin / rows) x |observed - mean predicted|.
 */
import type { Db } from '../db/duckdb.js';
import { ROWS_TABLE } from './scoredOutput.js';

export const CLIP = 1e-15;
export const BINS = 10;

export interface ReliabilityBin {
  bin: number;
  lower: number;
  upper: number;
  rows: number;
  mean_predicted: number | null;
  observed: number | null;
}

export interface ProbabilityResult {
  log_loss: number;
  brier: number;
  ece: number;
  reliability: ReliabilityBin[];
}

/** p(true class), p(positive) and the calibrated score/outcome as SQL over the rows table. */
function expressions(classes: number, positive: number | null): { pTrue: string; brier: string; score: string; outcome: string } {
  const idx = Array.from({ length: classes }, (_, i) => i);
  const pTrue = `CASE y ${idx.map((i) => `WHEN ${i} THEN p${i}`).join(' ')} END`;
  if (positive !== null) {
    return { pTrue, brier: `power(p${positive} - CASE WHEN y = ${positive} THEN 1 ELSE 0 END, 2)`, score: `p${positive}`, outcome: `CASE WHEN y = ${positive} THEN 1.0 ELSE 0.0 END` };
  }
  return {
    pTrue,
    brier: idx.map((i) => `power(p${i} - CASE WHEN y = ${i} THEN 1 ELSE 0 END, 2)`).join(' + '),
    score: `greatest(${idx.map((i) => `p${i}`).join(', ')})`,
    outcome: 'CASE WHEN yhat = y THEN 1.0 ELSE 0.0 END',
  };
}

export async function probabilityMetrics(db: Db, classes: number, positive: number | null, key: string): Promise<Map<number, ProbabilityResult>> {
  const e = expressions(classes, positive);
  const sums = await db.query<{ k: number | bigint; n: bigint; ll: number; brier: number }>(
    `SELECT ${key} AS k, count(*) AS n, avg(-ln(greatest(least(${e.pTrue}, 1 - ${CLIP}), ${CLIP}))) AS ll, avg(${e.brier}) AS brier FROM ${ROWS_TABLE} GROUP BY ALL`,
  );
  const bins = await db.query<{ k: number | bigint; bin: number; n: bigint; mp: number; obs: number }>(
    `SELECT ${key} AS k, CAST(least(greatest(floor(${e.score} * ${BINS}), 0), ${BINS - 1}) AS INTEGER) AS bin, count(*) AS n, avg(${e.score}) AS mp, avg(${e.outcome}) AS obs
     FROM ${ROWS_TABLE} GROUP BY ALL`,
  );
  const out = new Map<number, ProbabilityResult>();
  for (const s of sums) {
    const k = Number(s.k);
    const n = Number(s.n);
    const reliability: ReliabilityBin[] = Array.from({ length: BINS }, (_, i) => ({ bin: i, lower: i / BINS, upper: (i + 1) / BINS, rows: 0, mean_predicted: null, observed: null }));
    for (const b of bins.filter((b) => Number(b.k) === k)) Object.assign(reliability[b.bin]!, { rows: Number(b.n), mean_predicted: b.mp, observed: b.obs });
    const ece = reliability.reduce((a, b) => a + (b.rows > 0 ? (b.rows / n) * Math.abs(b.observed! - b.mean_predicted!) : 0), 0);
    out.set(k, { log_loss: s.ll, brier: s.brier, ece, reliability });
  }
  return out;
}

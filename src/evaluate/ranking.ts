/**
 * ROC AUC and average precision of one class's probability, aggregated in DuckDB over the
 * distinct scores (so ties are one step, and 10M rows are one GROUP BY and two window sorts).
 *
 * - ROC AUC is the Mann-Whitney statistic over (positives x negatives): each positive counts
 *   the negatives scored below it, plus one half of those scored the same (tie-correct, the
 *   value scikit-learn's trapezoidal ROC area gives). Undefined (null) with one class only.
 * - Average precision as scikit-learn computes it: over distinct thresholds t from high to
 *   low, sum (R(t) - R(previous t)) x P(t), a step function without interpolation.
 */
import type { Db } from '../db/duckdb.js';
import { ROWS_TABLE } from './scoredOutput.js';

export interface RankingResult {
  positives: number;
  negatives: number;
  roc_auc: number | null;
  average_precision: number | null;
}

/** The distinct scores of class `c` per key, with counts cumulated from the highest score down. */
export function scoreStepsSql(c: number, key: string): string {
  return `WITH s AS (
      SELECT ${key} AS k, p${c} AS s, count(*)::DOUBLE AS n, count(*) FILTER (WHERE y = ${c})::DOUBLE AS pos
      FROM ${ROWS_TABLE} GROUP BY ALL),
    steps AS (
      SELECT k, s, n, pos, n - pos AS neg,
        coalesce(sum(n - pos) OVER (PARTITION BY k ORDER BY s ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS neg_below,
        sum(pos) OVER (PARTITION BY k ORDER BY s DESC ROWS UNBOUNDED PRECEDING) AS tp,
        sum(n) OVER (PARTITION BY k ORDER BY s DESC ROWS UNBOUNDED PRECEDING) AS flagged,
        sum(pos) OVER (PARTITION BY k) AS positives,
        sum(n) OVER (PARTITION BY k) AS total
      FROM s)`;
}

/** AUC and AP of class `c` (one-vs-rest) for each key value (`0`, or the group id `g`). */
export async function rankClass(db: Db, c: number, key: string): Promise<Map<number, RankingResult>> {
  // `c` and `key` are ours (an index and `0` or `g`), never user text.
  const rows = await db.query<{ k: number | bigint; p: number; n: number; auc: number; ap: number }>(
    `${scoreStepsSql(c, key)}
    SELECT k, sum(pos) AS p, sum(neg) AS n, sum(pos * neg_below + 0.5 * pos * neg) AS auc, sum(pos * tp / flagged) AS ap FROM steps GROUP BY k`,
  );
  const out = new Map<number, RankingResult>();
  for (const r of rows) {
    const p = Number(r.p);
    const n = Number(r.n);
    out.set(Number(r.k), { positives: p, negatives: n, roc_auc: p > 0 && n > 0 ? Number(r.auc) / (p * n) : null, average_precision: p > 0 ? Number(r.ap) / p : null });
  }
  return out;
}

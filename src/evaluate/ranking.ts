/**
 * ROC AUC and average precision of one class's probability, aggregated in DuckDB over the
 * distinct scores (so ties are one step).
 *
 * - ROC AUC is the Mann-Whitney statistic over (positives x negatives): each positive counts
 *   the negatives scored below it, plus one half of those scored the same (tie-correct, the
 *   value scikit-learn's trapezoidal ROC area gives). Undefined (null) with one class only.
 * - Average precision as scikit-learn computes it: over distinct thresholds t from high to
 *   low, sum (R(t) - R(previous t)) x P(t), a step function without interpolation. Recall
 *   only moves at scores some positive row has, so only those steps are kept.
 */
import type { Db } from '../db/duckdb.js';
import { ROWS_TABLE } from './scoredOutput.js';

export interface RankingResult {
  positives: number;
  negatives: number;
  roc_auc: number | null;
  average_precision: number | null;
}

/** The steps table of class `c` for `key` (`0`: all rows; `g`: per group). */
export function stepsTable(c: number, key: '0' | 'g'): string {
  return `batchinfer_eval_steps_${c}_${key === '0' ? 'all' : 'groups'}`;
}

/**
 * Fills the steps table of class `c`: per key, every distinct score s that a row of class c
 * has, with `n` rows at s, `pos` of class c, `flagged` rows scored >= s and `tp` rows of class
 * c scored >= s. Counted with two rank() windows over the rows, faster than running sums over
 * the grouped scores on outputs with millions of distinct scores (docs/performance.md, evaluate).
 */
export async function buildSteps(db: Db, c: number, key: '0' | 'g'): Promise<string> {
  const table = stepsTable(c, key);
  // `c` and `key` are ours (an index and `0` or `g`), never user text.
  await db.exec(`CREATE OR REPLACE TEMP TABLE ${table} AS
    WITH ranked AS (
      SELECT ${key} AS k, p${c} AS s, y = ${c} AS hit,
        rank() OVER (PARTITION BY ${key} ORDER BY p${c} DESC) AS r_all,
        rank() OVER (PARTITION BY ${key}, y = ${c} ORDER BY p${c} DESC) AS r_class
      FROM ${ROWS_TABLE})
    SELECT k, s, count(*)::DOUBLE AS n, count(*) FILTER (WHERE hit)::DOUBLE AS pos,
      (min(r_all) - 1 + count(*))::DOUBLE AS flagged, (min(r_class) FILTER (WHERE hit) - 1 + count(*) FILTER (WHERE hit))::DOUBLE AS tp
    FROM ranked GROUP BY k, s HAVING count(*) FILTER (WHERE hit) > 0`);
  return table;
}

/** AUC and AP of class `c` (one-vs-rest) for each key value; leaves the class's steps table for the threshold picks. */
export async function rankClass(db: Db, c: number, key: '0' | 'g'): Promise<Map<number, RankingResult>> {
  const table = await buildSteps(db, c, key);
  const totals = await db.query<{ k: number | bigint; n: bigint; p: bigint }>(`SELECT ${key} AS k, count(*) AS n, count(*) FILTER (WHERE y = ${c}) AS p FROM ${ROWS_TABLE} GROUP BY ALL`);
  // Negatives scored below s = N - (flagged - tp); AUC = (sum of pos x that + half the tied pairs) / (P x N).
  const sums = await db.query<{ k: number | bigint; above: number; ties: number; ap: number }>(
    `SELECT k, sum(pos * (flagged - tp)) AS above, sum(pos * (n - pos)) AS ties, sum(pos * tp / flagged) AS ap FROM ${table} GROUP BY k`,
  );
  const byKey = new Map(sums.map((s) => [Number(s.k), s]));
  const out = new Map<number, RankingResult>();
  for (const t of totals) {
    const k = Number(t.k);
    const p = Number(t.p);
    const n = Number(t.n) - p;
    const s = byKey.get(k);
    const auc = s && p > 0 && n > 0 ? (p * n - s.above + 0.5 * s.ties) / (p * n) : null;
    out.set(k, { positives: p, negatives: n, roc_auc: auc, average_precision: s && p > 0 ? s.ap / p : null });
  }
  return out;
}

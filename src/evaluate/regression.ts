/**
 * Regression metrics per key (`0` or the group id), aggregated in DuckDB, as scikit-learn
 * defines them: MAE, RMSE, R² (1 - residual sum of squares / total sum of squares; null
 * when every label is the same), MAPE as a fraction over the rows whose label is not zero
 * (rows with a zero label are left out and counted), and quantiles of the residual
 * label - prediction.
 */
import type { Db } from '../db/duckdb.js';
import { ROWS_TABLE } from './scoredOutput.js';
import type { Metrics } from './confusion.js';

export const RESIDUAL_QUANTILES = [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1] as const;

export interface RegressionResult {
  rows: number;
  zeroLabels: number;
  metrics: Metrics;
  /** Residual (label - prediction) at each of RESIDUAL_QUANTILES, keyed `p0`, `p5`, ... `p100`. */
  residuals: Record<string, number>;
}

export function quantileKey(q: number): string {
  return `p${Math.round(q * 100)}`;
}

export async function regressionMetrics(db: Db, key: string): Promise<Map<number, RegressionResult>> {
  // The quantiles are our constants, written as DOUBLE literals (a bound list of 0, 0.05, ... failed to bind as integers).
  const rows = await db.query<{ k: number | bigint; n: bigint; mae: number; mse: number; ss_tot: number; mape: number | null; zeros: bigint; q: number[] }>(
    `SELECT ${key} AS k, count(*) AS n, avg(abs(y - yhat)) AS mae, avg(power(y - yhat, 2)) AS mse, var_pop(y) * count(*) AS ss_tot,
       avg(abs(y - yhat) / abs(y)) FILTER (WHERE y <> 0) AS mape, count(*) FILTER (WHERE y = 0) AS zeros,
       quantile_cont(y - yhat, [${RESIDUAL_QUANTILES.map((q) => `${q}::DOUBLE`).join(', ')}]) AS q
     FROM ${ROWS_TABLE} GROUP BY ALL`,
  );
  const out = new Map<number, RegressionResult>();
  for (const r of rows) {
    const n = Number(r.n);
    const ssRes = r.mse * n;
    const residuals = Object.fromEntries(RESIDUAL_QUANTILES.map((q, i) => [quantileKey(q), r.q[i]!]));
    out.set(Number(r.k), {
      rows: n,
      zeroLabels: Number(r.zeros),
      metrics: { mae: r.mae, rmse: Math.sqrt(r.mse), r2: r.ss_tot > 0 ? 1 - ssRes / r.ss_tot : null, mape: r.mape ?? null },
      residuals,
    });
  }
  return out;
}

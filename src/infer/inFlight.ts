/**
 * How many batches the scoring thread keeps at the inference workers at once. Each worker has
 * queued work to go on with while the scoring thread is busy elsewhere (a row group's pages
 * decoded, a part cut, a collection): with only two small batches each (the MLP's 1024 rows are
 * ~2 ms of work) the workers ran dry in those pauses and a core idled. So each worker holds at
 * least IN_FLIGHT_ROWS rows of batches, and never fewer than two batches, within
 * IN_FLIGHT_BYTES of feeds (wide rows keep two batches). Past two batches a worker, that is at
 * most IN_FLIGHT_BYTES a worker whatever the batch size, so `batch_size: auto` weighs each size's
 * memory at two batches a worker (infer/batchSizer.ts). Measured: docs/performance.md,
 * "Batches in flight by rows".
 *
 * @example
 *   batchesInFlight({ workers: 2, rowBytes: 120 }, 1024);   // 32: 16 each, 16,384 rows
 *   batchesInFlight({ workers: 2, rowBytes: 120 }, 65536);  // 4: two each
 *   batchesInFlight({ workers: 2, rowBytes: 4000 }, 1024);  // 4: 4 MB would hold one
 */

/** Rows of batches each worker holds, at least (16,384 rows of the bench's MLP are ~28 ms of its work). */
export const IN_FLIGHT_ROWS = 16_384;
/** Bytes of feeds each worker's batches may hold past the two batches it always has. */
export const IN_FLIGHT_BYTES = 4 * 2 ** 20;
/** Batches each worker always has: one it scores, one waiting. */
export const MIN_PER_WORKER = 2;

export interface InFlightRule {
  workers: number;
  /** Bytes of a row's typed feeds (source/bufferPool.ts `feedRowBytes`). */
  rowBytes: number;
}

/**
 * Batches at the workers at once, for batches of the `kept` size; `kept` null while
 * `batch_size: auto` measures candidates: MIN_PER_WORKER a worker, which its measures assume
 * (infer/batchSizer.ts).
 */
export function batchesInFlight(rule: InFlightRule, kept: number | null): number {
  if (kept === null) return rule.workers * MIN_PER_WORKER;
  const rows = Math.max(1, kept);
  const byRows = Math.ceil(IN_FLIGHT_ROWS / rows);
  const byBytes = rule.rowBytes > 0 ? Math.floor(IN_FLIGHT_BYTES / (rows * rule.rowBytes)) : byRows;
  return rule.workers * Math.max(MIN_PER_WORKER, Math.min(byRows, byBytes));
}

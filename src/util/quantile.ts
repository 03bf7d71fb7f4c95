/**
 * The nearest-rank quantile of a short list of numbers (a run's batch latencies, the batch
 * sizer's waits); 0 for none.
 *
 * @example
 *   quantile([3, 1, 2], 0.5); // 2
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/**
 * Count, mean, M2 (the sum of squared differences from the mean), min and max of a column's
 * finite values, as profiles keep them so that two groups' merge exactly (up to rounding).
 */
export interface Moments {
  count: number;
  mean: number;
  m2: number;
  min: number;
  max: number;
}

export function emptyMoments(): Moments {
  return { count: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity };
}

/** Chan, Golub and LeVeque's update of `into` with another group's count, mean, M2, min and max. */
export function mergeMoments(into: Moments, n: number, mean: number, m2: number, min: number, max: number): void {
  const total = into.count + n;
  const delta = mean - into.mean;
  into.mean += (delta * n) / total;
  into.m2 += m2 + (delta * delta * into.count * n) / total;
  into.count = total;
  if (min < into.min) into.min = min;
  if (max > into.max) into.max = max;
}

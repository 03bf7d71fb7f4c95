/**
 * Exact drift statistics of two samples, from their definitions, for checking the sketches
 * (test/profile) and for the profile cost bench (bench/runProfileCost.ts).
 */

/** Values <= x in a sorted array. */
export function countAtMost(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** KS of sorted samples by one merge pass; PSI over the reference's exact deciles, shares clipped at 1e-4. */
export function exactKsPsi(ref: Float64Array, cur: Float64Array): { ks: number; psi: number } {
  let [i, j, ks] = [0, 0, 0];
  while (i < ref.length || j < cur.length) {
    const x = Math.min(ref[i] ?? Infinity, cur[j] ?? Infinity);
    while (i < ref.length && ref[i]! <= x) i++;
    while (j < cur.length && cur[j]! <= x) j++;
    ks = Math.max(ks, Math.abs(i / ref.length - j / cur.length));
  }
  const edges: number[] = [];
  for (let d = 1; d < 10; d++) {
    const q = ref[Math.ceil((d / 10) * ref.length) - 1]!;
    if (edges.length === 0 || q > edges.at(-1)!) edges.push(q);
  }
  const shares = (s: Float64Array): number[] => {
    const below = [...edges.map((e) => countAtMost(s, e) / s.length), 1];
    return below.map((b, k) => Math.max(b - (k === 0 ? 0 : below[k - 1]!), 1e-4));
  };
  const r = shares(ref);
  const c = shares(cur);
  return { ks, psi: r.reduce((sum, rk, k) => sum + (c[k]! - rk) * Math.log(c[k]! / rk), 0) };
}

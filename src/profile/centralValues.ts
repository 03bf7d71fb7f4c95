/**
 * The mean and median of each numeric column of a profile: what `fill_null: mean|median` fill
 * NULLs with. The mean is the profile's (exact, up to rounding: merged moments); the median is
 * the quantile sketch's 0.5 quantile (within the sketch's rank error; exact while the column
 * has fewer values than the sketch holds, the lower middle value for an even count).
 */
import type { Profile } from './profile.js';
import { QuantileSketch } from './quantileSketch.js';

/** Per column, by name: null where the column holds no finite number (a text column, only NULLs). */
export function centralValues(profile: Profile): Map<string, { mean: number | null; median: number | null }> {
  const values = new Map<string, { mean: number | null; median: number | null }>();
  for (const c of profile.columns) {
    const n = c.numeric;
    const some = n !== null && n.count > 0;
    values.set(c.name, { mean: some ? n.mean : null, median: some ? QuantileSketch.fromJSON(n.sketch).quantile(0.5) : null });
  }
  return values;
}

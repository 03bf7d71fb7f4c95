import { describe, expect, it } from 'vitest';
import { partLine } from '../../src/cli/progress.js';

describe('partLine', () => {
  it('rates only the rows this run scored, and estimates the rest at that rate', () => {
    // 4,000 of 10,000 rows done, 1,000 of them resumed from a journal: 3,000 in 2 s.
    expect(partLine({ rowsDone: 4000, rowsTotal: 10_000, rowsResumed: 1000 }, 2)).toEqual({ rowsDone: 4000, rowsTotal: 10_000, rowsPerSecond: 1500, elapsedSeconds: 2, etaSeconds: 4 });
  });

  it('has no time left to give before anything was scored', () => {
    expect(partLine({ rowsDone: 1000, rowsTotal: 2000, rowsResumed: 1000 }, 0.5).etaSeconds).toBeNull();
  });
});

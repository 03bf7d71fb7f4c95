import { describe, expect, it } from 'vitest';
import { AUTO_CANDIDATES, BatchSizer, tuningPlan, typicalMsPerRow } from '../../src/infer/batchSizer.js';

/**
 * Drives a sizer as a run does, with `inFlight` batches out at once and a clock where a batch
 * of `size` rows takes `msPerRow(size) * size` ms to come back after the one before it.
 */
function drive(sizer: BatchSizer, batches: number, inFlight: number, msPerRow: (size: number) => number): number[] {
  const sizes: number[] = [];
  const out: number[] = [];
  let clock = 0;
  sizer.returned(0, clock); // the first return is never measured: this one stands for the pipeline filling
  for (let i = 0; i < batches; i++) {
    const size = sizer.next();
    sizes.push(size);
    out.push(size);
    if (out.length >= inFlight) {
      const done = out.shift()!;
      clock += msPerRow(done) * done;
      sizer.returned(done, clock);
    }
  }
  for (const done of out) {
    clock += msPerRow(done) * done;
    sizer.returned(done, clock);
  }
  return sizes;
}

describe('BatchSizer', () => {
  it('fixed: every batch has the size, and the report lists no candidates', () => {
    const sizer = BatchSizer.fixed(4096);
    expect(drive(sizer, 10, 4, () => 0.001)).toEqual(new Array(10).fill(4096));
    expect(sizer.report()).toEqual({ mode: 'fixed', chosen: 4096, candidates: [] });
  });

  it('auto on too few rows to measure two candidates keeps the fallback', () => {
    const sizer = BatchSizer.auto(100_000, 4, 2048);
    expect(new Set(drive(sizer, 20, 4, () => 0.001))).toEqual(new Set([2048]));
    expect(sizer.report()).toEqual({ mode: 'auto', chosen: 2048, candidates: [] });
  });

  it('auto tries each candidate in turn after a warm-up, then keeps the fastest', () => {
    // 4096 rows per batch is the sweet spot of this made-up model: 1 us a row, others 2 us.
    const sizer = BatchSizer.auto(10_000_000, 4, 2048);
    const sizes = drive(sizer, 200, 4, (size) => (size === 4096 ? 0.001 : 0.002));
    // warm-up (4 x 1024), then 32 x 1024, 8 x 4096, 4 x 16384, 4 x 65536 (each at least 32k rows and 4 batches)
    expect(sizes.slice(0, 36)).toEqual(new Array(36).fill(1024));
    expect(sizes.slice(36, 44)).toEqual(new Array(8).fill(4096));
    expect(sizes.slice(44, 48)).toEqual(new Array(4).fill(16384));
    expect(sizes.slice(48, 52)).toEqual(new Array(4).fill(65536));
    expect(new Set(sizes.slice(60))).toEqual(new Set([4096]));
    const report = sizer.report();
    expect(report.chosen).toBe(4096);
    expect(report.candidates.map((c) => c.batchSize)).toEqual(AUTO_CANDIDATES);
    expect(report.candidates.map((c) => c.rowsPerSecond)).toEqual([500_000, 1_000_000, 500_000, 500_000]);
    // The warm-up batches are not counted: 32 batches of 1024.
    expect(report.candidates[0]!.rows).toBe(32 * 1024);
  });

  it('stops trying larger candidates once one measured in full is clearly slower than the best', () => {
    // Small batches are best; every doubling costs more. With one batch in flight, each
    // candidate is measured in full before the next segment starts.
    const sizer = BatchSizer.auto(10_000_000, 1, 2048);
    const sizes = drive(sizer, 120, 1, (size) => 0.001 * Math.log2(size / 512));
    expect(sizes).not.toContain(65536);
    expect(sizer.report().chosen).toBe(1024);
  });
});

describe('typicalMsPerRow', () => {
  it('is the median of fewer than four batches', () => {
    expect(typicalMsPerRow([{ rows: 10, ms: 10 }, { rows: 10, ms: 50 }, { rows: 10, ms: 20 }])).toBe(2);
  });

  it('is the mean of the middle half otherwise: a pause in one batch does not count', () => {
    // per row: 1, 1, 2, 2, 2, 2, 3, 100 -> middle half 2, 2, 2, 2
    const ms = [1, 1, 2, 2, 2, 2, 3, 100];
    expect(typicalMsPerRow(ms.map((m) => ({ rows: 1, ms: m })))).toBe(2);
  });
});

describe('tuningPlan', () => {
  it('measures only the candidates whose rows fit in a quarter of the run', () => {
    // warm-up 4 x 1024 + 32 x 1024 + 8 x 4096 = 69,632 rows: a run of 278,528 rows or more measures two.
    expect(tuningPlan(278_527, 4, AUTO_CANDIDATES)).toEqual([]);
    expect(tuningPlan(278_528, 4, AUTO_CANDIDATES).map((s) => [s.size, s.left, s.measured])).toEqual([[1024, 4, false], [1024, 32, true], [4096, 8, true]]);
    expect(tuningPlan(10_000_000, 4, AUTO_CANDIDATES).filter((s) => s.measured).map((s) => s.size)).toEqual(AUTO_CANDIDATES);
  });
});

import { describe, expect, it } from 'vitest';
import { AUTO_CANDIDATES, BatchSizer, concurrentGrowth, MEMORY_BUDGET, STALL_MS, tuningPlan, typicalMsPerRow } from '../../src/infer/batchSizer.js';

/**
 * Drives a sizer as a run does, with `inFlight` batches out at once and a clock where a batch
 * of `size` rows takes `msPerRow(size) * size` ms to come back after the one before it, its
 * worker busy `busy` of that time (1: one worker never idle). `stalls(i)`: batch i's longest
 * wait for a chunk (ms), its time added to the batch's. `grew(size)`: the bytes the first batch
 * back of each size says the process grew (a worker's first batch of that size), if any.
 */
function drive(sizer: BatchSizer, batches: number, inFlight: number, msPerRow: (size: number) => number, busy = 1, stalls: (i: number) => number = () => 0, grew?: (size: number) => number): number[] {
  const sizes: number[] = [];
  const out: { size: number; stall: number }[] = [];
  let clock = 0;
  sizer.returned(0, clock, 0); // the first return is never measured: this one stands for the pipeline filling
  const seen = new Set<number>();
  const back = ({ size, stall }: { size: number; stall: number }): void => {
    const ms = msPerRow(size) * size;
    clock += ms + stall;
    sizer.returned(size, clock, busy * ms, grew && !seen.has(size) ? grew(size) : undefined);
    seen.add(size);
  };
  for (let i = 0; i < batches; i++) {
    const size = sizer.next();
    sizer.waited(stalls(i));
    sizes.push(size);
    out.push({ size, stall: stalls(i) });
    if (out.length >= inFlight) back(out.shift()!);
  }
  out.forEach(back);
  return sizes;
}

describe('BatchSizer', () => {
  it('fixed: every batch has the size, and the report lists no candidates', () => {
    const sizer = BatchSizer.fixed(4096);
    expect(drive(sizer, 10, 4, () => 0.001)).toEqual(new Array(10).fill(4096));
    expect(sizer.report()).toEqual({ mode: 'fixed', chosen: 4096, candidates: [] });
  });

  it('auto on too few rows to measure two candidates keeps the fallback', () => {
    const sizer = BatchSizer.auto(100_000, { inFlight: 4, workers: 2 }, 2048);
    expect(new Set(drive(sizer, 20, 4, () => 0.001))).toEqual(new Set([2048]));
    expect(sizer.report()).toEqual({ mode: 'auto', chosen: 2048, candidates: [] });
  });

  it('auto tries each candidate in turn, each after a lead-in of its own, then keeps the fastest', () => {
    // 4096 rows per batch is the sweet spot of this made-up model: 1 us a row, others 2 us.
    const sizer = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2 }, 2048);
    const sizes = drive(sizer, 200, 4, (size) => (size === 4096 ? 0.001 : 0.002));
    // Each candidate: a lead-in of 4 batches (as many as are in flight), then at least 32k rows
    // and two windows of 4 batches; then, until its last 3 measured batches are back, 3 batches
    // of the best size so far. 16384 is clearly slower than 4096: judged on all its batches, it
    // ends the tuning before a batch of 65536 is handed out.
    const plan = [[1024, 4 + 32], [1024, 3], [4096, 4 + 8], [4096, 3], [16384, 4 + 8], [4096, 3]] as const;
    let at = 0;
    for (const [size, n] of plan) {
      expect(sizes.slice(at, at + n), `${size}`).toEqual(new Array(n).fill(size));
      at += n;
    }
    expect(new Set(sizes.slice(at))).toEqual(new Set([4096]));
    const report = sizer.report();
    expect(report.chosen).toBe(4096);
    expect(report.candidates.map((c) => [c.batchSize, c.rowsPerSecond])).toEqual([[1024, 500_000], [4096, 1_000_000], [16384, 500_000]]);
    // The lead-in batches are not counted: 32 batches of 1024.
    expect(report.candidates[0]!.rows).toBe(32 * 1024);
  });

  it('stops trying larger candidates once one measured in full is clearly slower than the best', () => {
    // Small batches are best; every doubling costs more. With one batch in flight, each
    // candidate is measured in full before the next segment starts.
    const sizer = BatchSizer.auto(10_000_000, { inFlight: 1, workers: 1 }, 2048);
    const sizes = drive(sizer, 120, 1, (size) => 0.001 * Math.log2(size / 512));
    expect(sizes).not.toContain(65536);
    // Nothing is out when a candidate ends (one in flight): no batch waits for a judgement, and
    // 4096, three times slower a row, is judged before a batch of 16384 is handed out.
    expect(sizes).toEqual([...new Array(34).fill(1024), ...new Array(10).fill(4096), ...new Array(120 - 44).fill(1024)]);
    expect(sizer.report().chosen).toBe(1024);
  });

  it('charges each batch from the end of the one before it: two workers finishing in pairs, the second a little ahead of the first, give the pace of the pairs', () => {
    // Candidates 1024 and 4096 on a 1M-row run, 2 in flight: each a lead-in of 2 batches, then 32 and 8 measured.
    const sizer = BatchSizer.auto(1_000_000, { inFlight: 2, workers: 1 }, 2048, [1024, 4096]);
    const next = (n: number): number[] => Array.from({ length: n }, () => sizer.next());
    expect(next(34)).toEqual(new Array(34).fill(1024));
    // 1024's measured batches are out: 4096 is not begun before they are back (a batch of the
    // fallback size meanwhile: no candidate has a rate yet).
    expect(next(1)).toEqual([2048]);
    let clock = 0;
    sizer.returned(1024, clock, 0);
    sizer.returned(1024, (clock += 1), 0); // the lead-in
    // 1024-row batches done in pairs, the second of each pair 0.25 ms before the first (two workers).
    for (let i = 0; i < 16; i++) {
      sizer.returned(1024, (clock += 2), 2);
      sizer.returned(1024, clock - 0.25, 2);
    }
    sizer.returned(2048, (clock += 2), 2); // the batch that waited, not measured
    expect(next(10)).toEqual(new Array(10).fill(4096));
    // 4096-row batches every 4 ms, after a lead-in that took longer.
    for (const ms of [9, 9, 4, 4, 4, 4, 4, 4, 4, 4]) sizer.returned(4096, (clock += ms), ms);
    // 1024: charged 2, 0, 2, 0, ... ms (the middle half's mean: 1 ms a batch); 4096: 4 ms a batch.
    expect(sizer.report().candidates).toEqual([
      { batchSize: 1024, rows: 32 * 1024, rowsPerSecond: Math.round(1000 / (1 / 1024)) },
      { batchSize: 4096, rows: 8 * 4096, rowsPerSecond: Math.round(1000 / (4 / 4096)) },
    ]);
  });
});

describe('BatchSizer: pipelines the reader bounds, and stalls', () => {
  // A logistic regression's pace: the larger the batch, the less each row costs.
  const cheaperLarger = (size: number): number => ({ 1024: 0.002, 4096: 0.001, 16384: 0.0008 })[size] ?? 0.0007;

  it('workers mostly idle: one candidate more is tried, past a quarter of the rows (up to a third)', () => {
    // 1M rows, 4 in flight, 2 workers busy 5% of the time: 1024 and 4096 fit in a quarter of
    // the rows, 16384 in a third (282,624 rows in all).
    const sizer = BatchSizer.auto(1_000_000, { inFlight: 4, workers: 2 }, 2048);
    const sizes = drive(sizer, 100, 4, cheaperLarger, 0.1);
    // Between candidates, 3 batches of the best size so far while the last ones come back.
    expect(sizes.slice(0, 66)).toEqual([...new Array(39).fill(1024), ...new Array(15).fill(4096), ...new Array(12).fill(16384)]);
    expect(new Set(sizes.slice(66))).toEqual(new Set([16384]));
    expect(sizer.report().candidates.map((c) => [c.batchSize, c.rowsPerSecond])).toEqual([[1024, 500_000], [4096, 1_000_000], [16384, 1_250_000]]);
  });

  it('workers busy (three quarters of the time): no candidate past a quarter of the rows', () => {
    const sizer = BatchSizer.auto(1_000_000, { inFlight: 4, workers: 2 }, 2048);
    const sizes = drive(sizer, 100, 4, cheaperLarger, 1.5);
    expect(sizes).not.toContain(16384);
    expect(new Set(sizes.slice(48))).toEqual(new Set([4096]));
    expect(sizer.report().candidates.map((c) => c.batchSize)).toEqual([1024, 4096]);
  });

  it('workers mostly idle: the largest candidate not clearly slower than the fastest (0.85 of its rate) is kept', () => {
    // 16384 measured at 0.91 of 4096's rate: kept where the reader bounds the run; at 0.83, not.
    const tied = (size: number): number => ({ 1024: 0.002, 4096: 0.001, 16384: 0.0011 })[size]!;
    const idle = BatchSizer.auto(1_000_000, { inFlight: 4, workers: 2 }, 2048);
    drive(idle, 100, 4, tied, 0.1);
    expect(idle.report().chosen).toBe(16384);
    const slower = BatchSizer.auto(1_000_000, { inFlight: 4, workers: 2 }, 2048);
    drive(slower, 100, 4, (size) => (size === 16384 ? 0.0012 : tied(size)), 0.1);
    expect(slower.report().chosen).toBe(4096);
    // Workers busy (10M rows, where every candidate fits): 16384, not clearly faster than 4096,
    // ends the tuning; the fastest is kept.
    const busy = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2 }, 2048);
    const sizes = drive(busy, 100, 4, tied, 1.5);
    expect(sizes).not.toContain(65536);
    expect(busy.report().candidates.map((c) => c.batchSize)).toEqual([1024, 4096, 16384]);
    expect(busy.report().chosen).toBe(4096);
  });

  it('workers busy: a larger candidate is tried only while the last one was clearly faster (1 / 0.85) than every smaller one', () => {
    // 4096 5% faster a row than 1024: not worth the memory of 16384-row batches.
    const sizer = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2 }, 2048);
    const sizes = drive(sizer, 100, 4, (size) => (size === 4096 ? 0.00095 : 0.001), 1.5);
    expect(sizes).not.toContain(16384);
    expect(sizer.report().chosen).toBe(4096);
    // The same rates with the workers mostly idle: 16384 and 65536 are tried (neither clearly slower).
    const idle = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2 }, 2048);
    const idleSizes = drive(idle, 150, 4, (size) => (size === 4096 ? 0.00095 : 0.001), 0.1);
    expect(idle.report().candidates.map((c) => c.batchSize)).toEqual(AUTO_CANDIDATES);
    expect(idleSizes).toContain(65536);
  });

  it('workers busy: the candidate past a quarter of the rows is not tried, even when the one before it could not be timed', () => {
    // 1M rows: 16384 is the extension. Every batch of 4096 (39-50, after 1024's 36 and 3 more)
    // stalled, so only 1024 has a rate.
    const sizer = BatchSizer.auto(1_000_000, { inFlight: 4, workers: 2 }, 2048);
    const sizes = drive(sizer, 80, 4, cheaperLarger, 1.5, (i) => (i >= 39 && i < 51 ? 30 : 0));
    expect(sizes.slice(39, 51)).toEqual(new Array(12).fill(4096));
    expect(sizes).not.toContain(16384);
    expect(sizer.report().candidates.map((c) => c.batchSize)).toEqual([1024]);
  });

  it('a batch whose reader waited over STALL_MS for a chunk is left out of its candidate\'s measure', () => {
    // 4096 is 30% faster a row than 1024, but its batch 45 (its third measured) waited 30 ms for
    // a row group's pages: counted, that would make 4096 the slower. Batch 47's wait of exactly
    // STALL_MS counts. 1024's 36 batches (0-35), 3 more while they come back, and 4096's lead-in
    // (39-42) come first.
    const sizer = BatchSizer.auto(1_000_000, { inFlight: 4, workers: 2 }, 2048, [1024, 4096]);
    drive(sizer, 60, 4, (size) => (size === 4096 ? 0.0007 : 0.001), 1, (i) => (i === 45 ? 30 : i === 47 ? STALL_MS : 0));
    const batchMs = 4096 * 0.0007;
    expect(sizer.report()).toEqual({
      mode: 'auto',
      chosen: 4096,
      candidates: [
        { batchSize: 1024, rows: 32 * 1024, rowsPerSecond: 1_000_000 },
        // Seven batches in two windows: all their rows over all their time, the 5 ms wait included.
        { batchSize: 4096, rows: 7 * 4096, rowsPerSecond: Math.round(1000 / ((7 * batchMs + STALL_MS) / (7 * 4096))) },
      ],
    });
  });

  it('storage where every chunk waits longer than STALL_MS: the waits are the pace, and only one four times their median is a stall', () => {
    // Every batch's longest wait 8 ms, batch 45's 40 ms (over 4 x 8): only batch 45 is left out.
    const sizer = BatchSizer.auto(1_000_000, { inFlight: 4, workers: 2 }, 2048, [1024, 4096]);
    drive(sizer, 60, 4, (size) => (size === 4096 ? 0.0007 : 0.001), 1, (i) => (i === 45 ? 40 : 8));
    // Each batch is charged its wait as well: 1024 rows 1.024 + 8 ms, 4096 rows 2.8672 + 8 ms.
    expect(sizer.report().candidates).toEqual([
      { batchSize: 1024, rows: 32 * 1024, rowsPerSecond: Math.round(1000 / ((1.024 + 8) / 1024)) },
      { batchSize: 4096, rows: 7 * 4096, rowsPerSecond: Math.round(1000 / ((4096 * 0.0007 + 8) / 4096)) },
    ]);
  });

  it('after the tuning, a stall marks no batch: the last one tuned is measured whatever comes after', () => {
    const sizer = BatchSizer.auto(1_000_000, { inFlight: 1, workers: 1 }, 2048, [1024, 4096]);
    const sizes = drive(sizer, 60, 1, (size) => (size === 4096 ? 0.0009 : 0.001), 1, (i) => (i >= 46 ? 30 : 0));
    // With one in flight: lead-ins of 2, then 32 and 8 batches measured (batches 0-45).
    expect(sizes.slice(46)).toEqual(new Array(14).fill(4096));
    expect(sizer.report().candidates.map((c) => c.rows)).toEqual([32 * 1024, 8 * 4096]);
  });
});

describe('BatchSizer: the model\'s memory', () => {
  const MB = 2 ** 20;
  // Larger batches clearly faster, with the workers busy (an MLP that would keep growing them).
  const faster = (size: number): number => ({ 1024: 0.004, 4096: 0.002, 16384: 0.001 })[size] ?? 0.0005;

  it('does not try a candidate whose memory, projected from the sizes run in proportion to the rows, passes the budget', () => {
    // The bench's MLP: 7 MB at 1024 rows, 21 MB more at 4096: 28 MB, so 16384 rows ~112 MB.
    const sizer = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2 }, 2048);
    const sizes = drive(sizer, 150, 4, faster, 1.5, undefined, (size) => ({ 1024: 7, 4096: 21 })[size]! * MB);
    expect(sizes).not.toContain(16384);
    expect(sizer.report()).toEqual({
      mode: 'auto',
      chosen: 4096,
      candidates: [
        { batchSize: 1024, rows: 32 * 1024, rowsPerSecond: 250_000, memoryMb: 7 },
        { batchSize: 4096, rows: 8 * 4096, rowsPerSecond: 500_000, memoryMb: 28 },
      ],
      notTried: { batchSize: 16384, projectedMb: 112, budgetMb: MEMORY_BUDGET / MB },
    });
    // The same model without the figures (an older worker, a fixed batch dimension): tried.
    const unmeasured = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2 }, 2048);
    expect(drive(unmeasured, 150, 4, faster, 1.5)).toContain(16384);
    expect(unmeasured.report().notTried).toBeUndefined();
  });

  it('a model whose memory stays small goes on to the largest candidate; the boundary is the budget itself', () => {
    const small = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2 }, 2048);
    drive(small, 200, 4, faster, 0.1, undefined, () => 0.5 * MB);
    expect(small.report().candidates.map((c) => c.batchSize)).toEqual(AUTO_CANDIDATES);
    expect(small.report().chosen).toBe(65536);
    expect(small.report().notTried).toBeUndefined();
    // 16 MB at 4096 rows projects exactly the budget at 16384: tried, and kept at 64 MB.
    const edge = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2 }, 2048);
    drive(edge, 200, 4, faster, 0.1, undefined, (size) => ({ 1024: 4, 4096: 12, 16384: 48 })[size]! * MB);
    expect(edge.report().candidates.map((c) => [c.batchSize, c.memoryMb])).toEqual([[1024, 4], [4096, 16], [16384, 64]]);
    expect(edge.report().chosen).toBe(16384);
    expect(edge.report().notTried).toEqual({ batchSize: 65536, projectedMb: 256, budgetMb: 64 });
  });

  it("counts the feeds of the batches in flight and the one being filled: rows wide enough stop the tuning however small the model's memory", () => {
    // 1000 float32 features: 4000 bytes a row, five batches of 1024 rows held at once (4 in
    // flight, 1 filling): 20 MB, so 4096 rows would hold 80 MB with the model's 2 MB.
    const wide = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2, rowBytes: 4000 }, 2048);
    const sizes = drive(wide, 100, 4, faster, 0.1, undefined, () => 0.5 * MB);
    expect(sizes).not.toContain(4096);
    expect(wide.report().candidates).toEqual([{ batchSize: 1024, rows: 32 * 1024, rowsPerSecond: 250_000, memoryMb: 20 }]);
    expect(wide.report().notTried).toEqual({ batchSize: 4096, projectedMb: 80, budgetMb: 64 });
    // The bench's 30 float32 features (120 bytes a row): 65536 rows hold 37.5 MB of feeds, and are tried.
    const narrow = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2, rowBytes: 120 }, 2048);
    drive(narrow, 200, 4, faster, 0.1, undefined, () => 0.5 * MB);
    expect(narrow.report().candidates.map((c) => [c.batchSize, c.memoryMb])).toEqual([[1024, 1.1], [4096, 3.3], [16384, 10.9], [65536, 39.5]]);
  });

  it('kept: null while candidates are measured, the size once the last measured batch is back; a fixed size from its first batch', () => {
    const fixed = BatchSizer.fixed(4096);
    expect(fixed.kept).toBeNull();
    fixed.next();
    expect(fixed.kept).toBe(4096);
    const sizer = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2 }, 2048);
    sizer.next();
    expect(sizer.kept).toBeNull();
    drive(sizer, 200, 4, (size) => (size === 4096 ? 0.001 : 0.002));
    expect(sizer.kept).toBe(4096);
  });

  it('a candidate tried and measured past the budget is not kept, however fast; the first one is kept whatever its memory', () => {
    // 10 MB at 1024 projects 40 MB at 4096 (tried), which then took 70 MB more.
    const sizer = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2 }, 2048);
    const sizes = drive(sizer, 150, 4, faster, 1.5, undefined, (size) => ({ 1024: 10, 4096: 70 })[size]! * MB);
    expect(sizer.report().chosen).toBe(1024);
    expect(new Set(sizes.slice(60))).toEqual(new Set([1024]));
    expect(sizer.report().notTried).toEqual({ batchSize: 16384, projectedMb: 320, budgetMb: 64 });
    // Past the budget at the first candidate: nothing larger is tried, and the first is kept.
    const huge = BatchSizer.auto(10_000_000, { inFlight: 4, workers: 2 }, 2048);
    expect(new Set(drive(huge, 100, 4, faster, 1.5, undefined, () => 100 * MB))).toEqual(new Set([1024]));
    expect(huge.report()).toMatchObject({ chosen: 1024, notTried: { batchSize: 4096, projectedMb: 400 } });
  });
});

describe('concurrentGrowth', () => {
  it('runs apart add up; overlapping runs count once, by the most one of them saw (each saw the others grow)', () => {
    expect(concurrentGrowth([])).toBe(0);
    expect(concurrentGrowth([{ from: 0, to: 10, bytes: 8 }, { from: 12, to: 20, bytes: 8 }])).toBe(16);
    // Two workers' first batches 5 ms apart: the earlier saw its arena and the later one's grow.
    expect(concurrentGrowth([{ from: 5, to: 13, bytes: 9 }, { from: 0, to: 10, bytes: 17 }])).toBe(17);
    // A chain of overlaps is one group; a run after it is another.
    expect(concurrentGrowth([{ from: 0, to: 10, bytes: 3 }, { from: 9, to: 15, bytes: 5 }, { from: 14, to: 20, bytes: 4 }, { from: 30, to: 31, bytes: 2 }])).toBe(7);
  });
});

describe('typicalMsPerRow', () => {
  const batches = (ms: number[], rows = 1): { rows: number; ms: number }[] => ms.map((m) => ({ rows, ms: m }));

  it('with fewer than four windows: the rows over the time of them all', () => {
    expect(typicalMsPerRow(batches([10, 50, 20], 10), 1)).toBe(80 / 30);
    // Four batches of 16,384 rows charged 2.5, 0, 0 and 0.6 us a row (two workers returning in
    // bunches): 0.775 us a row, not the 0.3 of the middle two batches' figures.
    expect(typicalMsPerRow(batches([2.5, 0, 0, 0.6].map((us) => (us * 16384) / 1000), 16384), 4)).toBeCloseTo(0.775e-3, 12);
  });

  it('with four windows or more: the mean of their middle half, so a pause in one window does not count', () => {
    // Windows of 2 batches: per row 1, 1, 2, 2, 2, 2, 3, 100 -> middle half 2, 2, 2, 2.
    const ms = [1, 1, 2, 2, 2, 2, 3, 100].flatMap((w) => [2 * w, 0]);
    expect(typicalMsPerRow(batches(ms), 2)).toBe(2);
  });

  it('batches returned in bunches, one charged all: taken per window, the figure is the pace', () => {
    // Bunches of three batches, 6 ms for the three (the first two charged nothing): 2 ms a batch.
    const bunched = batches([0, 0, 6, 0, 0, 6, 0, 0, 6, 0, 0, 6]);
    // Batch by batch, the middle half is mostly the empty charges: half the pace.
    expect(typicalMsPerRow(bunched, 1)).toBe(1);
    // In windows of the 4 batches in flight: three windows, all the rows over all the time.
    expect(typicalMsPerRow(bunched, 4)).toBe(2);
  });
});

describe('tuningPlan', () => {
  it('measures only the candidates whose rows fit in a quarter of the run, each after a lead-in', () => {
    // (4 + 32) x 1024 + (4 + 8) x 4096 = 86,016 rows: a run of 344,064 rows or more measures two.
    expect(tuningPlan(344_063, 4, AUTO_CANDIDATES)).toEqual([]);
    expect(tuningPlan(344_064, 4, AUTO_CANDIDATES).map((s) => [s.size, s.left, s.measured])).toEqual([[1024, 4, false], [1024, 32, true], [4096, 4, false], [4096, 8, true]]);
    expect(tuningPlan(10_000_000, 4, AUTO_CANDIDATES).filter((s) => s.measured).map((s) => s.size)).toEqual(AUTO_CANDIDATES);
    // Two windows of 4 batches each: 16384 needs (4 + 8) x 16384 rows more (282,624 in all), so
    // the bench's 1M rows measure 1024 and 4096, and 16384 past a quarter of the rows; 10M rows all four.
    const extensions = (rows: number): [number, boolean][] => tuningPlan(rows, 4, AUTO_CANDIDATES).filter((s) => !s.measured).map((s) => [s.size, s.extension === true]);
    expect(extensions(1_000_000)).toEqual([[1024, false], [4096, false], [16384, true]]);
    expect(extensions(1_130_496)).toEqual([[1024, false], [4096, false], [16384, false]]);
    expect(extensions(1_130_495)).toEqual([[1024, false], [4096, false], [16384, true]]);
    // The extension fits in a third of the rows: 3 x 282,624.
    expect(extensions(847_872)).toEqual([[1024, false], [4096, false], [16384, true]]);
    expect(extensions(847_871)).toEqual([[1024, false], [4096, false]]);
    // 65536 after 16384: (4 + 8) x 65536 more, 1,069,056 in all, in a third from 3,207,168 rows.
    expect(extensions(3_207_168)).toEqual([[1024, false], [4096, false], [16384, false], [65536, true]]);
    expect(extensions(3_207_167)).toEqual([[1024, false], [4096, false], [16384, false]]);
    // One candidate in a quarter is no choice, even with a second in a third.
    expect(tuningPlan(258_047, 4, AUTO_CANDIDATES)).toEqual([]);
    // One batch in flight: two windows are two batches, fewer than MIN_BATCHES.
    expect(tuningPlan(10_000_000, 1, AUTO_CANDIDATES).filter((s) => s.measured).map((s) => [s.size, s.left])).toEqual([[1024, 32], [4096, 8], [16384, 4], [65536, 4]]);
  });
});

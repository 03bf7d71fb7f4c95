/**
 * The batch size of a run: fixed (the job's `batch_size`, a CUDA run, a model with a fixed
 * batch dimension), or chosen by measurement (`batch_size: auto`, the default). The best size
 * differs by orders of magnitude between models: a small MLP is fastest at a few thousand
 * rows (its activations stay in cache), a logistic regression at tens of thousands (the cost
 * of a call dominates). So an `auto` run scores its first rows at each candidate size in
 * turn, with the real workers and the whole pipeline, and keeps the fastest.
 *
 * How it measures: batches are taken in the order they were read. Each batch is charged the
 * time between the previous batch's end and its own (when its worker finished it), so a
 * candidate's rate is the pace at which the pipeline scored its rows: reading, inference and
 * writing together, whichever is the bottleneck (`typicalMsPerRow` leaves out the pauses that
 * are no candidate's doing): the scoring thread takes a result when it can, perhaps while
 * reading the next candidate's larger batches, which is no cost of this batch's. Each
 * candidate's first batches (the pipeline filling with them) are not measured.
 * Candidates go from small to large, and tuning stops early once a candidate is clearly
 * slower than the best. The rows scored while tuning are the run's own rows: nothing is
 * scored twice, and the output does not depend on the batch size.
 *
 * @example
 *   const sizer = BatchSizer.auto(1_000_000, 4);
 *   const size = sizer.next();           // for each batch the reader builds
 *   sizer.returned(rows, performance.now()); // for each batch back from the workers, in order
 *   sizer.report();                      // { mode: 'auto', chosen, candidates: [...] }
 */

/** Candidate sizes, small to large. */
export const AUTO_CANDIDATES: readonly number[] = [1024, 4096, 16384, 65536];
/** Rows each candidate scores at least (whole batches, and never fewer than MIN_BATCHES). */
const SEGMENT_ROWS = 32_768;
const MIN_BATCHES = 4;
/**
 * Windows of the batches in flight each candidate is measured over, at least: batches come
 * back in bunches, so one window's time is a bunch's, not a rate (a 16,384-row candidate timed
 * in one window picked the MLP's costliest size in runs where it tied: docs/performance.md,
 * "Two windows a candidate").
 */
const MIN_WINDOWS = 2;
/** Tuning runs only where every measured candidate's rows fit in this share of the run. */
const MAX_TUNING_SHARE = 1 / 4;
/** A candidate slower than this share of the best rate ends the tuning. */
const STOP_BELOW = 0.85;

export interface CandidateRate {
  batchSize: number;
  rows: number;
  rowsPerSecond: number;
}

export interface BatchSizeReport {
  mode: 'auto' | 'fixed';
  /** The size the run settled on (a fixed run's size). */
  chosen: number;
  /** Each candidate measured, in the order tried (empty when fixed or too few rows to tune). */
  candidates: CandidateRate[];
}

interface Segment {
  size: number;
  /** Batches of this segment still to hand out. */
  left: number;
  /** False for a candidate's lead-in: the pipeline filling with its batches is not measured. */
  measured: boolean;
}

export class BatchSizer {
  /** Per candidate, each measured batch's rows and the ms charged to it. */
  private readonly samples = new Map<number, { rows: number; ms: number }[]>();
  /** The sizes of the batches handed out and not yet back, in order, and whether each is measured. */
  private readonly handedOut: { size: number; measured: boolean }[] = [];
  private lastReturn: number | null = null;
  private stopped = false;

  private constructor(
    readonly mode: 'auto' | 'fixed',
    private readonly fallback: number,
    private readonly segments: Segment[],
    /** Batches in flight at once: the window a candidate's charges are taken in (`typicalMsPerRow`). */
    private readonly window = 1,
  ) {}

  static fixed(size: number): BatchSizer {
    return new BatchSizer('fixed', size, []);
  }

  /**
   * Tunes over `rows` rows (those the run will read, as far as known), with `inFlight` batches
   * at the workers at once. With too few rows to measure two candidates, the run keeps
   * `fallback` and its report lists no candidates.
   */
  static auto(rows: number, inFlight: number, fallback: number, candidates: readonly number[] = AUTO_CANDIDATES): BatchSizer {
    return new BatchSizer('auto', fallback, tuningPlan(rows, inFlight, candidates), inFlight);
  }

  /** The size of the next batch the reader fills. */
  next(): number {
    while (!this.stopped && this.segments.length > 0) {
      const head = this.segments[0]!;
      if (head.left > 0) {
        head.left--;
        this.handedOut.push({ size: head.size, measured: head.measured });
        return head.size;
      }
      this.segments.shift();
      if (this.clearlySlower()) this.stopped = true;
    }
    return this.chosen();
  }

  /**
   * A batch came back from the workers with `rows` rows, done at `at` (ms: when its worker
   * finished it, not when the scoring thread took it, which may be busy reading the next
   * candidate's first batches). Batches are taken in the order they were read, so the oldest
   * one handed out is this one; a batch read after the tuning is not in the list. Two workers
   * may finish out of order: a batch done before the one read ahead of it is charged nothing.
   * A batch with no rows (all rejected, never scored) leaves the clock where it was.
   */
  returned(rows: number, at: number): void {
    const since = this.lastReturn;
    const batch = this.handedOut.shift();
    if (rows === 0 && since !== null) return;
    const done = Math.max(at, since ?? at);
    this.lastReturn = done;
    if (!batch?.measured || since === null) return;
    const samples = this.samples.get(batch.size) ?? [];
    samples.push({ rows, ms: done - since });
    this.samples.set(batch.size, samples);
  }

  /** The fastest candidate measured so far, or the fallback before any. */
  chosen(): number {
    let best: CandidateRate | null = null;
    for (const c of this.measured()) if (!best || c.rowsPerSecond > best.rowsPerSecond) best = c;
    return best?.batchSize ?? this.fallback;
  }

  report(): BatchSizeReport {
    return { mode: this.mode, chosen: this.chosen(), candidates: this.measured() };
  }

  private measured(): CandidateRate[] {
    return [...this.samples].map(([batchSize, samples]) => ({ batchSize, rows: samples.reduce((n, s) => n + s.rows, 0), rowsPerSecond: Math.round(1000 / typicalMsPerRow(samples, this.window)) }));
  }

  /** The last candidate measured in full is well below the best: larger ones will not do better. */
  private clearlySlower(): boolean {
    const rates = this.measured().filter((r) => !this.handedOut.some((b) => b.measured && b.size === r.batchSize));
    if (rates.length < 2) return false;
    const best = Math.max(...rates.map((r) => r.rowsPerSecond));
    return rates.at(-1)!.rowsPerSecond < STOP_BELOW * best;
  }
}

/**
 * The segments of a tuning: per candidate a lead-in of `inFlight` batches (at least 2) at its
 * size, not measured (the pipeline filling with batches of that size: the first ones wait for
 * the reader's larger batches while the workers run dry), then at least SEGMENT_ROWS rows,
 * MIN_BATCHES batches and MIN_WINDOWS windows of `inFlight` batches measured; as many
 * candidates as fit in MAX_TUNING_SHARE of the rows.
 */
export function tuningPlan(rows: number, inFlight: number, candidates: readonly number[]): Segment[] {
  const budget = rows * MAX_TUNING_SHARE;
  const lead = Math.max(2, inFlight);
  const segments: Segment[] = [];
  let used = 0;
  for (const size of candidates) {
    const batches = Math.max(MIN_BATCHES, MIN_WINDOWS * inFlight, Math.ceil(SEGMENT_ROWS / size));
    if (used + (lead + batches) * size > budget) break;
    used += (lead + batches) * size;
    segments.push({ size, left: lead, measured: false }, { size, left: batches, measured: true });
  }
  // One candidate alone (a lead-in and its measured segment) is no choice.
  return segments.length > 2 ? segments : [];
}

/**
 * The ms per row of a candidate's measured batches (`returned`'s charges, in order), robust to
 * how batches come back and to pauses. Several workers finish batches in bunches: two workers
 * often return two at once, the second charged next to nothing, so one batch's figure says
 * little (four batches of 16,384 rows charged 2.5, 0, 0 and 0.6 us a row once timed 3.4M rows/s
 * for a candidate that scores 0.8M). The charges are taken in windows of `window` consecutive
 * batches (as many as are in flight). With four windows or more, the mean of the middle half
 * of their per-row figures: a pause in one window (DuckDB decoding the next row group, a part
 * written, a collection) does not count. With fewer, the rows over the time of them all.
 */
export function typicalMsPerRow(samples: readonly { rows: number; ms: number }[], window: number): number {
  const windows: { rows: number; ms: number }[] = [];
  for (let i = 0; i < samples.length; i += window) {
    const batches = samples.slice(i, i + window);
    windows.push({ rows: batches.reduce((n, b) => n + b.rows, 0), ms: batches.reduce((t, b) => t + b.ms, 0) });
  }
  if (windows.length < 4) return windows.reduce((t, w) => t + w.ms, 0) / windows.reduce((n, w) => n + w.rows, 0);
  const perRow = windows.map((w) => w.ms / w.rows).sort((a, b) => a - b);
  const cut = Math.floor(perRow.length / 4);
  const middle = perRow.slice(cut, perRow.length - cut);
  return middle.reduce((a, b) => a + b, 0) / middle.length;
}

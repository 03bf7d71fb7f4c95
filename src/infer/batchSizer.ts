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
 * candidate's first batches (the pipeline filling with them) are not measured, nor is a batch
 * whose reading stalled (a row group's decompression: the rows' cost, whatever the size).
 * Candidates go from small to large. When the workers are mostly idle (the reader bounds the
 * pipeline, as with a logistic regression), larger batches cut the per-batch costs and cost
 * the inference nothing: the tuning goes on unless a candidate is clearly slower, and one
 * candidate more is tried past the usual share of the rows. When the workers are busy, a
 * larger batch costs them memory: the tuning goes on only while each candidate is clearly
 * faster. The rows scored while tuning are the run's own rows: nothing is scored twice, and
 * the output does not depend on the batch size.
 *
 * Memory: a larger batch needs more memory, for the model's activations (onnxruntime's arena
 * grows to the largest batch and keeps it) and for its feeds (each batch in flight holds its
 * rows). The workers say how much the process grew on their first batch of each size; from that
 * the sizer projects the next candidate's (in proportion to its rows), adds its feeds, and does
 * not try a size projected past MEMORY_BUDGET, nor keep one measured past it. A model whose
 * activations take that much spends enough time on each row that the per-batch costs larger
 * batches save do not matter (the bench's MLP: ~26 MB at 4096 rows; 16,384 rows no faster for
 * ~105 MB more; 65,536 slower, for ~850 MB in all); rows that wide (1000 float features are 4 KB
 * a row, 1.3 GB in five batches of 65,536) cost more to hold than a larger batch saves.
 *
 * @example
 *   const sizer = BatchSizer.auto(1_000_000, { inFlight: 4, workers: 2 }, 4096);
 *   const size = sizer.next();           // for each batch the reader builds
 *   sizer.waited(batch.longestWaitMs);   // once the reader has filled it
 *   sizer.returned(rows, doneAt, inferMs, grew); // for each batch back from the workers, in order
 *   sizer.report();                      // { mode: 'auto', chosen, candidates: [...], notTried? }
 */
import { quantile } from '../util/quantile.js';

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
/**
 * The next larger candidate is tried too when its rows fit in this share and the workers were
 * busy under READER_BOUND of the time the batches took (docs/performance.md, "Batch sizes for a
 * pipeline the reader bounds").
 */
const EXTENDED_SHARE = 1 / 3;
const READER_BOUND = 0.5;
/**
 * A reader's wait for one chunk longer than STALL_MS, and than STALL_RATIO times the median of
 * the tuning's batches' longest waits so far, is a stall: its batch is not measured. (On storage
 * where every chunk waits a few ms, the waits are the pace, not stalls.)
 */
export const STALL_MS = 5;
const STALL_RATIO = 4;
/** A candidate slower than this share of another's rate is clearly slower (`worthTrying`, `chosen`). */
const STOP_BELOW = 0.85;
/** The most a size's memory (`memoryOf`: the model's and the feeds') may be for `auto` to try it or keep it. */
export const MEMORY_BUDGET = 64 * 2 ** 20;
const MB = 2 ** 20;

export interface CandidateRate {
  batchSize: number;
  rows: number;
  rowsPerSecond: number;
  /** This size's memory (MB, `memoryOf`): the model's as the workers measured it, and its feeds'. */
  memoryMb?: number;
}

export interface BatchSizeReport {
  mode: 'auto' | 'fixed';
  /** The size the run settled on (a fixed run's size). */
  chosen: number;
  /** Each candidate measured, in the order tried (empty when fixed or too few rows to tune). */
  candidates: CandidateRate[];
  /** The next candidate, when the tuning stopped because its memory was projected past the budget. */
  notTried?: { batchSize: number; projectedMb: number; budgetMb: number };
}

interface Segment {
  size: number;
  /** Batches of this segment still to hand out. */
  left: number;
  /** False for a candidate's lead-in: the pipeline filling with its batches is not measured. */
  measured: boolean;
  /** The lead-in of a candidate past MAX_TUNING_SHARE: tried only if the reader bounds the pipeline. */
  extension?: boolean;
  /** A lead-in whose first batch was handed out: its candidate was judged worth trying. */
  begun?: boolean;
}

/** The sizes of the workers' pipeline: batches in flight at once, and the workers taking them. */
export interface Pipeline {
  /**
   * Batches in flight while candidates are measured: a size's feeds count these. Once a size is
   * kept a run may keep more (infer/inFlight.ts), but those hold at most 16,384 rows or 4 MiB
   * a worker past two batches, whatever the size: a cost no size choice changes.
   */
  inFlight: number;
  workers: number;
  /**
   * Bytes of a row's typed feeds (source/bufferPool.ts `feedRowBytes`): the batches in flight and
   * the one the reader fills hold them, so they count in a size's memory (`memoryOf`).
   */
  rowBytes?: number;
}

/** A batch handed out: its size, and whether it counts in its candidate's measure. */
interface HandedOut {
  size: number;
  measured: boolean;
}

export class BatchSizer {
  /** Per candidate, each measured batch's rows, the ms charged to it and its worker's inference ms. */
  private readonly samples = new Map<number, { rows: number; ms: number; inferMs: number }[]>();
  /** The batches handed out and not yet back, in order. */
  private readonly handedOut: HandedOut[] = [];
  /** The batch `next` handed out last, while tuning; null after. */
  private last: HandedOut | null = null;
  /** The longest wait for a chunk of each batch read while tuning (`waited`). */
  private readonly waits: number[] = [];
  private lastReturn: number | null = null;
  private stopped = false;
  /** The size kept, once the tuning is over and its last measured batch back: it cannot change after. */
  private settled: number | null = null;
  /** Per size handed out while tuning, what the workers saw the process grow on their first batch of it, and when. */
  private readonly grown = new Map<number, Growth[]>();
  private notTried: BatchSizeReport['notTried'];

  private constructor(
    readonly mode: 'auto' | 'fixed',
    private readonly fallback: number,
    private readonly segments: Segment[],
    /** Batches in flight (the window a candidate's charges are taken in: `typicalMsPerRow`) and workers. */
    private readonly pipeline: Pipeline = { inFlight: 1, workers: 1 },
  ) {}

  static fixed(size: number): BatchSizer {
    return new BatchSizer('fixed', size, []);
  }

  /**
   * Tunes over `rows` rows (those the run will read, as far as known), with `pipeline.inFlight`
   * batches at its workers at once. With too few rows to measure two candidates, the run keeps
   * `fallback` and its report lists no candidates.
   */
  static auto(rows: number, pipeline: Pipeline, fallback: number, candidates: readonly number[] = AUTO_CANDIDATES): BatchSizer {
    return new BatchSizer('auto', fallback, tuningPlan(rows, pipeline.inFlight, candidates), pipeline);
  }

  /**
   * The size of the next batch the reader fills. Before a candidate's first batch, the one
   * before it is judged on all its measured batches: until they are back, batches of the best
   * size so far keep the workers busy, not measured (`worthTrying` ends the tuning before a
   * batch of a larger candidate is handed out: the MLP's 65,536-row batches took 850 MB).
   */
  next(): number {
    this.last = null;
    while (!this.stopped && this.segments.length > 0) {
      const head = this.segments[0]!;
      if (head.left === 0) {
        this.segments.shift();
        continue;
      }
      if (!head.measured && !head.begun) {
        if (this.measuring) return this.handOut(this.chosen(), false);
        if (!this.worthTrying(head)) {
          this.stopped = true;
          break;
        }
        head.begun = true;
      }
      head.left--;
      return this.handOut(head.size, head.measured);
    }
    return this.settled ?? this.settle();
  }

  /** A measured batch is still out: its candidate's rate may still change. */
  private get measuring(): boolean {
    return this.handedOut.some((b) => b.measured);
  }

  private handOut(size: number, measured: boolean): number {
    this.last = { size, measured };
    this.handedOut.push(this.last);
    return size;
  }

  /** The size the run keeps to its end, once the tuning is over (a fixed size from the first batch); null before. */
  get kept(): number | null {
    return this.settled;
  }

  /** The size to use after the tuning, kept for the rest of the run once no measured batch is out. */
  private settle(): number {
    const size = this.chosen();
    if (!this.measuring) this.settled = size;
    return size;
  }

  /**
   * The batch `next` handed out last has been read, its longest wait for a chunk `ms` long: a
   * stall (a row group's pages decompressed: STALL_MS) leaves it out of its candidate's measure.
   */
  waited(ms: number): void {
    if (!this.last) return;
    if (ms > Math.max(STALL_MS, STALL_RATIO * quantile(this.waits, 0.5))) this.last.measured = false;
    this.waits.push(ms);
  }

  /**
   * A batch came back from the workers with `rows` rows, done at `at` (ms: when its worker
   * finished it, not when the scoring thread took it, which may be busy reading the next
   * candidate's first batches). Batches are taken in the order they were read, so the oldest
   * one handed out is this one; a batch read after the tuning is not in the list. Two workers
   * may finish out of order: a batch done before the one read ahead of it is charged nothing.
   * A batch with no rows (all rejected, never scored) leaves the clock where it was.
   * `inferMs`: the time its worker spent in inference; `grew`, on its worker's first batch of
   * this many rows, the bytes the process grew while the model ran it.
   */
  returned(rows: number, at: number, inferMs: number, grew?: number): void {
    const since = this.lastReturn;
    const batch = this.handedOut.shift();
    if (batch && grew !== undefined) this.grown.set(batch.size, [...(this.grown.get(batch.size) ?? []), { from: at - inferMs, to: at, bytes: grew }]);
    if (rows === 0 && since !== null) return;
    const done = Math.max(at, since ?? at);
    this.lastReturn = done;
    if (!batch?.measured || since === null) return;
    const samples = this.samples.get(batch.size) ?? [];
    samples.push({ rows, ms: done - since, inferMs });
    this.samples.set(batch.size, samples);
  }

  /**
   * The fastest candidate measured so far, or the fallback before any. Where the reader bounds
   * the pipeline, the largest candidate not clearly slower than the fastest (STOP_BELOW of its
   * rate): there a larger batch costs the inference nothing and saves the scoring thread work
   * per batch, a few percent of the run that a few windows of batches cannot time apart
   * (docs/performance.md, "Batch sizes for a pipeline the reader bounds").
   */
  chosen(): number {
    // The first candidate stays a choice whatever its memory: the run needs a size.
    const rates = this.measured().filter((r, i) => i === 0 || this.memoryOf(r.batchSize) <= MEMORY_BUDGET);
    if (rates.length === 0) return this.fallback;
    const best = Math.max(...rates.map((r) => r.rowsPerSecond));
    if (!this.readerBound()) return rates.find((r) => r.rowsPerSecond === best)!.batchSize;
    return Math.max(...rates.filter((r) => r.rowsPerSecond >= STOP_BELOW * best).map((r) => r.batchSize));
  }

  report(): BatchSizeReport {
    const known = (size: number): boolean => this.grown.has(size) || (this.pipeline.rowBytes ?? 0) > 0;
    const candidates = this.measured().map((c) => (known(c.batchSize) ? { ...c, memoryMb: Math.round((10 * this.memoryOf(c.batchSize)) / MB) / 10 } : c));
    return { mode: this.mode, chosen: this.chosen(), candidates, ...(this.notTried ? { notTried: this.notTried } : {}) };
  }

  private measured(): CandidateRate[] {
    return [...this.samples].map(([batchSize, samples]) => ({ batchSize, rows: samples.reduce((n, s) => n + s.rows, 0), rowsPerSecond: Math.round(1000 / typicalMsPerRow(samples, this.pipeline.inFlight)) }));
  }

  /** A size's memory: the model's (`modelMemory`) and its feeds'. */
  private memoryOf(size: number): number {
    return this.modelMemory(size) + this.feedMemory(size);
  }

  /** The model's memory at `size`: what the process grew on the first batches of every size up to it (the arena keeps what each size took). */
  private modelMemory(size: number): number {
    let bytes = 0;
    for (const [s, growths] of this.grown) if (s <= size) bytes += concurrentGrowth(growths);
    return bytes;
  }

  /** The feeds of batches of `size` rows: those in flight and the one the reader fills. */
  private feedMemory(size: number): number {
    return size * (this.pipeline.rowBytes ?? 0) * (this.pipeline.inFlight + 1);
  }

  /** `size`'s memory: the model's projected from the largest size run so far, in proportion to the rows, and its feeds'. */
  private projectedMemory(size: number): number {
    const largest = Math.max(0, ...this.grown.keys());
    if (largest === 0 || size <= largest) return this.memoryOf(size);
    return (this.modelMemory(largest) * size) / largest + this.feedMemory(size);
  }

  /** The workers were busy under READER_BOUND of the time the batches measured so far took. */
  private readerBound(): boolean {
    let busy = 0;
    let took = 0;
    for (const samples of this.samples.values()) {
      for (const s of samples) {
        busy += s.inferMs;
        took += s.ms;
      }
    }
    return took > 0 && busy < READER_BOUND * took * this.pipeline.workers;
  }

  /**
   * Whether the candidate whose lead-in is `head` is worth trying, judged on every measured batch
   * of the smaller ones. Where the reader bounds the pipeline, unless the last one tried is
   * clearly slower (under STOP_BELOW of the best rate). Where the workers do, only while the last
   * one was clearly faster than every smaller one (by 1 / STOP_BELOW): a larger batch costs the
   * workers memory for its activations (the MLP's 65,536-row batches took 850 MB), for a gain
   * of a few percent at best once the rates level off. Either way, not when its memory is
   * projected past MEMORY_BUDGET.
   */
  private worthTrying(head: Segment): boolean {
    const projected = this.projectedMemory(head.size);
    if (projected > MEMORY_BUDGET) {
      this.notTried = { batchSize: head.size, projectedMb: Math.round(projected / MB), budgetMb: MEMORY_BUDGET / MB };
      return false;
    }
    const readerBound = this.readerBound();
    if (head.extension && !readerBound) return false;
    const rates = this.measured().map((r) => r.rowsPerSecond);
    if (rates.length < 2) return true;
    const last = rates.at(-1)!;
    const before = Math.max(...rates.slice(0, -1));
    return readerBound ? last >= STOP_BELOW * before : STOP_BELOW * last >= before;
  }
}

/**
 * What a worker saw the process grow (`bytes`) while it ran its first batch of a size, from `from`
 * to `to` (ms: the batch's `doneAt` less its inference time, so a profile the worker made after
 * the run moves both ends a few ms later).
 */
export interface Growth {
  from: number;
  to: number;
  bytes: number;
}

/**
 * What the workers' first batches of one size took together. The process's memory is shared: a
 * worker whose run overlapped another's saw both arenas grow (onnxruntime takes a run's memory
 * as it starts, so the earlier of two overlapping runs sees the later one's too). Runs that
 * overlap count once, by the most one of them saw; runs apart add up.
 */
export function concurrentGrowth(growths: readonly Growth[]): number {
  const byStart = [...growths].sort((a, b) => a.from - b.from);
  let total = 0;
  let end = -Infinity;
  let most = 0;
  for (const g of byStart) {
    if (g.from > end) {
      total += most;
      most = 0;
    }
    most = Math.max(most, g.bytes);
    end = Math.max(end, g.to);
  }
  return total + most;
}

/**
 * The segments of a tuning: per candidate a lead-in of `inFlight` batches (at least 2) at its
 * size, not measured (the pipeline filling with batches of that size: the first ones wait for
 * the reader's larger batches while the workers run dry), then at least SEGMENT_ROWS rows,
 * MIN_BATCHES batches and MIN_WINDOWS windows of `inFlight` batches measured; as many
 * candidates as fit in MAX_TUNING_SHARE of the rows, and the next one if it fits in
 * EXTENDED_SHARE, its lead-in marked `extension` (tried only if the reader bounds the pipeline).
 */
export function tuningPlan(rows: number, inFlight: number, candidates: readonly number[]): Segment[] {
  const lead = Math.max(2, inFlight);
  const segments: Segment[] = [];
  let used = 0;
  for (const size of candidates) {
    const batches = Math.max(MIN_BATCHES, MIN_WINDOWS * inFlight, Math.ceil(SEGMENT_ROWS / size));
    used += (lead + batches) * size;
    if (used > rows * EXTENDED_SHARE) break;
    const extension = used > rows * MAX_TUNING_SHARE;
    segments.push({ size, left: lead, measured: false, ...(extension ? { extension } : {}) }, { size, left: batches, measured: true });
    if (extension) break;
  }
  // One candidate alone (a lead-in and its measured segment) is no choice.
  const extensionAt = segments.findIndex((s) => s.extension);
  return (extensionAt < 0 ? segments.length : extensionAt) > 2 ? segments : [];
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

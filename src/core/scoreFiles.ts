/**
 * The scoring loop: each input file streams through DuckDB into batches, batches go to the
 * worker pool (at most as many at once as the plan's `inFlight` allows, so a slow model holds
 * the reader back), and results come back in submission order into the part sink, which
 * writes durable part files of `checkpointRows` rows. Every finished part is journaled, so an
 * interrupted run resumes after its last part.
 */
import { BatchinferError } from '../errors.js';
import type { Db } from '../db/duckdb.js';
import type { WorkerPool, BatchResult } from '../infer/workerPool.js';
import type { PreparedJob } from './prepare.js';
import type { Journal } from '../sink/journal.js';
import type { StageSeconds } from './stageSeconds.js';
import type { ExecutionPlan, PlannedFile } from './executionPlan.js';
import { readBatches } from '../source/readBatches.js';
import { BatchSizer, type BatchSizeReport } from '../infer/batchSizer.js';
import { batchesInFlight } from '../infer/inFlight.js';
import { BufferPool } from '../source/bufferPool.js';
import { countRows, overclaimingRowGroups, type DatasetFile } from '../source/dataset.js';
import { filteredRows, stageSource } from './stageSource.js';
import { Postprocessor } from '../postprocess/postprocessor.js';
import type { ScoresDecision } from '../postprocess/outputPlan.js';
import type { LabelCheckReport, LabelCounts } from '../postprocess/labelCheck.js';
import type { FeedPlan } from '../preprocess/featurePlan.js';
import { flatColumns, rejectSql, type RejectReason } from '../preprocess/rowChecks.js';
import { PartSink } from '../sink/partSink.js';
import { RejectTally } from '../sink/rejectTally.js';
import type { Part } from '../sink/part.js';
import { predictionValues } from '../postprocess/predictionValues.js';
import type { RunProfiler } from '../profile/runProfiler.js';
import { profileBatch, type BatchProfile, type BatchRows } from '../profile/batchProfile.js';
import type { TensorData } from '../util/tensor.js';
import { RunningProfile, runProfiler } from './runProfile.js';

export interface ScoreOptions {
  signal?: AbortSignal;
  onProgress?(rowsDone: number, rowsTotal: number): void;
  /** Called when a part is durable: rows done (resumed ones included) and expected in all, and rows resumed from a journal. */
  onPart?(progress: PartProgress): void;
}

export interface PartProgress {
  rowsDone: number;
  rowsTotal: number;
  rowsResumed: number;
}

export type { Part } from '../sink/part.js';

export interface ScoreResult {
  /** `parts[i]`: the part files of input file i, in order. */
  parts: Part[][];
  /** Rows read: scored + rejected. */
  rowsIn: number;
  rowsOut: number;
  rejected: Partial<Record<RejectReason, number>>;
  rejectedTotal: number;
  /** Rows taken from a previous interrupted run's journal. */
  resumedRows: number;
  /** Rows the job's `where` left out (not read, so in no other count); undefined without a `where`. */
  rowsFiltered?: number;
  latencies: number[];
  /** Rows added to fill a fixed-size model batch (dropped from the output). */
  paddedRows: number;
  seconds: Omit<StageSeconds, 'wall'>;
  scores: ScoresDecision | null;
  /** The model's label output against the argmax (classifiers exported with one). */
  labelCheck: LabelCheckReport | null;
  /** The batch size the run used, and how `auto` chose it. */
  batchSizing: BatchSizeReport;
  /** The most batches at the workers at once. */
  batchesInFlight: number;
  /** The profiles of the parts this run journaled, merged as they were (runProfile.ts); absent when it keeps none. */
  profile?: RunningProfile;
}

interface InFlight {
  rows: number;
  rowEnd: number;
  rejected: Partial<Record<RejectReason, number>>;
  rowNumbers?: BigInt64Array;
  /** Null for a span of only rejected rows: nothing to infer. */
  result: Promise<BatchResult> | null;
  /** The batch's profile when this thread made it (else its worker's comes with the result). */
  profile?: BatchProfile;
}

/** Scores every file of the plan into journaled parts in the staging directory. */
export async function scoreFiles(db: Db, pool: WorkerPool, job: PreparedJob, plan: ExecutionPlan, journal: Journal, options: ScoreOptions = {}): Promise<ScoreResult> {
  const post = new Postprocessor(job.output, journalScores(journal), journalLabels(journal));
  const scoring = new Scoring(db, pool, job, plan, journal, options, post, runProfiler(job));
  // The workers profile the batches they score (a pool may serve runs with and without one).
  pool.profileInputs(scoring.profile ? [...scoring.profile.columns] : null);
  const running = scoring.profile ? new RunningProfile() : null;
  const sink = await PartSink.open(db, job.output, {
    staging: plan.output.staging,
    journal,
    passthrough: job.spec.passthrough,
    byRowNumber: plan.join.by === 'row-number',
    lanes: plan.join.lanes === 2,
    checkpointRows: plan.partRows,
    writeBehind: plan.writeBehind,
    // A part joined on row numbers is one parallel COPY: it gets all of DuckDB's threads. A
    // positional join runs on one thread per lane anyway (docs/performance.md, writing).
    copyThreads: plan.join.by === 'row-number' ? plan.threads.duckdb.writing : null,
    quarantine: job.spec.onError === 'quarantine' ? { columnNames: flatColumns(job.feeds).map(({ col }) => col.column), keep: job.spec.rejectsColumns } : null,
    notes: (rows) => ({ scores: post.scores ?? undefined, labelCheck: post.labelCounts() ? takeLabels(scoring.batchLabels, rows) : undefined }),
    // The sketches are built on a worker: off the thread that reads and writes.
    profile: (rows) => scoring.profile?.takePartWith(rows, job.spec.output, (sample) => pool.sketch(sample)) ?? null,
    onProfile: (path, profile) => running?.add(path, profile),
  });
  try {
    const result = await scoring.run(sink);
    return running ? { ...result, profile: running } : result;
  } finally {
    await sink.close();
  }
}

/** One run of the scoring loop: its counters, and the steps that change them. */
class Scoring {
  /** Each batch's label check counts since the last part, in order: each part's journal entry records its own rows, so a resumed run adds up every row (the parts hold whole batches). */
  readonly batchLabels: LabelCounts[] = [];
  private readonly seconds = { stage: 0, read: 0, preprocess: 0, infer: 0, postprocess: 0, write: 0 };
  private readonly latencies: number[] = [];
  private readonly totals = new RejectTally();
  private readonly buffers = new BufferPool();
  private rowsIn = 0;
  private resumedRows = 0;
  private paddedRows = 0;
  /** Rows of the files before the current one, and of all files (staged ones counted once staged), for progress. */
  private rowsBefore = 0;
  private rowsTotal: number;
  /** The first row of the file being read (a shard's span starts past 0). */
  private spanStart = 0;
  private readonly fileRows: (number | null)[];
  /** Made at the first file scored, from the rows known to be left (infer/batchSizer.ts). */
  private sizer: BatchSizer | null = null;
  /** The most batches at the workers at once so far. */
  private mostInFlight = 0;

  constructor(
    private readonly db: Db,
    private readonly pool: WorkerPool,
    private readonly job: PreparedJob,
    private readonly plan: ExecutionPlan,
    private readonly journal: Journal,
    private readonly options: ScoreOptions,
    private readonly post: Postprocessor,
    /** The run's profile of its inputs and predictions (profile/runProfiler.ts); null with `profile: false`. */
    readonly profile: RunProfiler | null,
  ) {
    this.fileRows = [];
    for (const f of plan.inputs) this.fileRows[f.index] = f.rows.end;
    this.rowsTotal = plan.inputs.reduce((n, f) => n + (f.rows.end ?? 0) - f.rows.start, 0);
  }

  async run(sink: PartSink): Promise<ScoreResult> {
    const { db, plan, job } = this;
    await db.setThreads(plan.threads.duckdb.reading);
    for (const planned of plan.inputs) {
      checkAborted(this.options.signal);
      const original = job.dataset.files[planned.index]!;
      if (this.resume(sink, planned.index)) continue;
      const { file, feeds } = await this.stage(planned, original);
      await this.scoreFile(sink, planned, original, file, feeds);
    }
    checkThresholds(job.spec, this.totals.total, this.rowsIn, this.rowsIn);
    // The copies that follow (the commit) have all of DuckDB's threads.
    await db.setThreads(plan.threads.duckdb.writing);
    const { totals, post } = this;
    return { parts: sink.parts, rowsIn: this.rowsIn, rowsOut: sink.rowsOut, rejected: totals.counts(), rejectedTotal: totals.total, resumedRows: this.resumedRows, rowsFiltered: filteredRows(this.journal, job.spec.where), latencies: this.latencies, paddedRows: this.paddedRows, seconds: this.seconds, scores: post.scores, labelCheck: post.labels, batchSizing: (this.sizer ?? this.newSizer(0)).report(), batchesInFlight: this.mostInFlight };
  }

  /** Takes the parts an earlier run finished of file `index`; true when it finished the file. */
  private resume(sink: PartSink, index: number): boolean {
    sink.resume(index);
    for (const p of this.journal.parts(index)) {
      this.totals.add(p.rejected);
      this.rowsIn += p.rowEnd - p.rowStart;
      this.resumedRows += p.rowEnd - p.rowStart;
    }
    const done = this.journal.done(index);
    if (done) this.rowsBefore += done.rows - this.firstRow(index);
    return done !== undefined;
  }

  /** The file the rows are read from: the input, or its staged copy (counted once made). */
  private async stage(planned: PlannedFile, original: DatasetFile): Promise<{ file: DatasetFile; feeds: FeedPlan[] }> {
    const { db, job, plan } = this;
    if (planned.read === 'direct') return { file: original, feeds: job.feeds };
    const stageStart = performance.now();
    // A staged copy holds the columns the run reads; the rejects file wants every original column.
    const staged = await db.withThreads(plan.threads.duckdb.writing, () =>
      stageSource(db, original, planned.index, { target: planned.staged!, journal: this.journal, filter: plan.window, feeds: job.feeds, passthrough: job.spec.passthrough, allColumns: job.spec.onError === 'quarantine', columns: original.columns, textColumns: job.textColumns }),
    );
    const rows = await countRows(db, staged.file);
    this.fileRows[planned.index] = rows;
    this.rowsTotal += rows;
    // Only a copy counts as staging: a Parquet input's is exactly 0, not a GC pause between two clock reads.
    this.seconds.stage += (performance.now() - stageStart) / 1000;
    return staged;
  }

  private async scoreFile(sink: PartSink, planned: PlannedFile, original: DatasetFile, file: DatasetFile, feeds: FeedPlan[]): Promise<void> {
    const { job, options } = this;
    const index = planned.index;
    const rows = this.fileRows[index]!;
    this.spanStart = planned.rows.start;
    const fromRow = sink.startFile({ index, source: file, display: original, rows, rowStart: planned.rows.start, rejectCheck: (params) => rejectSql(feeds, params)! });
    const sizer = (this.sizer ??= this.newSizer(this.rowsTotal - this.rowsBefore - (fromRow - planned.rows.start)));
    const queue: InFlight[] = [];
    try {
      for await (const batch of readBatches(this.db, file, feeds, {
        batchSize: () => sizer.next(),
        display: original,
        fromRow,
        ...(planned.span ? { toRow: rows } : {}),
        // Rows left out (skip, quarantine) carry their row numbers: the parts join on them.
        onError: job.spec.onError,
        buffers: this.buffers,
        // Parts joined by position end where the rows say, whatever the batch sizes.
        cutAfter: (row) => sink.cutAfter(row),
        onTiming: (readMs, prepMs) => {
          this.seconds.read += readMs / 1000;
          this.seconds.preprocess += prepMs / 1000;
        },
      })) {
        checkAborted(options.signal);
        sizer.waited(batch.longestWaitMs);
        this.rowsIn += batch.rowEnd - batch.rowStart;
        this.totals.add(batch.rejected);
        // The rate is judged early only against a total that covers every file (Parquet
        // footers); a CSV's rows are known once it is staged, so those wait for the end.
        checkThresholds(job.spec, this.totals.total, this.rowsIn, this.plan.inputs.every((f) => f.read === 'direct') ? this.rowsTotal : Infinity);
        const { here, asked } = this.profileBatch(index, batch);
        const result = batch.rowCount > 0 ? this.pool.run(batch.feeds, asked) : null;
        // Awaited in order when drained; a batch failing before that (the reader still
        // running) must not count as an unhandled rejection, which ends the process.
        result?.catch(() => undefined);
        queue.push({ rows: batch.rowCount, rowEnd: batch.rowEnd, rejected: batch.rejected, rowNumbers: batch.rowNumbers, result, ...(here ? { profile: here } : {}) });
        this.mostInFlight = Math.max(this.mostInFlight, queue.length);
        while (queue.length >= batchesInFlight(this.plan.inFlight, sizer.kept)) await this.drainOne(sink, queue.shift()!);
      }
      while (queue.length > 0) await this.drainOne(sink, queue.shift()!);
    } finally {
      // Settle what is still in flight so no rejection goes unhandled.
      await Promise.allSettled(queue.map((q) => q.result));
    }
    checkAborted(options.signal);
    // The last part; an empty file still gets one (zero rows, full schema).
    if (sink.lastPartDue) await this.flush(sink);
    await this.drain(sink);
    await this.checkFileRead(file, original, sink.rowsWritten, rows);
    await this.journal.append({ type: 'file-done', file: index, rows: sink.rowsWritten });
    this.rowsBefore += sink.rowsWritten - planned.rows.start;
  }

  /** The row file `index`'s parts start at: 0, or a shard's first row of it. */
  private firstRow(index: number): number {
    return this.plan.inputs.find((f) => f.index === index)?.rows.start ?? 0;
  }

  /** The run's batch sizes: fixed, or measured over the first of the `rows` rows left. */
  private newSizer(rows: number): BatchSizer {
    const { plan } = this;
    const rule = plan.inFlight;
    const pipeline = { inFlight: batchesInFlight(rule, null), workers: rule.workers, rowBytes: rule.rowBytes };
    return plan.batchSizing === 'auto' ? BatchSizer.auto(rows, pipeline, plan.batchSize) : BatchSizer.fixed(plan.batchSize);
  }

  /** A batch back from the workers, in submission order: its predictions go to the sink. */
  private async drainOne(sink: PartSink, head: InFlight): Promise<void> {
    sink.extendSpan(head.rowEnd, head.rejected);
    if (head.result) {
      const { outputs, ms, padded, returned, doneAt, grew, profile = head.profile } = await head.result;
      this.sizer?.returned(head.rows, doneAt, ms, grew);
      this.buffers.put(returned);
      this.latencies.push(ms);
      this.paddedRows += padded;
      this.seconds.infer += ms / 1000;
      const postStart = performance.now();
      const before = this.post.labelCounts();
      const columns = this.post.columns(outputs, head.rows);
      if (this.profile) {
        if (!profile) throw new BatchinferError('INTERNAL', 'an inference worker sent no profile of a batch');
        this.profile.addProfile(profile);
        this.profile.addPredictions(head.rows, predictionValues(this.job.output, columns, head.rows));
      }
      const after = this.post.labelCounts();
      if (before && after) this.batchLabels.push({ rows: after.rows - before.rows, disagreements: after.disagreements - before.disagreements });
      if (head.rowNumbers) columns.unshift({ type: 'BIGINT', data: head.rowNumbers });
      const appendStart = performance.now();
      this.seconds.postprocess += (appendStart - postStart) / 1000;
      await sink.append(columns, head.rows);
      this.seconds.write += (performance.now() - appendStart) / 1000;
    } else {
      this.sizer?.returned(0, performance.now(), 0);
    }
    if (sink.full) {
      checkAborted(this.options.signal);
      await this.flush(sink);
    }
    this.options.onProgress?.(this.rowsBefore + sink.rowsTaken - this.spanStart, this.rowsTotal);
  }

  /**
   * A batch's profile is made where there is time for it: by its worker when a worker is idle
   * (a cheap model: the reader on this thread is the slower side), else here, before the
   * feeds go (a costly model: the workers are). Either way it is the same profile.
   */
  private profileBatch(file: number, batch: { feeds: Record<string, TensorData>; rowCount: number; rowStart: number; rowNumbers?: BigInt64Array }): { here?: BatchProfile; asked?: BatchRows } {
    if (!this.profile || batch.rowCount === 0) return {};
    const rows: BatchRows = { rows: batch.rowCount, file, rowStart: batch.rowStart, ...(batch.rowNumbers ? { rowNumbers: batch.rowNumbers } : {}) };
    if (this.pool.idle) return { asked: rows };
    const started = performance.now();
    const here = profileBatch(this.profile.columns, batch.feeds, rows);
    this.seconds.preprocess += (performance.now() - started) / 1000;
    return { here };
  }

  /** Every part cut is journaled (the writes behind waited for). */
  private async drain(sink: PartSink): Promise<void> {
    const started = performance.now();
    await sink.drain();
    this.seconds.write += (performance.now() - started) / 1000;
  }

  /** The reader waits while a part is written, or (writing behind) while the part before it is. */
  private async flush(sink: PartSink): Promise<void> {
    const started = performance.now();
    await sink.flush((rowEnd) => this.options.onPart?.({ rowsDone: this.rowsBefore + rowEnd - this.spanStart, rowsTotal: this.rowsTotal, rowsResumed: this.resumedRows }));
    this.seconds.write += (performance.now() - started) / 1000;
  }

  /**
   * Every row of the file was scored or rejected. A stream that ends early (a statement run on
   * the reader's connection ends it without an error) must not commit fewer rows.
   */
  private async checkFileRead(file: DatasetFile, original: DatasetFile, read: number, rows: number): Promise<void> {
    if (read === rows) return;
    // A Parquet input whose row groups claim more rows than their columns hold reads short
    // without an error: bad data, named. Anything else is ours.
    const lying = file.format === 'parquet' ? await overclaimingRowGroups(this.db, file.path) : [];
    if (lying.length > 0) {
      const g = lying[0]!;
      throw new BatchinferError('INPUT_INVALID', `${original.path} is corrupt: row group ${g.id} claims ${g.rows} rows but its columns hold ${g.values} values; ${read} of the ${rows} rows its footer claims could be read`, { expected: `${g.rows} values in row group ${g.id}`, actual: `${g.values}` });
    }
    throw new BatchinferError('INTERNAL', `${original.path}: the rows read differ from the rows in the file`, { expected: rows, actual: read });
  }
}

/**
 * max_errors: stop as soon as more rows than that are bad. max_error_rate: stop as soon as
 * the bad rows exceed that share of all the rows the run will read (known up front for
 * Parquet; `rowsTotal` is Infinity when it is not), and check the final share at the end.
 */
function checkThresholds(spec: PreparedJob['spec'], rejected: number, rowsSeen: number, rowsTotal: number): void {
  if (spec.maxErrors !== undefined && rejected > spec.maxErrors) {
    throw new BatchinferError('BAD_DATA', `more than max_errors ${spec.maxErrors} bad rows (${rejected} so far after ${rowsSeen} rows); nothing is committed`, { expected: `at most ${spec.maxErrors}`, actual: rejected });
  }
  const total = Math.max(rowsSeen, rowsTotal);
  if (spec.maxErrorRate !== undefined && Number.isFinite(total) && total > 0 && rejected > spec.maxErrorRate * total) {
    const allowed = Math.floor(spec.maxErrorRate * total);
    throw new BatchinferError('BAD_DATA', `bad rows exceed max_error_rate ${spec.maxErrorRate} (${rejected} of ${total} rows); nothing is committed`, {
      expected: `at most ${allowed} bad row${allowed === 1 ? '' : 's'} (max_error_rate ${spec.maxErrorRate} of ${total} rows)`,
      actual: `${rejected} (${formatRate(rejected / total)})`,
    });
  }
}

/** The label check counts of the parts a resumed run takes from its journal (undefined: none recorded). */
function journalLabels(journal: Journal): LabelCounts | undefined {
  let total: LabelCounts | undefined;
  for (const e of journal.entries) {
    if (e.type !== 'part' || !e.labelCheck) continue;
    total = { rows: (total?.rows ?? 0) + e.labelCheck.rows, disagreements: (total?.disagreements ?? 0) + e.labelCheck.disagreements };
  }
  return total;
}

/**
 * The label counts of the next `rows` scored rows, taken off the per-batch queue. Parts hold
 * whole batches; a batch a boundary would split keeps its disagreements in the first part.
 */
export function takeLabels(queue: LabelCounts[], rows: number): LabelCounts {
  const taken = { rows: 0, disagreements: 0 };
  while (taken.rows < rows && queue.length > 0) {
    const next = queue[0]!;
    const n = Math.min(next.rows, rows - taken.rows);
    const d = n === next.rows ? next.disagreements : Math.min(next.disagreements, n);
    taken.rows += n;
    taken.disagreements += d;
    if (n === next.rows) queue.shift();
    else queue[0] = { rows: next.rows - n, disagreements: next.disagreements - d };
  }
  return taken;
}

/** A run resumed from a journal keeps the probabilities-or-logits decision of its first batch. */
function journalScores(journal: Journal): ScoresDecision | null {
  for (const e of journal.entries) if (e.type === 'part' && e.scores) return e.scores;
  return null;
}

export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const name = String(signal.reason ?? 'SIGTERM');
    throw new BatchinferError('INTERRUPTED', `interrupted by ${name}; the finished parts are kept and the next run resumes`, { actual: name });
  }
}

/** A share of rows as a rate, readable for small ones: 0.000300 -> 0.0003. */
function formatRate(rate: number): string {
  return Number(rate.toPrecision(3)).toString();
}

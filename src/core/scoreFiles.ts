/**
 * The scoring loop: each input file streams through DuckDB into batches, batches go to the
 * worker pool (at most `maxInFlight` at once, so a slow model holds the reader back), and
 * results come back in submission order into durable part files of `checkpointRows` rows.
 * Every finished part is journaled, so an interrupted run resumes after its last part.
 */
import { rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BatchinferError } from '../errors.js';
import type { Db } from '../db/duckdb.js';
import type { WorkerPool, BatchResult } from '../infer/workerPool.js';
import type { PreparedJob } from './prepare.js';
import type { Journal } from '../sink/journal.js';
import type { StageSeconds } from './stageSeconds.js';
import { readBatches } from '../source/readBatches.js';
import { BufferPool } from '../source/bufferPool.js';
import { countRows, overclaimingRowGroups, type DatasetFile } from '../source/dataset.js';
import { filteredRows, stageSource } from './stageSource.js';
import { Postprocessor } from '../postprocess/postprocessor.js';
import type { ScoresDecision } from '../postprocess/outputPlan.js';
import type { LabelCheckReport, LabelCounts } from '../postprocess/labelCheck.js';
import { flatColumns, rejectSql, type RejectReason } from '../preprocess/rowChecks.js';
import { laneRowsFor, PartWriter } from '../sink/partWriter.js';
import type { Part } from '../sink/part.js';
import { failpoint } from '../util/failpoint.js';
import type { Window } from '../schedule/window.js';

export interface ScoreOptions {
  maxInFlight: number;
  signal?: AbortSignal;
  onProgress?(rowsDone: number, rowsTotal: number): void;
  /** Called when a part is durable: rows done (resumed ones included) and expected in all, and rows resumed from a journal. */
  onPart?(progress: PartProgress): void;
  /** Keep only rows whose `column` lies in [start, end). */
  windowFilter?: { column: string; window: Window };
  /** DuckDB's threads while rows are read for the inference workers, and for the copies it makes alone (staging, parts joined on row numbers). */
  duckdbThreads?: { reading: number; writing: number };
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
}

interface InFlight {
  rows: number;
  rowEnd: number;
  rejected: Partial<Record<RejectReason, number>>;
  rowNumbers?: BigInt64Array;
  /** Null for a span of only rejected rows: nothing to infer. */
  result: Promise<BatchResult> | null;
}

export async function scoreFiles(db: Db, pool: WorkerPool, job: PreparedJob, staging: string, journal: Journal, options: ScoreOptions): Promise<ScoreResult> {
  const writerDb = await db.fork();
  const { spec } = job;
  const leavesRowsOut = spec.onError !== 'fail';
  let closeWriter = (): void => undefined;
  try {
    const writer = await PartWriter.create(writerDb, job.output, spec.passthrough, { byRowNumber: leavesRowsOut, lanes: true });
    closeWriter = () => writer.close();
    const post = new Postprocessor(job.output, journalScores(journal), journalLabels(journal));
    // Each batch's label check counts since the last part, in order: each part's journal entry
    // records its own rows, so a resumed run adds up every row (the parts hold whole batches).
    const batchLabels: LabelCounts[] = [];
    const seconds = { stage: 0, read: 0, preprocess: 0, infer: 0, postprocess: 0, write: 0 };
    const latencies: number[] = [];
    const parts: Part[][] = [];
    const totals = new RejectTally();
    let rowsIn = 0;
    let rowsOut = 0;
    let resumedRows = 0;
    let paddedRows = 0;
    const buffers = new BufferPool();
    // Rows of the files before the current one, for progress.
    let rowsBefore = 0;
    const needsStaging = (f: DatasetFile): boolean => f.format !== 'parquet' || options.windowFilter !== undefined || f.where !== undefined;
    // Rows per file (staged files are counted once staged), for progress and for the lanes.
    const fileRows = new Map<number, number>();
    for (const [i, f] of job.dataset.files.entries()) if (!needsStaging(f)) fileRows.set(i, await countRows(db, f));
    let rowsTotal = [...fileRows.values()].reduce((a, b) => a + b, 0);
    if (options.duckdbThreads) await db.setThreads(options.duckdbThreads.reading);
    const totalKnown = job.dataset.files.every((f) => !needsStaging(f));
    const columnNames = flatColumns(job.feeds).map(({ col }) => col.column);

    for (const [index, original] of job.dataset.files.entries()) {
      checkAborted(options.signal);
      const done = journal.done(index);
      const prior = journal.parts(index);
      const fileParts: Part[] = prior.map((p) => ({ path: join(staging, p.name), rows: p.rowCount, ...(p.rejects ? { rejects: join(staging, p.rejects.name) } : {}) }));
      parts.push(fileParts);
      let partStart = prior.at(-1)?.rowEnd ?? 0;
      for (const p of prior) {
        totals.add(p.rejected);
        rowsIn += p.rowEnd - p.rowStart;
        rowsOut += p.rowCount;
        resumedRows += p.rowEnd - p.rowStart;
      }
      if (done) {
        rowsBefore += done.rows;
        continue;
      }

      const stageStart = performance.now();
      // A staged copy holds the columns the run reads; the rejects file wants every original column.
      const { file, feeds } = needsStaging(original)
        ? await withThreads(db, options.duckdbThreads, () => stageSource(db, original, index, { staging, journal, filter: options.windowFilter, feeds: job.feeds, passthrough: spec.passthrough, allColumns: spec.onError === 'quarantine', columns: original.columns, textColumns: job.textColumns }))
        : { file: original, feeds: job.feeds };
      if (needsStaging(original)) {
        fileRows.set(index, await countRows(db, file));
        rowsTotal += fileRows.get(index)!;
        // Only a copy counts as staging: a Parquet input's is exactly 0, not a GC pause between two clock reads.
        seconds.stage += (performance.now() - stageStart) / 1000;
      }
      // Split a part in two lanes when it will be big enough: half of the rows it will hold.
      const planPart = (): void => writer.planPart(laneRowsFor(Math.min(spec.checkpointRows, fileRows.get(index)! - partStart), spec.batchSize));
      planPart();
      const queue: InFlight[] = [];
      let spanEnd = partStart;
      const partRejects = new RejectTally();

      // The reader waits while a part is written. A part joined on row numbers (rows may be
      // left out) is one parallel COPY: it gets all of DuckDB's threads. A positional join runs
      // on one thread per lane anyway, and its two lanes were slower with more
      // (docs/performance.md, writing).
      // Set through the writer's connection: a statement on the reader's would end its stream.
      const flushPart = (): Promise<void> => (leavesRowsOut ? withThreads(writerDb, options.duckdbThreads, writePart) : writePart());
      const writePart = async (): Promise<void> => {
        const started = performance.now();
        const span = { file, rowStart: partStart, rowEnd: spanEnd, rowCount: writer.pendingRows, display: original };
        const first = fileParts.length;
        const nameOf = (k: number): string => `part-${index}-${first + k}.parquet`;
        // Written under temp names: a part file under its final name is always complete. The
        // pending rows may come out as two consecutive parts (PartWriter lanes).
        const written = await writer.writeParts(span, (k) => join(staging, nameOf(k) + '.tmp'));
        for (const [k, part] of written.entries()) {
          const seq = first + k;
          const name = nameOf(k);
          const path = join(staging, name);
          const rowEnd = part.rowEnd ?? spanEnd;
          await rename(part.path, path);
          rowsOut += part.rowCount;
          // Rows are only left out (and quarantined) with one lane: its part holds the whole span.
          let rejects: { name: string; bytes: number } | undefined;
          if (spec.onError === 'quarantine' && partRejects.total > 0) {
            const rejectsName = `rejects-${index}-${seq}.parquet`;
            const written = await writer.writeRejects({ ...span, rowStart: part.rowStart, rowEnd }, original, columnNames, (params) => rejectSql(feeds, params)!, join(staging, rejectsName + '.tmp'), spec.rejectsColumns);
            if (written !== partRejects.total) throw new BatchinferError('INTERNAL', 'quarantined rows differ from rejected rows', { expected: partRejects.total, actual: written });
            await rename(join(staging, rejectsName + '.tmp'), join(staging, rejectsName));
            rejects = { name: rejectsName, bytes: (await stat(join(staging, rejectsName))).size };
          }
          failpoint('part-written');
          const labelCheck = post.labelCounts() ? takeLabels(batchLabels, part.rowCount) : undefined;
          await journal.append({ type: 'part', file: index, seq, rowStart: part.rowStart, rowEnd, rowCount: part.rowCount, rejected: partRejects.counts(), name, bytes: (await stat(path)).size, rejects, scores: post.scores ?? undefined, labelCheck });
          failpoint('part-journaled');
          options.onPart?.({ rowsDone: rowsBefore + rowEnd, rowsTotal, rowsResumed: resumedRows });
          fileParts.push({ path, rows: part.rowCount, ...(rejects ? { rejects: join(staging, rejects.name) } : {}) });
          partRejects.clear();
          partStart = rowEnd;
        }
        planPart();
        seconds.write += (performance.now() - started) / 1000;
      };
      const drainOne = async (): Promise<void> => {
        const head = queue.shift()!;
        partRejects.add(head.rejected);
        spanEnd = head.rowEnd;
        if (head.result) {
          const { outputs, ms, padded, returned } = await head.result;
          buffers.put(returned);
          latencies.push(ms);
          paddedRows += padded;
          seconds.infer += ms / 1000;
          const postStart = performance.now();
          const before = post.labelCounts();
          const columns = post.columns(outputs, head.rows);
          const after = post.labelCounts();
          if (before && after) batchLabels.push({ rows: after.rows - before.rows, disagreements: after.disagreements - before.disagreements });
          if (head.rowNumbers) columns.unshift({ type: 'BIGINT', data: head.rowNumbers });
          const appendStart = performance.now();
          seconds.postprocess += (appendStart - postStart) / 1000;
          await writer.append(columns, head.rows);
          seconds.write += (performance.now() - appendStart) / 1000;
        }
        if (writer.pendingRows >= spec.checkpointRows) {
          checkAborted(options.signal);
          await flushPart();
        }
        options.onProgress?.(rowsBefore + spanEnd, rowsTotal);
      };

      try {
        for await (const batch of readBatches(db, file, feeds, {
          batchSize: spec.batchSize,
          display: original,
          fromRow: partStart,
          onError: spec.onError,
          trackRows: leavesRowsOut,
          buffers,
          onTiming: (readMs, prepMs) => {
            seconds.read += readMs / 1000;
            seconds.preprocess += prepMs / 1000;
          },
        })) {
          checkAborted(options.signal);
          rowsIn += batch.rowEnd - batch.rowStart;
          totals.add(batch.rejected);
          // The rate is judged early only against a total that covers every file (Parquet
          // footers); a CSV's rows are known once it is staged, so those wait for the end.
          checkThresholds(spec, totals.total, rowsIn, totalKnown ? rowsTotal : Infinity);
          const result = batch.rowCount > 0 ? pool.run(batch.feeds) : null;
          // Awaited in order when drained; a batch failing before that (the reader still
          // running) must not count as an unhandled rejection, which ends the process.
          result?.catch(() => undefined);
          queue.push({ rows: batch.rowCount, rowEnd: batch.rowEnd, rejected: batch.rejected, rowNumbers: batch.rowNumbers, result });
          while (queue.length >= options.maxInFlight) await drainOne();
        }
        while (queue.length > 0) await drainOne();
      } finally {
        // Settle what is still in flight so no rejection goes unhandled.
        await Promise.allSettled(queue.map((q) => q.result));
      }
      checkAborted(options.signal);
      // The last part; an empty file still gets one (zero rows, full schema).
      if (writer.pendingRows > 0 || partRejects.total > 0 || fileParts.length === 0) await flushPart();
      // Every row of the file was scored or rejected. A stream that ends early (a statement
      // run on the reader's connection ends it without an error) must not commit fewer rows.
      if (partStart !== fileRows.get(index)) {
        // A Parquet input whose row groups claim more rows than their columns hold reads short
        // without an error: bad data, named. Anything else is ours.
        const lying = file.format === 'parquet' ? await overclaimingRowGroups(db, file.path) : [];
        if (lying.length > 0) {
          const g = lying[0]!;
          throw new BatchinferError('INPUT_INVALID', `${original.path} is corrupt: row group ${g.id} claims ${g.rows} rows but its columns hold ${g.values} values; ${partStart} of the ${fileRows.get(index)} rows its footer claims could be read`, { expected: `${g.rows} values in row group ${g.id}`, actual: `${g.values}` });
        }
        throw new BatchinferError('INTERNAL', `${original.path}: the rows read differ from the rows in the file`, { expected: fileRows.get(index), actual: partStart });
      }
      await journal.append({ type: 'file-done', file: index, rows: partStart });
      rowsBefore += partStart;
    }
    checkThresholds(spec, totals.total, rowsIn, rowsIn);
    return { parts, rowsIn, rowsOut, rejected: totals.counts(), rejectedTotal: totals.total, resumedRows, rowsFiltered: filteredRows(journal, spec.where), latencies, paddedRows, seconds, scores: post.scores, labelCheck: post.labels };
  } finally {
    closeWriter();
    writerDb.close();
  }
}

/** Runs `write` with all of DuckDB's threads (through `db`), then goes back to its reading threads. */
function withThreads<T>(db: Db, threads: ScoreOptions['duckdbThreads'], write: () => Promise<T>): Promise<T> {
  return threads ? db.withThreads(threads.writing, write) : write();
}

/** Rejected rows by reason. */
class RejectTally {
  private readonly byReason = new Map<string, number>();
  total = 0;

  add(counts: Partial<Record<string, number>>): void {
    for (const [reason, n] of Object.entries(counts)) {
      if (!n) continue;
      this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + n);
      this.total += n;
    }
  }

  counts(): Record<string, number> {
    return Object.fromEntries([...this.byReason].sort(([a], [b]) => a.localeCompare(b)));
  }

  clear(): void {
    this.byReason.clear();
    this.total = 0;
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

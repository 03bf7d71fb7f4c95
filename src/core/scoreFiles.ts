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
import type { StageSeconds } from './summary.js';
import { readBatches } from '../source/readBatches.js';
import { countRows, guardRead, literalPath, readerSql, type DatasetFile } from '../source/dataset.js';
import { Postprocessor } from '../postprocess/postprocessor.js';
import type { ScoresDecision } from '../postprocess/outputPlan.js';
import { PartWriter } from '../sink/partWriter.js';
import { quoteIdent } from '../util/sql.js';
import { failpoint } from '../util/failpoint.js';
import type { Window } from '../schedule/window.js';

export interface ScoreOptions {
  maxInFlight: number;
  signal?: AbortSignal;
  onProgress?(rowsDone: number, rowsTotal: number): void;
  /** Keep only rows whose `column` lies in [start, end). */
  windowFilter?: { column: string; window: Window };
}

/** A finished part file. */
export interface Part {
  path: string;
  rows: number;
}

export interface ScoreResult {
  /** `parts[i]`: the part files of input file i, in order. */
  parts: Part[][];
  rowsIn: number;
  rowsOut: number;
  /** Rows taken from a previous interrupted run's journal. */
  resumedRows: number;
  latencies: number[];
  seconds: Omit<StageSeconds, 'wall'>;
  scores: ScoresDecision | null;
}

interface InFlight {
  rows: number;
  result: Promise<BatchResult>;
}

export async function scoreFiles(db: Db, pool: WorkerPool, job: PreparedJob, staging: string, journal: Journal, options: ScoreOptions): Promise<ScoreResult> {
  const writerDb = await db.fork();
  try {
    const writer = await PartWriter.create(writerDb, job.output, job.spec.passthrough);
    const post = new Postprocessor(job.output, journalScores(journal));
    const seconds = { read: 0, preprocess: 0, infer: 0, postprocess: 0, write: 0 };
    const latencies: number[] = [];
    const parts: Part[][] = [];
    let rowsIn = 0;
    let rowsOut = 0;
    let resumedRows = 0;
    let rowsScored = 0;
    const needsStaging = (f: DatasetFile): boolean => f.format !== 'parquet' || options.windowFilter !== undefined;
    let rowsTotal = 0;
    for (const f of job.dataset.files) if (!needsStaging(f)) rowsTotal += await countRows(db, f);

    for (const [index, original] of job.dataset.files.entries()) {
      checkAborted(options.signal);
      const done = journal.done(index);
      const prior = journal.parts(index);
      const fileParts: Part[] = prior.map((p) => ({ path: join(staging, p.name), rows: p.rowCount }));
      parts.push(fileParts);
      let partStart = prior.reduce((n, p) => n + p.rowCount, 0);
      rowsIn += partStart;
      rowsOut += partStart;
      resumedRows += partStart;
      rowsScored += partStart;
      if (done) continue;

      const stageStart = performance.now();
      const file = needsStaging(original) ? await stageSource(db, original, index, staging, journal, options.windowFilter) : original;
      if (needsStaging(original)) rowsTotal += await countRows(db, file);
      seconds.read += (performance.now() - stageStart) / 1000;
      const queue: InFlight[] = [];

      const flushPart = async (): Promise<void> => {
        const started = performance.now();
        const name = `part-${index}-${fileParts.length}.parquet`;
        const path = join(staging, name);
        const rows = writer.pendingRows;
        // Written under a temp name: a part file under its final name is always complete.
        rowsOut += await writer.writePart({ file, rowStart: partStart, rowCount: rows }, path + '.tmp');
        await rename(path + '.tmp', path);
        failpoint('part-written');
        await journal.append({ type: 'part', file: index, seq: fileParts.length, rowStart: partStart, rowCount: rows, name, bytes: (await stat(path)).size, scores: post.scores ?? undefined });
        failpoint('part-journaled');
        partStart += rows;
        fileParts.push({ path, rows });
        seconds.write += (performance.now() - started) / 1000;
      };
      const drainOne = async (): Promise<void> => {
        const head = queue.shift()!;
        const { outputs, ms } = await head.result;
        latencies.push(ms);
        seconds.infer += ms / 1000;
        const postStart = performance.now();
        const columns = post.process(outputs[job.output.outputName]!, head.rows);
        const appendStart = performance.now();
        seconds.postprocess += (appendStart - postStart) / 1000;
        await writer.append(columns, head.rows);
        seconds.write += (performance.now() - appendStart) / 1000;
        if (writer.pendingRows >= job.spec.checkpointRows) {
          checkAborted(options.signal);
          await flushPart();
        }
        rowsScored += head.rows;
        options.onProgress?.(rowsScored, rowsTotal);
      };

      try {
        for await (const batch of readBatches(db, file, job.feeds, {
          batchSize: job.spec.batchSize,
          displayPath: original.path,
          fromRow: partStart,
          onTiming: (readMs, prepMs) => {
            seconds.read += readMs / 1000;
            seconds.preprocess += prepMs / 1000;
          },
        })) {
          checkAborted(options.signal);
          rowsIn += batch.rowCount;
          queue.push({ rows: batch.rowCount, result: pool.run(batch.feeds) });
          while (queue.length >= options.maxInFlight) await drainOne();
        }
        while (queue.length > 0) await drainOne();
      } finally {
        // Settle what is still in flight so no rejection goes unhandled.
        await Promise.allSettled(queue.map((q) => q.result));
      }
      checkAborted(options.signal);
      // The last part; an empty file still gets one (zero rows, full schema).
      if (writer.pendingRows > 0 || fileParts.length === 0) await flushPart();
      await journal.append({ type: 'file-done', file: index, rows: partStart });
    }
    return { parts, rowsIn, rowsOut, resumedRows, latencies, seconds, scores: post.scores };
  } finally {
    writerDb.close();
  }
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

/**
 * CSV inputs, and inputs filtered to a window, are copied once into a staged Parquet file so
 * rows can be addressed by row number (for passthrough and resume). The copy is journaled.
 */
async function stageSource(db: Db, file: DatasetFile, index: number, staging: string, journal: Journal, filter: ScoreOptions['windowFilter']): Promise<DatasetFile> {
  const name = `source-${index}.parquet`;
  const path = join(staging, name);
  if (journal.source(index)) return { path, format: 'parquet' };
  const params: (string | number)[] = [literalPath(file.path)];
  let where = '';
  if (filter) {
    params.push(filter.window.start.toISOString(), filter.window.end.toISOString());
    const col = quoteIdent(filter.column);
    where = ` WHERE ${col} >= CAST($2 AS TIMESTAMPTZ) AND ${col} < CAST($3 AS TIMESTAMPTZ)`;
  }
  params.push(path + '.tmp');
  const target = `$${params.length}`;
  await guardRead(file.path, () => db.exec(`COPY (SELECT * FROM ${readerSql(file.format, '$1')}${where}) TO ${target} (FORMAT parquet, COMPRESSION uncompressed)`, params));
  await rename(path + '.tmp', path);
  failpoint('source-staged');
  await journal.append({ type: 'source', file: index, name, bytes: (await stat(path)).size });
  return { path, format: 'parquet' };
}

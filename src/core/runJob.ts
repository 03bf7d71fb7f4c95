/**
 * Scores a job end to end. Reads like the data flow:
 *
 *   validate -> source (DuckDB chunks) -> preprocess (tensors) -> infer (worker threads)
 *   -> postprocess (labels, confidence) -> sink (part files, atomic commit) -> summary
 *
 * The reading thread never waits on `session.run`: batches go to worker threads and at most
 * `workers x 2` are in flight, so a slow model holds the reader back instead of piling up.
 * Results are consumed in submission order, so output rows keep input order.
 *
 * @example
 *   const summary = await runJob(await loadJob('jobs/fraud.yaml'));
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { Db } from '../db/duckdb.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { prepareJob, type PreparedJob } from './prepare.js';
import { WorkerPool, type BatchResult } from '../infer/workerPool.js';
import { readBatches } from '../source/readBatches.js';
import { countRows, guardRead, literalPath, readerSql, type DatasetFile } from '../source/dataset.js';
import { Postprocessor } from '../postprocess/postprocessor.js';
import { classNames } from '../postprocess/outputPlan.js';
import { PartWriter } from '../sink/partWriter.js';
import { commitOutput } from '../sink/commitOutput.js';
import { createStaging, pruneEmptyDirs, writeFileAtomic, type Staging } from '../sink/atomicFile.js';
import { summaryPath } from '../sink/outputPaths.js';
import { peakRssMb, quantile, versions, type RunSummary, type StageSeconds } from './summary.js';

export interface RunOptions {
  /** Called after each batch is written with rows done and rows expected in total. */
  onProgress?(rowsDone: number, rowsTotal: number): void;
}

/** Rows per part file; parts are cut at batch boundaries. */
const SEGMENT_ROWS = 1 << 20;

export async function runJob(spec: JobSpec, options: RunOptions = {}): Promise<RunSummary> {
  const startedAt = new Date();
  const wallStart = performance.now();
  const db = await Db.open();
  let staging: Staging | null = null;
  let pool: WorkerPool | null = null;
  let committed = false;
  try {
    const job = await prepareJob(db, spec);
    const { workers, threads, warnings } = threadBudget(spec);
    staging = await createStaging(spec.output);
    pool = await WorkerPool.start({ model: job.model.bytes, workers, intraOpThreads: threads, outputNames: [job.output.outputName] });
    const result = await score(db, pool, job, staging.dir, workers * 2, options);
    const writeStart = performance.now();
    const files = await commitOutput(db, job, result.parts, staging.dir);
    committed = true;
    result.seconds.write += (performance.now() - writeStart) / 1000;
    const wall = (performance.now() - wallStart) / 1000;
    const summary: RunSummary = {
      status: 'ok',
      job: spec.name,
      model: { path: spec.model, sha256: job.model.sha256, output: job.output.outputName },
      input: { path: spec.input, format: job.dataset.format, files: job.dataset.files.length },
      output: { path: spec.output, mode: job.outputMode, files, columns: job.outputColumns },
      task: job.output.task,
      ...(job.output.task === 'classification'
        ? { scores: result.scores ?? undefined, labels: { names: classNames(job.output), source: job.output.labelSource } }
        : {}),
      rows: { in: result.rowsIn, out: result.rowsOut },
      batches: result.latencies.length,
      batchSize: spec.batchSize,
      workers,
      threadsPerWorker: threads,
      seconds: { ...roundSeconds(result.seconds), wall: round(wall) },
      rowsPerSecond: Math.round(result.rowsOut / wall),
      batchLatencyMs: { p50: round(quantile(result.latencies, 0.5)), p95: round(quantile(result.latencies, 0.95)) },
      peakRssMb: peakRssMb(),
      versions: versions(),
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      warnings,
    };
    await writeFileAtomic(summaryPath(spec.output), JSON.stringify(summary, null, 2) + '\n');
    return summary;
  } finally {
    await pool?.close();
    db.close();
    if (staging) {
      await rm(staging.dir, { recursive: true, force: true });
      if (!committed && staging.createdParent) await pruneEmptyDirs(staging.createdParent);
    }
  }
}


interface ScoreResult {
  parts: string[][];
  rowsIn: number;
  rowsOut: number;
  latencies: number[];
  seconds: Omit<StageSeconds, 'wall'>;
  scores: RunSummary['scores'] | null;
}

interface InFlight {
  rows: number;
  result: Promise<BatchResult>;
}

async function score(db: Db, pool: WorkerPool, job: PreparedJob, staging: string, maxInFlight: number, options: RunOptions): Promise<ScoreResult> {
  const writerDb = await db.fork();
  try {
    const writer = await PartWriter.create(writerDb, job.output, job.spec.passthrough);
    const post = new Postprocessor(job.output);
    const seconds = { read: 0, preprocess: 0, infer: 0, postprocess: 0, write: 0 };
    const latencies: number[] = [];
    const parts: string[][] = [];
    let rowsIn = 0;
    let rowsOut = 0;
    let rowsScored = 0;
    const sources = await Promise.all(job.dataset.files.map((f) => (f.format === 'parquet' ? countRows(db, f) : Promise.resolve(0))));
    let rowsTotal = sources.reduce((a, b) => a + b, 0);

    for (const [index, original] of job.dataset.files.entries()) {
      const fileParts: string[] = [];
      parts.push(fileParts);
      const stageStart = performance.now();
      const file = original.format === 'csv' ? await stageCsv(db, original, join(staging, `source-${index}.parquet`)) : original;
      if (original.format === 'csv') rowsTotal += await countRows(db, file);
      seconds.read += (performance.now() - stageStart) / 1000;
      let partStart = 0;
      const queue: InFlight[] = [];

      const flushPart = async (): Promise<void> => {
        const started = performance.now();
        const path = join(staging, `part-${index}-${fileParts.length}.parquet`);
        const rows = writer.pendingRows;
        rowsOut += await writer.writePart({ file, rowStart: partStart, rowCount: rows }, path);
        partStart += rows;
        fileParts.push(path);
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
        if (writer.pendingRows >= SEGMENT_ROWS) await flushPart();
        rowsScored += head.rows;
        options.onProgress?.(rowsScored, rowsTotal);
      };

      try {
        for await (const batch of readBatches(db, file, job.feeds, {
          batchSize: job.spec.batchSize,
          displayPath: original.path,
          onTiming: (readMs, prepMs) => {
            seconds.read += readMs / 1000;
            seconds.preprocess += prepMs / 1000;
          },
        })) {
          rowsIn += batch.rowCount;
          queue.push({ rows: batch.rowCount, result: pool.run(batch.feeds) });
          while (queue.length >= maxInFlight) await drainOne();
        }
        while (queue.length > 0) await drainOne();
      } finally {
        // Settle what is still in flight so no rejection goes unhandled.
        await Promise.allSettled(queue.map((q) => q.result));
      }
      await flushPart();
    }
    const scores = post.scores ? { kind: post.scores.kind, decidedBy: post.scores.decidedBy } : null;
    return { parts, rowsIn, rowsOut, latencies, seconds, scores };
  } finally {
    writerDb.close();
  }
}

/** CSV inputs are copied once into a staged Parquet file so passthrough rows can be addressed by row number. */
async function stageCsv(db: Db, file: DatasetFile, path: string): Promise<DatasetFile> {
  await guardRead(file.path, () => db.exec(`COPY (SELECT * FROM ${readerSql('csv', '$1')}) TO $2 (FORMAT parquet, COMPRESSION uncompressed)`, [literalPath(file.path), path]));
  return { path, format: 'parquet' };
}

/** Workers x intra-op threads fit the cores unless the user asks otherwise. */
function threadBudget(spec: JobSpec): { workers: number; threads: number; warnings: string[] } {
  const cores = availableParallelism();
  const workers = spec.workers ?? Math.max(1, Math.floor(cores / (spec.threads ?? 1)));
  const threads = spec.threads ?? Math.max(1, Math.floor(cores / workers));
  const warnings: string[] = [];
  if (workers * threads > cores) warnings.push(`${workers} workers x ${threads} threads exceeds ${cores} cores; expect contention`);
  return { workers, threads, warnings };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function roundSeconds(s: Omit<StageSeconds, 'wall'>): Omit<StageSeconds, 'wall'> {
  return { read: round(s.read), preprocess: round(s.preprocess), infer: round(s.infer), postprocess: round(s.postprocess), write: round(s.write) };
}

/**
 * The execution plan: every decision a run makes before it reads a row, made once from
 * spec x model x dataset and held in one plain value (`validate --json` prints it under
 * `plan`). Which files are read as they are and which from a staged Parquet copy, how
 * predictions join their passthrough rows, the thread budgets of DuckDB and the inference
 * workers, the part size and every path the run writes. Later steps read it; none decides again.
 *
 * Each input file is an entry of its own with its row range, so a plan can be split by files
 * (and row ranges) for runs on several machines.
 *
 * @example
 *   const plan = await planExecution(db, job, { window: null });
 *   plan.inputs[0]!.read; // 'direct' (a Parquet file) or 'staged' (a CSV, a window's rows)
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../db/duckdb.js';
import type { InFlightRule } from '../infer/inFlight.js';
import { derivesInSql } from '../postprocess/outputPlan.js';
import { rejectsPathFor } from '../sink/commitRejects.js';
import { lockPathFor, outputTarget, stagingPathFor, summaryPath } from '../sink/outputPaths.js';
import { usesLanes } from '../sink/partWriter.js';
import type { OutputFormat } from '../sink/outputFormat.js';
import type { Window } from '../schedule/window.js';
import { feedRowBytes } from '../source/bufferPool.js';
import { countRows, type DatasetFormat } from '../source/dataset.js';
import type { JobSpec } from '../spec/jobSpec.js';
import type { OutputMode, PreparedJob } from './prepare.js';

export interface ExecutionPlan {
  /** One entry per input file, in the order their parts are committed. */
  inputs: PlannedFile[];
  /** Rows kept by a scheduled window on `column` (ISO instants, [start, end)); null: every row. */
  window: { column: string; start: string; end: string } | null;
  /**
   * How predictions meet their passthrough rows: on the file row number (`on_error` skip or
   * quarantine may leave rows out) or by position; a positional join with passthrough columns
   * writes each part as two lanes (two COPYs at once).
   */
  join: { by: 'row-number' | 'position'; lanes: 1 | 2 };
  /** A 2-class probabilities output whose class and confidence the part's COPY derives in SQL. */
  derivesInSql: boolean;
  threads: ThreadPlan;
  /** Rows per batch; with `batchSizing` auto, the size kept when the run is too small to measure candidates. */
  batchSize: number;
  /** `auto`: the run measures candidate sizes on its first rows and keeps the fastest (infer/batchSizer.ts). */
  batchSizing: 'auto' | 'fixed';
  /** The job's `checkpoint_rows`: a crash loses at most this many rows' work. */
  checkpointRows: number;
  /**
   * Rows per part file: each is journaled, so a resumed run starts after the last. Parts joined
   * by position end at multiples of it (file rows), whatever the batch sizes: the same job
   * writes the same bytes.
   */
  partRows: number;
  /**
   * Each part is written while the next one fills (core/scoreFiles.ts), in parts of at most
   * WRITE_BEHIND_ROWS: a positional join (its COPY runs on one thread, beside the reader), not
   * encrypted (encrypted parts are joined by re-encoding, not byte for byte).
   */
  writeBehind: boolean;
  /**
   * Batches at the workers at once (infer/inFlight.ts): two per worker while `auto` measures
   * candidates, then `batchesInFlight` of the size kept (at least 16,384 rows per worker). A
   * slow model holds the reader back.
   */
  inFlight: InFlightRule;
  output: OutputLayout;
}

export interface PlannedFile {
  /** Its position in the input (part files and journal entries are numbered by it). */
  index: number;
  path: string;
  format: DatasetFormat;
  /** Rows to score, [start, end): end is the footer's row count, null until a staged copy is counted. */
  rows: { start: number; end: number | null };
  /** `staged`: copied once into `staged` (a CSV, a window's rows, the rows a `where` keeps) so rows can be addressed by number. */
  read: 'direct' | 'staged';
  staged?: string;
  /** Only `rows` of the file are read, not all of it: a shard's span (core/shardRun.ts). */
  span?: true;
}

export interface ThreadPlan {
  cores: number;
  workers: number;
  /** onnxruntime's intra-op threads of each worker. */
  intraOpThreads: number;
  /** DuckDB while it reads rows for the workers (the cores they leave), and for the copies it makes alone (staging, parts joined on row numbers, the commit). */
  duckdb: { reading: number; writing: number };
}

export interface OutputLayout {
  path: string;
  mode: OutputMode;
  format: OutputFormat;
  staging: string;
  lock: string;
  summary: string;
  /** The quarantine file (on_error: quarantine). */
  rejects?: string;
}

export interface PlanOptions {
  window: Window | null;
  /** Defaults to the machine's (`availableParallelism`). */
  cores?: number;
}

/**
 * Rows per part written behind: two row groups of DuckDB's Parquet writer (122,880 rows each),
 * so a part's lanes (partWriter.ts) and the joined parts hold whole row groups. Small enough
 * that the last parts, written after the last row is scored, are short; large enough that the
 * fixed cost of each COPY (reading the source's footer, starting a Parquet file) stays small
 * (measured in docs/performance.md, parts written behind).
 */
export const WRITE_BEHIND_ROWS = 245_760;

/** Builds the plan; reads only the Parquet inputs' footers (their row counts). */
export async function planExecution(db: Db, job: PreparedJob, options: PlanOptions): Promise<ExecutionPlan> {
  const { spec } = job;
  const window = options.window && spec.windowColumn ? { column: spec.windowColumn, start: options.window.start.toISOString(), end: options.window.end.toISOString() } : null;
  const staging = stagingPathFor(spec.output);
  const inputs: PlannedFile[] = [];
  for (const [index, file] of job.dataset.files.entries()) {
    // A `where` is applied once, into the staged copy: rows are numbered after it.
    const staged = file.format !== 'parquet' || window !== null || file.where !== undefined;
    inputs.push({
      index,
      path: file.path,
      format: file.format,
      rows: { start: 0, end: staged ? null : await countRows(db, file) },
      read: staged ? 'staged' : 'direct',
      ...(staged ? { staged: join(staging, stagedSourceName(index)) } : {}),
    });
  }
  const byRowNumber = spec.onError !== 'fail';
  const cores = options.cores ?? availableParallelism();
  const { workers, intraOpThreads } = workerBudget(spec, cores);
  const windowed = options.window !== null;
  const writeBehind = spec.writeBehind && !byRowNumber && spec.encryption?.outputKey === undefined;
  const partRows = writeBehind ? Math.min(spec.checkpointRows, WRITE_BEHIND_ROWS) : spec.checkpointRows;
  const lanes = usesLanes(byRowNumber, spec.passthrough) && (!spec.profile || profiledLanes(inputs, partRows)) ? 2 : 1;
  return {
    inputs,
    window,
    join: { by: byRowNumber ? 'row-number' : 'position', lanes },
    derivesInSql: derivesInSql(job.output),
    threads: { cores, workers, intraOpThreads, duckdb: duckdbThreadBudget(cores, workers * intraOpThreads, await db.threads()) },
    batchSize: spec.batchSize,
    // A model with a fixed batch dimension keeps it: its batches are cut to that size anyway.
    batchSizing: spec.batchSizeAuto && !job.fixedBatch ? 'auto' : 'fixed',
    checkpointRows: spec.checkpointRows,
    partRows,
    writeBehind,
    inFlight: { workers, rowBytes: feedRowBytes(job.feeds) },
    output: {
      path: spec.output,
      mode: job.outputMode,
      format: job.outputFormat,
      staging,
      lock: lockPathFor(spec.output),
      summary: summaryPath(spec.output, windowed),
      ...(spec.onError === 'quarantine' ? { rejects: rejectsPathFor(spec.output, spec.rejects, windowed) } : {}),
    },
  };
}

/** Rows a part must hold for a run that keeps a profile to write it in two lanes. */
export const PROFILED_LANE_ROWS = 245_760;

/**
 * Whether a run that keeps a profile writes its parts in two lanes: only when they are large
 * (more than PROFILED_LANE_ROWS rows: the inputs' rows known and the parts not cut smaller).
 * Each lane keeps a profile, merged at the commit; on a small part (a window-sized input) that
 * merge costs more than the second COPY saves, on a large one the second COPY wins
 * (docs/performance.md, "Profile kernels in WebAssembly").
 */
export function profiledLanes(inputs: readonly PlannedFile[], partRows: number): boolean {
  let rows = 0;
  for (const { rows: r } of inputs) {
    if (r.end === null) return false;
    rows += r.end - r.start;
  }
  return Math.min(rows, partRows) > PROFILED_LANE_ROWS;
}

/** The staged Parquet copy of input file `index`, in the staging directory. */
export function stagedSourceName(index: number): string {
  return `source-${index}.parquet`;
}

/**
 * Workers x intra-op threads fit the cores unless the user asks otherwise. On CUDA one worker
 * feeds the GPU (its threads run the nodes CUDA does not take); `auto` plans for the CPU it
 * falls back to. Known from the spec alone: the workers start before the job is validated.
 */
export function workerBudget(spec: JobSpec, cores: number = availableParallelism()): { workers: number; intraOpThreads: number } {
  const gpu = spec.device.startsWith('cuda');
  const workers = spec.workers ?? (gpu ? 1 : Math.max(1, Math.floor(cores / (spec.threads ?? 1))));
  const intraOpThreads = spec.threads ?? Math.max(1, Math.floor(cores / workers));
  return { workers, intraOpThreads };
}

/**
 * DuckDB's threads. While it reads rows for the workers to infer, it gets the cores they leave
 * (at least one): its threads beside theirs only contended, and one thread decodes the feature
 * columns faster than the reader consumes them (docs/performance.md). The copies it makes
 * alone (staging an input, a part joined on row numbers, the commit) have them all.
 */
export function duckdbThreadBudget(cores: number, inferenceThreads: number, duckdbThreads: number): { reading: number; writing: number } {
  return { reading: Math.max(1, Math.min(duckdbThreads, cores - inferenceThreads)), writing: duckdbThreads };
}

/** The plan's warning when the workers ask for more threads than there are cores. */
export function contentionWarning(threads: ThreadPlan): string | null {
  const { workers, intraOpThreads, cores } = threads;
  return workers * intraOpThreads > cores ? `${workers} workers x ${intraOpThreads} threads exceeds ${cores} cores; expect contention` : null;
}

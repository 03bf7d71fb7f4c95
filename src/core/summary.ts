/**
 * The run summary: what a run did, how long each stage took, and what it ran with. Printed
 * as JSON with `--json` and written beside the output as `<output>.summary.json`.
 */
import { batchinferVersion } from '../version.js';
import type { LabelCheckReport } from '../postprocess/labelCheck.js';

export interface StageSeconds {
  /** Copying CSV inputs (and inputs filtered to a window) to a staged Parquet file, once. */
  stage: number;
  /** Waiting on DuckDB for feature chunks. */
  read: number;
  /** Copying feature vectors into batch tensors. */
  preprocess: number;
  /** Sum of `session.run` time over all workers (can exceed wall with several workers). */
  infer: number;
  /** Scores to prediction columns. */
  postprocess: number;
  /** Appending predictions, writing part files, committing. */
  write: number;
  wall: number;
}

export interface RunSummary {
  status: 'ok';
  job: string;
  /** The window of a scheduled job. */
  window?: { start: string; end: string };
  model: { path: string; sha256: string; output: string };
  input: { path: string; format: string; files: number };
  output: { path: string; mode: 'file' | 'directory'; files: string[]; columns: string[] };
  task: 'classification' | 'regression';
  /** Classification: how scores were read and who decided. */
  scores?: { kind: 'probabilities' | 'logits'; decidedBy: string };
  labels?: { names: string[]; source: string };
  /** A classifier with its own label output: rows where that label is not the argmax. */
  labelCheck?: LabelCheckReport;
  /** A model with a fixed batch dimension: rows went in groups of `size`, the last padded. */
  fixedBatch?: { size: number; paddedRows: number };
  /** in = out (scored) + rejected; rejected rows are left out (skip) or quarantined. */
  rows: { in: number; out: number; rejected: number; rejectedByReason: Record<string, number> };
  /** The quarantine file (on_error: quarantine). */
  rejects?: string;
  /** Rows taken from the finished parts of an interrupted run this run resumed. */
  resumedRows?: number;
  batches: number;
  batchSize: number;
  workers: number;
  threadsPerWorker: number;
  /** DuckDB's threads while it reads rows for the workers (the cores they leave), and for the copies it makes alone. */
  duckdbThreads: { reading: number; writing: number };
  seconds: StageSeconds;
  rowsPerSecond: number;
  batchLatencyMs: { p50: number; p95: number };
  peakRssMb: number;
  versions: { batchinfer: string; onnxruntime: string; duckdb: string; node: string };
  startedAt: string;
  finishedAt: string;
  warnings: string[];
  /** Set when the output was committed but `<output>.summary.json` could not be written. */
  summaryError?: string;
}

/** A window that was already committed: nothing was scored. */
export interface SkippedRun {
  status: 'skipped';
  reason: string;
  job: string;
  window: { start: string; end: string };
  output: { path: string };
  rows: { in: number; out: number; rejected: number };
  committedAt: string;
}

/**
 * @param onnxruntime the runtime's version as the inference workers report it (the main thread never loads it)
 * @param duckdb `Db.libraryVersion`
 */
export function versions(onnxruntime: string, duckdb: string): RunSummary['versions'] {
  return { batchinfer: batchinferVersion(), onnxruntime, duckdb, node: process.version };
}

/** The q-quantile (0..1) of a list of numbers, nearest-rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export function peakRssMb(): number {
  // maxRSS is in kilobytes and covers every thread of the process, workers included.
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/**
 * The run summary: what a run did, how long each stage took, and what it ran with. Printed
 * as JSON with `--json` and written beside the output as `<output>.summary.json`.
 */
import type { BatchSizeReport } from '../infer/batchSizer.js';
import { batchinferVersion } from '../version.js';
import { redactMessage } from '../util/redact.js';
import { quantile } from '../util/quantile.js';
import type { LabelCheckReport } from '../postprocess/labelCheck.js';
import { classNames, type ClassificationPlan } from '../postprocess/outputPlan.js';
import type { Window } from '../schedule/window.js';
import type { JobSpec } from '../spec/jobSpec.js';
import type { PreparedJob } from './prepare.js';
import type { ScoreResult } from './scoreFiles.js';
import type { StageSeconds } from './stageSeconds.js';
import type { RunDrift } from './referenceDrift.js';
export type { StageSeconds } from './stageSeconds.js';
import type { OutputFileEntry } from '../sink/manifest.js';


export interface RunSummary {
  status: 'ok';
  job: string;
  /** The window of a scheduled job. */
  window?: { start: string; end: string };
  model: { path: string; sha256: string; output: string };
  /** `paths`: an input list's entries; `files`: those the input matched; `filesRead`: those scored (a window on a partition key reads only its own); `partitions`: the hive keys read as columns. */
  input: { path: string; paths?: string[]; format: string; files: number; filesRead: number; partitions?: { name: string; type: string }[] };
  output: { path: string; mode: 'file' | 'directory'; files: string[]; columns: string[] };
  task: 'classification' | 'regression';
  /** Classification: how scores were read and who decided. */
  scores?: { kind: 'probabilities' | 'logits'; decidedBy: string };
  labels?: { names: string[]; source: string };
  /** Two classes with a decision rule: the positive class, the threshold used (null: the argmax) and the review band. */
  decision?: { positive: string; threshold: number | null; reviewBand: [number, number] | null };
  /** A classifier with its own label output: rows where that label is not the argmax. */
  labelCheck?: LabelCheckReport;
  /** A model with a fixed batch dimension: rows went in groups of `size`, the last padded. */
  fixedBatch?: { size: number; paddedRows: number };
  /** in = out (scored) + rejected; rejected rows are left out (skip) or quarantined. `filtered`: rows the job's `where` left out (in no other count). */
  rows: { in: number; out: number; rejected: number; rejectedByReason: Record<string, number>; filtered?: number };
  /** The quarantine file (on_error: quarantine). */
  rejects?: string;
  /** Rows taken from the finished parts of an interrupted run this run resumed. */
  resumedRows?: number;
  /** Rows this run read itself (rows.in less resumedRows): `rowsPerSecond` is theirs. */
  rowsThisRun: number;
  batches: number;
  /** The batch size the run settled on. */
  batchSize: number;
  /** `auto`: the candidate sizes measured on the first rows (rows and rows/s each; none when the run was too small to measure); `fixed`: the job's size. */
  batchSizing: BatchSizeReport;
  /** The most batches at the workers at once: two each while `auto` measures, then enough for 16,384 rows each (infer/inFlight.ts). */
  batchesInFlight: number;
  workers: number;
  threadsPerWorker: number;
  /** The device the job asked for (`cpu`, `cuda:N`, `auto`), and the execution provider each worker's session ran on. */
  device: { requested: string; providers: string[] };
  /** The names of the keys encrypted inputs were read with and the output written with (never their values). */
  encryption?: { inputKey?: string; outputKey?: string };
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
  /** Each committed file with its rows, size and sha256, for readers to verify what they read. */
  manifest?: OutputFileEntry[];
  /** The run's profile (`<output>.profile.json`; a window's `_profile.json`); absent with `profile: false`. */
  profile?: string;
  /** The run's profile against the job's `reference` (referenceDrift.ts). */
  drift?: RunDrift;
  /** Set when the output was committed but `<output>.summary.json` (or its profile) could not be written. */
  summaryError?: string;
  /** One shard of a sharded run: its parts wait in `dir` for `batchinfer commit`. */
  shard?: { index: number; count: number; attempt: number; plan: string; dir: string };
}

/** A window that was already committed, or a shard that was done already: nothing was scored. */
export interface SkippedRun {
  status: 'skipped';
  reason: string;
  job: string;
  window: { start: string; end: string } | null;
  /** A shard of a sharded run (`run --shard I/N`). */
  shard?: { index: number; count: number };
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

export function peakRssMb(): number {
  // maxRSS is in kilobytes and covers every thread of the process, workers included.
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** What a finished run knows when it writes its summary. */
export interface SummaryFacts {
  spec: JobSpec;
  job: PreparedJob;
  window: Window | null;
  result: ScoreResult;
  /** The committed output files. */
  files: string[];
  rejectsFile?: string;
  resumed: boolean;
  workers: number;
  threads: number;
  duckdbThreads: { reading: number; writing: number };
  /** The execution provider of each worker. */
  providers: string[];
  versions: RunSummary['versions'];
  startedAt: Date;
  wallSeconds: number;
  /** Writing after the last batch (the rejects file, the commit), added to the scoring's. */
  writeSeconds: number;
  warnings: string[];
}

/** The hive partition keys the input's files sit under, as columns (none: no key). */
export function partitionKeys(job: SummaryFacts['job']): { partitions?: { name: string; type: string }[] } {
  const keys = job.dataset.files[0]?.partitions ?? [];
  return keys.length === 0 ? {} : { partitions: keys.map((p) => ({ name: p.name, type: p.type })) };
}

/** The run summary of a finished run. Rates count only the rows this run read itself, not those it resumed. */
export function buildSummary(f: SummaryFacts): RunSummary {
  const { spec, job, result } = f;
  const seconds = { ...result.seconds, write: result.seconds.write + f.writeSeconds };
  const rowsThisRun = result.rowsIn - result.resumedRows;
  return {
    status: 'ok',
    job: spec.name,
    ...(f.window ? { window: { start: f.window.start.toISOString(), end: f.window.end.toISOString() } } : {}),
    model: { path: spec.model, sha256: job.model.sha256, output: job.output.outputName },
    input: { path: spec.input, ...(spec.inputList ? { paths: spec.inputList } : {}), format: job.dataset.format, files: job.dataset.matched, filesRead: job.dataset.files.length, ...partitionKeys(job) },
    output: { path: spec.output, mode: job.outputMode, files: f.files, columns: job.outputColumns },
    task: job.output.task,
    ...(job.output.task === 'classification'
      ? { scores: result.scores ?? undefined, labels: { names: classNames(job.output), source: job.output.labelSource }, ...decisionOf(job.output), ...(result.labelCheck ? { labelCheck: result.labelCheck } : {}) }
      : {}),
    ...(job.fixedBatch ? { fixedBatch: { size: job.fixedBatch, paddedRows: result.paddedRows } } : {}),
    rows: { in: result.rowsIn, out: result.rowsOut, rejected: result.rejectedTotal, rejectedByReason: result.rejected, ...(result.rowsFiltered !== undefined ? { filtered: result.rowsFiltered } : {}) },
    ...(f.rejectsFile ? { rejects: f.rejectsFile } : {}),
    ...(f.resumed ? { resumedRows: result.resumedRows } : {}),
    rowsThisRun,
    batches: result.latencies.length,
    batchSize: result.batchSizing.chosen,
    batchSizing: result.batchSizing,
    batchesInFlight: result.batchesInFlight,
    workers: f.workers,
    threadsPerWorker: f.threads,
    device: { requested: spec.device, providers: f.providers },
    ...keyNames(spec),
    duckdbThreads: f.duckdbThreads,
    seconds: { ...roundSeconds(seconds), wall: round(f.wallSeconds) },
    rowsPerSecond: Math.round(rowsThisRun / f.wallSeconds),
    batchLatencyMs: { p50: round(quantile(result.latencies, 0.5)), p95: round(quantile(result.latencies, 0.95)) },
    peakRssMb: peakRssMb(),
    versions: f.versions,
    startedAt: f.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    warnings: spec.redact ? f.warnings.map(redactMessage) : f.warnings,
  };
}

/** The names of the job's keys, when it has any (never their values). */
function keyNames(spec: JobSpec): Pick<RunSummary, 'encryption'> {
  const e = spec.encryption;
  if (!e?.inputKey && !e?.outputKey) return {};
  return { encryption: { ...(e.inputKey ? { inputKey: e.inputKey } : {}), ...(e.outputKey ? { outputKey: e.outputKey } : {}) } };
}

/** The decision rule of a two-class plan as the summary and `validate` report it. */
export function decisionOf(plan: ClassificationPlan): Pick<RunSummary, 'decision'> {
  const d = plan.decision;
  return d ? { decision: { positive: classNames(plan)[d.positive]!, threshold: d.threshold ?? null, reviewBand: d.reviewBand ?? null } } : {};
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function roundSeconds<T extends Record<string, number>>(s: T): T {
  return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v)])) as T;
}

/**
 * Flags shared by `run` and `validate`: they override keys of the job file (or make up the
 * whole job for a one-off run). Paths given as flags are relative to the working directory.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BatchinferError } from '../errors.js';
import type { JobFile } from '../spec/jobSpec.js';

export interface JobFlags {
  model?: string;
  input?: string;
  output?: string;
  features?: string;
  passthrough?: string;
  labels?: string;
  task?: string;
  outputName?: string;
  extraOutputs?: string;
  batchSize?: string;
  workers?: string;
  threads?: string;
  reviewBelow?: string;
  fillNull?: string;
  checkpointRows?: string;
  onError?: string;
  rejects?: string;
  maxErrors?: string;
  maxErrorRate?: string;
  allowNan?: boolean;
  modelSha256?: string;
  csvDelimiter?: string;
  memoryLimit?: string;
  minRows?: string;
  threshold?: string;
  positive?: string;
  reviewBand?: string;
  fileMode?: string;
  redact?: boolean;
  rejectsColumns?: string;
  device?: string;
  where?: string;
  /** True with --profile, false with --no-profile (with both defined, commander leaves it unset otherwise). */
  profile?: boolean;
  writeBehind?: boolean;
}

export function addJobFlags(cmd: Command): Command {
  return cmd
    .option('--model <path>', 'ONNX model file')
    .option('--input <path>', 'input file, glob or directory (.parquet, .csv or .tsv; .csv/.tsv may end in .gz or .zst)')
    .option('--output <path>', 'output Parquet file, or a directory ending in /')
    .option('--features <cols>', "comma-separated columns for the model's single feature input, in order")
    .option('--fill-null <value>', 'value for NULL features in inputs without their own fill_null, or "error" (default)')
    .option('--passthrough <cols>', 'comma-separated columns copied to the output')
    .option('--labels <names>', 'comma-separated class names, in output order')
    .option('--task <task>', 'classification or regression')
    .option('--output-name <name>', 'which model output to score when there are several')
    .option('--extra-outputs <names>', 'comma-separated other model outputs to write as columns beside the predictions')
    .option('--batch-size <n>', 'rows per inference batch, or auto: measured on the first rows (default auto; 2048 for runs too small to measure)')
    .option('--workers <n>', 'inference worker threads (default: one per core)')
    .option('--threads <n>', 'intra-op threads per worker (default: cores / workers)')
    .option('--review-below <p>', 'flag rows whose confidence is below p (needs_review column)')
    .option('--threshold <t>', "two classes: predict the positive class when its probability is at least t (default: the likelier class)")
    .option('--positive <label>', 'two classes: the positive class (default: the second)')
    .option('--review-band <low,high>', 'two classes: flag rows whose positive probability lies in [low, high] (needs_review column)')
    .option('--on-error <policy>', 'bad rows: fail (default: exit 65), skip (count and leave out) or quarantine (write them to the rejects file)')
    .option('--rejects <path>', 'quarantine file (default <output>.rejects.parquet)')
    .option('--max-errors <n>', 'stop (exit 65, nothing committed) when more rows than this are bad')
    .option('--max-error-rate <r>', 'stop when more than this fraction of rows is bad')
    .option('--allow-nan', 'pass NaN and Infinity to float inputs instead of treating them as bad rows')
    .option('--model-sha256 <hex>', 'refuse a model whose sha256 differs (checked before any data is read)')
    .option('--csv-delimiter <char>', 'CSV inputs: , ; | or tab (default: a comma for .csv, a tab for .tsv)')
    .option('--memory-limit <size>', "memory DuckDB may use before it spills to disk: 4GB, 512MiB or 50% (default: half the machine's memory)")
    .option('--min-rows <n>', 'fail (exit 65 TOO_FEW_ROWS, nothing committed) when the input, or a window, holds fewer rows')
    .option('--file-mode <mode>', "mode of the files a run commits (outputs, summaries, manifests, metrics), octal like 0640 (default: the umask's; the rejects file 0600)")
    .option('--redact', 'no data value in messages, warnings, the summary or the rejects file\'s reject_message (codes, row numbers and columns stay)')
    .option('--rejects-columns <cols>', "comma-separated columns of the rejected rows the rejects file keeps (default: all)")
    .option('--device <device>', 'cpu (default), cuda, cuda:N or auto (CUDA when its provider loads, else CPU with a warning)')
    .option('--where <condition>', "keep only the rows for which this SQL condition is true, e.g. \"country = 'DE' AND amount > 0\" (checked: docs/job-files.md)")
    .option('--profile', 'write the profile of the run (<output>.profile.json: its inputs and predictions, for drift); the default for scheduled jobs and jobs with a reference')
    .option('--no-profile', 'write no profile of the run')
    .option('--write-behind', "write each part while the next is scored (parts of 245,760 rows); no faster on 2 cores (docs/performance.md)")
    .option('--checkpoint-rows <n>', 'rows per durable part file: a crash loses at most this much work (default 1048576)');
}

/** Turns flags into job keys; the job schema validates their values. */
export function flagsToJob(flags: JobFlags, cwd = process.cwd()): JobFile {
  const path = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolve(cwd, p) + (/[\\/]$/.test(p) ? '/' : ''));
  const raw: Record<string, unknown> = {
    model: path(flags.model),
    input: flags.input === undefined ? undefined : /[*?[]/.test(flags.input) ? resolve(cwd, flags.input) : path(flags.input),
    output: path(flags.output),
    features: list(flags.features),
    passthrough: list(flags.passthrough),
    labels: list(flags.labels),
    task: flags.task,
    output_name: flags.outputName,
    extra_outputs: list(flags.extraOutputs),
    batch_size: flags.batchSize === 'auto' ? 'auto' : number(flags.batchSize, '--batch-size'),
    workers: number(flags.workers, '--workers'),
    threads: number(flags.threads, '--threads'),
    review_below: number(flags.reviewBelow, '--review-below'),
    threshold: number(flags.threshold, '--threshold'),
    positive_label: flags.positive,
    review_band: flags.reviewBand === undefined ? undefined : list(flags.reviewBand)!.map((v) => number(v, '--review-band')!),
    fill_null: flags.fillNull === 'error' ? 'error' : number(flags.fillNull, '--fill-null'),
    checkpoint_rows: number(flags.checkpointRows, '--checkpoint-rows'),
    on_error: flags.onError,
    rejects: path(flags.rejects),
    max_errors: number(flags.maxErrors, '--max-errors'),
    max_error_rate: number(flags.maxErrorRate, '--max-error-rate'),
    allow_nan: flags.allowNan,
    model_sha256: flags.modelSha256,
    csv_delimiter: flags.csvDelimiter,
    memory_limit: flags.memoryLimit,
    min_rows: number(flags.minRows, '--min-rows'),
    file_mode: flags.fileMode,
    redact: flags.redact,
    rejects_columns: flags.rejectsColumns === undefined ? undefined : list(flags.rejectsColumns),
    device: flags.device,
    where: flags.where,
    profile: flags.profile,
    write_behind: flags.writeBehind,
  };
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as JobFile;
}

function list(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A flag's number; anything else is a USAGE error naming the flag. */
export function number(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new BatchinferError('USAGE', `${flag} takes a number`, { expected: 'a number', actual: value });
  }
  return n;
}

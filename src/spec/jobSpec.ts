/**
 * The job spec: its schema, defaults, and the rules that span several keys. Parsing collects
 * every problem (each with its key path) before failing, so one run of `validate` shows all.
 *
 * @example
 *   const spec = parseJobSpec(YAML.parse(text), { baseDir: dirname(jobPath), name: 'fraud-hourly' });
 */
import * as z from 'zod';
import { resolve } from 'node:path';
import { defaultMemoryLimit, MEMORY_LIMIT_EXPECTED, MIN_MEMORY_LIMIT, parseMemorySize } from '../util/memorySize.js';
import { BatchinferError, type Problem } from '../errors.js';
import { issueToProblem } from './specIssue.js';
import { PARTITION_TYPE_NAMES, type PartitionTypeName } from '../source/partitions.js';
import { checkTemplate, hasTemplate } from '../schedule/template.js';
import { parseSchedule } from '../schedule/window.js';
import { DELIMITER_EXPECTED, DELIMITER_WORDS, type Delimiter } from '../source/fileKind.js';
import { CUDA_BATCH_SIZE, type Device } from '../infer/device.js';
import { parseEncryption, type EncryptionSpec } from './encryption.js';

/** How one model input is built from dataset columns. */
export interface InputSpec {
  /** One column per position of the input's last axis. */
  columns?: string[];
  /** A single column (shape [N] or [N,1]). */
  column?: string;
  /** Value for NULLs, 'error' to refuse rows with NULLs, or the reference profile's mean/median of each column. */
  fillNull?: FillNull;
  scale?: { mean: number[]; std: number[] };
  /** Maps values to int64 indices (position in this list). */
  vocab?: (string | number)[];
  /** Index for values not in `vocab`, or 'error'. */
  unknown?: number | 'error';
  /** Values outside [min, max] are bad rows. */
  range?: [number, number];
  /** Transforms of every column (see preprocess/transforms.ts for their order and meaning). */
  clip?: [number, number];
  log?: LogKind;
  bucketize?: number[];
  minMax?: { min: number[]; max: number[] };
  /** A column's own settings, each replacing the input-level one of the same key. */
  perColumn?: Record<string, ColumnSettingsSpec>;
  /** One float position per category (the input has no `column`/`columns`). */
  oneHot?: OneHotSpec;
}

export type LogKind = 'log' | 'log1p';

/** `fill_null: mean` / `median`: the column's statistic in the job's `reference` profile (resolved by the feed plan). */
export interface ReferenceFill {
  stat: 'mean' | 'median';
}

export type FillNull = number | 'error' | ReferenceFill;

export function isReferenceFill(fill: FillNull | undefined): fill is ReferenceFill {
  return typeof fill === 'object';
}

/** What `per_column` may set for one column; scale and min_max as single numbers. */
export interface ColumnSettingsSpec {
  fillNull?: FillNull;
  clip?: [number, number];
  /** null: `log: false` / `log1p: false`, no log for this column although the input has one. */
  log?: LogKind | null;
  bucketize?: number[];
  scale?: { mean: number; std: number };
  minMax?: { min: number; max: number };
}

export interface OneHotSpec {
  column: string;
  categories: (string | number)[];
  unknown: 'ignore' | 'error';
  dropFirst: boolean;
}

/** What happens to a bad row: fail the run, leave it out, or write it to the rejects file. */
export type OnError = 'fail' | 'skip' | 'quarantine';

export type Task = 'classification' | 'regression';
export type ScoresKind = 'probabilities' | 'logits';

/** A job with defaults applied and paths made absolute. */
export interface JobSpec {
  name: string;
  model: string;
  /** The input path (a file, glob or directory); for a list, its entries joined by ", " (for messages). */
  input: string;
  /** A job file's `input:` list of paths and globs, resolved: read in this order (`openDataset`). */
  inputList?: string[];
  output: string;
  passthrough: string[];
  labels?: string[];
  inputs: Record<string, InputSpec>;
  /** A profile (absolute path) of the data the model was trained on: every run compares its profile with it (`drift`), and `fill_null: mean|median` take their values from it. */
  reference?: string;
  /** Columns for the model's single feature input, in order (`--features`). */
  features?: string[];
  /** Default `fill_null` for inputs that do not set their own (`--fill-null`). */
  fillNull?: number | 'error';
  onError: OnError;
  /** Quarantine file; default `<output>.rejects.parquet`. */
  rejects?: string;
  /** Stop (exit 65, nothing committed) when more rows than this are bad. */
  maxErrors?: number;
  /** Stop when more than this fraction of rows is bad. */
  maxErrorRate?: number;
  /** NaN and Infinity pass to float inputs instead of being bad rows. */
  allowNan: boolean;
  /** Refuse a model whose sha256 differs, before any data is read. */
  modelSha256?: string;
  task?: Task;
  outputName?: string;
  /** Other tensor outputs written as columns beside the predictions. */
  extraOutputs: string[];
  scores?: ScoresKind;
  reviewBelow?: number;
  /** Two classes: the positive class's probability from which it is predicted (default: the argmax). */
  threshold?: number;
  /** Two classes: the positive class (default: the second). */
  positiveLabel?: string;
  /** Two classes: flag rows whose positive probability lies in [low, high] for review. */
  reviewBand?: [number, number];
  /** Rows per batch: the job's `batch_size`, or (auto) the size kept when a run is too small to tune. */
  batchSize: number;
  /** `batch_size: auto` (the default on CPU): the run measures candidate sizes on its first rows (infer/batchSizer.ts). */
  batchSizeAuto: boolean;
  /** Inference worker threads; default: as many as fit the cores. */
  workers?: number;
  /** Intra-op threads per worker. */
  threads?: number;
  /** Rows per durable part file (a crash loses at most this much work); a multiple of batchSize. */
  checkpointRows: number;
  /** Cron expression of a scheduled job: its input/output may use window templates. */
  schedule?: string;
  /** Time zone of the schedule and of calendar template tokens (default UTC). */
  timezone: string;
  /** Keep only rows whose value in this column lies in the window (inputs not partitioned by time). */
  windowColumn?: string;
  /** CSV inputs: the field delimiter, instead of the one the file name implies (`.csv` comma, `.tsv` tab). */
  csvDelimiter?: Delimiter;
  /** Columns computed from each row by a checked SQL expression (spec/sqlExpression.ts), by name, in order. */
  computed?: Record<string, string>;
  /** Keep only the rows for which this checked SQL expression is true (`rows.filtered` counts the others). */
  where?: string;
  /** Hive partition keys typed as given instead of from their values (`partition_types`, source/partitions.ts). */
  partitionTypes?: Record<string, PartitionTypeName>;
  /** Bytes DuckDB may use before it spills to the staging directory (`memory_limit`; default half the machine's). */
  memoryLimit: number;
  /** Fail (TOO_FEW_ROWS, nothing committed) when the input (a window's rows) holds fewer rows. */
  minRows?: number;
  /** Mode of the files a run commits (outputs, summaries, manifests, metrics; default: the umask's). */
  fileMode?: number;
  /** No raw data value in messages, warnings, the summary or the rejects file's `reject_message`. */
  redact: boolean;
  /** The rejected rows' own columns the rejects file keeps (default: all). */
  rejectsColumns?: string[];
  /** Where the model runs: onnxruntime's CPU or CUDA execution provider, or CUDA when it loads. */
  device: Device;
  /** Parquet Modular Encryption of inputs and outputs, by key name (spec/encryption.ts). */
  encryption?: EncryptionSpec;
  /** Write the run's profile beside its summary (`profile`; by default for scheduled jobs and jobs with a `reference`, unless `encryption` or `redact`; docs/drift.md). */
  profile: boolean;
  /**
   * Write each part while the next one is scored (`write_behind`; default false): measured no
   * faster on a 2-core machine (docs/performance.md), for machines with cores to spare.
   */
  writeBehind: boolean;
  /** How every run compares its profile with the `reference` (`drift`). */
  drift?: DriftSpec;
  /** What the job's keys say that is no problem but worth a warning in every run's summary. */
  notes: string[];
}

/** `drift:` of a job with a `reference`: the `drift` command's --method, --threshold, --drift-share and --fail-on. */
export interface DriftSpec {
  method?: 'psi' | 'ks' | 'wasserstein' | 'js';
  threshold?: number;
  driftShare?: number;
  failOn: ('column' | 'dataset' | 'prediction')[];
}


/**
 * 2048: an MLP scores as fast as at larger batches with less peak memory (each worker holds a
 * batch's activations), and an I/O-bound model gains nothing from larger ones
 * (`npm run bench`, docs/performance.md).
 */
export const DEFAULT_BATCH_SIZE = 2048;
export const DEFAULT_CHECKPOINT_ROWS = 1 << 20;

const name = z.string().min(1);
/** A quoted string: YAML reads an unquoted 0640 as the decimal number 640. */
export const FILE_MODE_EXPECTED = "an octal mode in quotes, e.g. '0640'";
export const DEVICE_EXPECTED = 'cpu, cuda, cuda:N or auto';
const positiveInt = z.number().int().positive();

/** `mean`/`median` alone take the column's value from the job's `reference` profile; `{mean: 3.2}` gives it. */
const fillNullSchema = z.union([z.number(), z.literal('error'), z.literal('mean'), z.literal('median'), z.strictObject({ mean: z.number() }), z.strictObject({ median: z.number() })]);
const transformKeys = {
  fill_null: fillNullSchema.optional(),
  clip: z.tuple([z.number(), z.number()]).optional(),
  log: z.boolean().optional(),
  log1p: z.boolean().optional(),
  bucketize: z.array(z.number()).min(1).optional(),
};

const inputSpecSchema = z.strictObject({
  columns: z.array(name).min(1).optional(),
  column: name.optional(),
  ...transformKeys,
  min_max: z.strictObject({ min: z.array(z.number()), max: z.array(z.number()) }).optional(),
  per_column: z
    .record(
      z.string(),
      z.strictObject({
        ...transformKeys,
        scale: z.strictObject({ mean: z.number(), std: z.number() }).optional(),
        min_max: z.strictObject({ min: z.number(), max: z.number() }).optional(),
      }),
    )
    .optional(),
  one_hot: z
    .strictObject({
      column: name,
      categories: z.array(z.union([z.string(), z.number()])).min(1),
      unknown: z.enum(['ignore', 'error']).optional(),
      drop_first: z.boolean().optional(),
    })
    .optional(),
  scale: z.strictObject({ mean: z.array(z.number()), std: z.array(z.number()) }).optional(),
  vocab: z.array(z.union([z.string(), z.number()])).min(1).optional(),
  unknown: z.union([z.number().int(), z.literal('error')]).optional(),
  range: z.tuple([z.number(), z.number()]).optional(),
});

/** The keys a job file may hold (snake_case, as users write them). */
export const jobFileSchema = z.strictObject({
  name: name.optional(),
  model: name.optional(),
  input: z.union([name, z.array(name).min(1)]).optional(),
  output: name.optional(),
  passthrough: z.array(name).optional(),
  labels: z.array(z.string()).min(1).optional(),
  inputs: z.record(z.string(), inputSpecSchema).optional(),
  features: z.array(name).min(1).optional(),
  reference: name.optional(),
  fill_null: z.union([z.number(), z.literal('error')]).optional(),
  task: z.enum(['classification', 'regression']).optional(),
  output_name: name.optional(),
  extra_outputs: z.array(name).min(1).optional(),
  scores: z.enum(['probabilities', 'logits']).optional(),
  review_below: z.number().gt(0).lte(1).optional(),
  threshold: z.number().gte(0).lte(1).optional(),
  positive_label: z.union([z.string().min(1), z.number()]).optional(),
  review_band: z.tuple([z.number().gte(0).lte(1), z.number().gte(0).lte(1)]).optional(),
  batch_size: z.union([positiveInt.max(10_000_000), z.literal('auto')]).optional(),
  workers: positiveInt.max(256).optional(),
  threads: positiveInt.max(256).optional(),
  checkpoint_rows: positiveInt.optional(),
  schedule: z.string().min(1).optional(),
  timezone: z.string().min(1).optional(),
  window_column: name.optional(),
  on_error: z.enum(['fail', 'skip', 'quarantine']).optional(),
  rejects: name.optional(),
  max_errors: z.number().int().nonnegative().optional(),
  max_error_rate: z.number().gte(0).lte(1).optional(),
  allow_nan: z.boolean().optional(),
  model_sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'a sha256 is 64 hex digits').optional(),
  csv_delimiter: z.enum(Object.keys(DELIMITER_WORDS) as [string, ...string[]], { error: DELIMITER_EXPECTED }).optional(),
  partition_types: z.record(name, z.enum(PARTITION_TYPE_NAMES)).optional(),
  computed: z.record(name, z.string().min(1)).optional(),
  where: z.string().min(1).optional(),
  memory_limit: z.string().optional(),
  min_rows: z.number().int().nonnegative().optional(),
  file_mode: z.string({ error: FILE_MODE_EXPECTED }).regex(/^0?[0-7]{3}$/, FILE_MODE_EXPECTED).optional(),
  redact: z.boolean().optional(),
  rejects_columns: z.array(name).optional(),
  device: z.string().regex(/^(cpu|auto|cuda(:\d{1,2})?)$/, DEVICE_EXPECTED).optional(),
  profile: z.boolean().optional(),
  write_behind: z.boolean().optional(),
  drift: z
    .strictObject({
      method: z.enum(['psi', 'ks', 'wasserstein', 'js']).optional(),
      threshold: z.number().gt(0).optional(),
      drift_share: z.number().gt(0).lte(1).optional(),
      fail_on: z.union([z.enum(['column', 'dataset', 'prediction']), z.array(z.enum(['column', 'dataset', 'prediction']))]).optional(),
    })
    .optional(),
  // Checked by parseEncryption, whose messages never quote what it holds (a key value put there by mistake).
  encryption: z.unknown().optional(),
});

export type JobFile = z.infer<typeof jobFileSchema>;

export interface ParseOptions {
  /** Relative paths in the job are resolved against this directory. */
  baseDir: string;
  /** Default job name (the job file's base name). */
  name: string;
}

/**
 * Validates raw job keys (already merged with flag overrides) and returns the resolved spec.
 * Throws SPEC_INVALID listing every problem with its key path.
 */
export function parseJobSpec(raw: unknown, options: ParseOptions): JobSpec {
  const { spec, problems } = checkJobSpec(raw, options);
  if (problems.length > 0 || !spec) throw BatchinferError.fromProblems(problems);
  return spec;
}

/**
 * Every problem of the raw job keys, and the spec of the keys that have none (null when
 * model, input or output is missing or wrong): `validate` and `run` go on to check that spec
 * against the model and the data, so a wrong key does not hide the problems there.
 */
export function checkJobSpec(raw: unknown, options: ParseOptions): { spec: JobSpec | null; problems: Problem[] } {
  const parsed = jobFileSchema.safeParse(raw ?? {});
  if (parsed.success) {
    const resolved = resolveJob(parsed.data, options);
    return { spec: hasPaths(resolved.spec) ? resolved.spec : null, problems: resolved.problems };
  }
  const problems = parsed.error.issues.map((issue) => issueToProblem(issue, raw));
  // The keys that passed: every top-level key an issue names is left out.
  const bad = new Set(parsed.error.issues.flatMap((i) => (i.code === 'unrecognized_keys' && i.path.length === 0 ? i.keys : [String(i.path[0])])));
  const rest = jobFileSchema.safeParse(Object.fromEntries(Object.entries((raw ?? {}) as Record<string, unknown>).filter(([k]) => !bad.has(k))));
  if (!rest.success || bad.has('model') || bad.has('input') || bad.has('output')) return { spec: null, problems };
  const resolved = resolveJob(rest.data, options);
  return { spec: hasPaths(resolved.spec) ? resolved.spec : null, problems: [...problems, ...resolved.problems] };
}

function hasPaths(spec: JobSpec): boolean {
  return spec.model !== '' && spec.input !== '' && spec.output !== '';
}

function resolveJob(job: JobFile, options: ParseOptions): { spec: JobSpec; problems: Problem[] } {
  const problems: Problem[] = [];
  // Keep a trailing separator: it marks an output directory.
  const absolute = (value: string): string => resolve(options.baseDir, value) + (/[\\/]$/.test(value) ? '/' : '');
  const need = (key: 'model' | 'input' | 'output'): string => {
    const value = job[key];
    if (!value) problems.push({ code: 'SPEC_INVALID', where: key, message: 'is required', expected: 'a path' });
    if (!value) return '';
    return typeof value === 'string' ? absolute(value) : value.map(absolute).join(', ');
  };
  const spec: JobSpec = {
    name: job.name ?? options.name,
    model: need('model'),
    input: need('input'),
    ...(Array.isArray(job.input) ? { inputList: job.input.map(absolute) } : {}),
    output: need('output'),
    passthrough: job.passthrough ?? [],
    labels: job.labels,
    inputs: {},
    features: job.features,
    ...(job.reference !== undefined ? { reference: resolve(options.baseDir, job.reference) } : {}),
    fillNull: job.fill_null,
    onError: job.on_error ?? 'fail',
    rejects: job.rejects ? resolve(options.baseDir, job.rejects) : undefined,
    maxErrors: job.max_errors,
    maxErrorRate: job.max_error_rate,
    allowNan: job.allow_nan ?? false,
    modelSha256: job.model_sha256?.toLowerCase(),
    task: job.task,
    outputName: job.output_name,
    extraOutputs: job.extra_outputs ?? [],
    scores: job.scores,
    reviewBelow: job.review_below,
    threshold: job.threshold,
    positiveLabel: job.positive_label === undefined ? undefined : String(job.positive_label),
    reviewBand: job.review_band,
    batchSize: typeof job.batch_size === 'number' ? job.batch_size : deviceOf(job.device).startsWith('cuda') ? CUDA_BATCH_SIZE : DEFAULT_BATCH_SIZE,
    // A CUDA run keeps its size: the candidates are CPU sizes, and one worker feeds the GPU.
    batchSizeAuto: typeof job.batch_size !== 'number' && !deviceOf(job.device).startsWith('cuda'),
    workers: job.workers,
    threads: job.threads,
    checkpointRows: 0,
    schedule: job.schedule,
    timezone: job.timezone ?? 'UTC',
    windowColumn: job.window_column,
    csvDelimiter: job.csv_delimiter === undefined ? undefined : DELIMITER_WORDS[job.csv_delimiter],
    partitionTypes: job.partition_types,
    computed: job.computed,
    where: job.where,
    memoryLimit: defaultMemoryLimit(),
    minRows: job.min_rows,
    fileMode: job.file_mode === undefined ? undefined : parseInt(job.file_mode, 8),
    redact: job.redact ?? false,
    rejectsColumns: job.rejects_columns,
    device: deviceOf(job.device),
    // A profile holds values of the data (quantiles, min/max, categories) as plain JSON: not by
    // default beside an encrypted output, nor for a job that asks for no data value in what it writes.
    // By default the jobs that watch for drift profile their runs: scheduled ones and those with a
    // reference. Profiling costs CPU a one-off scoring does not need (docs/performance.md, Profiles).
    profile: job.profile ?? (job.encryption === undefined && job.redact !== true && (job.schedule !== undefined || job.reference !== undefined)),
    writeBehind: job.write_behind ?? false,
    ...(job.drift ? { drift: driftSpec(job.drift) } : {}),
    notes: [],
  };
  const encryption = parseEncryption(job.encryption, options.baseDir);
  problems.push(...encryption.problems);
  if (encryption.spec) spec.encryption = encryption.spec;
  if (job.memory_limit !== undefined) {
    const bytes = parseMemorySize(job.memory_limit);
    if (bytes === null || bytes < MIN_MEMORY_LIMIT) problems.push({ code: 'SPEC_INVALID', where: 'memory_limit', message: 'is not a memory size DuckDB can work in', expected: MEMORY_LIMIT_EXPECTED, actual: job.memory_limit });
    else spec.memoryLimit = bytes;
  }
  // Part boundaries must not depend on where a run was interrupted: whole batches only.
  const checkpoint = job.checkpoint_rows ?? DEFAULT_CHECKPOINT_ROWS;
  spec.checkpointRows = Math.max(1, Math.ceil(checkpoint / spec.batchSize)) * spec.batchSize;
  for (const [inputName, s] of Object.entries(job.inputs ?? {})) {
    const where = `inputs.${inputName}`;
    const reference = { path: spec.reference, columns: s.columns ?? [s.column ?? s.one_hot?.column ?? inputName] };
    const fill = resolveFill(`${where}.fill_null`, s.fill_null, reference, problems);
    spec.inputs[inputName] = {
      columns: s.columns,
      column: s.column,
      fillNull: fill,
      scale: s.scale,
      vocab: s.vocab,
      unknown: s.unknown,
      range: s.range,
      clip: s.clip,
      log: logKind(`${where}`, s, problems),
      bucketize: s.bucketize,
      minMax: s.min_max,
      perColumn: s.per_column ? resolvePerColumn(where, s.per_column, spec.reference, problems) : undefined,
      oneHot: s.one_hot ? { column: s.one_hot.column, categories: s.one_hot.categories, unknown: s.one_hot.unknown ?? 'error', dropFirst: s.one_hot.drop_first ?? false } : undefined,
    };
    problems.push(...checkInputSpec(where, spec.inputs[inputName]!));
  }
  problems.push(...checkCombinations(spec));
  problems.push(...checkSchedule(spec, job));
  return { spec, problems };
}

type RawFill = z.infer<typeof fillNullSchema> | undefined;
type RawTransforms = { log?: boolean; log1p?: boolean };

/**
 * `{mean: 3.2}` and `{median: 3.2}` are given values; `mean` alone is the column's mean in the
 * job's `reference` profile, so the job needs one (the profile's values are the feed plan's).
 */
function resolveFill(where: string, fill: RawFill, reference: { path: string | undefined; columns: string[] }, problems: Problem[]): FillNull | undefined {
  if (fill === 'mean' || fill === 'median') {
    if (reference.path !== undefined) return { stat: fill };
    const columns = reference.columns.map((c) => `'${c}'`).join(', ');
    problems.push({ code: 'SPEC_INVALID', where, message: `\`${fill}\` of column ${columns} comes from a reference profile, and the job names none: set \`reference: PROFILE\` (written by batchinfer profile on the training data) or give the value`, expected: `reference: PROFILE, or fill_null: {${fill}: VALUE}`, actual: 'no reference' });
    return undefined;
  }
  if (typeof fill === 'object') return 'mean' in fill ? fill.mean : fill.median;
  return fill;
}

function logKind(where: string, s: RawTransforms, problems: Problem[]): LogKind | undefined {
  if (s.log && s.log1p) problems.push({ code: 'SPEC_INVALID', where: `${where}.log1p`, message: 'give `log` or `log1p`, not both' });
  return s.log1p ? 'log1p' : s.log ? 'log' : undefined;
}

type RawColumnSettings = RawTransforms & { fill_null?: RawFill; clip?: [number, number]; bucketize?: number[]; scale?: { mean: number; std: number }; min_max?: { min: number; max: number } };

function resolvePerColumn(where: string, raw: Record<string, RawColumnSettings>, reference: string | undefined, problems: Problem[]): Record<string, ColumnSettingsSpec> {
  const out: Record<string, ColumnSettingsSpec> = {};
  for (const [column, c] of Object.entries(raw)) {
    const at = `${where}.per_column.${column}`;
    const off = c.log === false || c.log1p === false;
    out[column] = { fillNull: resolveFill(`${at}.fill_null`, c.fill_null, { path: reference, columns: [column] }, problems), clip: c.clip, log: logKind(at, c, problems) ?? (off ? null : undefined), bucketize: c.bucketize, scale: c.scale, minMax: c.min_max };
  }
  return out;
}

/** Problems of transform keys alone (their fit to a column's type is planFeeds'). */
function checkTransforms(where: string, t: { clip?: [number, number]; bucketize?: number[] }): Problem[] {
  const problems: Problem[] = [];
  if (t.clip && !(t.clip[0] <= t.clip[1])) problems.push({ code: 'SPEC_INVALID', where: `${where}.clip`, message: 'must be [LO, HI] with LO <= HI', expected: '[LO, HI]', actual: t.clip });
  if (t.bucketize && t.bucketize.some((b, i) => i > 0 && !(b > t.bucketize![i - 1]!))) {
    problems.push({ code: 'SPEC_INVALID', where: `${where}.bucketize`, message: 'bin edges must be strictly increasing', expected: '[b1 < b2 < ...]', actual: t.bucketize });
  }
  return problems;
}

/** `cuda` is GPU 0. */
function deviceOf(device: string | undefined): Device {
  if (device === undefined || device === 'cpu' || device === 'auto') return device ?? 'cpu';
  return `cuda:${Number(device.split(':')[1] ?? 0)}`;
}

function checkInputSpec(where: string, s: InputSpec): Problem[] {
  const problems: Problem[] = [];
  const bad = (message: string, expected?: unknown, actual?: unknown, key?: string): void => {
    problems.push({ code: 'SPEC_INVALID', where: key ? `${where}.${key}` : where, message, expected, actual });
  };
  if (isReferenceFill(s.fillNull) && (s.oneHot || s.vocab)) bad(`\`${s.fillNull.stat}\` fills a number; a ${s.oneHot ? 'one_hot' : 'vocab'} input takes a category (give it as a value)`, 'a value or error', s.fillNull.stat, 'fill_null');
  if (s.oneHot) {
    const others = (['columns', 'column', 'scale', 'vocab', 'unknown', 'range', 'clip', 'log', 'bucketize', 'minMax', 'perColumn'] as const).filter((k) => s[k] !== undefined);
    if (others.length > 0) bad('`one_hot` names its own column and takes no other transform', 'one_hot (and fill_null) alone', others, 'one_hot');
    if (new Set(s.oneHot.categories.map(String)).size !== s.oneHot.categories.length) bad('has duplicate categories', undefined, s.oneHot.categories, 'one_hot.categories');
    if (s.oneHot.dropFirst && s.oneHot.categories.length < 2) bad('drop_first needs at least 2 categories', undefined, s.oneHot.categories, 'one_hot.drop_first');
    return problems;
  }
  problems.push(...checkTransforms(where, s));
  const width = s.columns?.length ?? 1;
  if (s.minMax) {
    if (s.minMax.min.length !== width) bad('`min_max.min` needs one value per column', width, s.minMax.min.length, 'min_max');
    if (s.minMax.max.length !== width) bad('`min_max.max` needs one value per column', width, s.minMax.max.length, 'min_max');
    if (s.minMax.min.some((m, i) => !(m < (s.minMax!.max[i] ?? Infinity)))) bad('each min must be below its max', 'min < max', s.minMax, 'min_max');
    if (s.scale) bad('give `scale` or `min_max`, not both', undefined, undefined, 'min_max');
  }
  const numeric = s.clip || s.log || s.bucketize || s.minMax || s.perColumn;
  if (s.vocab && numeric) bad('`vocab` takes no numeric transforms (clip, log, log1p, bucketize, min_max, per_column)');
  const listed = new Set(s.columns ?? (s.column ? [s.column] : []));
  for (const [column, c] of Object.entries(s.perColumn ?? {})) {
    const at = `per_column.${column}`;
    if (!listed.has(column)) bad('names a column the input does not list', [...listed], column, at);
    problems.push(...checkTransforms(`${where}.${at}`, c));
    if (c.scale?.std === 0) bad('`scale.std` must not be 0', undefined, 0, `${at}.scale`);
    if (c.minMax && !(c.minMax.min < c.minMax.max)) bad('min must be below max', 'min < max', c.minMax, `${at}.min_max`);
    if (c.scale && c.minMax) bad('give `scale` or `min_max`, not both', undefined, undefined, `${at}.min_max`);
  }
  if (s.columns && s.column) bad('give either `columns` or `column`, not both');
  if (!s.columns && !s.column) bad('needs `columns` (one per position), `column`, or `one_hot`');
  if (s.vocab && s.columns) bad('`vocab` maps a single `column`, not `columns`');
  if (s.unknown !== undefined && !s.vocab) bad('`unknown` only applies with `vocab`');
  if (s.vocab && typeof s.unknown === 'number' && (s.unknown < 0 || s.unknown >= s.vocab.length)) {
    bad('`unknown` must be an index into `vocab`', `0..${s.vocab.length - 1}`, s.unknown);
  }
  if (s.vocab && new Set(s.vocab.map(String)).size !== s.vocab.length) bad('`vocab` has duplicate entries');
  if (s.scale) {
    const width = s.columns?.length ?? 1;
    if (s.scale.mean.length !== width) bad('`scale.mean` needs one value per column', width, s.scale.mean.length);
    if (s.scale.std.length !== width) bad('`scale.std` needs one value per column', width, s.scale.std.length);
    if (s.scale.std.some((v) => v === 0)) bad('`scale.std` must not contain 0');
    if (s.vocab) bad('`scale` does not apply to a `vocab` input');
  }
  if (s.columns && new Set(s.columns).size !== s.columns.length) bad('`columns` lists a column twice');
  if (s.range && !(s.range[0] <= s.range[1])) bad('`range` must be [min, max] with min <= max', '[min, max]', s.range);
  if (s.range && s.vocab) bad('`range` does not apply to a `vocab` input');
  return problems;
}

function checkCombinations(spec: JobSpec): Problem[] {
  const problems: Problem[] = [];
  if (spec.features && Object.keys(spec.inputs).length > 0) {
    problems.push({ code: 'SPEC_INVALID', where: 'features', message: 'give `features` or `inputs`, not both' });
  }
  if (spec.reviewBand && spec.reviewBand[0] > spec.reviewBand[1]) {
    problems.push({ code: 'SPEC_INVALID', where: 'review_band', message: 'must be [low, high] with low <= high', expected: '[low, high]', actual: spec.reviewBand });
  }
  if (spec.task === 'regression' && spec.reviewBelow !== undefined) {
    problems.push({ code: 'SPEC_INVALID', where: 'review_below', message: 'only applies to classification' });
  }
  if (spec.task === 'regression' && spec.labels) {
    problems.push({ code: 'SPEC_INVALID', where: 'labels', message: 'only apply to classification' });
  }
  if (spec.labels && new Set(spec.labels).size !== spec.labels.length) {
    problems.push({ code: 'SPEC_INVALID', where: 'labels', message: 'has duplicate labels', actual: spec.labels });
  }
  if (new Set(spec.passthrough).size !== spec.passthrough.length) {
    problems.push({ code: 'SPEC_INVALID', where: 'passthrough', message: 'lists a column twice', actual: spec.passthrough });
  }
  if (spec.rejects && spec.onError !== 'quarantine') {
    problems.push({ code: 'SPEC_INVALID', where: 'rejects', message: 'only applies with on_error: quarantine', actual: spec.onError });
  }
  if (spec.rejectsColumns && spec.onError !== 'quarantine') {
    problems.push({ code: 'SPEC_INVALID', where: 'rejects_columns', message: 'only applies with on_error: quarantine', actual: spec.onError });
  }
  // Owner read and write: a later run reads the summary and renames over the files.
  if (spec.fileMode !== undefined && (spec.fileMode & 0o600) !== 0o600) {
    problems.push({ code: 'SPEC_INVALID', where: 'file_mode', message: 'must let the owner read and write (0600 or more)', expected: "0600 or more, e.g. '0640'", actual: spec.fileMode.toString(8).padStart(4, '0') });
  }
  problems.push(...checkEncryption(spec));
  problems.push(...checkReferenceKeys(spec));
  if (spec.model && spec.model === spec.output) {
    problems.push({ code: 'SPEC_INVALID', where: 'output', message: 'must not be the model file' });
  }
  if (spec.input && (spec.inputList ?? [spec.input]).includes(spec.output)) {
    problems.push({ code: 'SPEC_INVALID', where: 'output', message: 'must not be the input' });
  }
  return problems;
}

/**
 * An encrypted input's rows are written (parts, rejects, output) encrypted: with the output's
 * key, so the job needs one. (That the output is Parquet is checked where a run opens its keys,
 * core/jobKeys.ts: `inspect` makes up a job whose output is no file.)
 */
function checkEncryption(spec: JobSpec): Problem[] {
  const e = spec.encryption;
  const problems: Problem[] = [];
  if (e?.inputKey && !e.outputKey) {
    problems.push({ code: 'SPEC_INVALID', where: 'encryption.output', message: 'is required with encryption.input: the rows of an encrypted input are written encrypted (output, rejects, staged parts), with the output key', expected: '{footer_key: NAME}', actual: 'nothing' });
  }
  return problems;
}

function checkSchedule(spec: JobSpec, job: JobFile): Problem[] {
  const problems: Problem[] = [];
  for (const key of ['input', 'output', 'rejects'] as const) {
    for (const value of [job[key] ?? []].flat()) {
      problems.push(...checkTemplate(key, value));
      if (hasTemplate(value) && !spec.schedule) {
        problems.push({ code: 'SPEC_INVALID', where: key, message: 'uses window templates but the job has no `schedule`', actual: value });
      }
    }
  }
  if (spec.windowColumn && !spec.schedule) problems.push({ code: 'SPEC_INVALID', where: 'window_column', message: 'needs a `schedule` to define the window' });
  if (job.timezone && !job.schedule) problems.push({ code: 'SPEC_INVALID', where: 'timezone', message: 'only applies with a `schedule`' });
  if (spec.schedule && job.input && ![job.input].flat().some(hasTemplate) && !spec.windowColumn) {
    spec.notes.push('the input has no window template and the job no window_column: every window scores the whole input');
  }
  if (spec.schedule) {
    try {
      parseSchedule(spec.schedule, spec.timezone);
    } catch (err) {
      const e = err as BatchinferError;
      problems.push({ code: 'SPEC_INVALID', where: e.message.startsWith('timezone') ? 'timezone' : 'schedule', message: e.message.replace(/^(timezone|schedule): /, ''), expected: e.expected, actual: e.actual });
    }
  }
  return problems;
}


function driftSpec(drift: NonNullable<JobFile['drift']>): DriftSpec {
  const failOn = drift.fail_on === undefined ? [] : Array.isArray(drift.fail_on) ? drift.fail_on : [drift.fail_on];
  return { method: drift.method, threshold: drift.threshold, driftShare: drift.drift_share, failOn };
}

/** `drift` needs a `reference`, and comparing with one needs the run's profile; ks takes a significance level. */
function checkReferenceKeys(spec: JobSpec): Problem[] {
  const problems: Problem[] = [];
  if (spec.drift && !spec.reference) problems.push({ code: 'SPEC_INVALID', where: 'drift', message: 'applies to a job with a `reference` profile', expected: 'reference: PATH (a profile written by batchinfer profile)', actual: 'no reference' });
  if (spec.drift && !spec.profile) problems.push({ code: 'SPEC_INVALID', where: 'profile', message: 'is false, but `drift` compares the run\'s profile with the reference', expected: 'profile: true (the default), or no drift key', actual: false });
  if (spec.drift?.method === 'ks' && spec.drift.threshold !== undefined && spec.drift.threshold >= 1) problems.push({ code: 'SPEC_INVALID', where: 'drift.threshold', message: 'for method ks is a significance level below 1', expected: 'e.g. 0.05', actual: spec.drift.threshold });
  return problems;
}

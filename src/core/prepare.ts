/**
 * Validation: the job spec against the model signature and the dataset schema. Everything
 * that can be checked without scoring is checked here, and every problem is reported at once.
 * `runJob` and `batchinfer validate` share it.
 */
import { readdir, stat } from 'node:fs/promises';
import { pathExists } from '../util/fs.js';
import { extname, resolve } from 'node:path';
import { OUTPUT_ENDINGS, outputFormatOf, type OutputFormat } from '../sink/outputFormat.js';
import { BatchinferError, type Problem } from '../errors.js';
import type { Db } from '../db/duckdb.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { loadModel, type LoadedModel } from '../model/loadModel.js';
import { sampleNumbers } from '../source/numberSample.js';
import { countRows, csvDelimiter, describeFile, openDataset, readByExpressions, type ColumnInfo, type Dataset, type DatasetFile } from '../source/dataset.js';
import { DELIMITERS, delimiterName } from '../source/fileKind.js';
import { fixedBatchOf, planFeeds, type FeedPlan } from '../preprocess/featurePlan.js';
import { outputColumnNames, planOutput, type OutputPlan } from '../postprocess/outputPlan.js';
import { outputTarget, summaryPath } from '../sink/outputPaths.js';
import { rejectsPathFor } from '../sink/commitRejects.js';
import { findCollisions, runFileTest, type RunFileOptions } from '../sink/runFiles.js';
import type { RunPath } from '../sink/outputPaths.js';
import { clipValue } from '../util/clip.js';
import { PathIdentity } from '../util/pathIdentity.js';
import type { Window } from '../schedule/window.js';
import { windowFiles } from './windowFiles.js';
import { applyExpressions, withoutComputedEchoes } from './jobExpressions.js';
import { referenceValuesOf } from './referenceFills.js';
import { readReference } from './referenceDrift.js';
import type { Profile } from '../profile/profile.js';

export type OutputMode = 'file' | 'directory';

export interface PreparedJob {
  spec: JobSpec;
  model: LoadedModel;
  dataset: Dataset;
  feeds: FeedPlan[];
  output: OutputPlan;
  outputMode: OutputMode;
  /** Output file columns in order: passthrough, then predictions. */
  outputColumns: string[];
  /** The model's fixed batch dimension (rows go to it in groups of this size), else null. */
  fixedBatch: number | null;
  /** A file output's format, from its name (a directory output holds Parquet files). */
  outputFormat: OutputFormat;
  /** CSV columns the input files type differently: staged as their text, so no value is rounded (`textColumns`). */
  textColumns: string[];
  /** What validation noticed that is no problem but worth saying (a summary warning; `validate` lists them). */
  notes: string[];
  /** The job's `reference` profile, read and checked (runProfile.ts). */
  reference?: Profile;
}

export interface PrepareOptions {
  /** A scheduled job's window run: the output is always a directory. */
  windowed?: boolean;
  /** The window run's window: with a `window_column` that is a partition key, only its files are the input (windowFiles.ts). */
  window?: Window;
}

export async function prepareJob(db: Db, spec: JobSpec, options: PrepareOptions = {}): Promise<PreparedJob> {
  const problems: Problem[] = [];
  const model = await loadModel(spec.model).catch((err) => collect(err, problems));
  // A pinned model is checked before any data is read.
  if (model && spec.modelSha256 && model.sha256 !== spec.modelSha256) {
    throw new BatchinferError('MODEL_MISMATCH', `model ${spec.model} is not the pinned model (model_sha256)`, { expected: spec.modelSha256, actual: model.sha256 });
  }
  // The job's reference profile: the run's drift is judged against it, `fill_null: mean|median` read it.
  const reference = await readReference(spec).catch((err) => collect(err, problems));
  const outputMode = options.windowed ? 'directory' : await outputModeOf(spec.output);
  const runFiles = runFileOptions(spec, outputMode, options.windowed ?? false);
  const dataset = await openJobInput(db, spec, runFiles, options.window).catch((err) => collect(err, problems));
  if (!model || !dataset || (spec.reference && !reference)) throw BatchinferError.fromProblems(problems);
  problems.push(...unknownPartitionTypes(spec, dataset));
  // `computed` and `where` (jobExpressions.ts): the computed columns join the dataset's columns.
  problems.push(...(await applyExpressions(db, spec, dataset)));
  if (spec.csvDelimiter && dataset.format !== 'csv') {
    problems.push({ code: 'SPEC_INVALID', where: 'csv_delimiter', message: 'only applies to CSV inputs', expected: 'a .csv or .tsv input', actual: `Parquet input ${spec.input}` });
  }

  // A wrong delimiter explains the missing columns reported after it: it comes first.
  problems.push(...delimiterHint(dataset));
  const untyped = await isHeaderOnlyCsv(db, dataset);
  const { feeds, problems: feedProblems } = planFeeds(spec, model.info.inputs, dataset.columns, { untypedColumns: untyped, textNumbers: dataset.format === 'csv', reference: referenceValuesOf(spec, reference) });
  problems.push(...feedProblems);
  const text = untyped ? { problems: [], notes: [] } : await checkTextNumbers(db, dataset, feeds);
  problems.push(...text.problems);
  const { size: fixedBatch, problem: batchProblem } = fixedBatchOf(model.info.inputs);
  if (batchProblem) problems.push(batchProblem);
  const { plan: output, problems: outputProblems } = planOutput(spec, model.info);
  problems.push(...outputProblems);

  problems.push(...reservedColumns(spec, dataset.files[0]!.path, dataset.columns));
  const byName = new Map(dataset.columns.map((c) => [c.name, c]));
  for (const column of spec.passthrough) {
    if (!byName.has(column)) {
      problems.push({ code: 'SCHEMA_MISMATCH', where: 'passthrough', message: `column '${column}' is not in the dataset`, expected: dataset.columns.map((c) => c.name), actual: column });
    }
  }
  for (const column of spec.rejectsColumns ?? []) {
    if (!dataset.columns.some((c) => c.name === column)) {
      problems.push({ code: 'SCHEMA_MISMATCH', where: 'rejects_columns', message: `column '${column}' is not in the dataset`, expected: dataset.columns.map((c) => c.name), actual: column });
    }
  }
  const outputColumns = [...spec.passthrough, ...(output ? outputColumnNames(output) : [])];
  problems.push(...checkColumnNames(spec.passthrough, output ? outputColumnNames(output) : []));
  const others = await checkOtherFiles(db, spec, dataset, usedColumns(spec, feeds), feeds);
  problems.push(...others.problems);
  problems.push(...checkWindowColumn(spec, byName));
  problems.push(...(await checkRunPathsSpare(spec.output, runFiles, dataset, model.path)));
  problems.push(...(await checkRejectsPath(spec, outputMode, options.windowed ?? false)));
  if (outputMode === 'directory') problems.push(...(await checkDirectoryReplaceable(spec.output)));
  const outputFormat = outputMode === 'directory' ? 'parquet' : outputFormatOf(spec.output);
  if (!outputFormat) problems.push({ code: 'SPEC_INVALID', where: 'output', message: `${spec.output}: the output's format follows its name`, expected: `a name ending in ${OUTPUT_ENDINGS.join(', ')}, or a directory ending in /`, actual: extname(spec.output) || 'no ending' });
  if (problems.length > 0 || !output) throw BatchinferError.fromProblems(withoutComputedEchoes(spec, problems));

  // Each file keeps the columns read here: a staged CSV copy is typed by them.
  const files = dataset.files.map((f) => (others.columns.has(f) ? { ...f, columns: others.columns.get(f) } : f));
  const read = { ...dataset, files };
  return { spec, model, dataset: read, feeds, output, outputMode, outputFormat: outputFormat ?? 'parquet', outputColumns, fixedBatch, textColumns: textColumns(read), notes: text.notes, ...(reference ? { reference } : {}) };
}


/**
 * The job's input as a run reads it: its files, less this output's own run files; for a window
 * on a partition key, only the window's files (narrowed before any file is opened: other days'
 * files are not read). `alreadyCommitted` stamps the same files to compare with a manifest.
 */
export async function openJobInput(db: Db, spec: JobSpec, runFiles: RunFileOptions, window?: Window): Promise<Dataset> {
  const skip = await runFileTest(spec.output, runFiles);
  const filter = window && spec.windowColumn ? { column: spec.windowColumn, window } : null;
  const narrow = filter ? (files: DatasetFile[]) => windowFiles(db, files, filter) : undefined;
  return openDataset(db, spec.inputList ?? spec.input, { delimiter: spec.csvDelimiter, skip, partitionTypes: spec.partitionTypes, ...(narrow ? { narrow } : {}) });
}

/** A `partition_types` key the input's files do not sit under. */
function unknownPartitionTypes(spec: JobSpec, dataset: Dataset): Problem[] {
  const keys = (dataset.files[0]?.partitions ?? []).map((p) => p.name);
  return Object.keys(spec.partitionTypes ?? {})
    .filter((k) => !keys.includes(k))
    .map((k) => ({ code: 'SPEC_INVALID' as const, where: `partition_types.${k}`, message: `'${k}' is not a partition key of the input (no ${k}=... directories below its root)`, expected: keys.length > 0 ? keys : 'no partition keys', actual: k }));
}

/** Where the run files of `spec` are: the output's kind and the rejects file. */
export function runFileOptions(spec: JobSpec, mode: OutputMode, windowed = false): RunFileOptions {
  return { directory: mode === 'directory', windowed, ...(spec.onError === 'quarantine' ? { rejects: rejectsPathFor(spec.output, spec.rejects, windowed) } : {}) };
}

/**
 * The commit replaces the output path (a directory output wholesale), a new run clears the
 * staging directory, and the summary, lock and rejects file are written over: none of them
 * may be, or hold, an input file or the model, by any spelling of the path (`parts` vs
 * `parts/`, a glob, a symlink to the input or to its directory).
 */
async function checkRunPathsSpare(output: string, runFiles: RunFileOptions, dataset: Dataset, modelPath: string): Promise<Problem[]> {
  const inputs = new Set(dataset.files.map((f) => f.path));
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const { runPath, file } of await findCollisions(output, runFiles, [...inputs, modelPath])) {
    const isInput = inputs.has(file);
    const key = `${runPath.kind}:${isInput}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const where = runPath.kind === 'rejects' || runPath.kind === 'rejects-temp' ? 'rejects' : 'output';
    problems.push({ code: 'SPEC_INVALID', where, message: collisionMessage(runPath, isInput), expected: isInput ? 'a path outside the input' : 'a path outside the model directory', actual: file });
  }
  return problems;
}

function collisionMessage(runPath: RunPath, isInput: boolean): string {
  const victim = isInput ? 'input files' : 'the model file';
  if (runPath.kind === 'output') {
    if (runPath.tree) return `is a directory holding ${victim}; committing the output would replace ${isInput ? 'them' : 'it'}`;
    return isInput ? 'is one of the input files' : 'is the model file';
  }
  if (runPath.kind === 'rejects') return isInput ? 'is one of the input files; writing the rejected rows would replace it' : 'is the model file';
  if (runPath.tree) return `${runPath.what} ${runPath.path} holds ${victim}; a run clears it`;
  return `${runPath.what} ${runPath.path} is ${isInput ? 'one of the input files' : 'the model file'}; a run writes over it`;
}

/**
 * The output's commit replaces its own path: a rejects file named like the output (or its
 * summary, or inside a directory output) was itself replaced, losing every rejected row.
 */
async function checkRejectsPath(spec: JobSpec, mode: OutputMode, windowed: boolean): Promise<Problem[]> {
  // A window's own rejects file is inside its directory by design, committed with it.
  if (spec.onError !== 'quarantine' || (windowed && !spec.rejects)) return [];
  const ids = new PathIdentity();
  const rejects = rejectsPathFor(spec.output, spec.rejects);
  const target = outputTarget(spec.output);
  const clash = (await ids.sameEntry(rejects, target)) || (await ids.sameEntry(rejects, summaryPath(target))) || (mode === 'directory' && (await ids.inside(rejects, target)));
  if (!clash) return [];
  return [{ code: 'SPEC_INVALID', where: 'rejects', message: 'is the output (or inside it, or its summary); committing the output would replace the rejected rows', expected: 'a path of its own for the rejected rows', actual: resolve(rejects) }];
}

/**
 * Names the readers use next to the file's own columns (compared without case, as DuckDB
 * does): `file_row_number` is DuckDB's row-number column, which it cannot add to a file that
 * has one; `batchinfer_rn` joins passthrough rows to their predictions, `batchinfer_reject`
 * carries the row check into the rejects file. A file column of that name made the run fail
 * with an internal error, or could join the wrong rows.
 */
function reservedColumns(spec: JobSpec, path: string, columns: readonly ColumnInfo[]): Problem[] {
  const reserved = new Map<string, string>([['file_row_number', 'DuckDB adds a column of this name to address rows']]);
  if (spec.passthrough.length > 0) reserved.set('batchinfer_rn', 'batchinfer joins passthrough rows by it');
  if (spec.onError === 'quarantine') reserved.set('batchinfer_reject', 'batchinfer computes the rejects file with it');
  return columns.flatMap((c) => {
    const why = reserved.get(c.name.toLowerCase());
    return why ? [{ code: 'INPUT_INVALID' as const, where: path, message: `column '${c.name}' has a name batchinfer reserves (${why}); rename the column`, expected: 'no column with a reserved name', actual: c.name }] : [];
  });
}

/**
 * Output columns must be unique. DuckDB compares names without case, so `prob_A` and
 * `prob_a`, or a passthrough column called `Prediction`, would collide.
 */
function checkColumnNames(passthrough: readonly string[], predictions: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  const seen = new Map<string, string>();
  for (const name of [...passthrough, ...predictions]) {
    const key = name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ code: 'SPEC_INVALID', where: passthrough.includes(name) ? 'passthrough' : 'labels', message: `output column '${name}' collides with '${first}' (names are compared without case)`, expected: 'unique output column names', actual: name });
    } else {
      seen.set(key, name);
    }
  }
  return problems;
}

/**
 * A directory output is replaced wholesale on commit. Only replace a directory that is empty
 * or that batchinfer wrote (its summary beside it, or a `_SUCCESS` manifest inside), so a
 * mistyped `--output ./` cannot delete someone's files.
 */
async function checkDirectoryReplaceable(output: string): Promise<Problem[]> {
  const target = outputTarget(output);
  let entries: string[];
  try {
    entries = await readdir(target);
  } catch {
    return [];
  }
  if (entries.length === 0) return [];
  const ours = entries.includes('_SUCCESS') || (await pathExists(summaryPath(target)));
  if (ours) return [];
  return [{ code: 'OUTPUT_UNWRITABLE', where: 'output', message: `directory ${target} exists and holds files batchinfer did not write; committing would replace them. Choose a new or empty directory`, expected: 'a new, empty or batchinfer-written directory', actual: `${entries.length} entries` }];
}

/**
 * A CSV read with the wrong delimiter is one column named after its whole header line; the
 * columns the job names are then all missing. Say which delimiter the header holds.
 */
function delimiterHint(dataset: Dataset): Problem[] {
  const only = dataset.columns.length === 1 ? dataset.columns[0]!.name : null;
  if (dataset.format !== 'csv' || only === null) return [];
  const file = dataset.files[0]!;
  const used = csvDelimiter(file);
  const found = DELIMITERS.filter((d) => d !== used && only.includes(d));
  if (found.length !== 1) return [];
  const d = found[0]!;
  return [{ code: 'SCHEMA_MISMATCH', where: 'csv_delimiter', message: `${file.path} reads as one column '${clipValue(only)}' with ${delimiterName(used)}s between fields; its header looks ${delimiterName(d)}-separated: set csv_delimiter: ${delimiterName(d)} (--csv-delimiter ${delimiterName(d)})`, expected: `${delimiterName(used)}-separated columns`, actual: `${delimiterName(d)}-separated header` }];
}

/**
 * CSV columns DuckDB typed as text that feed a number: parsed row by row, a value that is no
 * number is a bad row. None of the sampled values a number: the column is text, and every row
 * would be bad (a problem). Some: said in a note, with how many.
 */
async function checkTextNumbers(db: Db, dataset: Dataset, feeds: readonly FeedPlan[]): Promise<{ problems: Problem[]; notes: string[] }> {
  const numeric = new Set(['float32', 'float64', 'int64', 'int32']);
  const columns = [...new Set(feeds.filter((f) => numeric.has(f.dtype)).flatMap((f) => f.columns.filter((c) => !c.vocab && !c.oneHot && c.columnType === 'VARCHAR').map((c) => c.column)))];
  if (dataset.format !== 'csv' || columns.length === 0) return { problems: [], notes: [] };
  const file = dataset.files[0]!;
  const problems: Problem[] = [];
  const notes: string[] = [];
  for (const s of await sampleNumbers(db, file, columns)) {
    if (s.values === 0 || s.numbers === s.values) continue;
    if (s.numbers === 0) {
      problems.push({ code: 'SCHEMA_MISMATCH', where: file.path, message: `column '${s.column}' holds text (DuckDB reads it as VARCHAR): none of its first ${s.values} values is a number, so every row would be bad`, expected: 'numbers', actual: 'VARCHAR' });
    } else {
      notes.push(`column '${s.column}' of ${file.path} is text to DuckDB (VARCHAR): ${s.values - s.numbers} of its first ${s.values} values are not numbers and will be bad rows`);
    }
  }
  return { problems, notes };
}

/** A header-only CSV reads as all VARCHAR; it still scores (to zero rows), so its types are not checked. */
async function isHeaderOnlyCsv(db: Db, dataset: Dataset): Promise<boolean> {
  if (dataset.format !== 'csv' || dataset.files.length !== 1) return false;
  if (!dataset.columns.every((c) => c.type === 'VARCHAR')) return false;
  return (await countRows(db, dataset.files[0]!)) === 0;
}

const TEMPORAL = /^(TIMESTAMP|DATE)/;

/** `window_column` must exist and hold times: it is compared with the window's instants. */
function checkWindowColumn(spec: JobSpec, byName: Map<string, ColumnInfo>): Problem[] {
  if (!spec.windowColumn) return [];
  const col = byName.get(spec.windowColumn);
  if (!col) return [{ code: 'SCHEMA_MISMATCH', where: 'window_column', message: `column '${spec.windowColumn}' is not in the dataset`, expected: [...byName.keys()], actual: spec.windowColumn }];
  if (!TEMPORAL.test(col.type)) return [{ code: 'SCHEMA_MISMATCH', where: 'window_column', message: `column '${spec.windowColumn}' does not hold times`, expected: 'TIMESTAMP, TIMESTAMPTZ or DATE', actual: col.type }];
  return [];
}

function collect(err: unknown, problems: Problem[]): undefined {
  if (!(err instanceof BatchinferError)) throw err;
  if (err.problems.length > 0) problems.push(...err.problems);
  else problems.push({ code: err.code, message: err.message, expected: err.expected, actual: err.actual });
  return undefined;
}

function usedColumns(spec: JobSpec, feeds: FeedPlan[]): Set<string> {
  const used = new Set(spec.passthrough);
  for (const feed of feeds) for (const col of feed.columns) used.add(col.column);
  return used;
}

/** Every file of a multi-file input must hold the used columns with the first file's types; returns the columns read of each. */
async function checkOtherFiles(db: Db, spec: JobSpec, dataset: Dataset, used: Set<string>, feeds: readonly FeedPlan[]): Promise<{ problems: Problem[]; columns: Map<DatasetFile, ColumnInfo[]> }> {
  const problems: Problem[] = [];
  const read = new Map<DatasetFile, ColumnInfo[]>();
  // A bool input casts its column as is (no per-row parsing): its type must agree everywhere.
  const boolFeeds = new Set(feeds.filter((f) => f.dtype === 'bool').flatMap((f) => f.columns.map((c) => c.column)));
  const first = dataset.files[0]!;
  const reference = new Map(dataset.columns.map((c) => [c.name, c.type]));
  for (const file of dataset.files.slice(1)) {
    let columns: ColumnInfo[];
    try {
      columns = await describeFile(db, file);
      read.set(file, columns);
    } catch (err) {
      collect(err, problems);
      continue;
    }
    problems.push(...reservedColumns(spec, file.path, columns));
    const types = new Map(columns.map((c) => [c.name, c.type]));
    for (const name of used) {
      const expected = reference.get(name);
      const actual = types.get(name);
      // A CSV column's type is DuckDB's guess from that file alone (integers in one hour,
      // decimals in the next, all NULL and so VARCHAR in a third): features parse row by row
      // and the parts merge by name to the widest type, so only a missing column is a problem.
      const differs = dataset.format === 'csv' && !boolFeeds.has(name) ? actual === undefined : actual !== expected;
      if (expected !== undefined && differs) {
        problems.push({
          code: 'INPUT_INVALID',
          where: file.path,
          message: `column '${name}' differs from ${first.path}`,
          expected: expected,
          actual: actual ?? 'missing',
        });
      }
    }
  }
  return { problems, columns: read };
}

/**
 * The columns a CSV glob's files type differently (DuckDB sniffs each file alone: BIGINT in one
 * hour, DOUBLE in the next). Merged to the widest type, 9007199254740993 would come out as
 * 9007199254740992: they are copied as the text the files hold instead, exactly. Not those the
 * job's expressions read: those keep each file's types (text would not bind in `amount / 2`).
 */
function textColumns(dataset: Dataset): string[] {
  if (dataset.format !== 'csv' || dataset.files.length < 2) return [];
  const types = new Map<string, Set<string>>();
  for (const file of dataset.files) {
    for (const c of file.columns ?? []) types.set(c.name, (types.get(c.name) ?? new Set()).add(c.type));
  }
  return [...types].filter(([name, seen]) => seen.size > 1 && !readByExpressions(dataset.files[0]!, name)).map(([name]) => name);
}

/** A path ending in a separator, or an existing directory, gets one part file per input file. */
async function outputModeOf(output: string): Promise<OutputMode> {
  if (/[\\/]$/.test(output)) return 'directory';
  try {
    return (await stat(output)).isDirectory() ? 'directory' : 'file';
  } catch {
    return 'file';
  }
}

/**
 * `inspect`: what a model declares (inputs, outputs, opsets, ops, metadata) and how batchinfer
 * would serve it (fixed batch, scored output, class names and where they come from, and with
 * `--data` the column feeding each input), or what a dataset holds (columns, types, rows,
 * Parquet row groups).
 */
import { extname, resolve } from 'node:path';
import { Db } from '../db/duckdb.js';
import { BatchinferError, type Problem } from '../errors.js';
import { loadModel } from '../model/loadModel.js';
import type { OnnxFileInfo } from '../model/onnxFile.js';
import { featureSql, fixedBatchOf, planFeeds, type FeedPlan } from '../preprocess/featurePlan.js';
import { flatColumns, rejectSql } from '../preprocess/rowChecks.js';
import { describeSteps } from '../preprocess/transforms.js';
import { loadJob } from '../spec/loadJob.js';
import { Params } from '../util/sql.js';
import { classNames, planOutput } from '../postprocess/outputPlan.js';
import { parseJobSpec } from '../spec/jobSpec.js';
import { applyExpressions, expressionReport, type ComputedReport } from './jobExpressions.js';
import { openInputKey } from './jobKeys.js';
import { countRows, openDataset, parquetRowGroups, scanSql, type ColumnInfo, type DatasetFile } from '../source/dataset.js';
import { DELIMITER_EXPECTED, DELIMITER_WORDS, type Delimiter } from '../source/fileKind.js';

/** How batchinfer would score the model with no job keys beyond `--features`. */
export type Scoring =
  | { output: string; task: 'regression'; width: number }
  | { output: string; task: 'classification'; classes: number; labels: string[]; labelSource: string; labelOutput?: string }
  | { problems: Problem[] };

export interface InputMapping {
  input: string;
  dtype: string;
  columns: { column: string; type: string; nulls: string; steps?: string[]; sample?: PositionSample }[];
}

/** A position's values on the sample's good rows (null when none has a value). */
export interface PositionSample {
  min: number | null;
  mean: number | null;
  max: number | null;
}

/** Rows `inspect --job` reads from the first data file for min/mean/max. */
export const INSPECT_SAMPLE_ROWS = 10_000;

export interface ModelReport {
  kind: 'model';
  path: string;
  sha256: string;
  info: OnnxFileInfo;
  /** The inputs' fixed first dimension (rows go in groups of this size), or null. */
  fixedBatch: number | null;
  scoring: Scoring;
  /** With `--data`: the column feeding each input, and what stops the mapping. */
  mapping?: { dataset: string; inputs: InputMapping[]; problems: Problem[]; sample?: { rows: number; rejected: number }; computed?: ComputedReport[]; where?: string };
}

export interface DatasetReport {
  kind: 'dataset';
  path: string;
  format: string;
  files: { path: string; rows: number; rowGroups?: { id: number; rows: number }[] }[];
  columns: ColumnInfo[];
  rows: number;
}

export interface InspectOptions {
  /** A dataset to map the model's inputs onto. */
  data?: string;
  /** Columns for a single [N,K] input, as `run --features`. */
  features?: string[];
  /** CSV datasets: the delimiter, as `run --csv-delimiter` (a character or its name). */
  csvDelimiter?: string;
  /** With `data`: build the inputs as this job file does (its transforms), with values on a sample. */
  job?: string;
}

export async function inspectPath(path: string, options: InspectOptions = {}): Promise<ModelReport | DatasetReport> {
  if (extname(path).toLowerCase() === '.onnx') return inspectModel(path, options);
  const db = await Db.open();
  try {
    const dataset = await openDataset(db, path, { delimiter: delimiterOption(options.csvDelimiter) });
    const files = [];
    for (const file of dataset.files) {
      const rows = await countRows(db, file);
      files.push({ path: file.path, rows, ...(file.format === 'parquet' ? { rowGroups: await parquetRowGroups(db, file.path) } : {}) });
    }
    return { kind: 'dataset', path, format: dataset.format, files, columns: dataset.columns, rows: files.reduce((n, f) => n + f.rows, 0) };
  } finally {
    db.close();
  }
}

async function inspectModel(path: string, options: InspectOptions): Promise<ModelReport> {
  const model = await loadModel(path);
  const info = model.info;
  const overrides = { model: path, input: options.data ?? path, output: `${path}.inspect`, ...(options.features ? { features: options.features } : {}) };
  // A job file's own paths are relative to it; these come from the command line.
  const spec = options.job ? await loadJob(options.job, { ...overrides, model: resolve(path), input: resolve(overrides.input) }) : parseJobSpec(overrides, { baseDir: process.cwd(), name: 'inspect' });
  const { plan, problems } = planOutput(spec, info);
  let scoring: Scoring;
  if (!plan || problems.length > 0) scoring = { problems };
  else if (plan.task === 'regression') scoring = { output: plan.outputName, task: 'regression', width: plan.width };
  else scoring = { output: plan.outputName, task: 'classification', classes: plan.classes, labels: classNames(plan), labelSource: plan.labelSource, ...(plan.labelCheck ? { labelOutput: plan.labelCheck.output } : {}) };
  const report: ModelReport = { kind: 'model', path, sha256: model.sha256, info, fixedBatch: fixedBatchOf(info.inputs).size, scoring };
  if (options.data) {
    const db = await Db.open();
    try {
      await openInputKey(db, spec.encryption);
      const dataset = await openDataset(db, options.data, { delimiter: delimiterOption(options.csvDelimiter) ?? spec.csvDelimiter });
      // The job's computed columns join the dataset's; its `where` filters the sample.
      const expressionProblems = options.job ? await applyExpressions(db, spec, dataset) : [];
      const { feeds, problems: planProblems } = planFeeds(spec, info.inputs, dataset.columns, { textNumbers: dataset.format === 'csv' });
      const mapProblems = [...expressionProblems, ...planProblems];
      const types = new Map(dataset.columns.map((c) => [c.name, c.type]));
      const inputs: InputMapping[] = feeds.map((f) => ({
        input: f.input,
        dtype: f.dtype,
        columns: f.columns.map((c) => ({ column: c.column, type: types.get(c.column) ?? '?', nulls: c.nulls.kind === 'fill' ? `fill ${c.nulls.value}` : c.nulls.kind === 'nan' ? 'NaN' : 'bad row', ...(options.job ? { steps: describeSteps(c) } : {}) })),
      }));
      report.mapping = { dataset: options.data, inputs, problems: mapProblems, ...expressionReport(dataset) };
      const first = dataset.files[0];
      if (options.job && first && feeds.length > 0 && mapProblems.length === 0) {
        const sample = await sampleFeatures(db, first, feeds);
        const positions = inputs.flatMap((i) => i.columns);
        positions.forEach((p, k) => (p.sample = sample.positions[k]));
        report.mapping.sample = { rows: sample.rows, rejected: sample.rejected };
      }
    } finally {
      db.close();
    }
  }
  return report;
}

/**
 * min/mean/max of every feature position over the good rows among the first
 * INSPECT_SAMPLE_ROWS of a file, computed by the same SQL a run uses (featureSql, the row checks).
 */
async function sampleFeatures(db: Db, file: DatasetFile, feeds: readonly FeedPlan[]): Promise<{ rows: number; rejected: number; positions: PositionSample[] }> {
  const params = new Params();
  // The run's reader, partition keys included.
  const source = scanSql(file, params);
  const columns = flatColumns(feeds);
  const exprs = columns.map(({ feed, col }, k) => `CAST(${featureSql(col, feed.dtype, params)} AS DOUBLE) AS f${k}`);
  const reject = rejectSql(feeds, params) ?? 'NULL';
  const limit = params.bind(INSPECT_SAMPLE_ROWS);
  const good = 'FILTER (WHERE r IS NULL)';
  const aggs = columns.map((_, k) => `min(f${k}) ${good} AS min${k}, avg(f${k}) ${good} AS mean${k}, max(f${k}) ${good} AS max${k}`);
  const sql = `SELECT count(*) AS n, count(r) AS bad, ${aggs.join(', ')} FROM (SELECT ${exprs.join(', ')}, ${reject} AS r FROM ${source} LIMIT ${limit})`;
  const [row] = await db.query<Record<string, number | bigint | null>>(sql, params.values);
  const num = (v: number | bigint | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
  return {
    rows: num(row?.['n']) ?? 0,
    rejected: num(row?.['bad']) ?? 0,
    positions: columns.map((_, k) => ({ min: num(row?.[`min${k}`]), mean: num(row?.[`mean${k}`]), max: num(row?.[`max${k}`]) })),
  };
}

/** `--csv-delimiter` of `inspect` (for `run` and `validate` the job schema checks it). */
function delimiterOption(word: string | undefined): Delimiter | undefined {
  if (word === undefined) return undefined;
  const delimiter = DELIMITER_WORDS[word];
  if (!delimiter) throw new BatchinferError('USAGE', `--csv-delimiter ${DELIMITER_EXPECTED}`, { expected: ', ; | tab', actual: word });
  return delimiter;
}

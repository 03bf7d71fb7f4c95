/**
 * `inspect`: what a model declares (inputs, outputs, opsets, ops, metadata) and how batchinfer
 * would serve it (fixed batch, scored output, class names and where they come from, and with
 * `--data` the column feeding each input), or what a dataset holds (columns, types, rows,
 * Parquet row groups).
 */
import { extname } from 'node:path';
import { Db } from '../db/duckdb.js';
import { BatchinferError, type Problem } from '../errors.js';
import { loadModel } from '../model/loadModel.js';
import type { OnnxFileInfo } from '../model/onnxFile.js';
import { fixedBatchOf, planFeeds } from '../preprocess/featurePlan.js';
import { classNames, planOutput } from '../postprocess/outputPlan.js';
import { parseJobSpec } from '../spec/jobSpec.js';
import { countRows, openDataset, parquetRowGroups, type ColumnInfo } from '../source/dataset.js';
import { DELIMITER_EXPECTED, DELIMITER_WORDS, type Delimiter } from '../source/fileKind.js';

/** How batchinfer would score the model with no job keys beyond `--features`. */
export type Scoring =
  | { output: string; task: 'regression'; width: number }
  | { output: string; task: 'classification'; classes: number; labels: string[]; labelSource: string; labelOutput?: string }
  | { problems: Problem[] };

export interface InputMapping {
  input: string;
  dtype: string;
  columns: { column: string; type: string; nulls: string }[];
}

export interface ModelReport {
  kind: 'model';
  path: string;
  sha256: string;
  info: OnnxFileInfo;
  /** The inputs' fixed first dimension (rows go in groups of this size), or null. */
  fixedBatch: number | null;
  scoring: Scoring;
  /** With `--data`: the column feeding each input, and what stops the mapping. */
  mapping?: { dataset: string; inputs: InputMapping[]; problems: Problem[] };
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
  const spec = parseJobSpec({ model: path, input: options.data ?? path, output: `${path}.inspect`, ...(options.features ? { features: options.features } : {}) }, { baseDir: process.cwd(), name: 'inspect' });
  const { plan, problems } = planOutput(spec, info);
  let scoring: Scoring;
  if (!plan || problems.length > 0) scoring = { problems };
  else if (plan.task === 'regression') scoring = { output: plan.outputName, task: 'regression', width: plan.width };
  else scoring = { output: plan.outputName, task: 'classification', classes: plan.classes, labels: classNames(plan), labelSource: plan.labelSource, ...(plan.labelCheck ? { labelOutput: plan.labelCheck.output } : {}) };
  const report: ModelReport = { kind: 'model', path, sha256: model.sha256, info, fixedBatch: fixedBatchOf(info.inputs).size, scoring };
  if (options.data) {
    const db = await Db.open();
    try {
      const dataset = await openDataset(db, options.data, { delimiter: delimiterOption(options.csvDelimiter) });
      const { feeds, problems: mapProblems } = planFeeds(spec, info.inputs, dataset.columns, { textNumbers: dataset.format === 'csv' });
      const types = new Map(dataset.columns.map((c) => [c.name, c.type]));
      const inputs = feeds.map((f) => ({
        input: f.input,
        dtype: f.dtype,
        columns: f.columns.map((c) => ({ column: c.column, type: types.get(c.column) ?? '?', nulls: c.nulls.kind === 'fill' ? `fill ${c.nulls.value}` : c.nulls.kind === 'nan' ? 'NaN' : 'bad row' })),
      }));
      report.mapping = { dataset: options.data, inputs, problems: mapProblems };
    } finally {
      db.close();
    }
  }
  return report;
}

export function formatShape(shape: (number | string)[] | null): string {
  return shape ? `[${shape.join(',')}]` : '(unknown)';
}

/** Plain-text rendering for the terminal. */
export function formatReport(report: ModelReport | DatasetReport): string {
  if (report.kind === 'model') return formatModel(report);
  const lines = [`dataset ${report.path} (${report.format}, ${report.rows} rows, ${report.files.length} file${report.files.length > 1 ? 's' : ''})`, 'columns:'];
  lines.push(...report.columns.map((c) => `  ${c.name}  ${c.type}`));
  for (const f of report.files) {
    const groups = f.rowGroups ? `, ${f.rowGroups.length} row group${f.rowGroups.length === 1 ? '' : 's'} (${f.rowGroups.map((g) => g.rows).join(', ')})` : '';
    lines.push(`file ${f.path}: ${f.rows} rows${groups}`);
  }
  return lines.join('\n');
}

function formatModel(report: ModelReport): string {
  const i = report.info;
  const byDomain = new Map<string, string[]>();
  for (const op of i.opTypes) byDomain.set(op.domain, [...(byDomain.get(op.domain) ?? []), op.opType]);
  const lines = [
    `model ${report.path}`,
    `  sha256 ${report.sha256}`,
    `  ir_version ${i.irVersion}, producer ${i.producerName || '(none)'} ${i.producerVersion}`.trimEnd(),
    `  opsets ${i.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`,
    `  ops ${[...byDomain].map(([domain, ops]) => `${domain}: ${ops.join(', ')}`).join('; ')}`,
    'inputs:',
    ...i.inputs.map((v) => `  ${v.name}  ${v.elemType} ${formatShape(v.shape)}`),
    'outputs:',
    ...i.outputs.map((v) => `  ${v.name}  ${v.elemType} ${formatShape(v.shape)}${i.producerOps[v.name] ? `  (from ${i.producerOps[v.name]})` : ''}`),
  ];
  for (const [output, labels] of Object.entries(i.classLabels ?? {})) {
    lines.push(`zipmap: stripped from output ${output} (onnxruntime-node cannot return a sequence of maps); classes ${labels.join(', ')}`);
  }
  if (report.fixedBatch) {
    lines.push(`batch: fixed at ${report.fixedBatch} rows per run (batches are cut into groups of ${report.fixedBatch}, the last group padded)`);
  }
  const s = report.scoring;
  if ('problems' in s) lines.push(`scoring: ${s.problems.map((p) => `${p.where ? `${p.where} ` : ''}${p.message}`).join('; ')}`);
  else if (s.task === 'regression') lines.push(`scoring: output ${s.output}, regression, ${s.width} value${s.width > 1 ? 's' : ''} per row`);
  else {
    lines.push(`scoring: output ${s.output}, classification, ${s.classes} classes`);
    lines.push(`labels: ${s.labels.join(', ')} (from ${s.labelSource})`);
    if (s.labelOutput) lines.push(`label output ${s.labelOutput} is checked against the highest-scoring class`);
  }
  const meta = Object.entries(i.metadata);
  if (meta.length > 0) lines.push('metadata:', ...meta.map(([k, v]) => `  ${k} = ${v}`));
  if (report.mapping) {
    const m = report.mapping;
    lines.push(`mapping onto ${m.dataset}:`);
    for (const input of m.inputs) {
      lines.push(`  ${input.input} (${input.dtype}) <- ${input.columns.map((c) => `${c.column} ${c.type}, NULL -> ${c.nulls}`).join('; ')}`);
    }
    for (const p of m.problems) lines.push(`  problem: ${p.where ? `${p.where}: ` : ''}${p.message}`);
  }
  return lines.join('\n');
}

/** `--csv-delimiter` of `inspect` (for `run` and `validate` the job schema checks it). */
function delimiterOption(word: string | undefined): Delimiter | undefined {
  if (word === undefined) return undefined;
  const delimiter = DELIMITER_WORDS[word];
  if (!delimiter) throw new BatchinferError('USAGE', `--csv-delimiter ${DELIMITER_EXPECTED}`, { expected: ', ; | tab', actual: word });
  return delimiter;
}

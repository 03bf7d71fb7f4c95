/**
 * `inspect`: what a model declares (inputs, outputs, opsets, metadata) or what a dataset
 * holds (columns, types, rows, Parquet row groups).
 */
import { extname } from 'node:path';
import { Db } from '../db/duckdb.js';
import { loadModel } from '../model/loadModel.js';
import type { OnnxFileInfo } from '../model/onnxFile.js';
import { countRows, openDataset, parquetRowGroups, type ColumnInfo } from '../source/dataset.js';

export interface ModelReport {
  kind: 'model';
  path: string;
  sha256: string;
  info: OnnxFileInfo;
}

export interface DatasetReport {
  kind: 'dataset';
  path: string;
  format: string;
  files: { path: string; rows: number; rowGroups?: { id: number; rows: number }[] }[];
  columns: ColumnInfo[];
  rows: number;
}

export async function inspectPath(path: string): Promise<ModelReport | DatasetReport> {
  if (extname(path).toLowerCase() === '.onnx') {
    const model = await loadModel(path);
    return { kind: 'model', path, sha256: model.sha256, info: model.info };
  }
  const db = await Db.open();
  try {
    const dataset = await openDataset(db, path);
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

export function formatShape(shape: (number | string)[] | null): string {
  return shape ? `[${shape.join(',')}]` : '(unknown)';
}

/** Plain-text rendering for the terminal. */
export function formatReport(report: ModelReport | DatasetReport): string {
  if (report.kind === 'model') {
    const i = report.info;
    const lines = [
      `model ${report.path}`,
      `  sha256 ${report.sha256}`,
      `  ir_version ${i.irVersion}, producer ${i.producerName || '(none)'} ${i.producerVersion}`.trimEnd(),
      `  opsets ${i.opsets.map((o) => `${o.domain} ${o.version}`).join(', ')}`,
      'inputs:',
      ...i.inputs.map((v) => `  ${v.name}  ${v.elemType} ${formatShape(v.shape)}`),
      'outputs:',
      ...i.outputs.map((v) => `  ${v.name}  ${v.elemType} ${formatShape(v.shape)}${i.producerOps[v.name] ? `  (from ${i.producerOps[v.name]})` : ''}`),
    ];
    for (const [output, labels] of Object.entries(i.classLabels ?? {})) {
      lines.push(`zipmap: stripped from output ${output} (onnxruntime-node cannot return a sequence of maps); classes ${labels.join(', ')}`);
    }
    const meta = Object.entries(i.metadata);
    if (meta.length > 0) lines.push('metadata:', ...meta.map(([k, v]) => `  ${k} = ${v}`));
    return lines.join('\n');
  }
  const lines = [`dataset ${report.path} (${report.format}, ${report.rows} rows, ${report.files.length} file${report.files.length > 1 ? 's' : ''})`, 'columns:'];
  lines.push(...report.columns.map((c) => `  ${c.name}  ${c.type}`));
  for (const f of report.files) {
    const groups = f.rowGroups ? `, ${f.rowGroups.length} row groups (${f.rowGroups.map((g) => g.rows).join(', ')})` : '';
    lines.push(`file ${f.path}: ${f.rows} rows${groups}`);
  }
  return lines.join('\n');
}

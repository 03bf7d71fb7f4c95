/**
 * The profile of a dataset (`batchinfer profile DATA`, and `drift` given a dataset): every
 * file read once through DuckDB as `run` reads inputs (source/dataset.ts), numbers cast to
 * DOUBLE and strings to VARCHAR, and fed to the profiler chunk by chunk. A scored output's
 * `prediction` and `needs_review` columns make its prediction profile.
 */
import type { ColumnVector, Db } from '../db/duckdb.js';
import { BatchinferError } from '../errors.js';
import { guardRead, openDataset, scanSql, type ColumnInfo, type DatasetFile } from '../source/dataset.js';
import { Params, quoteIdent } from '../util/sql.js';
import type { ColumnProfiler } from './columnProfile.js';
import { kindOfType, Profiler, type Profile } from './profile.js';

export interface ProfileDatasetOptions {
  /** The columns to profile (default: every number, string and boolean column). */
  columns?: readonly string[];
}

export interface DatasetProfile {
  profile: Profile;
  /** Columns left out because their type is not profiled (dates, lists, blobs). */
  skipped: ColumnInfo[];
}

export async function profileDataset(db: Db, input: string, options: ProfileDatasetOptions = {}): Promise<DatasetProfile> {
  const dataset = await openDataset(db, input);
  const { chosen, skipped } = chooseColumns(input, dataset.columns, options.columns);
  const classes = dataset.columns.filter((c) => c.name.startsWith('prob_')).map((c) => c.name.slice('prob_'.length));
  const prediction = classes.length > 0 && dataset.columns.some((c) => c.name === 'prediction');
  const review = prediction && dataset.columns.some((c) => c.name === 'needs_review');
  const profiler = new Profiler(input);
  const profilers = chosen.map((c) => profiler.column(c.name, c.type));
  for (const file of dataset.files) await profileFile(db, file, chosen, profilers, profiler, prediction ? { classes, review } : null);
  return { profile: profiler.profile(), skipped };
}

function chooseColumns(input: string, columns: readonly ColumnInfo[], wanted: readonly string[] | undefined): { chosen: ColumnInfo[]; skipped: ColumnInfo[] } {
  if (!wanted) return { chosen: columns.filter((c) => kindOfType(c.type) !== null), skipped: columns.filter((c) => kindOfType(c.type) === null) };
  const missing = wanted.filter((w) => !columns.some((c) => c.name === w));
  if (missing.length > 0) throw new BatchinferError('SCHEMA_MISMATCH', `${input} has no column ${missing.map((m) => `'${m}'`).join(', ')}`, { expected: `columns of the dataset: ${columns.map((c) => c.name).join(', ')}`, actual: missing });
  const chosen = wanted.map((w) => columns.find((c) => c.name === w)!);
  const bad = chosen.find((c) => kindOfType(c.type) === null);
  if (bad) throw new BatchinferError('USAGE', `--columns: column ${bad.name} of type ${bad.type} cannot be profiled`, { expected: 'a number, string or boolean column', actual: bad.type });
  return { chosen, skipped: [] };
}

async function profileFile(db: Db, file: DatasetFile, columns: readonly ColumnInfo[], profilers: readonly ColumnProfiler[], profiler: Profiler, prediction: { classes: string[]; review: boolean } | null): Promise<void> {
  const params = new Params();
  const select = columns.map((c) => `CAST(${quoteIdent(c.name)} AS ${kindOfType(c.type) === 'numeric' ? 'DOUBLE' : 'VARCHAR'})`);
  if (prediction) select.push('CAST(prediction AS VARCHAR)', prediction.review ? 'CAST(needs_review AS BOOLEAN)' : 'NULL');
  const sql = `SELECT ${select.join(', ')} FROM ${scanSql(file, params)}`;
  const stream = db.stream(sql, params.values);
  const scratch = { values: new Float64Array(2048), strings: new Array<string | null>(2048), classIndex: new Int32Array(2048), review: new Uint8Array(2048) };
  for (;;) {
    const next = await guardRead(file, () => stream.next());
    if (next.done) return;
    const chunk = next.value;
    profiler.addRows(chunk.rowCount);
    profilers.forEach((p, c) => addVector(p, chunk.columns[c]!, chunk.rowCount, scratch));
    if (prediction) addPredictions(profiler, prediction.classes, chunk.columns[columns.length]!, chunk.columns[columns.length + 1]!, chunk.rowCount, scratch);
  }
}

/** One column of a chunk: numbers from DuckDB's typed memory (NULLs left out and counted), strings as values. */
function addVector(p: ColumnProfiler, vector: ColumnVector, rows: number, scratch: { values: Float64Array; strings: (string | null)[] }): void {
  if (p.kind === 'categorical') {
    for (let i = 0; i < rows; i++) scratch.strings[i] = vector.isValid(i) ? String(vector.value(i)) : null;
    p.addValues(scratch.strings, rows);
    return;
  }
  const items = vector.items as Float64Array;
  if (!vector.hasNulls) return p.addNumbers(items, rows);
  let n = 0;
  for (let i = 0; i < rows; i++) if (vector.isValid(i)) scratch.values[n++] = items[i]!;
  p.addNulls(rows - n);
  p.addNumbers(scratch.values, n);
}

function addPredictions(profiler: Profiler, classes: readonly string[], prediction: ColumnVector, review: ColumnVector, rows: number, scratch: { classIndex: Int32Array; review: Uint8Array }): void {
  for (let i = 0; i < rows; i++) {
    scratch.classIndex[i] = prediction.isValid(i) ? classes.indexOf(String(prediction.value(i))) : -1;
    scratch.review[i] = review.isValid(i) && review.value(i) === true ? 1 : 0;
  }
  profiler.addPredictions(scratch.classIndex, classes, rows, review.typeName === 'BOOLEAN' ? scratch.review : undefined);
}

/**
 * Reads a scored output (what `run` wrote: passthrough columns, then `prediction`,
 * `confidence` and `prob_<label>` per class, or `prediction` alone for regression) into one
 * temporary table the metrics aggregate over, with the true label mapped to a class index.
 *
 * Table `batchinfer_eval_rows`:
 * - classification: `y` (true class index), `yhat` (predicted class index, -1 when the
 *   prediction names no class), `p0..p{K-1}` (DOUBLE probabilities), `g` (group id);
 * - regression: `y`, `yhat` (DOUBLE), `g`.
 * `g` is 0 without `--group-by`, else the id of the row's group in `batchinfer_eval_groups`
 * (ids in the order of the group values; NULL is a value). A hash join on the few distinct
 * groups, not a dense_rank() window, which sorts every row (docs/performance.md, evaluate).
 */
import { BatchinferError } from '../errors.js';
import type { Db, SqlParam } from '../db/duckdb.js';
import { guardRead, literalPath, openDataset, readerSql, type ColumnInfo, type Dataset } from '../source/dataset.js';
import { jsonValue } from '../util/jsonValue.js';
import { quoteIdent } from '../util/sql.js';

export const ROWS_TABLE = 'batchinfer_eval_rows';
/** The groups of `--group-by`: their values and ids (`g`), in value order. */
export const GROUPS_TABLE = 'batchinfer_eval_groups';

export type { Task } from '../spec/jobSpec.js';
import type { Task } from '../spec/jobSpec.js';

export interface ScoredOutput {
  task: Task;
  /** Class names as the `prob_<label>` columns spell them, in column order (classification). */
  classes: string[];
  /** Index of the positive class (binary classification), else null. */
  positive: number | null;
  rows: { evaluated: number; null_labels: number; unscored: number };
  /** Group columns and the values of each group id (`g`). */
  groups: { columns: string[]; values: Map<number, Record<string, unknown>> };
}

export interface ReadOptions {
  label: string;
  task?: Task;
  positive?: string;
  groupBy?: readonly string[];
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/;

/** Opens `path` (a file, glob or directory as `run` writes it) and fills `batchinfer_eval_rows`. */
export async function loadScoredOutput(db: Db, path: string, options: ReadOptions): Promise<ScoredOutput> {
  const dataset = await openDataset(db, path);
  const columns = dataset.columns;
  const classes = columns.filter((c) => c.name.startsWith('prob_')).map((c) => c.name.slice('prob_'.length));
  const task = options.task ?? (classes.length > 0 ? 'classification' : 'regression');
  checkColumns(path, columns, options, task, classes);
  const source = sourceSql(dataset);
  const groupColumns = [...(options.groupBy ?? [])];
  const label = quoteIdent(options.label);
  const { group, join } = await groupIds(db, path, source, groupColumns, label);
  if (task === 'regression') {
    const sql = `CREATE OR REPLACE TEMP TABLE ${ROWS_TABLE} AS SELECT CAST(${label} AS DOUBLE) AS y, CAST(prediction AS DOUBLE) AS yhat, ${group} AS g
      FROM ${source.sql}${join} WHERE ${label} IS NOT NULL AND prediction IS NOT NULL AND NOT isnan(CAST(prediction AS DOUBLE))`;
    await guardRead(path, () => db.exec(sql, source.params));
  } else {
    if (classes.length < 2) throw new BatchinferError('SCHEMA_MISMATCH', `${path} has ${classes.length} prob_ column; classification needs one per class, at least 2`, { expected: 'prob_<label> columns for 2 or more classes', actual: classes.map((c) => `prob_${c}`) });
    const labelText = labelTextSql(label, columns.find((c) => c.name === options.label)!.type, classes);
    await checkLabelValues(db, path, source, labelText, label, classes);
    const params = [...source.params, classes];
    const list = `$${params.length}`;
    const probs = classes.map((c, i) => `CAST(${quoteIdent(`prob_${c}`)} AS DOUBLE) AS p${i}`).join(', ');
    const scored = classes.map((c) => `NOT isnan(CAST(${quoteIdent(`prob_${c}`)} AS DOUBLE))`).join(' AND ');
    const sql = `CREATE OR REPLACE TEMP TABLE ${ROWS_TABLE} AS SELECT CAST(list_position(${list}, ${labelText}) - 1 AS INTEGER) AS y,
      CAST(coalesce(list_position(${list}, CAST(prediction AS VARCHAR)) - 1, -1) AS INTEGER) AS yhat, ${probs}, ${group} AS g
      FROM ${source.sql}${join} WHERE ${label} IS NOT NULL AND ${scored}`;
    await guardRead(path, () => db.exec(sql, params));
  }
  const counts = await countRows(db, path, source, label);
  const positive = task === 'classification' ? positiveIndex(classes, options.positive) : null;
  return { task, classes: task === 'classification' ? classes : [], positive, rows: counts, groups: { columns: groupColumns, values: await groupValues(db, groupColumns) } };
}

/** The scored files as one relation: every file of the output, read as `run` reads inputs. */
function sourceSql(dataset: Dataset): { sql: string; params: SqlParam[] } {
  return { sql: readerSql(dataset.files[0]!, '$1'), params: [dataset.files.map((f) => literalPath(f.path))] };
}

/**
 * Fills the groups table (the distinct values of the group columns among the labelled rows,
 * numbered in value order) and returns the SQL that gives each row its group id.
 */
async function groupIds(db: Db, path: string, source: { sql: string; params: SqlParam[] }, columns: readonly string[], label: string): Promise<{ group: string; join: string }> {
  if (columns.length === 0) return { group: '0', join: '' };
  const values = columns.map((c, i) => `${quoteIdent(c)} AS __batchinfer_gv${i}`).join(', ');
  const names = columns.map((_, i) => `__batchinfer_gv${i}`).join(', ');
  await guardRead(path, () =>
    db.exec(`CREATE OR REPLACE TEMP TABLE ${GROUPS_TABLE} AS SELECT *, row_number() OVER (ORDER BY ${names}) AS __batchinfer_g FROM (SELECT DISTINCT ${values} FROM ${source.sql} WHERE ${label} IS NOT NULL)`, source.params),
  );
  const on = columns.map((c, i) => `${quoteIdent(c)} IS NOT DISTINCT FROM ${GROUPS_TABLE}.__batchinfer_gv${i}`).join(' AND ');
  return { group: `${GROUPS_TABLE}.__batchinfer_g`, join: ` JOIN ${GROUPS_TABLE} ON ${on}` };
}

/**
 * A label as the class names spell it: its text, a float label with an integral value as
 * that integer (`1.0` is class `1`, as class indices name classes), and a boolean as 1 or 0
 * when the classes are indices.
 */
function labelTextSql(label: string, type: string, classes: readonly string[]): string {
  if (/^(FLOAT|DOUBLE|DECIMAL)/.test(type)) return `CASE WHEN ${label} = trunc(${label}) THEN CAST(CAST(${label} AS HUGEINT) AS VARCHAR) ELSE CAST(${label} AS VARCHAR) END`;
  // A boolean label against classes 0 and 1 (class indices): true is 1.
  if (type === 'BOOLEAN' && !classes.includes('true') && classes.includes('1')) return `CASE WHEN ${label} THEN '1' ELSE '0' END`;
  return `CAST(${label} AS VARCHAR)`;
}

function checkColumns(path: string, columns: readonly ColumnInfo[], options: ReadOptions, task: Task, classes: readonly string[]): void {
  const names = columns.map((c) => c.name);
  const wanted = [options.label, ...(options.groupBy ?? [])];
  const missing = wanted.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new BatchinferError('SCHEMA_MISMATCH', `${path} has no column ${missing.map((m) => `'${m}'`).join(', ')}`, { expected: `columns of the scored output: ${names.join(', ')}`, actual: missing });
  }
  const prediction = columns.find((c) => c.name === 'prediction');
  if (!prediction) throw new BatchinferError('SCHEMA_MISMATCH', `${path} has no prediction column: is it an output of batchinfer run?`, { expected: 'a prediction column', actual: names });
  if (task === 'regression') {
    if (!NUMERIC.test(prediction.type)) throw new BatchinferError('SCHEMA_MISMATCH', `${path}: regression needs a numeric prediction column`, { expected: 'a number', actual: `prediction ${prediction.type}${classes.length > 0 ? ' (prob_ columns: a classification output)' : ''}` });
    const label = columns.find((c) => c.name === options.label)!;
    if (!NUMERIC.test(label.type)) throw new BatchinferError('SCHEMA_MISMATCH', `${path}: regression needs a numeric label column '${options.label}'`, { expected: 'a number', actual: label.type });
  }
}

/** Every non-NULL label must name a class: the first few that do not are named. */
async function checkLabelValues(db: Db, path: string, source: { sql: string; params: SqlParam[] }, labelText: string, label: string, classes: string[]): Promise<void> {
  const params = [...source.params, classes];
  const rows = await guardRead(path, () =>
    db.query<{ v: string; n: bigint }>(`SELECT ${labelText} AS v, count(*) AS n FROM ${source.sql} WHERE ${label} IS NOT NULL AND list_position($${params.length}, ${labelText}) IS NULL GROUP BY v ORDER BY n DESC, v LIMIT 5`, params),
  );
  if (rows.length === 0) return;
  const named = rows.map((r) => `'${r.v}' (${Number(r.n)} rows)`).join(', ');
  throw new BatchinferError('INPUT_INVALID', `label value ${named} matches no class of the output`, { expected: `one of the classes of its prob_ columns: ${classes.join(', ')}`, actual: rows.map((r) => r.v) });
}

async function countRows(db: Db, path: string, source: { sql: string; params: SqlParam[] }, label: string): Promise<ScoredOutput['rows']> {
  const [all] = await guardRead(path, () => db.query<{ n: bigint; nulls: bigint }>(`SELECT count(*) AS n, count(*) FILTER (WHERE ${label} IS NULL) AS nulls FROM ${source.sql}`, source.params));
  const evaluated = Number(await db.exec(`SELECT count(*) FROM ${ROWS_TABLE}`));
  const nullLabels = Number(all!.nulls);
  return { evaluated, null_labels: nullLabels, unscored: Number(all!.n) - nullLabels - evaluated };
}

function positiveIndex(classes: string[], positive: string | undefined): number | null {
  if (classes.length !== 2) {
    if (positive !== undefined) throw new BatchinferError('USAGE', `--positive is for binary outputs; this one has ${classes.length} classes`, { expected: '2 classes', actual: classes });
    return null;
  }
  if (positive === undefined) return 1;
  const index = classes.indexOf(positive);
  if (index < 0) throw new BatchinferError('USAGE', `--positive ${positive} is not a class of the output`, { expected: classes, actual: positive });
  return index;
}

async function groupValues(db: Db, columns: readonly string[]): Promise<Map<number, Record<string, unknown>>> {
  const values = new Map<number, Record<string, unknown>>();
  if (columns.length === 0) return values.set(0, {});
  const rows = await db.query<Record<string, unknown>>(`SELECT * FROM ${GROUPS_TABLE} ORDER BY __batchinfer_g`);
  for (const row of rows) values.set(Number(row['__batchinfer_g']), Object.fromEntries(columns.map((c, i) => [c, jsonValue(row[`__batchinfer_gv${i}`])])));
  return values;
}

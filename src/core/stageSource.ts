/**
 * CSV inputs, and inputs filtered to a window, are copied once into a staged Parquet file so
 * rows can be addressed by row number (for passthrough and resume). The copy is journaled.
 *
 * A CSV's copy holds what DuckDB's CSV reader parsed: its number columns are numbers, so the
 * features read from it need no per-value parse (`stagedFeeds`), and the plain float32 ones are
 * written as FLOAT (`floatStagedColumns`), through the same casts the per-row parse applies. A
 * number float32 cannot hold fails that copy, which is made again with the numbers as DOUBLE;
 * text that does not parse makes it again with the features as text, parsed row by row (bad
 * rows then follow `on_error`).
 */
import { rename, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Db } from '../db/duckdb.js';
import type { Journal } from '../sink/journal.js';
import { copyFailure, countRows, describeFile, guardCopy, guardRead, readByExpressions, scanSql, SOURCE_ROW, type ColumnInfo, type DatasetFile } from '../source/dataset.js';
import { floatStagedColumns, stagedFeeds, type FeedPlan } from '../preprocess/featurePlan.js';
import { flatColumns } from '../preprocess/rowChecks.js';
import { Params, quoteIdent } from '../util/sql.js';
import { writeKeyOption } from '../db/parquetKeys.js';
import { failpoint } from '../util/failpoint.js';

export interface StageOptions {
  /** The staged copy's path, in the staging directory (the execution plan's `staged`). */
  target: string;
  journal: Journal;
  /** Keep only rows whose `column` lies in [start, end) (ISO instants). */
  filter?: { column: string; start: string; end: string } | null;
  feeds: readonly FeedPlan[];
  passthrough: readonly string[];
  /** Copy every column (the rejects file wants them all, with their original types). */
  allColumns: boolean;
  /** The input's column types as DuckDB reads them, when validation read them (else described here). */
  columns?: readonly ColumnInfo[];
  /** CSV columns copied as their text (`textColumns` in prepare.ts: the files type them differently). */
  textColumns?: readonly string[];
}

export interface StagedSource {
  file: DatasetFile;
  /** The feeds reading `file`. */
  feeds: FeedPlan[];
}

/** Sniffed CSV types whose values `CAST(CAST(c AS DOUBLE) AS FLOAT)` takes as the per-row parse does. */
const NUMBER_TYPES = new Set(['DOUBLE', 'FLOAT', 'BIGINT', 'INTEGER']);

export async function stageSource(db: Db, file: DatasetFile, index: number, options: StageOptions): Promise<StagedSource> {
  const path = options.target;
  const name = basename(path);
  // Encrypted with the output key when the job has one: a staged copy of an encrypted input is no plaintext copy.
  const key = db.parquetKeys.output;
  // A filtered copy numbers its rows anew: each keeps its input row number for messages.
  const staged = { path, format: 'parquet' as const, ...(key ? { key } : {}), ...(filters(file, options) ? { sourceRows: true as const } : {}) };
  if (!options.journal.source(index)) {
    await copySource(db, file, path, options);
    failpoint('source-staged');
    const filtered = file.where === undefined ? {} : { filtered: (await rowsBeforeWhere(db, file, options.filter)) - (await countRows(db, staged)) };
    await options.journal.append({ type: 'source', file: index, name, bytes: (await stat(path)).size, ...filtered });
  }
  return { file: staged, feeds: stagedFeeds(options.feeds, await describeFile(db, staged)) };
}

/** Rows the job's `where` left out of all the staged copies (the journal's), or undefined without a `where`. */
export function filteredRows(journal: Journal, where: string | undefined): number | undefined {
  if (where === undefined) return undefined;
  return journal.entries.reduce((n, e) => n + (e.type === 'source' ? (e.filtered ?? 0) : 0), 0);
}

/** The rows `file`'s staged copy will hold: those its `where` and the window `filter` (if any) keep. */
export async function rowsToStage(db: Db, file: DatasetFile, filter: StageOptions['filter']): Promise<number> {
  if (file.where === undefined) return filter ? rowsBeforeWhere(db, file, filter) : countRows(db, file);
  const params = new Params();
  const sql = `SELECT count(*) FROM ${scanSql(file, params)}${filter ? windowWhere(filter, params) : ''}`;
  return Number(await guardRead(file, () => db.exec(sql, params.values)));
}

/** The rows of `file` the `where` was applied to: all of them, or a window's (a second read: only with both). */
async function rowsBeforeWhere(db: Db, file: DatasetFile, filter: StageOptions['filter']): Promise<number> {
  if (!filter) return countRows(db, file);
  const params = new Params();
  const sql = `SELECT count(*) FROM ${scanSql({ ...file, where: undefined }, params)}${windowWhere(filter, params)}`;
  return Number(await guardRead(file, () => db.exec(sql, params.values)));
}

/** ` WHERE` the window's rows, its instants bound on `params`. */
function windowWhere(filter: NonNullable<StageOptions['filter']>, params: Params): string {
  const col = quoteIdent(filter.column);
  return ` WHERE ${col} >= CAST(${params.bind(filter.start)} AS TIMESTAMPTZ) AND ${col} < CAST(${params.bind(filter.end)} AS TIMESTAMPTZ)`;
}

/** Whether the copy keeps only some rows: a window's, or those the job's `where` keeps. */
function filters(file: DatasetFile, options: StageOptions): boolean {
  return Boolean(options.filter) || file.where !== undefined;
}

async function copySource(db: Db, file: DatasetFile, path: string, options: StageOptions): Promise<void> {
  // Computed columns are no columns of the CSV reader: it does not type them. The columns the
  // expressions read keep the reader's types: as text they would not bind (`amount / 2`).
  const computed = new Set((file.computed ?? []).map((c) => c.name));
  const featureColumns = flatColumns(options.feeds).map(({ col }) => col.column);
  const readColumns = featureColumns.filter((c) => !computed.has(c) && !readByExpressions(file, c));
  // Bound first, in this order, for every copy: the window, the target; each copy's reader after.
  // The job's `where` is in the scan itself (scanSql).
  const fixed = new Params();
  const where = options.filter ? windowWhere(options.filter, fixed) : '';
  const target = fixed.bind(path + '.tmp');
  // Only the columns the run uses (writing all of a wide CSV as Parquet would be most of the
  // staging time); uncompressed and without dictionaries (a temporary file, written faster so); row
  // groups of 64k rows, as the writer holds one per thread in memory (docs/performance.md, CSV).
  const keep = options.allColumns ? null : [...new Set([...featureColumns, ...options.passthrough])];
  const floats = file.format === 'csv' && keep ? await floatColumns(db, file, options) : new Set<string>();
  const numbered = filters(file, options);
  const sourceRow = numbered ? `, file_row_number AS ${SOURCE_ROW}` : '';
  const select = (asFloat: ReadonlySet<string>): string =>
    (keep && keep.length > 0 ? keep.map((c) => (asFloat.has(c) ? `CAST(CAST(${quoteIdent(c)} AS DOUBLE) AS FLOAT) AS ${quoteIdent(c)}` : quoteIdent(c))).join(', ') : numbered ? '* EXCLUDE (file_row_number)' : '*') + sourceRow;
  const text = await presentTextColumns(db, file, options);
  // Columns the files type differently are read as the text they hold, whatever else is.
  const typed = (columns: readonly string[], params: Params): string => {
    const all = [...new Set([...columns, ...text])];
    return all.length === 0 ? '' : `, types = ${params.bind({ struct: Object.fromEntries(all.map((c) => [c, 'VARCHAR'])) })}`;
  };
  const copy = (textColumns: readonly string[] | 'all', asFloat: ReadonlySet<string> = new Set()): Promise<unknown> => {
    const params = new Params();
    for (const value of fixed.values) params.bind(value);
    const extra = textColumns === 'all' ? ', all_varchar = true' : typed(textColumns, params);
    const floatNow = new Set([...asFloat].filter((c) => !text.includes(c)));
    return db.exec(`COPY (SELECT ${select(floatNow)} FROM ${scanSql(file, params, extra, { rowNumbers: numbered })}${where}) TO ${target} (FORMAT parquet, COMPRESSION uncompressed, DICTIONARY_SIZE_LIMIT 1, ROW_GROUP_SIZE 65536${writeKeyOption(db)})`, params.values);
  };
  const conversion = (err: unknown): boolean => file.format === 'csv' && /Could not convert|Conversion Error/i.test((err as Error).message);
  // A read that fails on a value DuckDB cannot convert gives way to a more tolerant one.
  const attempt = async (run: () => Promise<unknown>): Promise<unknown> => {
    try {
      await run();
      return null;
    } catch (err) {
      if (!conversion(err)) throw await copyFailure(file, path + '.tmp', err);
      return err;
    }
  };
  let failed = await attempt(() => copy([], floats));
  // A number float32 cannot hold: the numbers stay DOUBLE, and the reader rejects that row
  // (OUT_OF_RANGE) as it does for a Parquet DOUBLE.
  if (failed && floats.size > 0 && /out of range for the destination type FLOAT/i.test((failed as Error).message)) failed = await attempt(() => copy([]));
  // DuckDB types a CSV column from a sample; a value past the sample that does not fit (text
  // in a "numeric" column) fails the read. Read the feature columns as text (they parse row
  // by row, bad rows follow on_error) and keep the other columns' types; only if a
  // passthrough column breaks too is every column text.
  if (failed && readColumns.length > 0) failed = await attempt(() => copy(readColumns));
  if (failed) await guardCopy(file, path + '.tmp', () => copy('all'));
  await rename(path + '.tmp', path);
}

/** The `textColumns` this file has (read_csv refuses a type for a column it does not hold). */
async function presentTextColumns(db: Db, file: DatasetFile, options: StageOptions): Promise<string[]> {
  if (file.format !== 'csv' || !options.textColumns || options.textColumns.length === 0) return [];
  const columns = options.columns ?? (await describeFile(db, file));
  const computed = new Set((file.computed ?? []).map((c) => c.name));
  const names = new Set(columns.map((c) => c.name));
  return options.textColumns.filter((c) => names.has(c) && !computed.has(c));
}

/** The float-staged feature columns (`floatStagedColumns`) this CSV's reader types as numbers. */
async function floatColumns(db: Db, file: DatasetFile, options: StageOptions): Promise<Set<string>> {
  const wanted = floatStagedColumns(options.feeds, options.passthrough);
  if (wanted.size === 0) return wanted;
  const columns = options.columns ?? (await describeFile(db, file));
  return new Set(columns.filter((c) => wanted.has(c.name) && NUMBER_TYPES.has(c.type)).map((c) => c.name));
}

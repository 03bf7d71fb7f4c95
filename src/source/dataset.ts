/**
 * Finds the files an `input` names (a file, a glob, a directory read recursively, or a list of
 * them), their format, hive partition keys (partitions.ts), schema and row counts. Every read
 * goes through DuckDB with the path and partition values bound as parameters.
 */
import { readFile, readlink, realpath, stat, readdir } from 'node:fs/promises';
import { pathExists } from '../util/fs.js';
import { writeErrno, writeFailure } from '../util/writeFailure.js';
import { extname, join, resolve } from 'node:path';
import { BatchinferError } from '../errors.js';
import { clipQuoted } from '../util/clip.js';
import type { Db } from '../db/duckdb.js';
import { findCsvProblem } from './csvProblems.js';
import { DATA_FILE_NAMES, delimiterSql, kindOf, type Delimiter } from './fileKind.js';
import { globRoot, typePartitions, type PartitionTypeName, type PartitionValue, type RootedFile } from './partitions.js';
import { Params, quoteIdent } from '../util/sql.js';
import { readKeyOption } from '../db/parquetKeys.js';
import { cryptoFailure, isEncryptedParquet } from './encryptedParquet.js';

export type { DatasetFormat } from './fileKind.js';
import type { DatasetFormat } from './fileKind.js';

export interface ColumnInfo {
  name: string;
  /** DuckDB type, e.g. `DOUBLE`, `VARCHAR`, `DECIMAL(10,2)`. */
  type: string;
}

export interface DatasetFile {
  path: string;
  format: DatasetFormat;
  /** Its columns as validation read them (a CSV's: DuckDB's sniffed types), when it did. */
  columns?: readonly ColumnInfo[];
  /** CSV: the job's `csv_delimiter`; without it, the name's (`csvDelimiter`). */
  delimiter?: Delimiter;
  /** Hive partition keys of the `key=value` directories below the input's root (partitions.ts), read as columns. */
  partitions?: readonly PartitionValue[];
  /** The job's computed columns, after the file's own and its partition keys, in order, each able to read those before it (SQL checked and rendered by spec/sqlExpression.ts). */
  computed?: readonly ComputedColumn[];
  /**
   * The job's row filter (checked SQL, spec/sqlExpression.ts). A filtered file is read from its
   * staged copy (core/stageSource.ts), whose rows are numbered after the filter.
   */
  where?: string;
  /** A Parquet file encrypted with Parquet Modular Encryption: the DuckDB name of its key (db/parquetKeys.ts). */
  key?: string;
  /**
   * A staged copy of the rows a filter kept (a `where`, a window): its SOURCE_ROW column holds
   * each row's number in the input file, which messages and the rejects file give.
   */
  sourceRows?: true;
}

/** The column of a filtered staged copy holding each row's 0-based row number in its input file. */
export const SOURCE_ROW = 'batchinfer_source_row';

export interface ComputedColumn {
  name: string;
  /** Rendered by spec/sqlExpression.ts from the checked expression: never the user's text. */
  sql: string;
}

/** An input file as messages name it: its path, for a CSV the delimiter it is read with (to find a bad line), its `where` (rows are counted after it), and its key. */
export type NamedFile = Pick<DatasetFile, 'path' | 'delimiter' | 'where' | 'key'>;
export type ReadSource = string | NamedFile;

export interface OpenOptions {
  /** Read every CSV file with this delimiter instead of the one its name implies. */
  delimiter?: Delimiter;
  /** Files a glob or directory matched that are not inputs (the run's own files); a path named alone is never skipped. */
  skip?: (file: string) => Promise<boolean>;
  /** Partition keys typed as given instead of from their values (the job's partition_types). */
  partitionTypes?: Readonly<Record<string, PartitionTypeName>>;
  /** The files to read of those matched (a window's partitions), chosen before any is opened; it must keep one. */
  narrow?: (files: DatasetFile[]) => Promise<DatasetFile[]>;
  /** The DuckDB name of the key encrypted Parquet files are read with (db/parquetKeys.ts); default: the run's input key. */
  key?: string;
}

/** The delimiter a CSV file is read with: the job's, else `.tsv` a tab, else a comma. */
export function csvDelimiter(file: NamedFile): Delimiter {
  return file.delimiter ?? kindOf(file.path)?.delimiter ?? ',';
}

export interface Dataset {
  /** What the user wrote (after path resolution). */
  input: string;
  files: DatasetFile[];
  format: DatasetFormat;
  /** Schema of the first file; `checkSchemas` verifies the others agree on the columns used. */
  columns: ColumnInfo[];
  /** Files the glob or directory matched that `skip` left out. */
  skipped: string[];
  /** How many files the input matched: more than `files` when `narrow` left some out. */
  matched: number;
}

const GLOB_CHARS = /[*?[]/;

/**
 * A concrete file path as DuckDB's readers must receive it: they expand glob characters in
 * every path, so `run[1].csv` would read `run1.csv`. Each glob character becomes a
 * one-character class (`[` -> `[[]`) that matches only itself.
 */
export function literalPath(path: string): string {
  return path.replace(/[[*?]/g, (c) => `[${c}]`);
}

/** The DuckDB table function reading `file`, with its (literalPath) path bound to `placeholder`. */
export function readerSql(file: Pick<DatasetFile, 'format' | 'path' | 'delimiter' | 'key'>, placeholder: string, extra = ''): string {
  // DuckDB's hive partitioning off: it would read every key=value directory of the path, and
  // a file named alone under `dt=2026-11-29/` must not grow a `dt` column. The keys below an
  // input's root are added by `scanSql` (partitions.ts).
  // CSV is RFC 4180 (a comma, a tab for .tsv, or the job's csv_delimiter; double quotes, ""
  // inside quotes); only the column types are sniffed. A sniffed dialect turns a broken file
  // into a different table: one ragged line made DuckDB fall back to a single column named
  // after the whole header line, and an unclosed quote made it read every quote as text.
  if (file.format === 'parquet') return `read_parquet(${placeholder}, hive_partitioning = false${readKeyOption(file.key)}${extra})`;
  return csvReaderSql(file, placeholder, true, extra);
}

/**
 * The rows of `file` with its partition columns after its own, then its computed columns, and
 * only those its `where` keeps: `readerSql` with the path and each partition value bound on
 * `params` (values are typed by partitions.ts). Computed columns and the filter are SQL that
 * spec/sqlExpression.ts rendered from a checked expression.
 */
export function scanSql(file: Pick<DatasetFile, 'format' | 'path' | 'delimiter' | 'partitions' | 'computed' | 'where' | 'key'>, params: Params, extra = '', options: { rowNumbers?: boolean } = {}): string {
  const reader = numbered(file, readerSql(file, params.bind(literalPath(file.path)), options.rowNumbers && file.format === 'parquet' ? `${extra}, file_row_number = true` : extra), options.rowNumbers ?? false);
  const partitions = file.partitions ?? [];
  const keyed = partitions.length === 0 ? reader : `(SELECT *, ${partitions.map((p) => `CAST(${params.bind(p.value)} AS ${p.type}) AS ${quoteIdent(p.name)}`).join(', ')} FROM ${reader})`;
  // One level per computed column, in order: each may read the ones before it.
  const withComputed = (file.computed ?? []).reduce((from, c) => `(SELECT *, ${c.sql} AS ${quoteIdent(c.name)} FROM ${from})`, keyed);
  return file.where === undefined ? withComputed : `(SELECT * FROM ${withComputed} WHERE ${file.where})`;
}

/**
 * `rowNumbers`: the reader's rows with `file_row_number` (0-based, before any filter). Parquet's
 * reader gives it; a CSV's rows are numbered in the order DuckDB reads them, which is the
 * file's (insertion order is kept).
 */
function numbered(file: Pick<DatasetFile, 'format'>, reader: string, rowNumbers: boolean): string {
  return rowNumbers && file.format !== 'parquet' ? `(SELECT row_number() OVER () - 1 AS file_row_number, * FROM ${reader})` : reader;
}

/**
 * Whether the file's computed columns or `where` read `column`: their SQL (rendered by
 * spec/sqlExpression.ts) names every column quoted. (A string literal holding the same quoted
 * name only makes this true for a column they do not read.) Such a column keeps the type the
 * reader gives it: as text it would not bind in `amount / 2`.
 */
export function readByExpressions(file: Pick<DatasetFile, 'computed' | 'where'>, column: string): boolean {
  const quoted = quoteIdent(column);
  return [...(file.computed ?? []).map((c) => c.sql), file.where ?? ''].some((sql) => sql.includes(quoted));
}

function csvReaderSql(file: NamedFile, placeholder: string, header: boolean, extra = ''): string {
  return `read_csv(${placeholder}, header = ${header}, delim = ${delimiterSql(csvDelimiter(file))}, quote = '"', escape = '"', auto_detect = true, hive_partitioning = false${extra})`;
}

/**
 * Resolves `input` to its files and reads the first file's schema. A list's entries are
 * concatenated in the order given, each entry's files sorted by path; a file two entries
 * name is read once, where it first comes.
 */
export async function openDataset(db: Db, inputs: string | readonly string[], options: OpenOptions = {}): Promise<Dataset> {
  const input = typeof inputs === 'string' ? inputs : inputs.join(', ');
  const rooted: RootedFile[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const entry of typeof inputs === 'string' ? [inputs] : inputs) {
    const listed = await listInputFiles(db, entry, options.skip);
    skipped.push(...listed.skipped.filter((f) => !skipped.includes(f)));
    for (const path of listed.paths) {
      if (seen.has(resolve(path))) continue;
      seen.add(resolve(path));
      rooted.push({ root: listed.root, path });
    }
  }
  const partitions = typePartitions(rooted, options.partitionTypes);
  const paths = rooted.map((f) => f.path);
  const all = paths.map((path, i): DatasetFile => {
    const format = formatOf(path);
    const file: DatasetFile = format === 'csv' && options.delimiter ? { path, format, delimiter: options.delimiter } : { path, format };
    if (partitions[i]!.length > 0) file.partitions = partitions[i];
    return file;
  });
  const files = options.narrow ? await options.narrow(all) : all;
  // With a key, the encrypted files are found before any is read: DuckDB refuses a key for a
  // plain file. Without one, DuckDB's refusal of an encrypted file is KEY_MISSING (readFailure).
  const key = options.key ?? db.parquetKeys.input;
  if (key) for (const file of files) if (file.format === 'parquet' && (await isEncryptedParquet(file.path))) file.key = key;
  const formats = new Set(all.map((f) => f.format));
  if (formats.size > 1) {
    throw new BatchinferError('INPUT_INVALID', `input ${input} mixes Parquet and CSV files`, {
      expected: 'one format',
      actual: [...formats].join(' and '),
    });
  }
  const first: DatasetFile = files[0]!;
  const columns = await describeFile(db, first);
  first.columns = columns;
  return { input, files, format: first.format, columns, skipped, matched: all.length };
}

/** Reads a file's column names and types. */
export async function describeFile(db: Db, file: DatasetFile): Promise<ColumnInfo[]> {
  await checkNotEmpty(file);
  const params = new Params();
  const rows = await guardRead(file, () => db.query<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${scanSql(file, params)}`, params.values));
  const columns = rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  checkPartitionNames(file, columns.slice(0, columns.length - (file.computed?.length ?? 0)));
  if (file.format === 'csv' && kindOf(file.path)?.compression !== 'none') await checkCompressedNotEmpty(db, file, columns);
  return columns;
}

/** Row count of a file (Parquet: from the footer; CSV: a full scan). */
export async function countRows(db: Db, file: DatasetFile): Promise<number> {
  const n = await guardRead(file, () => db.exec(`SELECT count(*) FROM ${readerSql(file, '$1')}`, [literalPath(file.path)]));
  return Number(n);
}

/** Row groups of a Parquet file (for `inspect`). */
export async function parquetRowGroups(db: Db, path: string): Promise<{ id: number; rows: number }[]> {
  // parquet_metadata takes no key: an encrypted file's row groups are not listed.
  if (await isEncryptedParquet(path)) return [];
  const rows = await guardRead(path, () =>
    db.query<{ row_group_id: bigint; row_group_num_rows: bigint }>(
      'SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata($1) ORDER BY row_group_id',
      [literalPath(path)],
    ),
  );
  return rows.map((r) => ({ id: Number(r.row_group_id), rows: Number(r.row_group_num_rows) }));
}

/**
 * Row groups of a Parquet file whose footer claims more rows than a column chunk holds values
 * (a corrupt or tampered footer: DuckDB then reads the file short without an error).
 */
export async function overclaimingRowGroups(db: Db, path: string): Promise<{ id: number; rows: number; values: number }[]> {
  // parquet_metadata takes no key; an encrypted footer is authenticated (AES-GCM) anyway.
  if (await isEncryptedParquet(path)) return [];
  const rows = await guardRead(path, () =>
    db.query<{ id: bigint; rows: bigint; values: bigint }>(
      'SELECT row_group_id AS id, any_value(row_group_num_rows) AS rows, min(num_values) AS values FROM parquet_metadata($1) GROUP BY row_group_id HAVING min(num_values) < any_value(row_group_num_rows) ORDER BY row_group_id',
      [literalPath(path)],
    ),
  );
  return rows.map((r) => ({ id: Number(r.id), rows: Number(r.rows), values: Number(r.values) }));
}

/** A partition key that is also a column of the file: which one a row means is unclear. */
function checkPartitionNames(file: DatasetFile, columns: readonly ColumnInfo[]): void {
  const keys = new Set((file.partitions ?? []).map((p) => p.name));
  const own = columns.slice(0, columns.length - keys.size).find((c) => keys.has(c.name));
  if (!own) return;
  throw new BatchinferError('INPUT_INVALID', `input file ${file.path} holds a column ${own.name}, which is also a partition key of its directories (${own.name}=...)`, {
    expected: `partition key ${own.name} only in the directory names`,
    actual: `a column ${own.name} in the file too`,
  });
}

/** The files an input names; `root` is the directory whose `key=value` subdirectories are partitions (null: a file named alone). */
async function listInputFiles(db: Db, input: string, skip?: (file: string) => Promise<boolean>): Promise<{ paths: string[]; skipped: string[]; root: string | null }> {
  // An existing path is taken literally even if its name holds glob characters (`run[1].csv`).
  if (GLOB_CHARS.test(input) && !(await pathExists(input))) {
    const rows = await db.query<{ file: string }>('SELECT file FROM glob($1) ORDER BY file', [input]);
    const { kept: files, skipped } = await leaveOut(rows.map((r) => r.file).filter((f) => kindOf(f) !== null), skip);
    if (files.length === 0) {
      throw new BatchinferError('INPUT_MISSING', `input glob ${input} matches no Parquet or CSV file${skipped.length > 0 ? ' but the run\'s own files' : ''}`, {
        expected: `at least one ${DATA_FILE_NAMES} file`,
        actual: rows.length === 0 ? 'no files' : skipped.length > 0 ? `${skipped.length} files this run writes` : `${rows.length} files of other types`,
      });
    }
    return { paths: files, skipped, root: resolve(globRoot(input)) };
  }
  let info;
  try {
    info = await stat(input);
  } catch (err) {
    throw await missingInput(input, err);
  }
  if (info.isDirectory()) {
    const { kept, skipped } = await leaveOut(await dataFilesBelow(resolve(input)), skip);
    if (kept.length === 0) {
      throw new BatchinferError('INPUT_MISSING', `input directory ${input} holds no Parquet or CSV file${skipped.length > 0 ? ' but the run\'s own files' : ''}`, {
        expected: `at least one ${DATA_FILE_NAMES} file`,
        actual: skipped.length > 0 ? `${skipped.length} files this run writes` : 'none',
      });
    }
    return { paths: kept, skipped, root: resolve(input) };
  }
  formatOf(input);
  return { paths: [input], skipped: [], root: null };
}

/**
 * Every data file below `dir`, recursively, sorted by path. Names starting with `_` or `.`
 * are left out at every level, as Spark and Hive do (`_SUCCESS`, `_temporary/`, `.staging`).
 */
export async function dataFilesBelow(dir: string): Promise<string[]> {
  const found: string[] = [];
  // A symlink back to a directory above would walk forever: each real directory is read once.
  const seen = new Set<string>();
  const walk = async (at: string): Promise<void> => {
    const real = await realpath(at);
    if (seen.has(real)) return;
    seen.add(real);
    const entries = await readdir(at, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      throw new BatchinferError('INPUT_INVALID', `input directory ${at} cannot be read: ${err.code === 'EACCES' ? 'permission denied' : err.message}`, { expected: 'a readable directory', actual: err.code ?? err.message });
    });
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name.startsWith('_')) continue;
      const path = join(at, entry.name);
      // A symlink counts as what it points to (a dangling one as neither).
      const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(path).then((s) => s.isDirectory(), () => false)));
      if (isDir) await walk(path);
      else if (kindOf(entry.name) !== null) found.push(path);
    }
  };
  await walk(dir);
  return found.sort();
}

async function leaveOut(files: string[], skip?: (file: string) => Promise<boolean>): Promise<{ kept: string[]; skipped: string[] }> {
  const kept: string[] = [];
  const skipped: string[] = [];
  for (const file of files) (skip && (await skip(file)) ? skipped : kept).push(file);
  return { kept, skipped };
}

/** A path that cannot be stat'ed: missing, a symlink loop, or a dangling symlink, said as such. */
async function missingInput(input: string, err: unknown): Promise<BatchinferError> {
  const code = (err as NodeJS.ErrnoException).code;
  const link = await readlink(input).catch(() => null);
  if (code === 'ENOENT' && link !== null) return new BatchinferError('INPUT_MISSING', `input ${input} is a symlink to ${link}, which does not exist`, { expected: 'a file, glob or directory', actual: `a dangling symlink to ${link}` });
  if (code === 'ELOOP') return new BatchinferError('INPUT_MISSING', `input ${input} is a symlink loop`, { expected: 'a file, glob or directory', actual: 'symlinks that lead back to themselves' });
  if (code === 'EACCES') return new BatchinferError('INPUT_MISSING', `input ${input} cannot be read: permission denied`, { expected: 'a readable file, glob or directory', actual: 'permission denied' });
  return new BatchinferError('INPUT_MISSING', `input ${input} does not exist`, { expected: 'a file, glob or directory', actual: 'nothing at that path' });
}

function formatOf(path: string): DatasetFormat {
  const kind = kindOf(path);
  if (!kind) {
    throw new BatchinferError('INPUT_INVALID', `input ${path} is neither Parquet nor CSV`, {
      expected: DATA_FILE_NAMES,
      actual: extname(path) || 'no extension',
    });
  }
  return kind.format;
}

/**
 * An empty file (0 bytes, or a CSV of blank lines) has no schema: DuckDB would call it a
 * CSV with one column `column0`, and the job would fail on columns it cannot find.
 */
async function checkNotEmpty(file: DatasetFile): Promise<void> {
  let size: number;
  try {
    size = (await stat(file.path)).size;
  } catch {
    return; // DuckDB reports what is wrong with the path.
  }
  const what = file.format === 'csv' ? 'a header line naming the columns' : 'a Parquet file';
  if (size === 0) throw new BatchinferError('INPUT_INVALID', `input file ${file.path} is empty (0 bytes)`, { expected: what, actual: '0 bytes' });
  if (file.format === 'csv' && kindOf(file.path)?.compression === 'none' && size <= 65536) {
    const text = await readFile(file.path, 'latin1');
    if (text.trim() === '') throw new BatchinferError('INPUT_INVALID', `input file ${file.path} holds no header line`, { expected: what, actual: `${size} bytes of blank lines` });
  }
}

/**
 * A compressed CSV's bytes do not say whether its text is empty: DuckDB reads empty (or blank)
 * text as one VARCHAR column named `column0`, which a real header could name too. Read
 * without a header, a file with a header line has at least that one row that is not blank.
 */
async function checkCompressedNotEmpty(db: Db, file: DatasetFile, columns: readonly ColumnInfo[]): Promise<void> {
  if (columns.length !== 1 || columns[0]!.name !== 'column0') return;
  const rows = await guardRead(file, () => db.exec(`SELECT count(*) FROM ${csvReaderSql(file, '$1', false)} WHERE trim(CAST(column0 AS VARCHAR)) <> ''`, [literalPath(file.path)]));
  if (Number(rows) === 0) throw new BatchinferError('INPUT_INVALID', `input file ${file.path} holds no header line`, { expected: 'a header line naming the columns', actual: 'no text once decompressed' });
}

/** Longest excerpt of DuckDB's own words kept in a message (they may quote whole lines of data). */
const MAX_DETAIL = 300;

/** Turns DuckDB read failures into INPUT_INVALID naming the file (and the line, for CSV). */
export async function guardRead<T>(source: ReadSource, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw await readFailure(source, err);
  }
}

/** The error a failed read of `source` stands for: INPUT_INVALID naming the file (and a CSV's line). */
export async function readFailure(source: ReadSource, err: unknown): Promise<BatchinferError> {
  if (err instanceof BatchinferError) return err;
  const file = typeof source === 'string' ? { path: source } : source;
  const path = file.path;
  const text = err instanceof Error ? err.message : String(err);
  const first = clip(text.split('\n')[0] ?? text);
  const crypto = cryptoFailure(file, text, err);
  if (crypto) return crypto;
  if (kindOf(path)?.format !== 'csv') return new BatchinferError('INPUT_INVALID', `cannot read ${path}: ${first}`, { cause: err });
  // DuckDB's CSV errors are many lines (the line, the reason, fixes, the options), and the
  // sniffer's name no line: find the first structural problem ourselves.
  const problem = await findCsvProblem(path, csvDelimiter(file)).catch(() => null);
  if (problem) return new BatchinferError('INPUT_INVALID', `cannot read ${path}: ${problem.message}`, { expected: problem.expected, actual: problem.actual, cause: err });
  const line = /CSV Error on Line: (\d+)/.exec(text);
  const reason = line ? duckdbCsvReason(text) : undefined;
  const message = line ? `line ${line[1]}${reason ? `: ${reason}` : ''}` : first;
  return new BatchinferError('INPUT_INVALID', `cannot read ${path}: ${message}`, { cause: err });
}

/**
 * A COPY that reads an input and writes a file: a failure naming the file it writes, or a
 * full or read-only disk, is the output's (exit 73), anything else the input's (`guardRead`).
 * A full disk during a part's COPY was reported as an unreadable input.
 */
export async function guardCopy<T>(input: ReadSource, targetPath: string, copy: () => Promise<T>): Promise<T> {
  try {
    return await copy();
  } catch (err) {
    throw await copyFailure(input, targetPath, err);
  }
}

/** Failures a COPY may meet reading its input as well as writing its target. */
const UNSURE_ERRNOS = new Set(['EACCES', 'EPERM', 'EIO']);

/** The error a failed COPY from `input` to `targetPath` stands for (see `guardCopy`). */
export async function copyFailure(input: ReadSource, targetPath: string, err: unknown): Promise<BatchinferError> {
  if (err instanceof BatchinferError) return err;
  const text = err instanceof Error ? err.message : String(err);
  // A denied permission may be the input's; a full disk or the open-files limit is the run's.
  const errno = writeErrno(err);
  if (errno && !UNSURE_ERRNOS.has(errno)) return writeFailure(targetPath, err)!;
  if (text.includes(targetPath)) {
    return writeFailure(targetPath, err) ?? new BatchinferError('OUTPUT_UNWRITABLE', `cannot write ${targetPath}: ${clip(text.split('\n')[0] ?? text)}`, { expected: 'a writable output directory with free space', actual: targetPath, cause: err });
  }
  return readFailure(input, err);
}

/** The reason in a DuckDB CSV error: the last line before its "Possible fixes:" (or "Possible Solution:"). */
function duckdbCsvReason(text: string): string | undefined {
  const lines = text.split('\n');
  const fixes = lines.findIndex((l) => /^Possible (fixes|solution)/i.test(l));
  if (fixes < 0) return undefined;
  const before = lines.slice(1, fixes).map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('Original Line:'));
  const reason = before.at(-1);
  return reason ? clip(reason.replace(/\.$/, '')) : undefined;
}

/** One line of a library's message, its quoted values clipped (util/clip.ts), at most MAX_DETAIL characters. */
function clip(text: string): string {
  const line = clipQuoted(text.replace(/[\r\n]+/g, ' '));
  return line.length > MAX_DETAIL ? line.slice(0, MAX_DETAIL) + '...' : line;
}

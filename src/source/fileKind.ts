/**
 * What a data file's name says it holds and how DuckDB reads it: Parquet (`.parquet`, `.pq`),
 * or CSV with commas (`.csv`) or tabs (`.tsv`), each may be compressed (`.gz`, `.zst`: DuckDB
 * decompresses by the name).
 *
 * @example
 *   kindOf('events/2026-11-29.tsv.gz'); // { format: 'csv', delimiter: '\t', compression: 'gzip' }
 */
import { basename, extname } from 'node:path';
/** The formats of input files. */
export type DatasetFormat = 'parquet' | 'csv';

/** The field delimiters batchinfer reads CSV with: the name's (`,` or a tab), or the job's `csv_delimiter`. */
export type Delimiter = ',' | ';' | '|' | '\t';

/**
 * Each delimiter's name (for messages and for typing it: a tab is awkward in a shell) and its
 * SQL string literal (DuckDB reads `'\t'` as a tab): SQL holds only these, never the user's text.
 */
const DELIMITER_FORMS: Record<Delimiter, { name: string; sql: string }> = {
  ',': { name: 'comma', sql: "','" },
  ';': { name: 'semicolon', sql: "';'" },
  '|': { name: 'pipe', sql: "'|'" },
  '\t': { name: 'tab', sql: "'\\t'" },
};
export const DELIMITERS = Object.keys(DELIMITER_FORMS) as Delimiter[];

/** What a job may write for a delimiter (`csv_delimiter`, `--csv-delimiter`): the character, or its name. */
export const DELIMITER_WORDS: Readonly<Record<string, Delimiter>> = Object.fromEntries(DELIMITERS.flatMap((d) => [[d, d], [DELIMITER_FORMS[d].name, d]]));
export const DELIMITER_EXPECTED = 'must be one of , ; | or a tab (or comma, semicolon, pipe, tab)';

export function delimiterSql(delimiter: Delimiter): string {
  return DELIMITER_FORMS[delimiter].sql;
}

/** `comma`, `semicolon`, `pipe` or `tab`, for messages. */
export function delimiterName(delimiter: Delimiter): string {
  return DELIMITER_FORMS[delimiter].name;
}

/** How a data file's name says to read it. */
export interface FileKind {
  format: DatasetFormat;
  /** CSV only: `,` for `.csv`, a tab for `.tsv`. */
  delimiter: Delimiter;
  /** CSV only: DuckDB decompresses `.gz` and `.zst` by the name. */
  compression: 'none' | 'gzip' | 'zstd';
}

const KINDS: Record<string, Omit<FileKind, 'compression'>> = {
  '.parquet': { format: 'parquet', delimiter: ',' },
  '.pq': { format: 'parquet', delimiter: ',' },
  '.csv': { format: 'csv', delimiter: ',' },
  '.tsv': { format: 'csv', delimiter: '\t' },
};
const COMPRESSIONS: Record<string, FileKind['compression']> = { '.gz': 'gzip', '.zst': 'zstd' };
/** The names `kindOf` reads, for messages. */
export const DATA_FILE_NAMES = '.parquet, .csv or .tsv (.csv and .tsv may end in .gz or .zst)';

/** What a file's name says it holds (`x.parquet`, `x.csv`, `x.tsv.gz`), or null for another file. */
export function kindOf(path: string): FileKind | null {
  let name = basename(path).toLowerCase();
  const compression = COMPRESSIONS[extname(name)] ?? 'none';
  if (compression !== 'none') name = name.slice(0, -extname(name).length);
  const kind = KINDS[extname(name)];
  if (!kind || (kind.format === 'parquet' && compression !== 'none')) return null;
  return { ...kind, compression };
}

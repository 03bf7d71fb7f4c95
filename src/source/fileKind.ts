/**
 * What a data file's name says it holds and how DuckDB reads it: Parquet (`.parquet`, `.pq`),
 * or CSV with commas (`.csv`) or tabs (`.tsv`), each may be compressed (`.gz`, `.zst`: DuckDB
 * decompresses by the name).
 *
 * @example
 *   kindOf('events/2026-11-29.tsv.gz'); // { format: 'csv', delimiter: '\t', compression: 'gzip' }
 */
import { basename, extname } from 'node:path';
import type { DatasetFormat } from './dataset.js';

/** The field delimiters batchinfer reads CSV with: the name's (`,` or a tab), or the job's `csv_delimiter`. */
export type Delimiter = ',' | ';' | '|' | '\t';
export const DELIMITERS: readonly Delimiter[] = [',', ';', '|', '\t'];

/** What a job may write for a delimiter (`csv_delimiter`, `--csv-delimiter`): the character, or its name (a tab is awkward to type in a shell). */
export const DELIMITER_WORDS: Readonly<Record<string, Delimiter>> = { ',': ',', ';': ';', '|': '|', '\t': '\t', comma: ',', semicolon: ';', pipe: '|', tab: '\t' };
export const DELIMITER_EXPECTED = 'must be one of , ; | or a tab (or comma, semicolon, pipe, tab)';

/** Each delimiter as a SQL string literal (DuckDB reads `'\t'` as a tab): SQL holds only these, never the user's text. */
const DELIMITER_SQL: Record<Delimiter, string> = { ',': "','", ';': "';'", '|': "'|'", '\t': "'\\t'" };
const DELIMITER_NAMES: Record<Delimiter, string> = { ',': 'comma', ';': 'semicolon', '|': 'pipe', '\t': 'tab' };

export function delimiterSql(delimiter: Delimiter): string {
  return DELIMITER_SQL[delimiter];
}

/** `comma`, `semicolon`, `pipe` or `tab`, for messages. */
export function delimiterName(delimiter: Delimiter): string {
  return DELIMITER_NAMES[delimiter];
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

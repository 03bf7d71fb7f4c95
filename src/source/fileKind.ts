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

/** How a data file's name says to read it. */
export interface FileKind {
  format: DatasetFormat;
  /** CSV only: `,` for `.csv`, a tab for `.tsv`. */
  delimiter: ',' | '\t';
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

/**
 * The format of a file output follows its name: `.parquet`, `.csv` (with a header line) or
 * `.jsonl` (one JSON object a line). Parts are staged as Parquet whatever the format, so
 * resume and the atomic commit work alike; the commit writes the requested format.
 */
import { extname } from 'node:path';

export type OutputFormat = 'parquet' | 'csv' | 'jsonl';

const BY_EXTENSION: Record<string, OutputFormat> = { '.parquet': 'parquet', '.csv': 'csv', '.jsonl': 'jsonl' };

export const OUTPUT_ENDINGS = Object.keys(BY_EXTENSION);

/** The format a file output's name asks for, or null for a name with another ending. */
export function outputFormatOf(path: string): OutputFormat | null {
  return BY_EXTENSION[extname(path).toLowerCase()] ?? null;
}

/**
 * DuckDB's COPY options of every Parquet file a run writes (parts, outputs, quarantine files):
 * zstd at level 1 writes a run's predictions faster than the default level 3, and no larger
 * (measured in docs/performance.md, "The part COPY's codec").
 */
export const PARQUET_OPTIONS = 'FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1';

/** DuckDB's COPY options writing `format`. */
export function copyOptions(format: OutputFormat): string {
  if (format === 'csv') return "FORMAT csv, HEADER true, DELIMITER ','";
  if (format === 'jsonl') return 'FORMAT json';
  return PARQUET_OPTIONS;
}

/**
 * How many of a CSV column's first values read as numbers. DuckDB types a CSV column from a
 * sample: a column it calls VARCHAR may be numbers with a few words among them (each a bad
 * row), or text throughout (every row bad): validation tells the two apart before a run.
 */
import type { Db } from '../db/duckdb.js';
import { Params, quoteIdent } from '../util/sql.js';
import { guardRead, scanSql, type DatasetFile } from './dataset.js';

/** Rows DuckDB's CSV sniffer reads to type the columns. */
export const CSV_SAMPLE_ROWS = 20_480;

export interface NumberSample {
  column: string;
  /** Non-NULL values among the first CSV_SAMPLE_ROWS rows. */
  values: number;
  /** Those that read as a number (DOUBLE). */
  numbers: number;
}

export async function sampleNumbers(db: Db, file: DatasetFile, columns: readonly string[]): Promise<NumberSample[]> {
  if (columns.length === 0) return [];
  const select = columns.map((c, i) => `count(${quoteIdent(c)}) AS v${i}, count(TRY_CAST(${quoteIdent(c)} AS DOUBLE)) AS n${i}`).join(', ');
  const params = new Params();
  const [row] = await guardRead(file, () => db.query<Record<string, bigint>>(`SELECT ${select} FROM (SELECT * FROM ${scanSql(file, params)} LIMIT ${CSV_SAMPLE_ROWS})`, params.values));
  return columns.map((column, i) => ({ column, values: Number(row?.[`v${i}`] ?? 0), numbers: Number(row?.[`n${i}`] ?? 0) }));
}

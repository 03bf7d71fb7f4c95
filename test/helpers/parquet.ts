/**
 * Reads what the CLI wrote back into plain JS rows with DuckDB (`@duckdb/node-api`), so
 * tests check outputs the way a downstream reader would see them.
 *
 * @example
 *   const { columns, rows } = await readParquet('/tmp/x/out.parquet');
 *   rows[0].prediction; // 'legit'
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

export type Row = Record<string, unknown>;

export interface Table {
  /** Column names and DuckDB types, in file order. */
  columns: { name: string; type: string }[];
  rows: Row[];
  /** The files read, in the order their rows were concatenated. */
  files: string[];
}

/** Runs `fn` with a throwaway in-memory DuckDB; `query` returns rows as JS objects. */
export async function withDuckDb<T>(fn: (query: (sql: string, params?: string[]) => Promise<Row[]>) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    return await fn(async (sql, params = []) => (await conn.runAndReadAll(sql, params)).getRowObjectsJS() as Row[]);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** The files of a directory with one of `extensions`, in name order (dot-files skipped). */
export async function filesIn(dir: string, extensions: readonly string[] = ['.parquet']): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => !n.startsWith('.') && extensions.includes(extname(n).toLowerCase()));
  return names.sort().map((n) => join(dir, n));
}

/**
 * Reads a Parquet file, or every `.parquet` file of a directory concatenated in name order
 * (each file is read on its own, so the concatenation order is ours, not DuckDB's).
 */
export async function readParquet(path: string): Promise<Table> {
  const files = (await stat(path)).isDirectory() ? await filesIn(path) : [path];
  return readFiles(files);
}

/**
 * Reads an input the way a job names it (a .parquet/.csv file, a directory or a glob) into
 * rows, file after file in path order. Used for the expected side of a test.
 */
export async function readInput(input: string): Promise<Table> {
  let files: string[];
  if (/[*?[]/.test(input)) {
    files = await withDuckDb(async (q) => (await q('SELECT file FROM glob($1) ORDER BY file', [input])).map((r) => String(r['file'])));
  } else if ((await stat(input)).isDirectory()) {
    files = await filesIn(input, ['.parquet', '.csv']);
  } else {
    files = [input];
  }
  return readFiles(files);
}

async function readFiles(files: string[]): Promise<Table> {
  return withDuckDb(async (q) => {
    let columns: Table['columns'] = [];
    const rows: Row[] = [];
    for (const [i, file] of files.entries()) {
      const reader = extname(file).toLowerCase() === '.csv' ? 'read_csv($1, header = true)' : 'read_parquet($1)';
      const described = (await q(`DESCRIBE SELECT * FROM ${reader}`, [file])).map((r) => ({ name: String(r['column_name']), type: String(r['column_type']) }));
      if (i === 0) columns = described;
      else if (JSON.stringify(described) !== JSON.stringify(columns)) throw new Error(`readParquet: ${file} has other columns than ${files[0]}`);
      rows.push(...(await q(`SELECT * FROM ${reader}`, [file])));
    }
    return { columns, rows, files };
  });
}

/** Parquet metadata of a file: its row groups' row counts. */
export async function rowGroupSizes(file: string): Promise<number[]> {
  return withDuckDb(async (q) =>
    (await q('SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata($1) ORDER BY row_group_id', [file])).map((r) => Number(r['row_group_num_rows'])),
  );
}

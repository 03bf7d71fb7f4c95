/**
 * A scheduled job whose `window_column` is a hive partition key (`dt`) reads only the files
 * whose key value lies in the window: each file holds one value of the key, so DuckDB judges
 * the file by that value, with the comparison the staging copy's row filter makes. The files
 * left out are not read, stamped, fingerprinted or checked for changes: a window's inputs
 * are its own partitions, and a new day's partition does not change yesterday's window.
 */
import type { Db } from '../db/duckdb.js';
import type { Window } from '../schedule/window.js';
import type { DatasetFile } from '../source/dataset.js';
import { Params } from '../util/sql.js';

export interface WindowFilter {
  column: string;
  window: Window;
}

/**
 * The files of `files` the window may keep rows of, in order. Should it keep none, the first
 * file is kept all the same (its row filter keeps none of its rows): a window's empty output
 * and rejects files take their columns from a file read.
 */
export async function windowFiles(db: Db, files: readonly DatasetFile[], filter: WindowFilter): Promise<DatasetFile[]> {
  const kept: DatasetFile[] = [];
  for (const file of files) if (await windowMayKeep(db, file, filter)) kept.push(file);
  return kept.length === 0 && files.length > 0 ? [files[0]!] : kept;
}

/**
 * False when `filter.column` is a DATE partition key of `file` whose value lies outside the
 * window (NULL does too). A key of another type is no time: validation refuses it as a
 * window_column (SCHEMA_MISMATCH), so it prunes nothing here.
 */
export async function windowMayKeep(db: Db, file: DatasetFile, filter: WindowFilter): Promise<boolean> {
  const key = file.partitions?.find((p) => p.name === filter.column);
  if (!key || key.type !== 'DATE') return true;
  const params = new Params();
  const value = `CAST(${params.bind(key.value)} AS ${key.type})`;
  const start = params.bind(filter.window.start.toISOString());
  const end = params.bind(filter.window.end.toISOString());
  const [row] = await db.query<{ keep: boolean | null }>(`SELECT ${value} >= CAST(${start} AS TIMESTAMPTZ) AND ${value} < CAST(${end} AS TIMESTAMPTZ) AS keep`, params.values);
  return row?.keep === true;
}

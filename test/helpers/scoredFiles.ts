/**
 * Small Parquet files shaped like batchinfer's outputs (passthrough columns, prediction,
 * confidence, prob_<label> as FLOAT), written by DuckDB from rows given in the test, so
 * metrics can be checked on worked examples.
 *
 * @example
 *   await writeTable(path, [['truth', 'VARCHAR'], ['prob_a', 'FLOAT']], [['a', 0.75]]);
 */
import { join } from 'node:path';
import { withDuckDb } from './parquet.js';

export type Cell = string | number | boolean | null;

function literal(v: Cell): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  // Typed DOUBLE: VALUES would type 0.25 as a DECIMAL(3,2) and round the rows after it.
  if (typeof v === 'number') return Number.isFinite(v) ? `CAST(${v} AS DOUBLE)` : `CAST('${v}' AS DOUBLE)`;
  return String(v);
}

/** Writes `rows` as a Parquet (or, by the file name, CSV) file with these column names and DuckDB types. */
export async function writeTable(path: string, columns: readonly (readonly [string, string])[], rows: readonly (readonly Cell[])[]): Promise<string> {
  const select = columns.map(([name, type], i) => `CAST(col${i} AS ${type}) AS "${name.replace(/"/g, '""')}"`).join(', ');
  const values = rows.map((r) => `(${r.map(literal).join(', ')})`).join(',\n');
  const format = path.endsWith('.csv') ? 'csv' : 'parquet';
  await withDuckDb(async (q) => {
    const source = rows.length > 0 ? `(VALUES ${values}) AS t(${columns.map((_, i) => `col${i}`).join(', ')})` : `(SELECT ${columns.map((_, i) => `NULL AS col${i}`).join(', ')} LIMIT 0)`;
    await q(`COPY (SELECT ${select} FROM ${source}) TO '${path.replace(/'/g, "''")}' (FORMAT ${format})`);
  });
  return path;
}

export interface BinaryRow {
  label: string | null;
  /** p(second class). */
  p: number;
  /** Defaults to the class with the higher probability (the first on a tie). */
  prediction?: string;
  group?: string | null;
}

/**
 * A binary output of classes `classes[0]`, `classes[1]` as batchinfer writes it: prob_ columns
 * FLOAT (p and 1 - p), prediction and confidence, plus `truth` (and `grp`) passthrough columns.
 */
export async function writeBinary(dir: string, rows: readonly BinaryRow[], classes: readonly [string, string] = ['legit', 'fraud'], name = 'scored.parquet'): Promise<string> {
  const columns: [string, string][] = [['truth', 'VARCHAR'], ['grp', 'VARCHAR'], ['prediction', 'VARCHAR'], ['confidence', 'FLOAT'], [`prob_${classes[0]}`, 'FLOAT'], [`prob_${classes[1]}`, 'FLOAT']];
  return writeTable(join(dir, name), columns, rows.map((r) => {
    const prediction = r.prediction ?? (r.p > 1 - r.p ? classes[1] : classes[0]);
    return [r.label, r.group ?? null, prediction, Math.max(r.p, 1 - r.p), 1 - r.p, r.p];
  }));
}

/** A multiclass output: prob_<class> per class, prediction the argmax (first on a tie) unless given. */
export async function writeMulticlass(dir: string, classes: readonly string[], rows: readonly { label: string | null; probs: readonly number[]; prediction?: string }[], name = 'multi.parquet'): Promise<string> {
  const columns: [string, string][] = [['truth', 'VARCHAR'], ['prediction', 'VARCHAR'], ['confidence', 'FLOAT'], ...classes.map((c): [string, string] => [`prob_${c}`, 'FLOAT'])];
  return writeTable(join(dir, name), columns, rows.map((r) => {
    const best = r.probs.indexOf(Math.max(...r.probs));
    return [r.label, r.prediction ?? classes[best]!, r.probs[best]!, ...r.probs];
  }));
}

/** A seeded generator of numbers in [0, 1), for reproducible random tables (the fixtures' own mulberry32). */
export { mulberry32 as random } from '../../scripts/fixtures/rng.js';

/**
 * `compare`: an output against a golden file, row by row on a key (a FULL OUTER JOIN in
 * DuckDB) or by position (row_number in file order). Every column both files have is
 * compared (columnDiff.ts); columns of one file only and columns whose type changed are
 * reported and make the files different, as do missing rows (in EXPECTED only), extra rows
 * (in ACTUAL only) and differing rows. A key that is not unique in either file is an error.
 *
 * @example
 *   const report = await compareFiles('out.parquet', 'golden.parquet', { key: ['txn_id'] });
 *   report.equal;
 */
import { Db } from '../db/duckdb.js';
import { BatchinferError } from '../errors.js';
import { guardRead, literalPath, openDataset, readerSql, type Dataset } from '../source/dataset.js';
import { quoteIdent } from '../util/sql.js';
import { absDiffSql, diffSql, type ColumnPair } from './columnDiff.js';
import { jsonValue } from '../util/jsonValue.js';

export const DEFAULT_TOLERANCE = 1e-6;
export const EXAMPLES = 10;
const POS = '__batchinfer_row';
const DIFF_TABLE = 'batchinfer_cmp_diff';

export interface CompareOptions {
  /** Key columns (unique in both files); without it, `byPosition` must be set. */
  key?: readonly string[];
  byPosition?: boolean;
  /** Absolute tolerance for floats (default 1e-6). */
  tolerance?: number;
  /** Relative tolerance for floats, of the expected value (default 0). */
  rtol?: number;
}

export type KeyValues = Record<string, unknown>;

export interface CompareReport {
  equal: boolean;
  /** Key columns; null when compared by position (example keys are then `{ row: N }`, from 1). */
  key: string[] | null;
  tolerance: { absolute: number; relative: number };
  rows: { actual: number; expected: number; matched: number; missing: number; extra: number; differing: number };
  columns: { compared: string[]; only_in_actual: string[]; only_in_expected: string[]; type_differences: { column: string; actual: string; expected: string }[] };
  /** Columns with at least one differing row: how many, and the largest |actual - expected| of a number column. */
  differences: { column: string; rows: number; max_abs_diff: number | string | null }[];
  /** The first differing rows in key order, with each differing column's two values. */
  examples: { key: KeyValues; columns: Record<string, { actual: unknown; expected: unknown }> }[];
  missing_examples: KeyValues[];
  extra_examples: KeyValues[];
}

export async function compareFiles(actual: string, expected: string, options: CompareOptions): Promise<CompareReport> {
  const db = await Db.open();
  try {
    return await compareOutputs(db, actual, expected, options);
  } finally {
    db.close();
  }
}

export async function compareOutputs(db: Db, actual: string, expected: string, options: CompareOptions): Promise<CompareReport> {
  const tolerance = { absolute: options.tolerance ?? DEFAULT_TOLERANCE, relative: options.rtol ?? 0 };
  checkOptions(options, tolerance);
  const a = await openDataset(db, actual);
  const b = await openDataset(db, expected);
  const key = options.byPosition ? null : [...options.key!];
  checkKey(key, a, b);
  try {
    if (key) for (const d of [a, b]) await checkUnique(db, d, key);
    const names = (d: Dataset): string[] => d.columns.map((c) => c.name);
    const keyCols = key ?? [POS];
    const pairs: ColumnPair[] = a.columns.filter((c) => names(b).includes(c.name) && !keyCols.includes(c.name)).map((c) => ({ name: c.name, actual: c, expected: b.columns.find((e) => e.name === c.name)! }));
    await join(db, a, b, keyCols, pairs, tolerance);
    const counts = { actual: await rowCount(db, a), expected: await rowCount(db, b) };
    const report = await summarise(db, counts, keyCols, pairs, tolerance, key);
    report.columns.only_in_actual = names(a).filter((n) => !names(b).includes(n));
    report.columns.only_in_expected = names(b).filter((n) => !names(a).includes(n));
    // Over every shared column, keys too: a key that became a BIGINT is a change of the file.
    report.columns.type_differences = a.columns.flatMap((c) => {
      const other = b.columns.find((e) => e.name === c.name);
      return other && other.type !== c.type ? [{ column: c.name, actual: c.type, expected: other.type }] : [];
    });
    const r = report.rows;
    report.equal = r.missing + r.extra + r.differing + report.columns.only_in_actual.length + report.columns.only_in_expected.length + report.columns.type_differences.length === 0;
    return report;
  } finally {
    await db.exec(`DROP TABLE IF EXISTS ${DIFF_TABLE}`);
  }
}

function checkOptions(options: CompareOptions, tolerance: CompareReport['tolerance']): void {
  if (options.byPosition && options.key && options.key.length > 0) throw new BatchinferError('USAGE', 'give --key or --by-position, not both', { expected: 'one way to match rows', actual: '--key and --by-position' });
  if (!options.byPosition && (!options.key || options.key.length === 0)) throw new BatchinferError('USAGE', 'compare needs --key COL[,COL] (unique in both files) or --by-position', { expected: '--key or --by-position', actual: 'neither' });
  for (const [flag, v] of [['--tolerance', tolerance.absolute], ['--rtol', tolerance.relative]] as const) {
    if (!(Number.isFinite(v) && v >= 0)) throw new BatchinferError('USAGE', `${flag} takes a number >= 0`, { expected: 'a number >= 0', actual: v });
  }
}

function checkKey(key: string[] | null, a: Dataset, b: Dataset): void {
  if (!key) return;
  for (const d of [a, b]) {
    const missing = key.filter((k) => !d.columns.some((c) => c.name === k));
    if (missing.length > 0) throw new BatchinferError('SCHEMA_MISMATCH', `${d.input} has no key column ${missing.join(', ')}`, { expected: `key columns among ${d.columns.map((c) => c.name).join(', ')}`, actual: missing });
  }
  // Keys join by value: numbers of any width match, text does not match numbers.
  for (const k of key) {
    const [ta, tb] = [a, b].map((d) => d.columns.find((c) => c.name === k)!.type);
    if (ta !== tb && !(isNumber(ta!) && isNumber(tb!))) throw new BatchinferError('SCHEMA_MISMATCH', `key column ${k} is ${ta} in ${a.input} but ${tb} in ${b.input}`, { expected: 'the same type in both files', actual: `${ta} and ${tb}` });
  }
}

function isNumber(type: string): boolean {
  return /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/.test(type);
}

/** The dataset's rows with their position in file order (from 1), its paths bound to `placeholder`. */
function rowsSql(d: Dataset, placeholder: string): string {
  return `(SELECT *, row_number() OVER () AS ${POS} FROM ${readerSql(d.files[0]!, placeholder)})`;
}

function pathsOf(d: Dataset): string[] {
  return d.files.map((f) => literalPath(f.path));
}

async function checkUnique(db: Db, d: Dataset, key: readonly string[]): Promise<void> {
  const cols = key.map(quoteIdent).join(', ');
  const rows = await guardRead(d.input, () => db.query<Record<string, unknown>>(`SELECT ${cols}, count(*) AS __n FROM ${readerSql(d.files[0]!, '$1')} GROUP BY ALL HAVING count(*) > 1 ORDER BY __n DESC, ${cols} LIMIT 3`, [pathsOf(d)]));
  if (rows.length === 0) return;
  const shown = rows.map((r) => `${key.map((k) => `${k}=${JSON.stringify(jsonValue(r[k]))}`).join(', ')} (${Number(r['__n'])} rows)`).join('; ');
  throw new BatchinferError('INPUT_INVALID', `key ${key.join(', ')} is not unique in ${d.input}: ${shown}`, { expected: 'one row per key', actual: shown });
}

/**
 * Joins the two files on the key, read straight from them, and keeps the rows that are not
 * equal (missing, extra or differing; few, when a golden check passes) as a table of k{j},
 * in_a, in_b, a{i}, b{i} and d{i} (values differ). Everything the report counts is in it.
 */
async function join(db: Db, a: Dataset, b: Dataset, keyCols: readonly string[], pairs: readonly ColumnPair[], tolerance: CompareReport['tolerance']): Promise<void> {
  const on = keyCols.map((k) => `a.${quoteIdent(k)} IS NOT DISTINCT FROM b.${quoteIdent(k)}`).join(' AND ');
  const keys = keyCols.map((k, j) => `coalesce(a.${quoteIdent(k)}, b.${quoteIdent(k)}) AS k${j}`);
  const values = pairs.flatMap((p, i) => [`a.${quoteIdent(p.name)} AS a${i}`, `b.${quoteIdent(p.name)} AS b${i}`]);
  const diffs = pairs.map((p, i) => `(in_a AND in_b AND ${diffSql(p, i, '$3', '$4')}) AS d${i}`);
  const joined = `SELECT ${[...keys, `a.${POS} IS NOT NULL AS in_a`, `b.${POS} IS NOT NULL AS in_b`, ...values].join(', ')} FROM ${rowsSql(a, '$1')} a FULL OUTER JOIN ${rowsSql(b, '$2')} b ON ${on}`;
  const kept = ['NOT (in_a AND in_b)', ...pairs.map((_, i) => `d${i}`)].join(' OR ');
  await guardRead(a.input, () =>
    db.exec(`CREATE OR REPLACE TEMP TABLE ${DIFF_TABLE} AS SELECT * FROM (SELECT *${diffs.map((d) => `, ${d}`).join('')} FROM (${joined})) WHERE ${kept}`, [pathsOf(a), pathsOf(b), tolerance.absolute, tolerance.relative]),
  );
}

/** Rows of a dataset (a Parquet file's from its footer). */
async function rowCount(db: Db, d: Dataset): Promise<number> {
  return Number(await guardRead(d.input, () => db.exec(`SELECT count(*) FROM ${readerSql(d.files[0]!, '$1')}`, [pathsOf(d)])));
}

async function summarise(db: Db, counts: { actual: number; expected: number }, keyCols: readonly string[], pairs: readonly ColumnPair[], tolerance: CompareReport['tolerance'], key: string[] | null): Promise<CompareReport> {
  const anyDiff = pairs.length > 0 ? pairs.map((_, i) => `d${i}`).join(' OR ') : 'false';
  const perColumn = pairs.flatMap((p, i) => [`count(*) FILTER (WHERE d${i}) AS n${i}`, `${absDiffSql(p, i) ? `max(${absDiffSql(p, i)}) FILTER (WHERE d${i})` : 'NULL'} AS m${i}`]);
  const [s] = await db.query<Record<string, unknown>>(
    `SELECT count(*) FILTER (WHERE in_b AND NOT in_a) AS missing, count(*) FILTER (WHERE in_a AND NOT in_b) AS extra, count(*) FILTER (WHERE ${anyDiff}) AS differing
       ${perColumn.map((c) => `, ${c}`).join('')} FROM ${DIFF_TABLE}`,
  );
  const n = (k: string): number => Number(s![k]);
  const order = keyCols.map((_, j) => `k${j}`).join(', ');
  const keyOf = (r: Record<string, unknown>): KeyValues => (key ? Object.fromEntries(key.map((k, j) => [k, jsonValue(r[`k${j}`])])) : { row: jsonValue(r['k0']) });
  const differing = await db.query<Record<string, unknown>>(`SELECT * FROM ${DIFF_TABLE} WHERE ${anyDiff} ORDER BY ${order} LIMIT ${EXAMPLES}`);
  const missing = await db.query<Record<string, unknown>>(`SELECT ${order} FROM ${DIFF_TABLE} WHERE in_b AND NOT in_a ORDER BY ${order} LIMIT ${EXAMPLES}`);
  const extra = await db.query<Record<string, unknown>>(`SELECT ${order} FROM ${DIFF_TABLE} WHERE in_a AND NOT in_b ORDER BY ${order} LIMIT ${EXAMPLES}`);
  return {
    equal: false,
    key,
    tolerance,
    rows: { actual: counts.actual, expected: counts.expected, matched: counts.actual - n('extra'), missing: n('missing'), extra: n('extra'), differing: n('differing') },
    columns: { compared: pairs.map((p) => p.name), only_in_actual: [], only_in_expected: [], type_differences: [] },
    differences: pairs.map((p, i) => ({ column: p.name, rows: n(`n${i}`), max_abs_diff: finite(s![`m${i}`]) })).filter((d) => d.rows > 0),
    examples: differing.map((r) => ({
      key: keyOf(r),
      columns: Object.fromEntries(pairs.flatMap((p, i) => (r[`d${i}`] ? [[p.name, { actual: jsonValue(r[`a${i}`]), expected: jsonValue(r[`b${i}`]) }]] : []))),
    })),
    missing_examples: missing.map(keyOf),
    extra_examples: extra.map(keyOf),
  };
}

/** A number JSON can hold; NaN and infinities as their names. */
function finite(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : String(n);
}

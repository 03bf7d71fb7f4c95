/**
 * A job's `computed` columns and `where` filter, checked against the dataset and attached to
 * its files: every reader then sees them through `scanSql` (source/dataset.ts). Each
 * expression is checked and rendered by spec/sqlExpression.ts; here it is also bound against
 * the first file (DuckDB's binder says whether its functions take those column types), the
 * computed columns' types join the dataset's columns, and the filter must be a condition.
 * A computed column may read the ones defined before it, the filter all of them.
 */
import type { Db } from '../db/duckdb.js';
import type { Problem } from '../errors.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { checkExpression, isChecked } from '../spec/sqlExpression.js';
import { readFailure, scanSql, type ColumnInfo, type ComputedColumn, type Dataset, type DatasetFile } from '../source/dataset.js';
import { clipQuoted } from '../util/clip.js';
import { Params } from '../util/sql.js';

/** Names the readers add to a file's columns (prepare.ts `reservedColumns`): no computed column may take one. */
const RESERVED = new Set(['file_row_number', 'batchinfer_rn', 'batchinfer_reject']);

/**
 * Checks the job's expressions; when all pass, attaches them to every file of `dataset` and
 * appends the computed columns (with their types) to `dataset.columns`. Returns the problems.
 */
export async function applyExpressions(db: Db, spec: JobSpec, dataset: Dataset): Promise<Problem[]> {
  if (!spec.computed && spec.where === undefined) return [];
  const problems: Problem[] = [];
  const own = dataset.columns.map((c) => c.name);
  const computed: ComputedColumn[] = [];
  for (const [name, text] of Object.entries(spec.computed ?? {})) {
    const where = `computed.${name}`;
    const clash = [...own, ...computed.map((c) => c.name)].find((c) => c.toLowerCase() === name.toLowerCase());
    if (clash !== undefined || RESERVED.has(name.toLowerCase())) {
      problems.push({ code: 'SPEC_INVALID', where, message: clash !== undefined ? `names a column the dataset (or another computed column) already has: '${clash}' (names are compared without case)` : `'${name}' is a name batchinfer reserves`, expected: 'a new column name', actual: name });
      continue;
    }
    // A computed column reads the file's columns and the computed columns before it (scanSql makes them in order).
    const names = Object.keys(spec.computed ?? {});
    const later = names.slice(names.indexOf(name));
    const before = computed.map((c) => c.name);
    const refused = names.filter((c) => !before.includes(c));
    const why = (c: string): string => (c === name ? `'${c}' itself` : later.includes(c) ? `'${c}', a computed column defined after it (a computed column may use those before it)` : `'${c}', a computed column that is refused`);
    const checked = await checkExpression(db, text, where, [...own, ...before], Object.fromEntries(refused.map((c) => [c, why(c)])));
    if (isChecked(checked)) computed.push({ name, sql: checked.sql });
    else problems.push(checked);
  }
  let filter: string | undefined;
  if (spec.where !== undefined) {
    const checked = await checkExpression(db, spec.where, 'where', [...own, ...Object.keys(spec.computed ?? {})]);
    if (isChecked(checked)) filter = checked.sql;
    else problems.push(checked);
  }
  if (problems.length > 0) return problems;
  const first = dataset.files[0]!;
  const types: ColumnInfo[] = [];
  for (const [i, c] of computed.entries()) {
    const type = await bindType(db, { ...first, computed: computed.slice(0, i), where: undefined }, c.sql, `computed.${c.name}`, problems);
    // The ones after it read it: they would only repeat its binder error.
    if (type === null) break;
    types.push({ name: c.name, type });
  }
  if (filter !== undefined) {
    const type = await bindType(db, { ...first, computed, where: undefined }, filter, 'where', problems);
    if (type !== null && type !== 'BOOLEAN') problems.push({ code: 'SPEC_INVALID', where: 'where', message: 'must be a condition (true keeps the row)', expected: 'BOOLEAN', actual: type });
  }
  if (problems.length > 0) return problems;
  for (const file of dataset.files) {
    if (computed.length > 0) file.computed = computed;
    if (filter !== undefined) file.where = filter;
  }
  dataset.columns.push(...types);
  first.columns = dataset.columns;
  return [];
}

/**
 * `problems` less the missing-column ones a refused `computed` key causes (no computed column
 * is added then, so every use of one is "not in the dataset"): the refusal says why.
 */
export function withoutComputedEchoes(spec: JobSpec, problems: Problem[]): Problem[] {
  const names = new Set(Object.keys(spec.computed ?? {}));
  if (!problems.some((p) => p.where?.startsWith('computed.'))) return problems;
  return problems.filter((p) => !(typeof p.actual === 'string' && names.has(p.actual) && /is not in the dataset/.test(p.message)));
}

/** The type DuckDB binds `sql` to over `file`'s rows; null (and a problem at `where`) when it does not bind. */
async function bindType(db: Db, file: DatasetFile, sql: string, where: string, problems: Problem[]): Promise<string | null> {
  const params = new Params();
  const statement = `DESCRIBE SELECT ${sql} AS v FROM ${scanSql(file, params)}`;
  try {
    const [row] = await db.query<{ column_type: string }>(statement, params.values);
    return row!.column_type;
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    if (!/Binder Error|Conversion Error|Catalog Error/i.test(text)) throw await readFailure(file, err);
    const reason = clipQuoted(text.split('\n')[0]!.replace(/^[^:]*Error: /, ''));
    problems.push({ code: 'SPEC_INVALID', where, message: `does not apply to the dataset's columns: ${reason}`, expected: 'an expression DuckDB can bind to the columns\' types' });
    return null;
  }
}

/** A computed column as a run makes it: its type and the SQL rendered from the checked expression. */
export interface ComputedReport {
  name: string;
  type: string;
  sql: string;
}

/** The computed columns and filter attached to `dataset` (`applyExpressions`), for `validate` and `inspect`. */
export function expressionReport(dataset: Dataset): { computed?: ComputedReport[]; where?: string } {
  const first = dataset.files[0];
  const types = new Map(dataset.columns.map((c) => [c.name, c.type]));
  const computed = (first?.computed ?? []).map((c) => ({ name: c.name, type: types.get(c.name) ?? 'unknown', sql: c.sql }));
  return { ...(computed.length > 0 ? { computed } : {}), ...(first?.where !== undefined ? { where: first.where } : {}) };
}

/**
 * The job's SQL expressions (`computed` columns, the `where` row filter), checked before any
 * of them comes near a query. Each text is parsed by DuckDB's own parser
 * (`json_serialize_sql`, the text bound as a parameter), must be one scalar expression, and is
 * walked node by node: columns must be the dataset's, functions on ALLOWED_FUNCTIONS, casts
 * to plain scalar types. The SQL a run executes is then rendered from the checked tree (every
 * identifier quoted, every literal written here), and parsed once more: its tree must be the
 * checked one, so the text run is the expression checked, whatever the user's text held.
 *
 * @example
 *   const checked = await checkExpression(db, 'amount / nullif(income, 0)', 'computed.ratio', ['amount', 'income']);
 *   // { sql: '("amount" / nullif("income", 0))', columns: ['amount', 'income'] } or a Problem
 */
import type { Db } from '../db/duckdb.js';
import type { Problem } from '../errors.js';
import { quoteIdent } from '../util/sql.js';

export interface CheckedExpression {
  /** The expression as batchinfer renders it (quoted identifiers, literals written here). */
  sql: string;
  /** The dataset columns it reads, as the dataset names them. */
  columns: string[];
}

/** Longest expression text parsed: a longer one is refused before DuckDB sees it. */
export const MAX_EXPRESSION_LENGTH = 4096;
/** Deepest nesting walked (DuckDB's own parser stops at 1000). */
export const MAX_EXPRESSION_DEPTH = 64;

/**
 * Scalar functions an expression may call: arithmetic, math, string and date functions that
 * read only their arguments. Left out on purpose: table functions and file readers
 * (`read_csv`), the environment and settings (`getenv`, `current_setting`), sequences
 * (`nextval`), time and randomness (`now`, `random`, `uuid`), aggregates and windows, and
 * anything with effects. Operators as DuckDB's parser names them (`~~` is LIKE).
 */
export const ALLOWED_FUNCTIONS: readonly string[] = [
  // operators
  '+', '-', '*', '/', '//', '%', '**', '^', '||', '~~', '!~~', '~~*', '!~~*',
  // math
  'abs', 'sign', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'sqrt', 'cbrt', 'exp', 'ln', 'log', 'log2', 'log10', 'pow', 'power',
  'greatest', 'least', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'pi', 'degrees', 'radians', 'isnan', 'isinf', 'isfinite', 'even', 'signbit',
  'nullif',
  // strings
  'lower', 'upper', 'lcase', 'ucase', 'length', 'strlen', 'char_length', 'substr', 'substring', 'left', 'right', 'trim', 'ltrim', 'rtrim',
  'concat', 'concat_ws', 'replace', 'reverse', 'lpad', 'rpad', 'starts_with', 'ends_with', 'contains', 'strpos', 'instr', 'position', 'split_part',
  'regexp_matches', 'regexp_full_match', 'regexp_replace', 'regexp_extract', 'prefix', 'suffix', 'ascii', 'chr',
  // dates and times
  'year', 'month', 'day', 'hour', 'minute', 'second', 'millisecond', 'dayofweek', 'dayofyear', 'dayofmonth', 'week', 'weekofyear', 'weekday',
  'isodow', 'isoyear', 'quarter', 'epoch', 'epoch_ms', 'date_part', 'datepart', 'date_trunc', 'datetrunc', 'date_diff', 'datediff', 'date_sub',
  'make_date', 'make_timestamp', 'strftime', 'strptime', 'last_day', 'to_days', 'to_hours', 'to_minutes', 'to_seconds', 'to_months', 'to_years',
  'to_weeks', 'monthname', 'dayname', 'century', 'decade', 'to_timestamp',
];
const INFIX = new Set(['+', '-', '*', '/', '//', '%', '**', '^', '||', '~~', '!~~', '~~*', '!~~*']);

/** Types a CAST may name, as DuckDB's tree names them. DECIMAL takes its width and scale. */
const CAST_TYPES = new Set(['BOOLEAN', 'TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'FLOAT', 'DOUBLE', 'DECIMAL', 'VARCHAR', 'DATE', 'TIME', 'TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'INTERVAL']);

const COMPARISONS: Record<string, string> = {
  COMPARE_EQUAL: '=',
  COMPARE_NOTEQUAL: '<>',
  COMPARE_LESSTHAN: '<',
  COMPARE_GREATERTHAN: '>',
  COMPARE_LESSTHANOREQUALTO: '<=',
  COMPARE_GREATERTHANOREQUALTO: '>=',
  COMPARE_DISTINCT_FROM: 'IS DISTINCT FROM',
  COMPARE_NOT_DISTINCT_FROM: 'IS NOT DISTINCT FROM',
};

type Node = Record<string, unknown>;

/** Why an expression is refused; caught by `checkExpression` and made a Problem. */
class Refusal extends Error {}

/**
 * Checks `text` as one scalar expression over `columns` and renders it. Column names match
 * as DuckDB matches them (exactly, else without case when that names one column); a name in
 * `unavailable` is refused with its reason.
 * Returns a SPEC_INVALID problem at `where` instead when it is refused.
 */
export async function checkExpression(db: Db, text: string, where: string, columns: readonly string[], unavailable: Readonly<Record<string, string>> = {}): Promise<CheckedExpression | Problem> {
  const refuse = (message: string, actual?: unknown): Problem => ({ code: 'SPEC_INVALID', where, message, expected: 'one SQL expression over the dataset\'s columns, of the allowed functions (docs/job-files.md)', actual });
  if (text.trim() === '') return refuse('is empty');
  if (text.length > MAX_EXPRESSION_LENGTH) return refuse(`is longer than ${MAX_EXPRESSION_LENGTH} characters`, `${text.length} characters`);
  if (text.includes('\u0000')) return refuse('holds a NUL character');
  try {
    const tree = await parseExpression(db, text);
    const resolver = new ColumnResolver(columns, unavailable);
    const sql = render(tree, resolver, 0);
    // The rendered text must parse to the tree checked (identifiers and literals as rendered).
    const again = await parseExpression(db, sql);
    if (JSON.stringify(again) !== JSON.stringify(tree)) throw new Refusal('cannot be rebuilt exactly from its parsed form (rewrite it more plainly)');
    return { sql, columns: resolver.used() };
  } catch (err) {
    if (err instanceof Refusal) return refuse(err.message);
    throw err;
  }
}

/** True for a CheckedExpression (not a Problem). */
export function isChecked(result: CheckedExpression | Problem): result is CheckedExpression {
  return 'sql' in result && 'columns' in result;
}

/** DuckDB's parse tree of `SELECT <text>`: the one select-list expression, without source positions. */
async function parseExpression(db: Db, text: string): Promise<Node> {
  const [row] = await db.query<{ j: string }>('SELECT json_serialize_sql($1::VARCHAR) AS j', ['SELECT ' + text]);
  const parsed = JSON.parse(row!.j, (key, value: unknown) => (key === 'query_location' ? undefined : value)) as Node;
  if (parsed['error']) throw new Refusal(`is not an SQL expression: ${String(parsed['error_message'] ?? 'DuckDB cannot parse it').split('\n')[0]}`);
  const statements = parsed['statements'] as Node[];
  if (statements.length !== 1) throw new Refusal('must be one expression, not several statements');
  const statement = statements[0]!;
  const node = statement['node'] as Node;
  if (node['type'] !== 'SELECT_NODE') throw new Refusal('must be one expression');
  const empty = (v: unknown): boolean => v === null || (Array.isArray(v) && v.length === 0);
  const from = node['from_table'] as Node | null;
  const cte = (node['cte_map'] as Node | null)?.['map'];
  const plain =
    empty(node['modifiers']) && empty(cte) && from?.['type'] === 'EMPTY' && empty(node['where_clause']) && empty(node['group_expressions']) && empty(node['group_sets']) &&
    node['aggregate_handling'] === 'STANDARD_HANDLING' && empty(node['having']) && empty(node['sample']) && empty(node['qualify']) && empty(statement['named_param_map']);
  if (!plain) throw new Refusal('must be one expression, without FROM, WHERE, GROUP BY, ORDER BY, LIMIT, WITH or parameters');
  const list = node['select_list'] as Node[];
  if (list.length !== 1) throw new Refusal('must be one expression, not a list');
  return list[0]!;
}

class ColumnResolver {
  private readonly seen = new Set<string>();
  constructor(
    private readonly columns: readonly string[],
    /** Names that are no column here, with why (another computed column). */
    private readonly unavailable: Readonly<Record<string, string>>,
  ) {}

  /** The dataset's name for `name`, as DuckDB's binder would match it. */
  resolve(name: string): string {
    const why = Object.entries(this.unavailable).find(([c]) => c.toLowerCase() === name.toLowerCase())?.[1];
    if (why !== undefined) throw new Refusal(`uses ${why}`);
    const exact = this.columns.find((c) => c === name);
    const folded = this.columns.filter((c) => c.toLowerCase() === name.toLowerCase());
    const found = exact ?? (folded.length === 1 ? folded[0] : undefined);
    if (found === undefined) throw new Refusal(`uses column '${name}', which is not in the dataset (${this.columns.join(', ')})`);
    this.seen.add(found);
    return found;
  }

  used(): string[] {
    return [...this.seen];
  }
}

/**
 * Renders a checked node as SQL, every compound in parentheses. Column references are
 * rewritten in `node` to the dataset's spelling, so the re-parse is compared with that.
 */
function render(node: Node, columns: ColumnResolver, depth: number): string {
  if (depth > MAX_EXPRESSION_DEPTH) throw new Refusal(`nests deeper than ${MAX_EXPRESSION_DEPTH} levels`);
  if (node['alias'] !== '') throw new Refusal('must not name its parts (AS ...)');
  const sub = (n: unknown): string => render(n as Node, columns, depth + 1);
  const children = (): Node[] => node['children'] as Node[];
  switch (node['class']) {
    case 'COLUMN_REF': {
      const names = node['column_names'] as string[];
      if (names.length !== 1) throw new Refusal(`uses '${names.join('.')}': only plain column names are allowed`);
      const name = columns.resolve(names[0]!);
      names[0] = name;
      return quoteIdent(name);
    }
    case 'CONSTANT':
      return renderConstant(node['value'] as Node);
    case 'FUNCTION':
      return renderFunction(node, sub);
    case 'OPERATOR':
      return renderOperator(String(node['type']), children(), sub);
    case 'COMPARISON': {
      const op = COMPARISONS[String(node['type'])];
      if (!op) throw new Refusal(`uses a comparison batchinfer does not allow (${String(node['type'])})`);
      return `(${sub(node['left'])} ${op} ${sub(node['right'])})`;
    }
    case 'CONJUNCTION': {
      const op = node['type'] === 'CONJUNCTION_AND' ? ' AND ' : node['type'] === 'CONJUNCTION_OR' ? ' OR ' : null;
      if (!op) throw new Refusal(`uses ${String(node['type'])}`);
      return `(${children().map(sub).join(op)})`;
    }
    case 'CASE': {
      const checks = (node['case_checks'] as Node[]).map((c) => `WHEN ${sub(c['when_expr'])} THEN ${sub(c['then_expr'])}`);
      return `CASE ${checks.join(' ')} ELSE ${sub(node['else_expr'])} END`;
    }
    case 'CAST':
      return `${node['try_cast'] === true ? 'TRY_CAST' : 'CAST'}(${sub(node['child'])} AS ${castType(node['cast_type'] as Node)})`;
    case 'BETWEEN':
      return `(${sub(node['input'])} BETWEEN ${sub(node['lower'])} AND ${sub(node['upper'])})`;
    case 'SUBQUERY':
      throw new Refusal('holds a subquery: only an expression over the row\'s own columns is allowed');
    default:
      throw new Refusal(`uses ${describeClass(node)}, which batchinfer does not allow in an expression`);
  }
}

function describeClass(node: Node): string {
  const names: Record<string, string> = { PARAMETER: 'a parameter', STAR: '*', COLUMNS: 'COLUMNS(...)', WINDOW: 'a window function', LAMBDA: 'a lambda', COLLATE: 'COLLATE', POSITIONAL_REFERENCE: 'a positional reference' };
  return names[String(node['class'])] ?? `a ${String(node['class']).toLowerCase()} expression`;
}

function renderFunction(node: Node, sub: (n: unknown) => string): string {
  const name = String(node['function_name']);
  // Rendered from the allow-list's own string, not the parsed one.
  const canonical = ALLOWED_FUNCTIONS.find((f) => f === name);
  if (canonical === undefined) throw new Refusal(`calls ${name}(), which is not an allowed function`);
  const schema = node['schema'];
  if ((schema !== '' && schema !== 'main') || node['catalog'] !== '') throw new Refusal(`calls ${String(schema)}.${name}(): only the built-in functions are allowed`);
  const orders = (node['order_bys'] as Node | null)?.['orders'] as unknown[] | undefined;
  if (node['filter'] !== null || (orders && orders.length > 0) || node['distinct'] !== false || node['export_state'] !== false) {
    throw new Refusal(`calls ${name}() with FILTER, ORDER BY or DISTINCT, which only aggregates take`);
  }
  const args = (node['children'] as Node[]).map(sub);
  if (node['is_operator'] === true) {
    if (!INFIX.has(canonical)) throw new Refusal(`uses the operator ${canonical}, which is not allowed`);
    if (args.length === 1 && (canonical === '-' || canonical === '+')) return `(${canonical}${args[0]})`;
    if (args.length !== 2) throw new Refusal(`uses the operator ${canonical} with ${args.length} operands`);
    return `(${args[0]} ${canonical} ${args[1]})`;
  }
  if (INFIX.has(canonical)) throw new Refusal(`calls the operator ${canonical} as a function`);
  return `${schema === 'main' ? 'main.' : ''}${canonical}(${args.join(', ')})`;
}

function renderOperator(type: string, children: Node[], sub: (n: unknown) => string): string {
  const args = children.map(sub);
  switch (type) {
    case 'OPERATOR_NOT':
      return `(NOT ${args[0]})`;
    case 'OPERATOR_IS_NULL':
      return `(${args[0]} IS NULL)`;
    case 'OPERATOR_IS_NOT_NULL':
      return `(${args[0]} IS NOT NULL)`;
    case 'OPERATOR_COALESCE':
      return `COALESCE(${args.join(', ')})`;
    case 'COMPARE_IN':
      return `(${args[0]} IN (${args.slice(1).join(', ')}))`;
    case 'COMPARE_NOT_IN':
      return `(${args[0]} NOT IN (${args.slice(1).join(', ')}))`;
    default:
      throw new Refusal(`uses ${type.toLowerCase().replace(/_/g, ' ')}, which batchinfer does not allow in an expression`);
  }
}

/** A literal written by batchinfer: strings quoted here, numbers from their value. */
function renderConstant(value: Node): string {
  const type = (value['type'] as Node)['id'];
  if (value['is_null'] === true) {
    if (type !== 'NULL') throw new Refusal(`holds a NULL literal of type ${String(type)}`);
    return 'NULL';
  }
  const v = value['value'];
  switch (type) {
    case 'VARCHAR':
      if (typeof v !== 'string' || v.includes('\u0000')) throw new Refusal('holds a string literal batchinfer cannot write');
      return `'${v.replace(/'/g, "''")}'`;
    case 'INTEGER':
    case 'BIGINT':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Refusal('holds an integer literal too large to be exact (at most 2^53)');
      return v < 0 ? `(${v})` : String(v);
    case 'DOUBLE':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Refusal('holds a number literal batchinfer cannot write');
      return v < 0 ? `(${v.toExponential()})` : v.toExponential();
    case 'DECIMAL':
      return renderDecimal(v, (value['type'] as Node)['type_info'] as Node);
    default:
      throw new Refusal(`holds a literal of type ${String(type)}, which batchinfer does not write (an integer or decimal up to 2^53 is)`);
  }
}

/** DuckDB keeps a decimal literal as its digits (an integer) and scale: 0.5 is 5 with scale 1. */
function renderDecimal(v: unknown, info: Node): string {
  const scale = info['scale'];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || typeof scale !== 'number') throw new Refusal('holds a decimal literal too long to be exact (at most 15 digits)');
  const digits = String(Math.abs(v)).padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  return v < 0 ? `(-${text})` : text;
}

function castType(type: Node): string {
  const id = String(type['id']);
  if (!CAST_TYPES.has(id)) throw new Refusal(`casts to ${id === 'UNBOUND' ? String((type['type_info'] as Node | null)?.['name'] ?? 'an unknown type') : id}, which is not a plain scalar type`);
  const info = type['type_info'] as Node | null;
  if (id === 'DECIMAL') {
    if (!info || typeof info['width'] !== 'number' || typeof info['scale'] !== 'number') throw new Refusal('casts to DECIMAL without its width and scale');
    return `DECIMAL(${info['width']}, ${info['scale']})`;
  }
  if (info !== null) throw new Refusal(`casts to ${id} with modifiers`);
  return id;
}

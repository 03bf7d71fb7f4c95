/**
 * SQL text helpers. User-supplied names only ever enter SQL through `quoteIdent`; values and
 * paths go through `Params` as bound `$n` parameters.
 */
import type { SqlParam } from '../db/duckdb.js';

/** Quotes an identifier for DuckDB: `a"b` becomes `"a""b"`. */
export function quoteIdent(name: string): string {
  if (name.includes('\u0000')) throw new Error('identifier contains a NUL character');
  return '"' + name.replace(/"/g, '""') + '"';
}

/** Collects bound values and hands out their `$n` placeholders. */
export class Params {
  readonly values: SqlParam[] = [];

  /** Binds a value; returns its placeholder, e.g. `$3`. */
  bind(value: SqlParam): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import type { Problem } from '../../src/errors.js';
import { checkExpression, isChecked, type CheckedExpression } from '../../src/spec/sqlExpression.js';

let db: Db;
const COLUMNS = ['amount', 'income', 'ts', 'country', 'Mixed Case', 'we"ird'];

beforeAll(async () => {
  db = await Db.open({ threads: 1 });
});

afterAll(() => db.close());

async function accepted(text: string): Promise<CheckedExpression> {
  const result = await checkExpression(db, text, 'computed.x', COLUMNS);
  if (!isChecked(result)) throw new Error(`refused ${text}: ${result.message}`);
  return result;
}

async function refused(text: string): Promise<Problem> {
  const result = await checkExpression(db, text, 'computed.x', COLUMNS);
  if (isChecked(result)) throw new Error(`accepted ${text} as ${result.sql}`);
  expect(result.code).toBe('SPEC_INVALID');
  expect(result.where).toBe('computed.x');
  return result;
}

/** Evaluates the rendered SQL on one row, to compare with the user's text evaluated by DuckDB itself. */
async function evaluate(sql: string): Promise<unknown> {
  const row = `SELECT 12.5::DOUBLE AS amount, 5::DOUBLE AS income, TIMESTAMP '2026-11-29 05:30:00' AS ts, 'DE' AS country, 3 AS "Mixed Case", 4 AS "we""ird"`;
  const [r] = await db.query<{ v: unknown }>(`SELECT ${sql} AS v FROM (${row})`);
  return r!.v;
}

describe('checkExpression renders what it checked', () => {
  const cases = [
    'amount / nullif(income, 0)',
    'hour(ts)',
    "country = 'DE' AND amount > 0",
    "country IN ('DE', 'FR') OR NOT amount BETWEEN 1 AND 2",
    'CASE WHEN amount > 10 THEN 1 WHEN amount IS NULL THEN -1 ELSE 0 END',
    'coalesce(income, 0.5) + 1e3 - -3 * 2.25',
    'CAST(amount AS INTEGER) + TRY_CAST(country AS DOUBLE)',
    'amount::DECIMAL(10,2)',
    "date_trunc('day', ts) + INTERVAL 1 DAY",
    "lower(country) || '''s' LIKE 'de%'",
    '"Mixed Case" * 2',
    '"we""ird" % 3',
    'extract(hour FROM ts)',
    'amount IS NOT NULL AND income IS DISTINCT FROM amount',
    'ln(abs(amount)) / log10(100)',
    '-amount',
    "if(country = 'DE', ifnull(income, 0), 1)",
    'amount > 0 AND amount::VARCHAR ILIKE \'1%\' OR country NOT LIKE \'F%\'',
    "amount / 0.005 + (-0.25) + 1.5e-7 - 12345678.875",
  ];

  for (const text of cases) {
    it(`${text}: same value as DuckDB gives the text`, async () => {
      const checked = await accepted(text);
      expect(await evaluate(checked.sql)).toEqual(await evaluate(text));
    });
  }

  it('quotes every column and names it as the dataset does', async () => {
    const checked = await accepted('AMOUNT / "income" + "mixed case"');
    expect(checked.sql).toBe('(("amount" / "income") + "Mixed Case")');
    expect(checked.columns.sort()).toEqual(['Mixed Case', 'amount', 'income']);
  });

  it('writes string literals itself', async () => {
    const checked = await accepted("country = 'it''s' || $$x'y$$");
    expect(checked.sql).toBe(`("country" = ('it''s' || 'x''y'))`);
  });
});

describe('checkExpression refuses', () => {
  const attempts: [string, RegExp][] = [
    ['1); DROP TABLE x; --', /not an SQL expression/],
    ["read_csv('/etc/passwd')", /read_csv\(\), which is not an allowed function/],
    ["(SELECT max(amount) FROM read_parquet('x.parquet'))", /subquery/],
    ['amount + (SELECT 1)', /subquery/],
    ['amount IN (SELECT 1)', /subquery/],
    ["getenv('HOME')", /getenv\(\), which is not an allowed function/],
    ["current_setting('threads')", /current_setting\(\)/],
    ["nextval('s')", /nextval\(\)/],
    ['random()', /random\(\)/],
    ['now()', /now\(\)/],
    ['count(*)', /count_star\(\)/],
    ['sum(amount) OVER ()', /window function/],
    ['amount /* */ ) ; --', /not an SQL expression/],
    ['amount; SELECT 1', /several statements/],
    ['amount FROM t', /without FROM/],
    ["amount WHERE country = 'DE'", /without FROM/],
    ['amount ORDER BY 1', /without FROM/],
    ['amount AS y', /AS/],
    ['amount, income', /not a list/],
    ['*', /\*/],
    ['$1', /parameter/],
    ['t.amount', /plain column names/],
    ['unknown_col + 1', /column 'unknown_col', which is not in the dataset/],
    ['no_such_function(amount)', /no_such_function\(\), which is not an allowed function/],
    ['main.getenv(\'HOME\')', /getenv/],
    ['system.main.abs(amount)', /built-in|plain column/],
    ['abs(amount) FILTER (WHERE amount > 1)', /FILTER/],
    ['amount::foo', /foo, which is not a plain scalar type/],
    ['amount::INT[]', /LIST/],
    ['[1, 2]', /list_value/],
    ['x -> x + 1', /lambda/],
    ['amount COLLATE nocase', /COLLATE/],
    ['123456789012345678901234567890', /literal/],
    ['', /empty/],
    ['   ', /empty/],
  ];
  for (const [text, reason] of attempts) {
    it(JSON.stringify(text), async () => {
      expect((await refused(text)).message).toMatch(reason);
    });
  }

  it('a 10,000-deep expression, cleanly', async () => {
    expect((await refused('('.repeat(10_000) + 'amount' + ')'.repeat(10_000))).message).toMatch(/longer than 4096/);
    expect((await refused('abs('.repeat(800) + 'amount' + ')'.repeat(800))).message).toMatch(/deeper than 64|not an SQL expression/);
    // Redundant parentheses leave no node behind: the expression is just its literal.
    expect((await accepted('('.repeat(2000) + '1' + ')'.repeat(2000))).sql).toBe('1');
    expect((await refused(Array(500).fill('amount').join('+'))).message).toMatch(/not an SQL expression|deeper/);
  });

  it('a NUL character', async () => {
    expect((await refused("country = 'a\u0000b'")).message).toMatch(/NUL/);
  });
});

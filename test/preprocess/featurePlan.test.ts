import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import type { Problem } from '../../src/errors.js';
import type { ValueInfo } from '../../src/model/onnxFile.js';
import { featureSql, fixedBatchOf, narrowsInReader, planFeeds, type ColumnFeed, type FeedDtype, type FeedPlan } from '../../src/preprocess/featurePlan.js';
import type { ColumnInfo } from '../../src/source/dataset.js';
import type { InputSpec, JobSpec } from '../../src/spec/jobSpec.js';
import { Params } from '../../src/util/sql.js';
import { TRANSACTION_COLUMNS } from '../helpers/transactions.js';

/** A resolved job with only what planFeeds reads. */
function job(extra: { inputs?: Record<string, InputSpec>; features?: string[] } = {}): JobSpec {
  return { name: 't', model: '/m.onnx', input: '/in.parquet', output: '/out.parquet', passthrough: [], inputs: extra.inputs ?? {}, features: extra.features, batchSize: 8192 } as unknown as JobSpec;
}

const input = (name: string, elemType: string, shape: (number | string)[] | null): ValueInfo => ({ name, elemType, shape });

/** The transactions fixture's schema. */
const COLUMNS: ColumnInfo[] = [
  ...TRANSACTION_COLUMNS,
  { name: 'flagged', type: 'BOOLEAN' },
  { name: 'price', type: 'DECIMAL(10,2)' },
];

const X4 = input('x', 'float32', ['N', 4]);

describe('planFeeds: where the columns come from', () => {
  it('explicit columns, in the given order, with fill and scale per position', () => {
    const spec = job({ inputs: { x: { columns: ['risk score', 'amount', 'f0', 'f1'], fillNull: 0, scale: { mean: [1, 2, 3, 4], std: [5, 6, 7, 8] } } } });
    const { feeds, problems } = planFeeds(spec, [X4], COLUMNS);
    expect(problems).toEqual([]);
    expect(feeds).toEqual<FeedPlan[]>([
      {
        input: 'x',
        dtype: 'float32',
        rank: 2,
        columns: [
          { column: 'risk score', columnType: 'DOUBLE', nulls: { kind: 'fill', value: 0 }, allowNan: false, range: undefined, parsed: false, scale: { mean: 1, std: 5 }, vocab: undefined },
          { column: 'amount', columnType: 'DOUBLE', nulls: { kind: 'fill', value: 0 }, allowNan: false, range: undefined, parsed: false, scale: { mean: 2, std: 6 }, vocab: undefined },
          { column: 'f0', columnType: 'DOUBLE', nulls: { kind: 'fill', value: 0 }, allowNan: false, range: undefined, parsed: false, scale: { mean: 3, std: 7 }, vocab: undefined },
          { column: 'f1', columnType: 'DOUBLE', nulls: { kind: 'fill', value: 0 }, allowNan: false, range: undefined, parsed: false, scale: { mean: 4, std: 8 }, vocab: undefined },
        ],
      },
    ]);
  });

  it('NULLs are refused unless fill_null is a number', () => {
    const refuse = planFeeds(job({ inputs: { x: { columns: ['amount', 'f0', 'f1', 'f2'] } } }), [X4], COLUMNS);
    expect(refuse.feeds[0]!.columns.map((c) => c.nulls)).toEqual(Array(4).fill({ kind: 'error' }));
    const explicit = planFeeds(job({ inputs: { x: { columns: ['amount', 'f0', 'f1', 'f2'], fillNull: 'error' } } }), [X4], COLUMNS);
    expect(explicit.feeds[0]!.columns[0]!.nulls).toEqual({ kind: 'error' });
  });

  it('--features feeds the single input', () => {
    const { feeds, problems } = planFeeds(job({ features: ['amount', 'f0', 'f1', 'risk score'] }), [X4], COLUMNS);
    expect(problems).toEqual([]);
    expect(feeds).toHaveLength(1);
    expect(feeds[0]!.columns.map((c) => c.column)).toEqual(['amount', 'f0', 'f1', 'risk score']);
    expect(feeds[0]!.columns[0]!.nulls).toEqual({ kind: 'error' });
  });

  it('--features problems point at `features`', () => {
    const { feeds, problems } = planFeeds(job({ features: ['amount', 'f0', 'f1'] }), [X4], COLUMNS);
    expect(feeds).toEqual([]);
    expect(problems).toEqual([{ code: 'MODEL_MISMATCH', where: 'features', message: "model input 'x' takes 4 features per row [N,4]", expected: 4, actual: 3 }]);
  });

  it('--features with a model of several inputs is refused', () => {
    const { problems } = planFeeds(job({ features: ['f0'] }), [input('f0', 'float32', ['N', 1]), input('f1', 'float32', ['N', 1])], COLUMNS);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'MODEL_MISMATCH', where: 'features', actual: ['f0', 'f1'] });
  });

  it('scikit-learn layout: inputs named like columns, [N,1] and [N]', () => {
    const { feeds, problems } = planFeeds(job(), [input('f0', 'float32', ['N', 1]), input('n_items', 'int64', ['N'])], COLUMNS);
    expect(problems).toEqual([]);
    expect(feeds.map((f) => [f.input, f.dtype, f.rank, f.columns.map((c) => [c.column, c.columnType])])).toEqual([
      ['f0', 'float32', 2, [['f0', 'DOUBLE']]],
      ['n_items', 'int64', 1, [['n_items', 'INTEGER']]],
    ]);
  });

  it('by name alone, a NULL in a float input is NaN (the graph imputes); strings, ints and any spec keep refusing NULLs', () => {
    const inputs = [input('f0', 'float32', ['N', 1]), input('amount', 'float64', ['N', 1]), input('merchant_category', 'string', ['N', 1]), input('n_items', 'int64', ['N', 1])];
    const nulls = (spec: JobSpec) => planFeeds(spec, inputs, COLUMNS).feeds.map((f) => [f.input, f.columns[0]!.nulls.kind]);
    expect(nulls(job())).toEqual([['f0', 'nan'], ['amount', 'nan'], ['merchant_category', 'error'], ['n_items', 'error']]);
    // An inputs entry, or a job-wide fill_null, is a spec: it decides.
    expect(nulls(job({ inputs: { f0: { column: 'f0' } } }))[0]).toEqual(['f0', 'error']);
    expect(nulls({ ...job(), fillNull: 0 })).toEqual([['f0', 'fill'], ['amount', 'fill'], ['merchant_category', 'fill'], ['n_items', 'fill']]);
  });

  it('integer and boolean columns feed a string input; a float column is refused (its text is ambiguous)', () => {
    const ok = planFeeds(job({ inputs: { s: { column: 'n_items' }, t: { column: 'flagged' } } }), [input('s', 'string', ['N', 1]), input('t', 'string', ['N', 1])], COLUMNS);
    expect(ok.problems).toEqual([]);
    const refused = planFeeds(job({ inputs: { s: { column: 'f0' } } }), [input('s', 'string', ['N', 1])], COLUMNS);
    expect(refused.problems).toEqual([{ code: 'SCHEMA_MISMATCH', where: 'inputs.s', message: "column 'f0' cannot feed string input 's'", expected: 'a column castable to string', actual: 'DOUBLE' }]);
  });

  it('name matching needs one value per row: an [N,2] input named like a column is not matched', () => {
    const { problems } = planFeeds(job(), [input('f0', 'float32', ['N', 2])], COLUMNS);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/needs 2 columns \(positions 0\.\.1\) and nothing says which/);
  });

  it('explicit inputs win over name matching', () => {
    const { feeds } = planFeeds(job({ inputs: { f0: { column: 'f2' } } }), [input('f0', 'float32', ['N', 1])], COLUMNS);
    expect(feeds[0]!.columns[0]!.column).toBe('f2');
  });

  it('"nothing says which" names the input, the positions and the numeric columns', () => {
    const { feeds, problems } = planFeeds(job(), [X4], COLUMNS);
    expect(feeds).toEqual([]);
    expect(problems).toEqual([
      {
        code: 'MODEL_MISMATCH',
        where: "model input 'x'",
        message:
          'needs 4 columns (positions 0..3) and nothing says which; set inputs.x.columns or --features. Numeric columns available: amount, f0, f1, f2, risk score, n_items, price',
        expected: '4 columns',
        actual: 'none given',
      },
    ]);
  });

  it('"nothing says which" with no numeric column says (none), singular for one column', () => {
    const { problems } = planFeeds(job(), [input('v', 'float32', ['N', 1])], [{ name: 'txn_id', type: 'VARCHAR' }]);
    expect(problems[0]!.message).toBe('needs 1 column (positions 0..0) and nothing says which; set inputs.v.column or --features. Numeric columns available: (none)');
    expect(problems[0]!.expected).toBe('1 column');
  });

  it('a count mismatch and a missing column are reported together', () => {
    const { feeds, problems } = planFeeds(job({ inputs: { x: { columns: ['amount', 'nope', 'f1'] } } }), [X4], COLUMNS);
    expect(feeds).toEqual([]);
    expect(problems).toEqual([
      { code: 'MODEL_MISMATCH', where: 'inputs.x', message: "model input 'x' takes 4 features per row [N,4]", expected: 4, actual: 3 },
      { code: 'SCHEMA_MISMATCH', where: 'inputs.x', message: "column 'nope' is not in the dataset", expected: COLUMNS.map((c) => c.name), actual: 'nope' },
    ]);
  });

  it('a single `column` for a wider input is a count mismatch', () => {
    const { problems } = planFeeds(job({ inputs: { x: { column: 'f0' } } }), [X4], COLUMNS);
    expect(problems).toEqual([{ code: 'MODEL_MISMATCH', where: 'inputs.x', message: "model input 'x' takes 4 features per row [N,4]", expected: 4, actual: 1 }]);
  });

  it('inputs naming no model input are reported along with the inputs left unfed', () => {
    const { problems } = planFeeds(job({ inputs: { X: { columns: ['amount', 'f0', 'f1', 'f2'] } } }), [X4], COLUMNS);
    expect(problems.map((p) => [p.code, p.where])).toEqual([
      ['MODEL_MISMATCH', 'inputs.X'],
      ['MODEL_MISMATCH', "model input 'x'"],
    ]);
    expect(problems[0]).toMatchObject({ expected: ['x'], actual: 'X' });
  });

  it('every input of a several-input model is planned', () => {
    const spec = job({
      inputs: {
        x: { columns: ['amount', 'f0', 'f1'], fillNull: 0 },
        merchant: { column: 'merchant_category', vocab: ['grocery', 'travel', 'fuel'], unknown: 0 },
      },
    });
    const { feeds, problems } = planFeeds(spec, [input('x', 'float32', ['N', 3]), input('merchant', 'int64', ['N'])], COLUMNS);
    expect(problems).toEqual([]);
    expect(feeds.map((f) => f.input)).toEqual(['x', 'merchant']);
    expect(feeds[1]).toEqual({
      input: 'merchant',
      dtype: 'int64',
      rank: 1,
      columns: [{ column: 'merchant_category', columnType: 'VARCHAR', nulls: { kind: 'error' }, allowNan: false, range: undefined, parsed: false, scale: undefined, vocab: { values: ['grocery', 'travel', 'fuel'], unknown: 0 } }],
    });
  });

  it('vocab entries become text and unknown defaults to error', () => {
    const { feeds } = planFeeds(job({ inputs: { n: { column: 'n_items', vocab: [1, 2, 'three'] } } }), [input('n', 'int64', ['N'])], COLUMNS);
    expect(feeds[0]!.columns[0]!.vocab).toEqual({ values: ['1', '2', 'three'], unknown: 'error' });
  });
});

describe('planFeeds: column types against tensor dtypes', () => {
  const one = (dtype: string, column: string, extra: Partial<InputSpec> = {}) =>
    planFeeds(job({ inputs: { v: { column, ...extra } } }), [input('v', dtype, ['N'])], COLUMNS);
  const accepted = (r: { feeds: FeedPlan[]; problems: Problem[] }) => r.problems.length === 0 && r.feeds.length === 1;

  it.each([
    ['float32', 'amount', true],
    ['float32', 'n_items', true],
    ['float32', 'flagged', true],
    ['float32', 'price', true],
    ['float32', 'txn_id', false],
    ['float32', 'ts', false],
    ['float64', 'txn_id', false],
    ['float64', 'n_items', true],
    ['int64', 'n_items', true],
    ['int64', 'flagged', true],
    ['int64', 'amount', false],
    ['int64', 'price', false],
    ['int32', 'amount', false],
    ['int32', 'n_items', true],
    ['bool', 'flagged', true],
    ['bool', 'amount', false],
    ['string', 'txn_id', true],
    ['string', 'n_items', true],
    ['string', 'flagged', true],
    ['string', 'amount', false],
    ['string', 'ts', false],
  ])('%s <- %s: %s', (dtype, column, ok) => {
    const result = one(dtype, column);
    expect(accepted(result)).toBe(ok);
    if (!ok) {
      const type = COLUMNS.find((c) => c.name === column)!.type;
      expect(result.problems).toEqual([
        { code: 'SCHEMA_MISMATCH', where: 'inputs.v', message: `column '${column}' cannot feed ${dtype} input 'v'`, expected: `a column castable to ${dtype}`, actual: type },
      ]);
    }
  });

  it('a vocab accepts VARCHAR (and integers) into an int64 or int32 input', () => {
    expect(accepted(one('int64', 'merchant_category', { vocab: ['grocery'] }))).toBe(true);
    expect(accepted(one('int32', 'merchant_category', { vocab: ['grocery'] }))).toBe(true);
    expect(accepted(one('int64', 'n_items', { vocab: [1, 2] }))).toBe(true);
    expect(one('int64', 'ts', { vocab: ['x'] }).problems[0]).toMatchObject({ code: 'SCHEMA_MISMATCH', actual: 'TIMESTAMP' });
  });

  it('a vocab over a float column is refused: its text form is ambiguous (1 vs 1.0)', () => {
    // Regression: floats were accepted, and DuckDB's text for 1.0 is '1.0', so vocab [1, 2]
    // silently sent every row to the `unknown` index.
    expect(one('int64', 'amount', { vocab: [1, 2] }).problems).toEqual([
      { code: 'SCHEMA_MISMATCH', where: 'inputs.v', message: "column 'amount' cannot feed int64 input 'v'", expected: 'a column castable to int64', actual: 'DOUBLE' },
    ]);
    expect(one('int64', 'price', { vocab: [1] }).problems[0]).toMatchObject({ code: 'SCHEMA_MISMATCH', actual: 'DECIMAL(10,2)' });
    expect(accepted(one('int64', 'flagged', { vocab: ['true', 'false'] }))).toBe(true);
  });

  it('a vocab into a float input is refused: vocab builds integer indices', () => {
    const { feeds, problems } = one('float32', 'merchant_category', { vocab: ['grocery'] });
    expect(feeds[0]!.columns).toEqual([]);
    expect(problems).toEqual([{ code: 'MODEL_MISMATCH', where: 'inputs.v', message: '`vocab` builds integer indices', expected: 'an int64 or int32 model input', actual: 'float32' }]);
  });

  it('every uncastable column of one input is reported', () => {
    const { problems } = planFeeds(job({ inputs: { x: { columns: ['txn_id', 'f0', 'ts', 'f1'] } } }), [X4], COLUMNS);
    expect(problems.map((p) => p.message)).toEqual(["column 'txn_id' cannot feed float32 input 'x'", "column 'ts' cannot feed float32 input 'x'"]);
  });
});

describe('planFeeds: model input shapes and types', () => {
  const spec = job({ inputs: { x: { columns: ['amount', 'f0', 'f1', 'f2'] } } });

  it('accepts a fixed batch dimension (older converters); fixedBatchOf gives its size, or a problem when inputs disagree', () => {
    expect(planFeeds(spec, [input('x', 'float32', [1, 4])], COLUMNS).problems).toEqual([]);
    expect(fixedBatchOf([input('x', 'float32', [3, 4]), input('m', 'int64', [3])])).toEqual({ size: 3 });
    expect(fixedBatchOf([input('x', 'float32', ['N', 4])])).toEqual({ size: null });
    expect(fixedBatchOf([input('x', 'float32', [8, 2]), input('y', 'float32', [4, 2])])).toEqual({
      size: null,
      problem: { code: 'MODEL_MISMATCH', where: 'model inputs', message: 'have different fixed batch dimensions', expected: 'one batch size for every input', actual: 'x: 8, y: 4' },
    });
  });

  it('accepts a batch dimension that is symbolic, unnamed or -1', () => {
    for (const first of ['batch', '?', -1, 0]) {
      expect(planFeeds(spec, [input('x', 'float32', [first, 4])], COLUMNS).problems).toEqual([]);
    }
  });

  it('refuses rank 3, rank 0 and an unknown shape', () => {
    expect(planFeeds(spec, [input('x', 'float32', ['N', 2, 2])], COLUMNS).problems).toEqual([
      { code: 'MODEL_MISMATCH', where: "model input 'x'", message: 'must have shape [N] or [N,K]', expected: '[N] or [N,K]', actual: '[N,2,2]' },
    ]);
    expect(planFeeds(spec, [input('x', 'float32', [])], COLUMNS).problems[0]).toMatchObject({ actual: '[]' });
    expect(planFeeds(spec, [input('x', 'float32', null)], COLUMNS).problems[0]).toMatchObject({ actual: 'unknown rank' });
  });

  it('refuses a symbolic feature axis', () => {
    expect(planFeeds(spec, [input('x', 'float32', ['N', 'K'])], COLUMNS).problems).toEqual([
      { code: 'MODEL_MISMATCH', where: "model input 'x'", message: 'needs a fixed feature axis', expected: '[N,K] with a number K', actual: '[N,K]' },
    ]);
  });

  it('refuses a dtype it cannot build, and keeps planning the other inputs', () => {
    const { feeds, problems } = planFeeds(job(), [input('f0', 'float16', ['N', 1]), input('f1', 'float32', ['N', 1])], COLUMNS);
    expect(problems).toEqual([
      { code: 'MODEL_MISMATCH', where: "model input 'f0'", message: 'has a type batchinfer cannot build', expected: 'float32|float64|int64|int32|string|bool', actual: 'float16' },
    ]);
    expect(feeds.map((f) => f.input)).toEqual(['f1']);
  });
});

describe('featureSql through DuckDB', () => {
  const WEIRD = 'x"; DROP TABLE t; --';
  let db: Db;

  beforeAll(async () => {
    db = await Db.open({ threads: 1 });
    await db.exec(`CREATE TABLE t (d DOUBLE, n INTEGER, s VARCHAR, b BOOLEAN, "x""; DROP TABLE t; --" DOUBLE)`);
    await db.exec(`INSERT INTO t VALUES
      (10.1, 42, 'grocery', true, 1.25),
      (NULL, NULL, 'travel', false, NULL),
      (-3.5, 7, 'electronics', NULL, 2.5),
      (0.1, 0, NULL, true, -4)`);
  });

  afterAll(() => db?.close());

  const feed = (column: string, columnType: string, extra: Partial<ColumnFeed> = {}): ColumnFeed => ({ column, columnType, nulls: { kind: 'error' }, allowNan: false, parsed: false, ...extra });

  /** Runs one feature expression over t; returns the SQL type and the values in row order. */
  async function evaluate(f: ColumnFeed, dtype: FeedDtype): Promise<{ type: string; values: unknown[] }> {
    const params = new Params();
    const expr = featureSql(f, dtype, params);
    const values: unknown[] = [];
    let type = '';
    for await (const chunk of db.stream(`SELECT ${expr} AS v FROM t`, params.values)) {
      type = chunk.columns[0]!.typeName;
      for (let r = 0; r < chunk.rowCount; r++) values.push(chunk.columns[0]!.value(r));
    }
    return { type, values };
  }

  it('casts to the tensor type and leaves NULLs for the reader to refuse', async () => {
    // A DOUBLE into float32 with nothing to fill is read as DOUBLE: the reader narrows it.
    expect(narrowsInReader(feed('d', 'DOUBLE'), 'float32')).toBe(true);
    expect(await evaluate(feed('d', 'DOUBLE'), 'float32')).toEqual({ type: 'DOUBLE', values: [10.1, null, -3.5, 0.1] });
    expect(await evaluate(feed('d', 'DOUBLE'), 'float64')).toEqual({ type: 'DOUBLE', values: [10.1, null, -3.5, 0.1] });
    expect(await evaluate(feed('n', 'INTEGER'), 'int64')).toEqual({ type: 'BIGINT', values: [42n, null, 7n, 0n] });
    expect(await evaluate(feed('n', 'INTEGER'), 'int32')).toEqual({ type: 'INTEGER', values: [42, null, 7, 0] });
    expect(await evaluate(feed('n', 'INTEGER'), 'string')).toEqual({ type: 'VARCHAR', values: ['42', null, '7', '0'] });
    expect(await evaluate(feed('b', 'BOOLEAN'), 'float32')).toEqual({ type: 'FLOAT', values: [1, 0, null, 1] });
    expect(await evaluate(feed('b', 'BOOLEAN'), 'bool')).toEqual({ type: 'BOOLEAN', values: [true, false, null, true] });
    // A boolean feeds a string input by its decimal text, as an integer does.
    expect(await evaluate(feed('b', 'BOOLEAN'), 'string')).toEqual({ type: 'VARCHAR', values: ['1', '0', null, '1'] });
    expect(await evaluate(feed('s', 'VARCHAR', { nulls: { kind: 'fill', value: 'missing' } }), 'string')).toEqual({ type: 'VARCHAR', values: ['grocery', 'travel', 'electronics', 'missing'] });
  });

  it('fill_null replaces NULLs with the value in the tensor type', async () => {
    // Filled in SQL, narrowed to float32 by the reader.
    expect(await evaluate(feed('d', 'DOUBLE', { nulls: { kind: 'fill', value: -1.5 } }), 'float32')).toEqual({ type: 'DOUBLE', values: [10.1, -1.5, -3.5, 0.1] });
    expect(await evaluate(feed('n', 'INTEGER', { nulls: { kind: 'fill', value: 99 } }), 'int64')).toEqual({ type: 'BIGINT', values: [42n, 99n, 7n, 0n] });
  });

  it('scale computes (x - mean) / std in double, then rounds once to float32', async () => {
    const { type, values } = await evaluate(feed('d', 'DOUBLE', { scale: { mean: 0.3, std: 3 } }), 'float32');
    expect(type).toBe('FLOAT');
    expect(values).toEqual([Math.fround((10.1 - 0.3) / 3), null, Math.fround((-3.5 - 0.3) / 3), Math.fround((0.1 - 0.3) / 3)]);
  });

  it('scale with fill_null: NULLs are filled with the raw value, then scaled (impute, then standardise)', async () => {
    const { values } = await evaluate(feed('d', 'DOUBLE', { scale: { mean: 0.3, std: 3 }, nulls: { kind: 'fill', value: 0 } }), 'float32');
    expect(values[1]).toBe(Math.fround((0 - 0.3) / 3));
    expect(values[0]).toBe(Math.fround((10.1 - 0.3) / 3));
  });

  it('vocab maps to 0-based positions, unseen values to the unknown index, NULL to NULL or fill', async () => {
    const vocab = { values: ['grocery', 'travel', 'fuel'], unknown: 2 as const };
    expect(await evaluate(feed('s', 'VARCHAR', { vocab }), 'int64')).toEqual({ type: 'BIGINT', values: [0n, 1n, 2n, null] });
    expect(await evaluate(feed('s', 'VARCHAR', { vocab, nulls: { kind: 'fill', value: 1 } }), 'int64')).toEqual({ type: 'BIGINT', values: [0n, 1n, 2n, 1n] });
    expect(await evaluate(feed('s', 'VARCHAR', { vocab }), 'int32')).toEqual({ type: 'INTEGER', values: [0, 1, 2, null] });
  });

  it('vocab with unknown: error leaves unseen values NULL (the row check rejects those rows)', async () => {
    const { values } = await evaluate(feed('s', 'VARCHAR', { vocab: { values: ['grocery', 'travel', 'fuel'], unknown: 'error' } }), 'int64');
    expect(values).toEqual([0n, 1n, null, null]);
  });

  it('vocab over an integer column matches the values as text', async () => {
    const { values } = await evaluate(feed('n', 'INTEGER', { vocab: { values: ['0', '7', '42'], unknown: 'error' } }), 'int64');
    expect(values).toEqual([2n, null, 1n, 0n]);
  });

  it('binds every value: the SQL text holds only placeholders', () => {
    const params = new Params();
    const sql = featureSql(feed('s', 'VARCHAR', { vocab: { values: ["it's", 'b'], unknown: 1 }, nulls: { kind: 'fill', value: 0 } }), 'int64', params);
    expect(sql).not.toContain("it's");
    expect(params.values).toEqual([["it's", 'b'], 1, 0]);
  });

  it('a column name with quotes and semicolons goes through quoteIdent', async () => {
    const params = new Params();
    const expr = featureSql(feed(WEIRD, 'DOUBLE', { nulls: { kind: 'fill', value: 0 } }), 'float32', params);
    expect(expr).toContain('"x""; DROP TABLE t; --"');
    expect(await evaluate(feed(WEIRD, 'DOUBLE', { nulls: { kind: 'fill', value: 0 } }), 'float32')).toEqual({ type: 'DOUBLE', values: [1.25, 0, 2.5, -4] });
    expect(await db.exec('SELECT count(*) FROM t')).toBe(4n);
  });
});

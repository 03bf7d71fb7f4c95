/**
 * `fill_null: mean|median` in the feed plan: each column takes its own value from the
 * reference's statistics (input-level or per_column, the column's own winning), the plan holds
 * the value and the statistic, and a column the reference lacks, or holds no number of, is a
 * SPEC_INVALID problem at the fill's key path naming the column and the reference.
 */
import { describe, expect, it } from 'vitest';
import type { ValueInfo } from '../../src/model/onnxFile.js';
import { planFeeds } from '../../src/preprocess/featurePlan.js';
import type { ReferenceValues } from '../../src/preprocess/referenceFill.js';
import { describeSteps } from '../../src/preprocess/transforms.js';
import type { ColumnInfo } from '../../src/source/dataset.js';
import type { InputSpec, JobSpec } from '../../src/spec/jobSpec.js';

const COLUMNS: ColumnInfo[] = [
  { name: 'a', type: 'DOUBLE' },
  { name: 'b', type: 'INTEGER' },
  { name: 'c', type: 'DOUBLE' },
  { name: 'word', type: 'VARCHAR' },
];

const REFERENCE: ReferenceValues = {
  path: '/ref/train.profile.json',
  columns: new Map([
    ['a', { mean: 2.5, median: 2 }],
    ['b', { mean: 10.25, median: 9 }],
    ['word', { mean: null, median: null }],
  ]),
};

function job(inputs: Record<string, InputSpec>): JobSpec {
  return { name: 't', model: '/m.onnx', input: '/in.parquet', output: '/out.parquet', passthrough: [], inputs, reference: REFERENCE.path, batchSize: 8192 } as unknown as JobSpec;
}

const input = (name: string, elemType: string, width: number): ValueInfo => ({ name, elemType, shape: ['N', width] });

describe('planFeeds: fill_null from the reference profile', () => {
  it('each column its own statistic; per_column wins; the plan holds the value and says where it came from', () => {
    const spec = job({ x: { columns: ['a', 'b'], fillNull: { stat: 'mean' }, perColumn: { b: { fillNull: { stat: 'median' } } } } });
    const { feeds, problems } = planFeeds(spec, [input('x', 'float32', 2)], COLUMNS, { reference: REFERENCE });
    expect(problems).toEqual([]);
    expect(feeds[0]!.columns.map((c) => c.nulls)).toEqual([
      { kind: 'fill', value: 2.5, stat: 'mean' },
      { kind: 'fill', value: 9, stat: 'median' },
    ]);
    expect(describeSteps(feeds[0]!.columns[0]!)).toEqual(['fill_null 2.5 (reference mean)']);
    // A given value is a plain fill, as before.
    const given = planFeeds(job({ x: { columns: ['a', 'b'], fillNull: 3.2 } }), [input('x', 'float32', 2)], COLUMNS, { reference: REFERENCE });
    expect(given.feeds[0]!.columns.map((c) => c.nulls)).toEqual([{ kind: 'fill', value: 3.2 }, { kind: 'fill', value: 3.2 }]);
  });

  it('a column missing from the reference, one with no number there, and no reference read: SPEC_INVALID naming column and reference', () => {
    const spec = job({ x: { columns: ['a', 'c'], fillNull: { stat: 'median' } }, y: { column: 'word', fillNull: 'error' }, z: { columns: ['a', 'b'], perColumn: { b: { fillNull: { stat: 'mean' } } } } });
    const inputs = [input('x', 'float64', 2), input('y', 'string', 1), input('z', 'float32', 2)];
    const { problems } = planFeeds(spec, inputs, COLUMNS, { reference: REFERENCE });
    expect(problems).toEqual([
      { code: 'SPEC_INVALID', where: 'inputs.x.fill_null', message: "`median` of column 'c' comes from reference /ref/train.profile.json, which has no column 'c'", expected: ['a', 'b', 'word'], actual: 'c' },
    ]);
    const text = planFeeds(job({ x: { columns: ['a', 'word'], perColumn: { word: { fillNull: { stat: 'mean' } } } } }), [input('x', 'float32', 2)], [...COLUMNS.slice(0, 3), { name: 'word', type: 'DOUBLE' }], { reference: REFERENCE });
    expect(text.problems).toMatchObject([{ code: 'SPEC_INVALID', where: 'inputs.x.per_column.word.fill_null', message: "`mean` of column 'word': reference /ref/train.profile.json holds no number in that column (only NULLs, NaN, infinities or text)" }]);
    const unread = planFeeds(spec, inputs, COLUMNS);
    expect(unread.problems.map((p) => [p.code, p.where])).toEqual([
      ['SPEC_INVALID', 'inputs.x.fill_null'],
      ['SPEC_INVALID', 'inputs.x.fill_null'],
      ['SPEC_INVALID', 'inputs.z.per_column.b.fill_null'],
    ]);
  });

  it('a statistic into an integer input is refused (it would be rounded)', () => {
    const { problems } = planFeeds(job({ n: { column: 'b', fillNull: { stat: 'mean' } } }), [input('n', 'int64', 1)], COLUMNS, { reference: REFERENCE });
    expect(problems).toEqual([{ code: 'SPEC_INVALID', where: 'inputs.n.fill_null', message: "`mean` fills column 'b' with a float (10.25), and the model input is int64", expected: 'a float32 or float64 model input, or a given value', actual: 'int64' }]);
  });
});

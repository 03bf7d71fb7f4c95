/**
 * The transform keys of an input (clip, log, log1p, bucketize, min_max, fill_null given values,
 * per_column, one_hot): how they map into InputSpec and which combinations are refused, each
 * at its key path.
 */
import { describe, expect, it } from 'vitest';
import { BatchinferError, type Problem } from '../../src/errors.js';
import { parseJobSpec } from '../../src/spec/jobSpec.js';

const options = { baseDir: '/jobs', name: 'j' };
const minimal = { model: 'm.onnx', input: 'in.parquet', output: 'out.parquet' };

function problemsOf(inputs: unknown): Problem[] {
  try {
    parseJobSpec({ ...minimal, inputs }, options);
  } catch (err) {
    expect(err).toBeInstanceOf(BatchinferError);
    expect((err as BatchinferError).code).toBe('SPEC_INVALID');
    return [...(err as BatchinferError).problems];
  }
  throw new Error('expected the job to be refused');
}

describe('transform keys', () => {
  it('map to InputSpec: log1p, per_column with scalar scale/min_max, one_hot defaults, given mean/median fills', () => {
    const spec = parseJobSpec(
      {
        ...minimal,
        inputs: {
          x: { columns: ['amount', 'f1', 'f2'], clip: [0, 1000], log1p: true, fill_null: { median: 2.5 }, per_column: { amount: { log: true, clip: [0, 50000], fill_null: { mean: 3.2 } }, f2: { bucketize: [0.1, 0.5, 0.9], min_max: { min: 0, max: 3 } } } },
          channel: { one_hot: { column: 'channel', categories: ['web', 'store', 1] } },
        },
      },
      options,
    );
    expect(spec.inputs.x).toMatchObject({ clip: [0, 1000], log: 'log1p', fillNull: 2.5, perColumn: { amount: { log: 'log', clip: [0, 50000], fillNull: 3.2 }, f2: { bucketize: [0.1, 0.5, 0.9], minMax: { min: 0, max: 3 } } } });
    const off = parseJobSpec({ ...minimal, inputs: { x: { columns: ['a', 'b'], log: true, per_column: { b: { log: false } } } } }, options);
    expect(off.inputs.x!.perColumn).toEqual({ b: { log: null } });
    expect(spec.inputs.channel).toMatchObject({ oneHot: { column: 'channel', categories: ['web', 'store', 1], unknown: 'error', dropFirst: false } });
  });

  it('refuses bad values and combinations, every one at once, each at its key path', () => {
    const problems = problemsOf({
      a: { columns: ['p', 'q'], clip: [5, 1], bucketize: [1, 1, 2], log: true, log1p: true, min_max: { min: [0], max: [1, 1] }, scale: { mean: [0, 0], std: [1, 1] } },
      b: { columns: ['p'], per_column: { r: { clip: [0, 1] }, p: { min_max: { min: 2, max: 2 }, bucketize: [3, 2] } } },
      c: { one_hot: { column: 'ch', categories: ['x', 'x'] }, clip: [0, 1] },
      d: { column: 'p', fill_null: 'mean' },
      e: { column: 'v', vocab: ['a'], clip: [0, 1] },
    });
    expect(problems.map((p) => p.where).sort()).toEqual(
      [
        'inputs.a.clip',
        'inputs.a.bucketize',
        'inputs.a.log1p',
        'inputs.a.min_max',
        'inputs.a.min_max',
        'inputs.b.per_column.r',
        'inputs.b.per_column.p.bucketize',
        'inputs.b.per_column.p.min_max',
        'inputs.c.one_hot',
        'inputs.c.one_hot.categories',
        'inputs.d.fill_null',
        'inputs.e',
      ].sort(),
    );
    expect(problems.find((p) => p.where === 'inputs.d.fill_null')!.message).toMatch(/`mean` of column 'p' comes from a reference profile, and the job names none: set `reference: PROFILE`/);
  });

  it('fill_null: mean|median with a reference: left for the feed plan to resolve; the reference is relative to the job file', () => {
    const spec = parseJobSpec({ ...minimal, reference: 'ref/train.profile.json', inputs: { x: { columns: ['a', 'b'], fill_null: 'median', per_column: { b: { fill_null: 'mean' } } } } }, options);
    expect(spec.reference).toBe('/jobs/ref/train.profile.json');
    expect(spec.inputs.x).toMatchObject({ fillNull: { stat: 'median' }, perColumn: { b: { fillNull: { stat: 'mean' } } } });
    expect(parseJobSpec(minimal, options)).not.toHaveProperty('reference');
  });

  it('fill_null: mean|median without a reference names each column; on a vocab or one_hot input it is refused', () => {
    const problems = problemsOf({ x: { columns: ['a', 'b'], fill_null: 'mean', per_column: { b: { fill_null: 'median' } } } });
    expect(problems.map((p) => [p.where, p.message.split(' comes')[0]])).toEqual([
      ['inputs.x.fill_null', "`mean` of column 'a', 'b'"],
      ['inputs.x.per_column.b.fill_null', "`median` of column 'b'"],
    ]);
    try {
      parseJobSpec({ ...minimal, reference: 'r.json', inputs: { v: { column: 'c', vocab: ['x'], fill_null: 'mean' }, h: { one_hot: { column: 'c', categories: ['x'] }, fill_null: 'median' } } }, options);
      expect.unreachable();
    } catch (err) {
      expect((err as BatchinferError).problems.map((p) => [p.code, p.where, p.message])).toEqual([
        ['SPEC_INVALID', 'inputs.v.fill_null', '`mean` fills a number; a vocab input takes a category (give it as a value)'],
        ['SPEC_INVALID', 'inputs.h.fill_null', '`median` fills a number; a one_hot input takes a category (give it as a value)'],
      ]);
    }
  });
});

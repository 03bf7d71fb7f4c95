import { describe, expect, it } from 'vitest';
import { checkJobSpec, parseJobSpec } from '../../src/spec/jobSpec.js';
import { BatchinferError } from '../../src/errors.js';

const options = { baseDir: '/jobs', name: 'j' };
const paths = { model: 'm.onnx', input: 'x.parquet', output: 'y.parquet' };

function problemsOf(raw: Record<string, unknown>) {
  try {
    parseJobSpec(raw, options);
  } catch (err) {
    return (err as BatchinferError).problems;
  }
  throw new Error('expected a spec error');
}

describe('job key problems in our words', () => {
  it.each([
    [{ review_below: 5 }, 'review_below', 'is out of range', 'a number of at most 1', 5],
    [{ workers: 0 }, 'workers', 'is out of range', 'a number above 0', 0],
    [{ batch_size: 1.5 }, 'batch_size', 'is not an accepted value', 'a whole number or "auto"', 1.5],
    [{ batch_size: 'big' }, 'batch_size', 'is not an accepted value', 'a number or "auto"', 'big'],
    [{ on_error: 'abort' }, 'on_error', 'is not an accepted value', 'one of "fail", "skip", "quarantine"', 'abort'],
    [{ fill_null: true }, 'fill_null', 'is not an accepted value', 'a number or "error"', true],
  ])('%j: %s %s', (keys, where, message, expected, actual) => {
    expect(problemsOf({ ...paths, ...keys })).toEqual([{ code: 'SPEC_INVALID', where, message, expected, actual }]);
  });

  it('an empty list or text is said to be empty', () => {
    expect(problemsOf({ ...paths, labels: [], passthrough: [''] })).toEqual([
      { code: 'SPEC_INVALID', where: 'passthrough[0]', message: 'must not be empty text' },
      { code: 'SPEC_INVALID', where: 'labels', message: 'must not be an empty list' },
    ]);
  });

  it('never passes the schema library\'s wording through', () => {
    const problems = problemsOf({ ...paths, review_below: 5, workers: -1, batch_size: 'x', on_error: 1, labels: [] });
    for (const p of problems) expect(p.message).not.toMatch(/Too big|Too small|Invalid input|Invalid option|expected .* to be/);
  });
});

describe('checkJobSpec', () => {
  it('a wrong or unknown key still gives the spec of the other keys, with every problem', () => {
    const { spec, problems } = checkJobSpec({ ...paths, batch_size: 0, colour: 'red', passthrough: ['id'] }, options);
    expect(problems.map((p) => p.where)).toEqual(['batch_size', 'colour']);
    expect(spec).toMatchObject({ model: '/jobs/m.onnx', input: '/jobs/x.parquet', output: '/jobs/y.parquet', passthrough: ['id'], batchSize: 2048 });
  });

  it('no spec when a path is missing or wrong', () => {
    expect(checkJobSpec({ input: 'x.parquet', output: 'y.parquet' }, options).spec).toBeNull();
    expect(checkJobSpec({ ...paths, model: 3 }, options).spec).toBeNull();
  });
});

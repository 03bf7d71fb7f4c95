import { describe, expect, it } from 'vitest';
import { BatchinferError, describeProblem, ERROR_CODES, errorMessage, EXIT, formatValue, isBatchinferError, type ErrorCode } from '../src/errors.js';

describe('error codes -> exit codes', () => {
  const table: [ErrorCode, number][] = [
    ['USAGE', 2],
    ['SPEC_INVALID', 78],
    ['SPEC_MISSING', 66],
    ['MODEL_MISSING', 66],
    ['MODEL_INVALID', 78],
    ['MODEL_MISMATCH', 78],
    ['INPUT_MISSING', 66],
    ['INPUT_INVALID', 65],
    ['SCHEMA_MISMATCH', 78],
    ['KEY_MISSING', 78],
    ['KEY_INVALID', 78],
    ['BAD_DATA', 65],
    ['OUTPUT_UNWRITABLE', 73],
    ['RESOURCE_LIMIT', 71],
    ['INFERENCE_FAILED', 70],
    ['INTERNAL', 70],
  ];

  it.each(table)('%s exits with %i', (code, exit) => {
    expect(new BatchinferError(code, 'x').exitCode).toBe(exit);
  });

  it('every code maps to one of the documented exit codes, never 0', () => {
    const allowed = new Set<number>(Object.values(EXIT));
    for (const [code, exit] of Object.entries(ERROR_CODES)) {
      expect(allowed.has(exit), code).toBe(true);
      expect(exit, code).not.toBe(EXIT.OK);
    }
    for (const [code, exit] of table) expect(ERROR_CODES[code]).toBe(exit);
  });

  it('no error exits 1: 1 is a check that found a difference (a failed gate, files that differ)', () => {
    expect(EXIT.CHECK_FAILED).toBe(1);
    for (const [code, exit] of Object.entries(ERROR_CODES)) expect(exit, code).not.toBe(EXIT.CHECK_FAILED);
  });
});

describe('BatchinferError', () => {
  it('carries code, expected, actual and cause', () => {
    const cause = new Error('root');
    const err = new BatchinferError('INPUT_MISSING', 'input file not found', { expected: 'a file', actual: '/nope', cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('BatchinferError');
    expect(err.code).toBe('INPUT_MISSING');
    expect(err.expected).toBe('a file');
    expect(err.actual).toBe('/nope');
    expect(err.cause).toBe(cause);
    expect(err.problems).toEqual([]);
    expect(isBatchinferError(err)).toBe(true);
    expect(isBatchinferError(new Error('x'))).toBe(false);
    expect(isBatchinferError('INPUT_MISSING')).toBe(false);
  });

  it('has no cause property when none is given', () => {
    expect('cause' in new BatchinferError('INTERNAL', 'x')).toBe(false);
  });
});

describe('describeProblem', () => {
  it('formats where: message (expected X, got Y)', () => {
    expect(describeProblem({ code: 'SPEC_INVALID', where: 'inputs.x.columns[2]', message: 'is wrong', expected: 'a column', actual: 'nothing' })).toBe(
      'inputs.x.columns[2]: is wrong (expected a column, got nothing)',
    );
  });

  it('leaves out what is missing', () => {
    expect(describeProblem({ code: 'SPEC_INVALID', message: 'is wrong' })).toBe('is wrong');
    expect(describeProblem({ code: 'SPEC_INVALID', where: 'model', message: 'is required', expected: 'a path' })).toBe('model: is required (expected a path)');
    expect(describeProblem({ code: 'SPEC_INVALID', message: 'bad', actual: 3 })).toBe('bad (got 3)');
  });

  it('prints arrays as JSON, bigints as digits, and falsy values that are not undefined', () => {
    expect(describeProblem({ code: 'MODEL_MISMATCH', message: 'm', expected: ['a', 'b'], actual: 0 })).toBe('m (expected ["a","b"], got 0)');
    expect(describeProblem({ code: 'MODEL_MISMATCH', message: 'm', actual: null })).toBe('m (got null)');
    expect(describeProblem({ code: 'MODEL_MISMATCH', message: 'm', actual: '' })).toBe('m (got "")');
    expect(formatValue(12n)).toBe('12');
    expect(formatValue({ n: 5n, s: 'x' })).toBe('{"n":"5","s":"x"}');
  });
});

describe('BatchinferError.fromProblems', () => {
  const a = { code: 'SPEC_INVALID' as const, where: 'model', message: 'is required', expected: 'a path' };
  const b = { code: 'SCHEMA_MISMATCH' as const, where: 'inputs.x', message: "column 'q' is not in the dataset", actual: 'q' };

  it('one problem: its description is the message, its code and values are the error\'s', () => {
    const err = BatchinferError.fromProblems([b]);
    expect(err.code).toBe('SCHEMA_MISMATCH');
    expect(err.message).toBe("inputs.x: column 'q' is not in the dataset (got q)");
    expect(err.actual).toBe('q');
    expect(err.problems).toEqual([b]);
    expect(errorMessage(err)).toBe(err.message);
  });

  it('several problems: counted and listed one per line, code of the first', () => {
    const err = BatchinferError.fromProblems([a, b]);
    expect(err.code).toBe('SPEC_INVALID');
    expect(err.exitCode).toBe(78);
    // Each problem keeps its own expected/actual; the error has none of its own.
    expect(err.expected).toBeUndefined();
    expect(err.actual).toBeUndefined();
    expect(err.message).toBe("2 problems:\n  - model: is required (expected a path)\n  - inputs.x: column 'q' is not in the dataset (got q)");
    expect(err.problems).toHaveLength(2);
  });

  it('refuses an empty list', () => {
    expect(() => BatchinferError.fromProblems([])).toThrow(/at least one problem/);
  });

  it('errorMessage adds expected/actual to a plain error', () => {
    const err = new BatchinferError('INPUT_INVALID', 'cannot read f.csv', { expected: '.csv', actual: '.txt' });
    expect(errorMessage(err)).toBe('cannot read f.csv (expected .csv, got .txt)');
  });
});

describe('formatValue of a long list', () => {
  it('shows the first 20 items and how many there are', () => {
    const names = Array.from({ length: 30_000 }, (_, i) => `c${i}`);
    const shown = formatValue(names);
    expect(shown).toBe(`${JSON.stringify(names.slice(0, 20)).slice(0, -1)},... (30000 in all)]`);
    expect(formatValue(['a', 'b'])).toBe('["a","b"]');
  });
});

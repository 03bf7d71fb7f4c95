import { describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { redactError, redactMessage } from '../../src/util/redact.js';

describe('redactMessage', () => {
  it('replaces every quoted run, single or double, and keeps the rest', () => {
    expect(redactMessage(`Could not convert string 'abc' to "DOUBLE" at line 4`)).toBe(`Could not convert string '<redacted>' to '<redacted>' at line 4`);
    expect(redactMessage(`'' and "x" and "" and 'y'`)).toBe(`'' and '<redacted>' and "" and '<redacted>'`);
    expect(redactMessage('line 102 has 6 fields, the header has 5')).toBe('line 102 has 6 fields, the header has 5');
  });
});

describe('redactError', () => {
  it('keeps code and exit; redacts message, text details and problems; keeps numbers and codes; drops other details', () => {
    const err = new BatchinferError('INPUT_INVALID', `cannot read x.csv: got 'secret'`, {
      expected: 'a comma',
      actual: '"s"',
      problems: [{ code: 'BAD_DATA', message: `'secret' in column f0`, actual: ['secret'] }],
    });
    const red = redactError(err) as BatchinferError;
    expect(red).toBeInstanceOf(BatchinferError);
    expect([red.code, red.exitCode, red.message, red.expected, red.actual]).toEqual(['INPUT_INVALID', err.exitCode, `cannot read x.csv: got '<redacted>'`, 'a comma', `'<redacted>'`]);
    expect(red.problems).toEqual([{ code: 'BAD_DATA', message: `'<redacted>' in column f0`, expected: undefined, actual: '<redacted>' }]);
    expect((redactError(new BatchinferError('BAD_DATA', 'x', { actual: 'NOT_FINITE' })) as BatchinferError).actual).toBe('NOT_FINITE');
    expect((redactError(new BatchinferError('BAD_DATA', 'x', { actual: 12 })) as BatchinferError).actual).toBe(12);
  });

  it('an unexpected error keeps its kind of report with its message redacted', () => {
    expect((redactError(new Error(`boom 'secret'`)) as Error).message).toBe(`boom '<redacted>'`);
  });
});

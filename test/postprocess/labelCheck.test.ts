import { describe, expect, it } from 'vitest';
import { LabelCheck } from '../../src/postprocess/labelCheck.js';

describe('LabelCheck', () => {
  it('maps string labels through the class names and counts rows that are not the argmax, across batches', () => {
    const check = new LabelCheck({ output: 'output_label', classes: ['low', 'mid', 'high'] });
    check.observe({ type: 'string', dims: [3], data: ['low', 'high', 'mid'] }, Int32Array.from([0, 2, 2]), 3);
    check.observe({ type: 'string', dims: [2], data: ['unknown', 'low'] }, Int32Array.from([1, 0]), 2);
    expect(check.report()).toEqual({
      output: 'output_label',
      rows: 5,
      disagreements: 2,
      examples: [
        { row: 2, label: 'mid', argmax: 'high' },
        { row: 3, label: 'unknown', argmax: 'mid' },
      ],
    });
  });

  it('int64 labels are class names as decimal text, or indices when the model names no classes', () => {
    const named = new LabelCheck({ output: 'label', classes: ['10', '20'] });
    named.observe({ type: 'int64', dims: [2], data: new BigInt64Array([20n, 10n]) }, Int32Array.from([1, 1]), 2);
    expect(named.report()).toMatchObject({ rows: 2, disagreements: 1 });
    const indices = new LabelCheck({ output: 'label', classes: null });
    indices.observe({ type: 'int64', dims: [2, 1], data: new BigInt64Array([1n, 0n]) }, Int32Array.from([1, 0]), 2);
    expect(indices.report()).toMatchObject({ rows: 2, disagreements: 0, examples: [] });
  });

  it('a label output without one value per row is a model mismatch', () => {
    const check = new LabelCheck({ output: 'label', classes: null });
    expect(() => check.observe({ type: 'int64', dims: [1], data: new BigInt64Array([1n]) }, Int32Array.from([1, 0]), 2)).toThrow(expect.objectContaining({ code: 'MODEL_MISMATCH' }));
    expect(() => check.observe(undefined, Int32Array.from([1]), 1)).toThrow(/does not hold one label per row/);
  });
});

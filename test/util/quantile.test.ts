import { describe, expect, it } from 'vitest';
import { quantile } from '../../src/util/quantile.js';

describe('quantile (nearest rank)', () => {
  it('takes the value at rank ceil(q n) of the sorted list', () => {
    // Sorted: 15, 20, 35, 40, 50 (the textbook example of the nearest-rank method).
    const values = [35, 20, 50, 15, 40];
    expect(quantile(values, 0.05)).toBe(15); // ceil(0.25) = 1
    expect(quantile(values, 0.3)).toBe(20); // ceil(1.5) = 2
    expect(quantile(values, 0.4)).toBe(20); // ceil(2) = 2
    expect(quantile(values, 0.5)).toBe(35); // ceil(2.5) = 3
    expect(quantile(values, 1)).toBe(50);
    expect(quantile(values, 0)).toBe(15);
    expect(values).toEqual([35, 20, 50, 15, 40]); // the list is left as it was
  });

  it('an empty list gives 0', () => {
    expect(quantile([], 0.5)).toBe(0);
  });
});

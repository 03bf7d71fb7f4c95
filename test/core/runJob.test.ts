import { describe, expect, it } from 'vitest';
import { duckdbThreadBudget } from '../../src/core/runJob.js';

describe('duckdbThreadBudget', () => {
  it.each([
    // cores, inference threads, DuckDB's own count -> while reading for the workers, writing alone
    [2, 2, 2, { reading: 1, writing: 2 }],
    [2, 1, 2, { reading: 1, writing: 2 }],
    [8, 2, 8, { reading: 6, writing: 8 }],
    [8, 8, 8, { reading: 1, writing: 8 }],
    // More inference threads than cores (--workers/--threads asked for it): still one.
    [2, 4, 2, { reading: 1, writing: 2 }],
    // DuckDB limited below the cores (a cgroup, a setting): never more than it has.
    [16, 2, 4, { reading: 4, writing: 4 }],
  ])('%i cores, %i inference threads, DuckDB %i: %o', (cores, inference, duckdb, want) => {
    expect(duckdbThreadBudget(cores, inference, duckdb)).toEqual(want);
  });
});

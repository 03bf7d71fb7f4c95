import { describe, expect, it } from 'vitest';
import { kindOf } from '../../src/source/fileKind.js';

describe('kindOf: what a file name says it holds', () => {
  it.each([
    ['x.parquet', { format: 'parquet', delimiter: ',', compression: 'none' }],
    ['dir.d/X.PQ', { format: 'parquet', delimiter: ',', compression: 'none' }],
    ['x.csv', { format: 'csv', delimiter: ',', compression: 'none' }],
    ['x.tsv', { format: 'csv', delimiter: '\t', compression: 'none' }],
    ['2026-11-29.CSV.GZ', { format: 'csv', delimiter: ',', compression: 'gzip' }],
    ['a.b.tsv.gz', { format: 'csv', delimiter: '\t', compression: 'gzip' }],
    ['x.csv.zst', { format: 'csv', delimiter: ',', compression: 'zstd' }],
    ['x.tsv.zst', { format: 'csv', delimiter: '\t', compression: 'zstd' }],
  ])('%s', (name, kind) => {
    expect(kindOf(name)).toEqual(kind);
  });

  it.each(['x.parquet.gz', 'x.pq.zst', 'x.gz', 'x.json', 'x.csv.bz2', 'x.txt', 'csv', 'x.onnx', '.gz'])('%s: not a data file', (name) => {
    expect(kindOf(name)).toBeNull();
  });
});

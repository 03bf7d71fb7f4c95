import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyOptions, outputFormatOf, PARQUET_OPTIONS } from '../../src/sink/outputFormat.js';
import { withDuckDb } from '../helpers/parquet.js';

const dir = await mkdtemp(join(tmpdir(), 'bi-format-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('output format', () => {
  it('follows the name', () => {
    expect(outputFormatOf('x/out.PARQUET')).toBe('parquet');
    expect(outputFormatOf('out.csv')).toBe('csv');
    expect(outputFormatOf('out.jsonl')).toBe('jsonl');
    expect(outputFormatOf('out.txt')).toBeNull();
    expect(copyOptions('parquet')).toBe(PARQUET_OPTIONS);
  });

  it('writes Parquet with every column zstd-compressed', async () => {
    const path = join(dir, 'p.parquet');
    const codecs = await withDuckDb(async (query) => {
      await query(`COPY (SELECT i AS id, (i % 97)::FLOAT / 97 AS score, CASE WHEN i % 3 = 0 THEN 'a' ELSE 'b' END AS label FROM range(5000) t(i)) TO $1 (${PARQUET_OPTIONS})`, [path]);
      return query(`SELECT DISTINCT compression FROM parquet_metadata($1)`, [path]);
    });
    expect(codecs).toEqual([{ compression: 'ZSTD' }]);
  });
});

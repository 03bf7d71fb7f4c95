import { describe, expect, it } from 'vitest';
import { clipQuoted, clipValue, clipValueSql, MAX_VALUE_CHARS } from '../../src/util/clip.js';
import { withDuckDb } from '../helpers/parquet.js';

describe('clipValue', () => {
  it('keeps a short value, and shows the first 60 characters and the length of a long one', () => {
    expect(clipValue('abc')).toBe('abc');
    expect(clipValue('x'.repeat(60))).toBe('x'.repeat(60));
    expect(clipValue('y'.repeat(1_000_000))).toBe(`${'y'.repeat(60)}... (1000000 characters)`);
  });
});

describe('clipQuoted', () => {
  it("clips every long '...' or \"...\" run in a library's message, and only those", () => {
    const long = 'k'.repeat(100);
    expect(clipQuoted(`Could not convert string '${long}' to DOUBLE`)).toBe(`Could not convert string '${'k'.repeat(60)}...' (100 characters) to DOUBLE`);
    expect(clipQuoted(`column "${long}" and 'short'`)).toBe(`column "${'k'.repeat(60)}..." (100 characters) and 'short'`);
    expect(clipQuoted("no quotes at all")).toBe('no quotes at all');
  });
});

describe('clipValueSql', () => {
  it('computes in DuckDB what clipValue computes in JS', async () => {
    const values = ['', 'abc', 'z'.repeat(MAX_VALUE_CHARS), 'é'.repeat(MAX_VALUE_CHARS + 1), 'q'.repeat(5000)];
    await withDuckDb(async (q) => {
      for (const v of values) {
        const [row] = await q(`SELECT ${clipValueSql('$1::VARCHAR', false)} AS plain, ${clipValueSql('$1::VARCHAR', true)} AS quoted`, [v]);
        expect(row!['plain']).toBe(clipValue(v));
        const clipped = clipValue(v);
        expect(row!['quoted']).toBe(v.length > MAX_VALUE_CHARS ? `'${clipped.replace('... (', "...' (")}` : `'${v}'`);
      }
    });
  });
});

import { describe, expect, it } from 'vitest';
import { allocateFeed, BufferPool, feedRowBytes } from '../../src/source/bufferPool.js';
import type { FeedDtype } from '../../src/preprocess/featurePlan.js';

describe('BufferPool', () => {
  it('a returned buffer of the right size is filled again, zeroed; another size allocates', () => {
    const pool = new BufferPool();
    const first = allocateFeed('float32', 8, pool) as Float32Array;
    first.fill(7);
    pool.put([first.buffer as ArrayBuffer]);
    const again = allocateFeed('float32', 8, pool) as Float32Array;
    expect(again.buffer).toBe(first.buffer);
    expect([...again]).toEqual(new Array(8).fill(0));
    // Same bytes, other dtype: int32 reuses it too (a view of the same length in bytes).
    pool.put([again.buffer as ArrayBuffer]);
    expect((allocateFeed('int32', 8, pool) as Int32Array).buffer).toBe(first.buffer);
    expect((allocateFeed('float32', 8, pool) as Float32Array).buffer).not.toBe(first.buffer);
    expect(allocateFeed('float64', 3, pool)).toEqual(new Float64Array(3));
  });

  it('strings are never pooled; detached (empty) buffers are ignored; at most 16 per size are kept', () => {
    const pool = new BufferPool();
    expect(allocateFeed('string', 2, pool)).toEqual(['', '']);
    pool.put([new ArrayBuffer(0)]);
    const many = Array.from({ length: 20 }, () => new ArrayBuffer(16));
    pool.put(many);
    const taken = [];
    for (let i = 0; i < 20; i++) taken.push(pool.take(16));
    expect(taken.filter((b) => b !== undefined)).toHaveLength(16);
  });
});

describe('feedRowBytes', () => {
  it("a row's bytes in the typed feeds: columns times the dtype's width; string feeds count nothing", () => {
    const feed = (dtype: FeedDtype, columns: number) => ({ dtype, columns: new Array(columns).fill({}) });
    expect(feedRowBytes([])).toBe(0);
    expect(feedRowBytes([feed('float32', 30)])).toBe(120);
    expect(feedRowBytes([feed('float32', 3), feed('int64', 1), feed('float64', 2), feed('int32', 1), feed('bool', 5), feed('string', 4)])).toBe(12 + 8 + 16 + 4 + 5);
  });
});

import { describe, expect, it } from 'vitest';
import { runInGroups, takeRows } from '../../src/infer/fixedBatch.js';
import type { TensorData } from '../../src/infer/ort.js';

const f32 = (values: number[], dims: number[]): TensorData => ({ type: 'float32', dims, data: Float32Array.from(values) });

/** A fake model with batch fixed at `size`: output row r = [sum of input row, label] for x, and the string echoed. */
function fakeModel(size: number, calls: number[][]) {
  return async (feeds: Record<string, TensorData>): Promise<Record<string, TensorData>> => {
    const x = feeds['x']!;
    expect(x.dims[0]).toBe(size);
    const rows: number[] = [];
    const out = new Float32Array(size * 2);
    for (let r = 0; r < size; r++) {
      const a = (x.data as Float32Array)[r * 2]!;
      const b = (x.data as Float32Array)[r * 2 + 1]!;
      out[r * 2] = a + b;
      out[r * 2 + 1] = a * b;
      rows.push(a);
    }
    calls.push(rows);
    return { y: { type: 'float32', dims: [size, 2], data: out }, s: { type: 'string', dims: [size], data: [...(feeds['s']!.data as string[])] } };
  };
}

describe('runInGroups', () => {
  it('cuts a batch into groups of the fixed size, pads the last with its last real row, drops the padding', async () => {
    const calls: number[][] = [];
    const feeds = { x: f32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [5, 2]), s: { type: 'string' as const, dims: [5], data: ['a', 'b', 'c', 'd', 'e'] } };
    const { outputs, padded } = await runInGroups(fakeModel(3, calls), feeds, 3);
    expect(calls).toEqual([[1, 3, 5], [7, 9, 9]]);
    expect(padded).toBe(1);
    expect(outputs['y']!.dims).toEqual([5, 2]);
    expect([...(outputs['y']!.data as Float32Array)]).toEqual([3, 2, 7, 12, 11, 30, 15, 56, 19, 90]);
    expect(outputs['s']).toEqual({ type: 'string', dims: [5], data: ['a', 'b', 'c', 'd', 'e'] });
  });

  it('a batch of exactly the fixed size runs once, unchanged', async () => {
    const calls: number[][] = [];
    const { padded } = await runInGroups(fakeModel(2, calls), { x: f32([1, 2, 3, 4], [2, 2]), s: { type: 'string', dims: [2], data: ['a', 'b'] } }, 2);
    expect(calls).toEqual([[1, 3]]);
    expect(padded).toBe(0);
  });

  it('takeRows keeps the type and trailing dims of int64 and string tensors', () => {
    expect(takeRows({ type: 'int64', dims: [3], data: new BigInt64Array([1n, 2n, 3n]) }, 2, 1, 3)).toEqual({ type: 'int64', dims: [3], data: new BigInt64Array([3n, 3n, 3n]) });
    expect(takeRows({ type: 'string', dims: [2, 1], data: ['p', 'q'] }, 0, 2, 2)).toEqual({ type: 'string', dims: [2, 1], data: ['p', 'q'] });
  });
});

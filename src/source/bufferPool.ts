/**
 * Feed buffers for reuse: a batch's typed arrays travel to an inference worker and come back
 * with its result (transferred, not copied), and the reader fills them again for the next
 * batch of the same shape instead of allocating new ones.
 *
 * @example
 *   const pool = new BufferPool();
 *   const x = allocateFeed('float32', 2048 * 30, pool); // ... later: pool.put(result.returned)
 */
import type { FeedDtype } from '../preprocess/featurePlan.js';

/** A feed's values: a typed array of its dtype, or strings. */
export type FeedBuffer = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | string[];

/** Returned buffers by byte length: allocating and collecting a batch's buffers is a cost per batch the reader saves. */
export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();

  put(buffers: readonly ArrayBuffer[]): void {
    for (const b of buffers) {
      if (b.byteLength === 0) continue;
      const list = this.free.get(b.byteLength) ?? [];
      if (list.length < 16) list.push(b);
      this.free.set(b.byteLength, list);
    }
  }

  take(byteLength: number): ArrayBuffer | undefined {
    return this.free.get(byteLength)?.pop();
  }
}

/** A zeroed buffer of `length` values, reused from the pool when one of that size came back. */
export function allocateFeed(dtype: FeedDtype, length: number, pool?: BufferPool): FeedBuffer {
  if (dtype === 'string') return new Array<string>(length).fill('');
  const bytes = length * BYTES[dtype];
  const reused = pool?.take(bytes);
  if (reused) new Uint8Array(reused).fill(0);
  return viewOf(dtype, reused ?? new ArrayBuffer(bytes));
}

const BYTES: Record<Exclude<FeedDtype, 'string'>, number> = { float32: 4, float64: 8, int64: 8, int32: 4, bool: 1 };

/** Bytes a row takes in the typed feeds (string feeds, arrays of references, are not counted). */
export function feedRowBytes(feeds: readonly { dtype: FeedDtype; columns: readonly unknown[] }[]): number {
  return feeds.reduce((n, f) => n + (f.dtype === 'string' ? 0 : f.columns.length * BYTES[f.dtype]), 0);
}

function viewOf(dtype: Exclude<FeedDtype, 'string'>, buffer: ArrayBuffer): FeedBuffer {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer);
    case 'float64':
      return new Float64Array(buffer);
    case 'int64':
      return new BigInt64Array(buffer);
    case 'int32':
      return new Int32Array(buffer);
    case 'bool':
      return new Uint8Array(buffer);
  }
}

import { describe, expect, it } from 'vitest';
import { batchesInFlight, IN_FLIGHT_BYTES, IN_FLIGHT_ROWS, MIN_PER_WORKER } from '../../src/infer/inFlight.js';

describe('batchesInFlight', () => {
  it('holds 16,384 rows a worker in batches of the size, never fewer than two a worker', () => {
    // The bench's 30 float32 features: 120 bytes a row, so 16,384 rows are 1.9 MiB (under 4 MiB).
    const bench = { workers: 2, rowBytes: 120 };
    expect(batchesInFlight(bench, 1024)).toBe(2 * 16);
    expect(batchesInFlight(bench, 4096)).toBe(2 * 4);
    expect(batchesInFlight(bench, 16384)).toBe(2 * 2);
    expect(batchesInFlight(bench, 65536)).toBe(2 * 2);
    // A size that does not divide 16,384 rounds up: 164 batches of 100 rows hold 16,400.
    expect(batchesInFlight({ workers: 1, rowBytes: 120 }, 100)).toBe(164);
    // String feeds only: no typed bytes, the rows alone decide.
    expect(batchesInFlight({ workers: 3, rowBytes: 0 }, 2048)).toBe(3 * 8);
    // No size kept yet (`auto` measuring candidates): two a worker, whatever the rows.
    expect(batchesInFlight(bench, null)).toBe(2 * 2);
    expect(batchesInFlight({ workers: 3, rowBytes: 4000 }, null)).toBe(3 * 2);
  });

  it('keeps a worker within 4 MiB of feeds past its two batches', () => {
    // 1000 float32 features (4000 bytes a row): one batch of 1024 rows is 3.9 MiB, so two a worker.
    expect(batchesInFlight({ workers: 2, rowBytes: 4000 }, 1024)).toBe(2 * 2);
    // 200 bytes a row: 16,384 rows would be 3.1 MiB, within; 400 bytes: 6.25 MiB, so 4 MiB /
    // (1024 x 400) = 10.24, ten batches of 1024.
    expect(batchesInFlight({ workers: 1, rowBytes: 200 }, 1024)).toBe(16);
    expect(batchesInFlight({ workers: 1, rowBytes: 400 }, 1024)).toBe(10);
  });

  it('over a grid of sizes and row widths: the rows reach 16,384 a worker unless the bytes would pass 4 MiB, and the bytes pass it only at two batches', () => {
    for (const size of [1, 7, 100, 1000, 1024, 3000, 4096, 16384, 20000, 65536]) {
      for (const rowBytes of [0, 4, 16, 120, 1000, 4000, 65536]) {
        const perWorker = batchesInFlight({ workers: 1, rowBytes }, size);
        expect(batchesInFlight({ workers: 4, rowBytes }, size)).toBe(4 * perWorker);
        expect(perWorker).toBeGreaterThanOrEqual(MIN_PER_WORKER);
        const bytes = perWorker * size * rowBytes;
        if (perWorker > MIN_PER_WORKER) expect(bytes, `${size} x ${rowBytes}`).toBeLessThanOrEqual(IN_FLIGHT_BYTES);
        // One batch more would pass one of the two bounds (or the rows were reached already).
        const rowsReached = perWorker * size >= IN_FLIGHT_ROWS;
        const bytesFull = (perWorker + 1) * size * rowBytes > IN_FLIGHT_BYTES;
        expect(rowsReached || bytesFull, `${size} x ${rowBytes}`).toBe(true);
        // And one batch fewer would not reach the rows, unless two was the floor.
        if (perWorker > MIN_PER_WORKER) expect((perWorker - 1) * size, `${size} x ${rowBytes}`).toBeLessThan(IN_FLIGHT_ROWS);
      }
    }
  });
});

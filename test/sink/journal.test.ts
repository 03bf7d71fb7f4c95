import { appendFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, JOURNAL_NAME, type PartEntry } from '../../src/sink/journal.js';

let dir: string;
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function staging(): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'batchinfer-journal-'));
  return dir;
}

function part(seq: number, rowStart: number, rowEnd: number): PartEntry {
  return { type: 'part', file: 0, seq, rowStart, rowEnd, rowCount: rowEnd - rowStart, rejected: {}, name: `part-${seq}.parquet`, bytes: 3 };
}

describe('Journal', () => {
  it('resumes the entries of the same fingerprint whose files are intact, and ignores a torn last line', async () => {
    const d = await staging();
    const { journal } = await Journal.open(d, { fingerprint: 'f1', settings: { on_error: 'skip' } });
    for (const [i, p] of [part(0, 0, 10), part(1, 10, 20)].entries()) {
      await writeFile(join(d, `part-${i}.parquet`), 'abc');
      await journal.append(p);
    }
    await appendFile(join(d, JOURNAL_NAME), '{"type":"part","fi');
    const again = await Journal.open(d, { fingerprint: 'f1', settings: { on_error: 'skip' } });
    expect(again.resumed).toBe(true);
    expect(again.discarded).toBeUndefined();
    expect(again.journal.parts(0).map((p) => p.seq)).toEqual([0, 1]);
  });

  it('drops a part whose file has another size, and every part after it', async () => {
    const d = await staging();
    const { journal } = await Journal.open(d, 'f');
    await writeFile(join(d, 'part-0.parquet'), 'ab');
    await writeFile(join(d, 'part-1.parquet'), 'abc');
    await journal.append(part(0, 0, 10));
    await journal.append(part(1, 10, 20));
    expect((await Journal.open(d, 'f')).journal.parts(0)).toEqual([]);
  });

  it('another fingerprint: starts over with an empty directory and returns the settings the old run had', async () => {
    const d = await staging();
    const { journal } = await Journal.open(d, { fingerprint: 'f1', settings: { on_error: 'skip' } });
    await writeFile(join(d, 'part-0.parquet'), 'abc');
    await journal.append(part(0, 0, 10));
    const other = await Journal.open(d, { fingerprint: 'f2', settings: { on_error: 'fail' } });
    expect(other.resumed).toBe(false);
    expect(other.discarded).toEqual({ settings: { on_error: 'skip' } });
    expect(await readdir(d)).toEqual([JOURNAL_NAME]);
    expect(other.journal.entries).toEqual([]);
  });

  it("a shard's parts start at its first row of the file: resumed from there, and a part starting elsewhere is dropped", async () => {
    const d = await staging();
    const { journal } = await Journal.open(d, 'f');
    for (const [i, p] of [part(0, 4096, 5096), part(1, 5096, 6000)].entries()) {
      await writeFile(join(d, `part-${i}.parquet`), 'abc');
      await journal.append(p);
    }
    await journal.append({ type: 'file-done', file: 0, rows: 6000 });
    const resumed = await Journal.open(d, 'f', { firstRow: (file) => (file === 0 ? 4096 : 0) });
    expect(resumed.journal.parts(0).map((p) => [p.rowStart, p.rowEnd])).toEqual([[4096, 5096], [5096, 6000]]);
    expect(resumed.journal.done(0)).toEqual({ type: 'file-done', file: 0, rows: 6000 });
    // Read as parts from row 0 (no firstRow), they are no run's: none is kept.
    expect((await Journal.open(d, 'f')).journal.entries).toEqual([]);
  });

  it('a journal with no entries is replaced without a note', async () => {
    const d = await staging();
    await Journal.open(d, 'f1');
    expect((await Journal.open(d, 'f2')).discarded).toBeUndefined();
  });
});

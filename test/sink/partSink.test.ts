/**
 * The part sink: pending predictions become journaled part files of `checkpointRows` rows,
 * each complete under its final name, spans covering the file's rows; a resumed sink starts
 * after the journaled parts. Checked by reading the parts back with DuckDB.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import type { OutputPlan } from '../../src/postprocess/outputPlan.js';
import { Journal } from '../../src/sink/journal.js';
import { PartSink, type PartSinkOptions } from '../../src/sink/partSink.js';
import { PROFILE_VERSION, type Profile } from '../../src/profile/profile.js';
import { FIXTURES_DIR } from '../helpers/reference.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-part-sink-');
const SOURCE = { path: join(FIXTURES_DIR, 'data', 'transactions.parquet'), format: 'parquet' as const };
const PLAN: OutputPlan = { task: 'regression', outputName: 'v', width: 1, valueType: 'FLOAT', extras: [] };
let db: Db;

beforeAll(async () => {
  db = await Db.open({ threads: 1 });
});
afterAll(() => db?.close());

async function open(staging: string, journal: Journal, keys: Partial<PartSinkOptions> = {}): Promise<PartSink> {
  return PartSink.open(db, PLAN, { staging, journal, passthrough: ['txn_id'], byRowNumber: false, lanes: false, checkpointRows: 100, copyThreads: null, quarantine: null, notes: () => ({}), ...keys });
}

/** File 0's journaled parts: sequence number, span, rows and name. */
const journaledParts = (journal: Journal): unknown[][] => journal.parts(0).map((p) => [p.seq, p.rowStart, p.rowEnd, p.rowCount, p.name]);

/** The parts of 250 rows in parts of 100. */
const PARTS_OF_250 = [
  [0, 0, 100, 100, 'part-0-0.parquet'],
  [1, 100, 200, 100, 'part-0-1.parquet'],
  [2, 200, 250, 50, 'part-0-2.parquet'],
];

/** Feeds `rows` rows (v = row) in batches of 50 from file row `from`, flushing full parts as scoreFiles does. */
async function feed(sink: PartSink, from: number, rows: number, onJournaled?: (rowEnd: number) => void): Promise<number[]> {
  const journaled: number[] = [];
  const note = onJournaled ?? ((rowEnd: number) => journaled.push(rowEnd));
  for (let start = from; start < from + rows; start += 50) {
    const n = Math.min(50, from + rows - start);
    await sink.append([{ type: 'FLOAT', data: Float32Array.from({ length: n }, (_, i) => start + i) }], n);
    sink.extendSpan(start + n, {});
    if (sink.full) await sink.flush(note);
  }
  if (sink.lastPartDue) await sink.flush(note);
  return journaled;
}

describe('PartSink', () => {
  it('writes parts of checkpointRows rows beside their passthrough rows, each journaled under its final name', async () => {
    const staging = await tmp.make();
    const { journal } = await Journal.open(staging, 'test');
    const sink = await open(staging, journal);
    try {
      sink.resume(0);
      expect(sink.startFile({ index: 0, source: SOURCE, display: SOURCE, rows: 250, rejectCheck: () => 'NULL' })).toBe(0);
      // The source has 3000 rows; spans cover only the 250 fed here.
      expect(await feed(sink, 0, 250)).toEqual([100, 200, 250]);
      expect(sink.rowsWritten).toBe(250);
      expect(sink.rowsOut).toBe(250);
    } finally {
      await sink.close();
    }
    expect(journaledParts(journal)).toEqual(PARTS_OF_250);
    expect((await readdir(staging)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(sink.parts[0]!.map((p) => p.rows)).toEqual([100, 100, 50]);
    // Each part holds its span's passthrough values beside the predictions made for them.
    const rows = await db.query<{ txn_id: unknown; prediction: number; n: bigint }>(
      `SELECT p.txn_id, p.prediction, s.file_row_number AS n FROM read_parquet($1) p POSITIONAL JOIN (SELECT txn_id, file_row_number FROM read_parquet($2, file_row_number = true) LIMIT 250) s WHERE p.txn_id IS DISTINCT FROM s.txn_id OR p.prediction <> s.file_row_number`,
      [sink.parts[0]!.map((p) => p.path), SOURCE.path],
    );
    expect(rows).toEqual([]);
  });

  it('a resumed sink keeps the journaled parts and numbers its new ones after them', async () => {
    const staging = await tmp.make();
    const first = await Journal.open(staging, 'resume');
    const before = await open(staging, first.journal);
    before.resume(0);
    before.startFile({ index: 0, source: SOURCE, display: SOURCE, rows: 300, rejectCheck: () => 'NULL' });
    await feed(before, 0, 100);
    await before.close();

    const { journal, resumed } = await Journal.open(staging, 'resume');
    expect(resumed).toBe(true);
    const sink = await open(staging, journal);
    try {
      expect(sink.resume(0).map((p) => p.rows)).toEqual([100]);
      expect(sink.startFile({ index: 0, source: SOURCE, display: SOURCE, rows: 300, rejectCheck: () => 'NULL' })).toBe(100);
      expect(await feed(sink, 100, 200)).toEqual([200, 300]);
      expect(sink.rowsOut).toBe(300);
    } finally {
      await sink.close();
    }
    expect(journal.parts(0).map((p) => [p.seq, p.rowStart, p.rowEnd, p.name])).toEqual([
      [0, 0, 100, 'part-0-0.parquet'],
      [1, 100, 200, 'part-0-1.parquet'],
      [2, 200, 300, 'part-0-2.parquet'],
    ]);
  });

  it('writing behind: flush returns before its part is written; the same parts, journaled in order', async () => {
    const staging = await tmp.make();
    const { journal } = await Journal.open(staging, 'behind');
    const sink = await open(staging, journal, { writeBehind: true });
    const journaled: number[] = [];
    try {
      sink.resume(0);
      sink.startFile({ index: 0, source: SOURCE, display: SOURCE, rows: 250, rejectCheck: () => 'NULL' });
      await sink.append([{ type: 'FLOAT', data: Float32Array.from({ length: 100 }, (_, i) => i) }], 100);
      sink.extendSpan(100, {});
      expect(sink.full).toBe(true);
      await sink.flush((rowEnd) => journaled.push(rowEnd));
      // The part's COPY runs on; the next part fills meanwhile.
      expect(journal.parts(0)).toEqual([]);
      expect(sink.rowsWritten).toBe(0);
      expect(await feed(sink, 100, 150, (rowEnd) => journaled.push(rowEnd))).toEqual([]);
      await sink.drain();
      expect(journaled).toEqual([100, 200, 250]);
      expect(sink.rowsWritten).toBe(250);
    } finally {
      await sink.close();
    }
    expect(journaledParts(journal)).toEqual(PARTS_OF_250);
    const wrong = await db.query(
      `SELECT p.txn_id FROM read_parquet($1) p POSITIONAL JOIN (SELECT txn_id, file_row_number FROM read_parquet($2, file_row_number = true) LIMIT 250) s WHERE p.txn_id IS DISTINCT FROM s.txn_id OR p.prediction <> s.file_row_number`,
      [sink.parts[0]!.map((p) => p.path), SOURCE.path],
    );
    expect(wrong).toEqual([]);
  });

  it('writing behind: a part whose write fails is thrown by a later flush or drain; nothing of it journaled or under a final name', async () => {
    const staging = await tmp.make();
    const { journal } = await Journal.open(staging, 'behind-fails');
    // The COPY reads a passthrough column the source does not have: it fails, after flush returned.
    const sink = await open(staging, journal, { writeBehind: true, passthrough: ['no_such_column'] });
    let err: unknown;
    try {
      sink.resume(0);
      sink.startFile({ index: 0, source: SOURCE, display: SOURCE, rows: 250, rejectCheck: () => 'NULL' });
      err = await feed(sink, 0, 250).then(() => sink.drain()).catch((e: unknown) => e);
    } finally {
      await sink.close();
    }
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain('no_such_column');
    expect(journal.parts(0)).toEqual([]);
    expect((await readdir(staging)).filter((f) => f.startsWith('part-') && !f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('PartSink profiles, a part in two lanes', () => {
  it("asks for the first lane's profile once its rows are in, the second's at the cut; each journaled beside its lane, told in order", async () => {
    const staging = await tmp.make();
    const source = { path: join(await tmp.make(), 'source.parquet'), format: 'parquet' as const };
    await db.exec(`COPY (SELECT range AS txn_id FROM range(40000)) TO '${source.path}' (FORMAT parquet)`);
    const { journal } = await Journal.open(staging, 'test');
    let appended = 0;
    const asked: [number, number][] = [];
    const told: [string, Profile][] = [];
    const profileOf = (rows: number): Profile => ({ profile_version: PROFILE_VERSION, source: 'lanes', rows, columns: [], prediction: null });
    const sink = await open(staging, journal, {
      lanes: true,
      checkpointRows: 40_000,
      profile: (rows) => (asked.push([rows, appended]), profileOf(rows)),
      onProfile: (path, profile) => told.push([path, profile]),
    });
    try {
      sink.resume(0);
      sink.startFile({ index: 0, source, display: source, rows: 40_000, rejectCheck: () => 'NULL' });
      // Batches end where the sink says (the first lane's end, 20,480 rows: half, in whole vectors).
      for (let start = 0; start < 40_000; ) {
        const n = Math.min(2048, sink.cutAfter(start) - start, 40_000 - start);
        appended += n;
        await sink.append([{ type: 'FLOAT', data: Float32Array.from({ length: n }, (_, i) => start + i) }], n);
        sink.extendSpan((start += n), {});
      }
      await sink.flush();
      await sink.drain();
    } finally {
      await sink.close();
    }
    expect(asked).toEqual([
      [20_480, 20_480],
      [19_520, 40_000],
    ]);
    expect(journal.parts(0).map((p) => [p.rowStart, p.rowEnd, p.profile?.name])).toEqual([
      [0, 20_480, 'profile-0-0.json'],
      [20_480, 40_000, 'profile-0-1.json'],
    ]);
    expect(told).toEqual([
      [join(staging, 'profile-0-0.json'), profileOf(20_480)],
      [join(staging, 'profile-0-1.json'), profileOf(19_520)],
    ]);
  });
});

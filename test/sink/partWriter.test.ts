/**
 * Where a part's COPY failure is reported: a file it cannot write (or a full disk) is the
 * output's (73), a source it cannot read is the input's (65).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { laneRowsFor, MIN_LANE_ROWS, PartWriter } from '../../src/sink/partWriter.js';
import { Postprocessor } from '../../src/postprocess/postprocessor.js';
import { derivesInSql, type ClassificationPlan, type OutputPlan } from '../../src/postprocess/outputPlan.js';
import { copyFailure } from '../../src/source/dataset.js';
import { predictionValues } from '../../src/postprocess/predictionValues.js';
import { twoClassColumns } from '../../src/profile/kernels.js';
import { FIXTURES_DIR } from '../helpers/reference.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-part-writer-');
const SOURCE = { path: join(FIXTURES_DIR, 'data', 'transactions.parquet'), format: 'parquet' as const };
let db: Db;

beforeAll(async () => {
  db = await Db.open({ threads: 1 });
});
afterAll(() => db?.close());

async function writerWithRows(rows: number): Promise<PartWriter> {
  const writer = await PartWriter.create(db, { task: 'regression', outputName: 'v', width: 1, valueType: 'FLOAT', extras: [] }, ['txn_id']);
  await writer.append([{ type: 'FLOAT', data: Float32Array.from({ length: rows }, (_, i) => i / 2) }], rows);
  return writer;
}

describe('PartWriter.writeParts failures', () => {
  it('a part file that cannot be created is OUTPUT_UNWRITABLE naming it', async () => {
    const writer = await writerWithRows(10);
    const path = join(await tmp.make(), 'missing-dir', 'part.parquet');
    await expect(writer.writeParts({ file: SOURCE, rowStart: 0, rowEnd: 10, rowCount: 10 }, () => path)).rejects.toMatchObject({ code: 'OUTPUT_UNWRITABLE', message: expect.stringContaining(path) });
  });

  it('a source that cannot be read is INPUT_INVALID naming the input', async () => {
    const writer = await writerWithRows(3);
    const missing = { path: join(await tmp.make(), 'gone.parquet'), format: 'parquet' as const };
    const path = join(await tmp.make(), 'part.parquet');
    await expect(writer.writeParts({ file: missing, rowStart: 0, rowEnd: 3, rowCount: 3, display: { path: '/data/in.parquet' } }, () => path)).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringContaining('/data/in.parquet') });
  });

  it('a full disk is the output’s, whichever file DuckDB names', async () => {
    const err = await copyFailure('/data/in.parquet', '/out/.x.staging/part-0-0.parquet.tmp', new Error('IO Error: Could not write file "/out/.x.staging/tmp_1": No space left on device'));
    expect(err).toMatchObject({ code: 'OUTPUT_UNWRITABLE', actual: '/out/.x.staging/part-0-0.parquet.tmp' });
    expect(err.exitCode).toBe(73);
  });
});

describe('lanes: a part split between two connections', () => {
  const plan: OutputPlan = { task: 'regression', outputName: 'v', width: 1, valueType: 'FLOAT', extras: [] };
  /** A writer with lanes of `laneRows` rows, fed `rows` rows (v = row / 2) in batches of 4. */
  async function laneWriter(laneRows: number, rows: number): Promise<PartWriter> {
    const writer = await PartWriter.create(db, plan, ['txn_id'], { byRowNumber: false, lanes: true });
    writer.planPart(laneRows);
    for (let start = 0; start < rows; start += 4) {
      const n = Math.min(4, rows - start);
      await writer.append([{ type: 'FLOAT', data: Float32Array.from({ length: n }, (_, i) => (start + i) / 2) }], n);
    }
    return writer;
  }

  it('laneRowsFor: half a part in whole batches, none under 2 x MIN_LANE_ROWS', () => {
    expect(laneRowsFor(1 << 20, 2048)).toBe(1 << 19);
    expect(laneRowsFor(2 * MIN_LANE_ROWS, 1000)).toBe(17_000);
    expect(laneRowsFor(2 * MIN_LANE_ROWS - 2, 1)).toBe(0);
    expect(laneRowsFor(40_000, 40_000)).toBe(0);
  });

  it('writes consecutive spans, each beside its own source rows, at once', async () => {
    const writer = await laneWriter(12, 30);
    const dir = await tmp.make();
    // Known before the write (a part's profile is taken while DuckDB writes it).
    expect(writer.pendingFiles).toEqual([12, 18]);
    const parts = await writer.writeParts({ file: SOURCE, rowStart: 5, rowEnd: 35, rowCount: 30 }, (k) => join(dir, `p${k}.parquet`));
    expect(parts.map(({ rowStart, rowEnd, rowCount }) => ({ rowStart, rowEnd, rowCount }))).toEqual([{ rowStart: 5, rowEnd: 17, rowCount: 12 }, { rowStart: 17, rowEnd: 35, rowCount: 18 }]);
    const got = await db.query<{ txn_id: string; prediction: number }>('SELECT txn_id, prediction FROM read_parquet($1)', [join(dir, 'p*.parquet')]);
    const ids = await db.query<{ txn_id: string }>('SELECT txn_id FROM read_parquet($1, file_row_number = true) WHERE file_row_number BETWEEN 5 AND 34 ORDER BY file_row_number', [SOURCE.path]);
    expect(got).toEqual(ids.map((r, i) => ({ txn_id: r.txn_id, prediction: i / 2 })));
    expect(writer.pendingRows).toBe(0);
    writer.close();
  });

  it('a second lane with no rows writes no file; the first always does', async () => {
    const writer = await laneWriter(12, 8);
    const dir = await tmp.make();
    expect(writer.pendingFiles).toEqual([8]);
    const parts = await writer.writeParts({ file: SOURCE, rowStart: 0, rowEnd: 8, rowCount: 8 }, (k) => join(dir, `p${k}.parquet`));
    expect(parts).toEqual([{ path: join(dir, 'p0.parquet'), rowStart: 0, rowEnd: 8, rowCount: 8 }]);
    writer.close();
  });

  it('each part is planned on its own; planning a part that has rows is refused', async () => {
    const writer = await laneWriter(12, 30);
    await expect(async () => writer.planPart(4)).rejects.toMatchObject({ code: 'INTERNAL' });
    const dir = await tmp.make();
    expect(await writer.writeParts({ file: SOURCE, rowStart: 0, rowEnd: 30, rowCount: 30 }, (k) => join(dir, `a${k}.parquet`))).toHaveLength(2);
    writer.planPart(0);
    await writer.append([{ type: 'FLOAT', data: new Float32Array(30) }], 30);
    expect(await writer.writeParts({ file: SOURCE, rowStart: 30, rowEnd: 60, rowCount: 30 }, (k) => join(dir, `b${k}.parquet`))).toHaveLength(1);
    writer.close();
  });

  it('a lane that cannot write fails the part as OUTPUT_UNWRITABLE, naming its file', async () => {
    const writer = await laneWriter(12, 30);
    const dir = await tmp.make();
    const bad = join(dir, 'missing-dir', 'p1.parquet');
    await expect(writer.writeParts({ file: SOURCE, rowStart: 0, rowEnd: 30, rowCount: 30 }, (k) => (k === 0 ? join(dir, 'p0.parquet') : bad))).rejects.toMatchObject({ code: 'OUTPUT_UNWRITABLE', message: expect.stringContaining(bad) });
    writer.close();
  });

  it('no lanes when rows can be left out (joined on row numbers) or nothing passes through', async () => {
    const dir = await tmp.make();
    for (const [options, passthrough] of [[{ byRowNumber: true, lanes: true }, ['txn_id']], [{ byRowNumber: false, lanes: true }, []]] as const) {
      const writer = await PartWriter.create(db, plan, passthrough, options);
      writer.planPart(12);
      const rn = options.byRowNumber ? [{ type: 'BIGINT' as const, data: BigInt64Array.from({ length: 30 }, (_, i) => BigInt(i)) }] : [];
      await writer.append([...rn, { type: 'FLOAT', data: new Float32Array(30) }], 30);
      const parts = await writer.writeParts({ file: SOURCE, rowStart: 0, rowEnd: 30, rowCount: 30 }, (k) => join(dir, `none-${k}-${passthrough.length}.parquet`));
      expect(parts).toHaveLength(1);
      writer.close();
    }
  });
});

describe('2-class probabilities: prediction and confidence derived in the COPY', () => {
  /** Edge values: ties, NaN, infinities, just around 0.5, outside [0,1]. */
  const P = [0.5, 0.7, 0.3, NaN, 0, 1, Math.fround(0.5 + 2 ** -24), Math.fround(0.5 - 2 ** -25), Infinity, -Infinity, 1.2, -0.3, Math.fround(0.25 + 2 ** -25), 1e-30];
  const classification = (binary: boolean): ClassificationPlan => ({
    task: 'classification',
    outputName: 'out',
    binary,
    classes: 2,
    labels: ['no', 'yes'],
    labelSource: 'job',
    scores: { kind: 'probabilities', decidedBy: 'graph' },
    reviewBelow: 0.6,
    extras: [],
  });

  /** The output rows the JS path would write for `data`: what Postprocessor.process computes. */
  function viaJs(plan: ClassificationPlan, data: Float32Array, rows: number): unknown[][] {
    const [pred, confidence, p0, p1] = new Postprocessor(plan).process({ type: 'float32', dims: plan.binary ? [rows, 1] : [rows, 2], data }, rows).map((c) => [...(c.data as Float32Array)]);
    return pred!.map((k, r) => [k === -1 ? null : ['no', 'yes'][k], confidence![r], p0![r], p1![r], confidence![r]! < 0.6 || Number.isNaN(confidence![r])]);
  }

  it.each([true, false])('binary [N,1] = %s: the written rows equal the JS path on every edge value', async (binary) => {
    const plan = classification(binary);
    expect(derivesInSql(plan)).toBe(true);
    let data: Float32Array;
    if (binary) data = Float32Array.from(P);
    else {
      // Pairs: each edge value against each other one (ties, NaN on either side, -inf pairs).
      const pairs = P.flatMap((a) => P.map((b) => [a, b]));
      data = Float32Array.from(pairs.flat());
    }
    const rows = binary ? data.length : data.length / 2;
    const writer = await PartWriter.create(db, plan, []);
    const columns = new Postprocessor(plan).columns({ out: { type: 'float32', dims: binary ? [rows, 1] : [rows, 2], data } }, rows);
    await writer.append(columns, rows);
    const path = join(await tmp.make(), 'derived.parquet');
    expect(await writer.writeParts({ file: SOURCE, rowStart: 0, rowEnd: rows, rowCount: rows }, () => path)).toHaveLength(1);
    const written = await db.query<Record<string, unknown>>('SELECT * FROM read_parquet($1)', [path]);
    const same = (a: unknown, b: unknown): boolean => Object.is(a, b) || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
    const expected = viaJs(plan, data, rows);
    const mismatches = written
      .map((r, i) => [r['prediction'], r['confidence'], r['prob_no'], r['prob_yes'], r['needs_review']])
      .map((got, i) => (got.every((v, k) => same(v, expected[i]![k])) ? null : { row: i, got, want: expected[i] }))
      .filter((m) => m !== null);
    expect(mismatches).toEqual([]);
  });

  /**
   * The run profile decides a two-class classifier's rows in a WebAssembly kernel
   * (profile/kernels.ts twoClassColumns): its classes, confidence, probabilities and review
   * flags must be the written ones, for the argmax and for a threshold on either class, with
   * review_below and a review band.
   */
  const rules: [string, Partial<ClassificationPlan>][] = [
    ['argmax, review below 0.6', { reviewBelow: 0.6 }],
    ['threshold 0.3 on class 1, band [0.2, 0.7]', { decision: { positive: 1, threshold: 0.3, reviewBand: [0.2, 0.7] } }],
    ['threshold 0.5 on class 0, review below 0.6 and band [0.5, 1]', { reviewBelow: 0.6, decision: { positive: 0, threshold: 0.5, reviewBand: [0.5, 1] } }],
    ['argmax, band [0.5, 1] on class 1 (both ends among the values)', { reviewBelow: undefined, decision: { positive: 1, reviewBand: [0.5, 1] } }],
  ];
  it.each(rules.flatMap(([name, extra]) => [true, false].map((binary) => [name, extra, binary] as const)))('%s, binary [N,1] = %s: the profile kernel decides every row as the COPY writes it', async (_name, extra, binary) => {
    const plan: ClassificationPlan = { ...classification(binary), ...extra };
    const data = binary ? Float32Array.from(P) : Float32Array.from(P.flatMap((a) => P.flatMap((b) => [a, b])));
    const rows = binary ? data.length : data.length / 2;
    const writer = await PartWriter.create(db, plan, []);
    const columns = new Postprocessor(plan).columns({ out: { type: 'float32', dims: binary ? [rows, 1] : [rows, 2], data } }, rows);
    await writer.append(columns, rows);
    const path = join(await tmp.make(), 'decided.parquet');
    await writer.writeParts({ file: SOURCE, rowStart: 0, rowEnd: rows, rowCount: rows }, () => path);
    const review = plan.reviewBelow !== undefined || plan.decision?.reviewBand !== undefined ? 'needs_review' : 'false';
    const written = await db.query<Record<string, unknown>>(`SELECT prediction, confidence, prob_no, prob_yes, ${review} AS review FROM read_parquet($1)`, [path]);
    const values = predictionValues(plan, columns, rows);
    expect(values.kind).toBe('two-class');
    if (values.kind !== 'two-class') return;
    const kernel = twoClassColumns(values.p0, values.p1, rows, values.rule);
    const same = (a: unknown, b: unknown): boolean => Object.is(a, b) || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
    const mismatches = written
      .map((w, r) => [w, [kernel.columns[4 * r], kernel.columns[4 * r + 1], kernel.columns[4 * r + 2]]] as const)
      .filter(([w, k]) => !same(w['confidence'], k[0]) || !same(w['prob_no'], k[1]) || !same(w['prob_yes'], k[2]))
      .map(([w, k], r) => ({ row: r, written: w, kernel: k }));
    expect(mismatches).toEqual([]);
    const count = (f: (w: Record<string, unknown>) => boolean): number => written.filter(f).length;
    expect(kernel.counts).toEqual([count((w) => w['prediction'] === 'no'), count((w) => w['prediction'] === 'yes'), count((w) => w['prediction'] !== null && w['review'] === true)]);
    // The edge values leave every count both ways.
    expect(kernel.counts.every((n) => n > 0 && n < rows)).toBe(true);
  });
});


/**
 * Where a part's COPY failure is reported: a file it cannot write (or a full disk) is the
 * output's (73), a source it cannot read is the input's (65).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { PartWriter } from '../../src/sink/partWriter.js';
import { copyFailure } from '../../src/source/dataset.js';
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

describe('PartWriter.writePart failures', () => {
  it('a part file that cannot be created is OUTPUT_UNWRITABLE naming it', async () => {
    const writer = await writerWithRows(10);
    const path = join(await tmp.make(), 'missing-dir', 'part.parquet');
    await expect(writer.writePart({ file: SOURCE, rowStart: 0, rowEnd: 10, rowCount: 10 }, path)).rejects.toMatchObject({ code: 'OUTPUT_UNWRITABLE', message: expect.stringContaining(path) });
  });

  it('a source that cannot be read is INPUT_INVALID naming the input', async () => {
    const writer = await writerWithRows(3);
    const missing = { path: join(await tmp.make(), 'gone.parquet'), format: 'parquet' as const };
    const path = join(await tmp.make(), 'part.parquet');
    await expect(writer.writePart({ file: missing, rowStart: 0, rowEnd: 3, rowCount: 3, displayPath: '/data/in.parquet' }, path)).rejects.toMatchObject({ code: 'INPUT_INVALID', message: expect.stringContaining('/data/in.parquet') });
  });

  it('a full disk is the output’s, whichever file DuckDB names', async () => {
    const err = await copyFailure('/data/in.parquet', '/out/.x.staging/part-0-0.parquet.tmp', new Error('IO Error: Could not write file "/out/.x.staging/tmp_1": No space left on device'));
    expect(err).toMatchObject({ code: 'OUTPUT_UNWRITABLE', actual: '/out/.x.staging/part-0-0.parquet.tmp' });
    expect(err.exitCode).toBe(73);
  });
});

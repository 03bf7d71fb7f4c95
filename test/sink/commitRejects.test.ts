/**
 * The rejects file's mode (issue 20): it holds raw rows, so it is created with its mode
 * (0600 by default) before DuckDB writes into it, and DuckDB writes into that file rather
 * than a new one of the umask's mode renamed over it (USE_TMP_FILE false).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { stageRejects } from '../../src/sink/commitRejects.js';
import { rejectsTempPath } from '../../src/sink/outputPaths.js';
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-rejects-');
let db: Db;

beforeAll(async () => {
  db = await Db.open();
});
afterAll(() => db.close());

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('stageRejects', () => {
  it.each([0o600, 0o640])('the merged file has mode %o while staged, before the commit sets it again, and after', async (fileMode) => {
    const dir = await tmp.make();
    const parts = [join(dir, 'rejects-0.parquet'), join(dir, 'rejects-1.parquet')];
    for (const [i, p] of parts.entries()) await db.exec(`COPY (SELECT ${i} AS id, 'secret' AS v) TO '${p}' (FORMAT parquet)`);
    const target = join(dir, 'out.rejects.parquet');
    const staged = await stageRejects(db, [parts.map((p) => ({ path: 'unused', rows: 0, rejects: p }))], target, async () => undefined, { fileMode });
    expect(await modeOf(rejectsTempPath(target))).toBe(fileMode);
    await staged.commit();
    expect(await modeOf(target)).toBe(fileMode);
    expect(Number(await db.exec(`SELECT count(*) FROM read_parquet('${target}')`))).toBe(2);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { windowFiles } from '../../src/core/windowFiles.js';
import type { DatasetFile } from '../../src/source/dataset.js';
import type { PartitionValue } from '../../src/source/partitions.js';

let db: Db;
beforeAll(async () => {
  db = await Db.open({ threads: 1 });
});
afterAll(() => db?.close());

const file = (name: string, partitions: PartitionValue[]): DatasetFile => ({ path: `/e/${name}.parquet`, format: 'parquet', partitions });
const day = (value: string | null): PartitionValue[] => [{ name: 'dt', type: 'DATE', value }];
const window = { start: new Date('2026-11-30T00:00:00Z'), end: new Date('2026-12-01T00:00:00Z') };

describe('windowFiles: a window on a partition key keeps only its files', () => {
  const files = [file('a', day('2026-11-29')), file('b', day('2026-11-30')), file('c', day(null)), file('d', day('2026-11-30')), file('e', day('2026-12-01'))];

  it('keeps the files whose key lies in [start, end), in order; a NULL key is outside every window', async () => {
    expect((await windowFiles(db, files, { column: 'dt', window })).map((f) => f.path)).toEqual(['/e/b.parquet', '/e/d.parquet']);
  });

  it('a column that is not a partition key keeps every file (its rows are filtered as they are read)', async () => {
    expect(await windowFiles(db, files, { column: 'ts', window })).toEqual(files);
  });

  it('a window outside every partition keeps the first file (an empty window still has columns)', async () => {
    const later = { start: new Date('2027-01-01T00:00:00Z'), end: new Date('2027-01-02T00:00:00Z') };
    expect(await windowFiles(db, files, { column: 'dt', window: later })).toEqual([files[0]]);
  });
});

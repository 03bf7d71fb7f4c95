import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/** `unreadable.path`: readdir of that directory fails with EACCES, as for a user without the permission (root has them all). */
const unreadable = vi.hoisted(() => ({ path: '' }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const readdir = ((path: string, ...rest: unknown[]) =>
    unreadable.path && String(path) === unreadable.path
      ? Promise.reject(Object.assign(new Error(`EACCES: permission denied, scandir '${path}'`), { code: 'EACCES' }))
      : (fs.readdir as (...a: unknown[]) => Promise<unknown>)(path, ...rest)) as typeof fs.readdir;
  return { ...fs, readdir, default: { ...fs, readdir } };
});
import { Db } from '../../src/db/duckdb.js';
import { BatchinferError } from '../../src/errors.js';
import { countRows, describeFile, literalPath, openDataset, parquetRowGroups, scanSql } from '../../src/source/dataset.js';
import { Params } from '../../src/util/sql.js';
import { FIXTURES_DIR } from '../helpers/reference.js';
import { rejection } from '../helpers/rejection.js';
import { TRANSACTION_COLUMNS } from '../helpers/transactions.js';

const DATA = join(FIXTURES_DIR, 'data');
const PARTS = join(DATA, 'parts');

let db: Db;
let root: string;

beforeAll(async () => {
  db = await Db.open({ threads: 2 });
  root = await mkdtemp(join(tmpdir(), 'batchinfer-dataset-'));
});

afterAll(async () => {
  db?.close();
  await rm(root, { recursive: true, force: true });
});


/** A fresh directory under the test's temp root. */
async function dirWith(name: string, files: Record<string, string | null>): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  for (const [file, source] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    if (source === null) await writeFile(join(dir, file), 'not data');
    else await copyFile(source, join(dir, file));
  }
  return dir;
}


describe('openDataset: resolving the input', () => {
  it('a single Parquet file, with its schema', async () => {
    const path = join(DATA, 'transactions.parquet');
    const dataset = await openDataset(db, path);
    // The file keeps the columns read, so staging a CSV need not sniff it again.
    expect(dataset).toEqual({ input: path, files: [{ path, format: 'parquet', columns: TRANSACTION_COLUMNS }], format: 'parquet', columns: TRANSACTION_COLUMNS, skipped: [], matched: 1 });
  });

  it('a single CSV file gets the same column names and types', async () => {
    const dataset = await openDataset(db, join(DATA, 'transactions.csv'));
    expect(dataset.format).toBe('csv');
    // The CSV sniffer widens integers to BIGINT; everything else matches the Parquet file.
    expect(dataset.columns).toEqual(TRANSACTION_COLUMNS.map((c) => (c.name === 'n_items' ? { name: 'n_items', type: 'BIGINT' } : c)));
  });

  it('a glob, sorted by path', async () => {
    const dir = await dirWith('glob', { 'b.parquet': join(PARTS, 'part-1.parquet'), 'a.parquet': join(PARTS, 'part-0.parquet'), 'c.parquet': join(PARTS, 'part-2.parquet'), 'notes.txt': null });
    const dataset = await openDataset(db, join(dir, '*'));
    expect(dataset.files.map(({ path, format }) => ({ path, format }))).toEqual(['a', 'b', 'c'].map((n) => ({ path: join(dir, `${n}.parquet`), format: 'parquet' })));
    expect(dataset.columns).toEqual(TRANSACTION_COLUMNS);
  });

  it('a glob over the fixture parts', async () => {
    const dataset = await openDataset(db, join(PARTS, 'part-*.parquet'));
    expect(dataset.files.map((f) => f.path)).toEqual([0, 1, 2].map((i) => join(PARTS, `part-${i}.parquet`)));
  });

  it('a directory: data files sorted by name, hidden and _ files and other types skipped', async () => {
    const dir = await dirWith('dir', {
      'part-10.parquet': join(PARTS, 'part-2.parquet'),
      'part-02.parquet': join(PARTS, 'part-1.parquet'),
      'part-01.PARQUET': join(PARTS, 'part-0.parquet'),
      '.hidden.parquet': null,
      '_SUCCESS': null,
      '_metadata.parquet': null,
      'README.md': null,
    });
    for (const input of [dir, dir + '/']) {
      const dataset = await openDataset(db, input);
      expect(dataset.files.map((f) => f.path)).toEqual([join(dir, 'part-01.PARQUET'), join(dir, 'part-02.parquet'), join(dir, 'part-10.parquet')]);
      expect(dataset.format).toBe('parquet');
    }
  });

  it('a directory is read recursively, sorted by path, _ and . names left out at every level', async () => {
    const dir = await dirWith('nested', {
      'b/part-0.parquet': join(PARTS, 'part-1.parquet'),
      'a/x/part-0.parquet': join(PARTS, 'part-0.parquet'),
      'c.parquet': join(PARTS, 'part-2.parquet'),
      'a/_temporary/part-0.parquet': null,
      'a/.staging/part-0.parquet': null,
      '_logs/part-0.parquet': null,
      'b/_SUCCESS': null,
      'b/.part-1.parquet.crc': null,
      'b/notes.txt': null,
    });
    const dataset = await openDataset(db, dir);
    expect(dataset.files.map((f) => f.path)).toEqual([join(dir, 'a/x/part-0.parquet'), join(dir, 'b/part-0.parquet'), join(dir, 'c.parquet')]);
  });

  it('a subdirectory that cannot be read is INPUT_INVALID naming it', async () => {
    const dir = await dirWith('locked', { 'a/part.parquet': join(PARTS, 'part-0.parquet'), 'b/part.parquet': join(PARTS, 'part-1.parquet') });
    unreadable.path = join(dir, 'b');
    try {
      const err = await rejection(openDataset(db, dir));
      expect(err.code).toBe('INPUT_INVALID');
      expect(err.exitCode).toBe(65);
      expect(err.message).toBe(`input directory ${join(dir, 'b')} cannot be read: permission denied`);
    } finally {
      unreadable.path = '';
    }
  });

  it('a nested directory mixing Parquet and CSV is refused', async () => {
    const dir = await dirWith('mixednested', { 'a/part.parquet': join(PARTS, 'part-0.parquet'), 'b/deep/part.csv': join(DATA, 'transactions.csv') });
    const err = await rejection(openDataset(db, dir));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toMatch(/mixes Parquet and CSV files/);
  });

  it('a list: entries in the order given, the files of each sorted, a file two entries match read once', async () => {
    const dir = await dirWith('list', { 'z/b.parquet': join(PARTS, 'part-1.parquet'), 'z/a.parquet': join(PARTS, 'part-0.parquet'), 'y.parquet': join(PARTS, 'part-2.parquet') });
    const dataset = await openDataset(db, [join(dir, 'y.parquet'), join(dir, 'z'), join(dir, 'z', '*.parquet'), join(dir, 'y.parquet')]);
    expect(dataset.files.map((f) => f.path)).toEqual([join(dir, 'y.parquet'), join(dir, 'z/a.parquet'), join(dir, 'z/b.parquet')]);
    expect(dataset.input).toBe([join(dir, 'y.parquet'), join(dir, 'z'), join(dir, 'z', '*.parquet'), join(dir, 'y.parquet')].join(', '));
    const missing = await rejection(openDataset(db, [join(dir, 'y.parquet'), join(dir, 'nope.parquet')]));
    expect(missing.code).toBe('INPUT_MISSING');
    expect(missing.message).toBe(`input ${join(dir, 'nope.parquet')} does not exist`);
  });

  it('a list mixing Parquet and CSV entries is refused', async () => {
    const err = await rejection(openDataset(db, [join(PARTS, 'part-0.parquet'), join(DATA, 'transactions.csv')]));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toMatch(/mixes Parquet and CSV files/);
  });

  it('a glob matching nothing is INPUT_MISSING', async () => {
    const err = await rejection(openDataset(db, join(root, 'nowhere', '*.parquet')));
    expect(err.code).toBe('INPUT_MISSING');
    expect(err.exitCode).toBe(66);
    expect(err.message).toMatch(/matches no Parquet or CSV file/);
    expect(err.actual).toBe('no files');
  });

  it('a glob matching only other file types is INPUT_MISSING and says so', async () => {
    const dir = await dirWith('txtonly', { 'a.txt': null, 'b.json': null });
    const err = await rejection(openDataset(db, join(dir, '*')));
    expect(err.code).toBe('INPUT_MISSING');
    expect(err.actual).toBe('2 files of other types');
  });

  it('a missing path is INPUT_MISSING', async () => {
    const err = await rejection(openDataset(db, join(root, 'missing.parquet')));
    expect(err.code).toBe('INPUT_MISSING');
    expect(err.message).toContain('missing.parquet does not exist');
  });

  it('a directory without data files is INPUT_MISSING', async () => {
    const dir = await dirWith('nodata', { 'notes.txt': null });
    const err = await rejection(openDataset(db, dir));
    expect(err.code).toBe('INPUT_MISSING');
    expect(err.message).toMatch(/holds no Parquet or CSV file/);
  });

  it('a file with another extension is INPUT_INVALID', async () => {
    const dir = await dirWith('wrongext', { 'data.json': null, 'noext': null });
    const err = await rejection(openDataset(db, join(dir, 'data.json')));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.exitCode).toBe(65);
    expect(err.expected).toBe('.parquet, .csv or .tsv (.csv and .tsv may end in .gz or .zst)');
    expect(err.actual).toBe('.json');
    expect((await rejection(openDataset(db, join(dir, 'noext')))).actual).toBe('no extension');
  });

  it('mixed Parquet and CSV files are refused, for a directory and for a glob', async () => {
    const dir = await dirWith('mixed', { 'a.parquet': join(PARTS, 'part-0.parquet'), 'b.csv': join(DATA, 'transactions.csv') });
    for (const input of [dir, join(dir, '*')]) {
      const err = await rejection(openDataset(db, input));
      expect(err.code).toBe('INPUT_INVALID');
      expect(err.message).toMatch(/mixes Parquet and CSV files/);
    }
  });

  it('a file that is not what its extension says is INPUT_INVALID naming it', async () => {
    const dir = await dirWith('corrupt', { 'bad.parquet': null });
    const err = await rejection(openDataset(db, join(dir, 'bad.parquet')));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toMatch(/^cannot read .*bad\.parquet: /);
    expect(err.message).not.toContain('\n');
  });
});

describe('CSV quirks', () => {
  it('quirky.csv: BOM and CRLF do not leak into column names', async () => {
    const columns = await describeFile(db, { path: join(DATA, 'quirky.csv'), format: 'csv' });
    expect(columns.map((c) => c.name)).toEqual(['id', 'label text', 'amount', 'f0', 'f1', 'risk score']);
    expect(columns[0]!.type).toMatch(/INT/);
    expect(columns[1]!.type).toBe('VARCHAR');
    expect(columns[2]!.type).toBe('DOUBLE');
  });

  it('quirky.csv: quoted commas, escaped quotes, non-ASCII text and an empty field', async () => {
    const rows = await db.query<Record<string, unknown>>('SELECT "label text" AS label, amount FROM read_csv($1, header = true, auto_detect = true)', [join(DATA, 'quirky.csv')]);
    expect(rows).toHaveLength(6);
    const labels = rows.map((r) => r.label as string);
    expect(labels).toContain('comma, inside');
    expect(labels).toContain('say "hello"');
    expect(labels).toContain('café ünïcode');
    expect(labels.every((l) => !l.endsWith('\r'))).toBe(true);
    expect(rows.filter((r) => r.amount === null)).toHaveLength(1);
  });

  it('empty.csv has the header columns and no rows', async () => {
    const file = { path: join(DATA, 'empty.csv'), format: 'csv' as const };
    expect((await describeFile(db, file)).map((c) => c.name)).toEqual(TRANSACTION_COLUMNS.map((c) => c.name));
    expect(await countRows(db, file)).toBe(0);
  });

  it('a compressed CSV of no text is INPUT_INVALID; one whose only column is really named column0 is not', async () => {
    const dir = await dirWith('compressed', {});
    const write = async (name: string, text: string): Promise<{ path: string; format: 'csv' }> => {
      await writeFile(join(dir, name), gzipSync(text));
      return { path: join(dir, name), format: 'csv' };
    };
    for (const text of ['', '\n\n', ' \n\t\n']) {
      const err = await rejection(describeFile(db, await write('blank.tsv.gz', text)));
      expect(err.code).toBe('INPUT_INVALID');
      expect(err.message).toContain('holds no header line');
      expect(err.actual).toBe('no text once decompressed');
    }
    for (const text of ['column0\n', 'column0\nx\n']) {
      const file = await write('column0.csv.gz', text);
      expect(await describeFile(db, file)).toEqual([{ name: 'column0', type: 'VARCHAR' }]);
      expect(await countRows(db, file)).toBe(text.split('\n').length - 2);
    }
  });

  it('a .tsv.gz reads with tabs: commas stay inside their values', async () => {
    const dir = await dirWith('tsv', {});
    const path = join(dir, 'x.tsv.gz');
    await writeFile(path, gzipSync('id\tnote\tamount\n1\ta, b\t2.5\n2\tc\t\n'));
    expect(await describeFile(db, { path, format: 'csv' })).toEqual([
      { name: 'id', type: 'BIGINT' },
      { name: 'note', type: 'VARCHAR' },
      { name: 'amount', type: 'DOUBLE' },
    ]);
    expect(await countRows(db, { path, format: 'csv' })).toBe(2);
  });
});

describe('row counts and row groups', () => {
  it('counts rows of Parquet and CSV files', async () => {
    expect(await countRows(db, { path: join(DATA, 'transactions.parquet'), format: 'parquet' })).toBe(3000);
    expect(await countRows(db, { path: join(DATA, 'transactions.csv'), format: 'csv' })).toBe(3000);
    expect(await countRows(db, { path: join(PARTS, 'part-1.parquet'), format: 'parquet' })).toBe(1000);
  });

  it('lists Parquet row groups', async () => {
    expect(await parquetRowGroups(db, join(DATA, 'transactions.parquet'))).toEqual([
      { id: 0, rows: 1000 },
      { id: 1, rows: 1000 },
      { id: 2, rows: 1000 },
    ]);
  });
});

describe('paths with glob characters', () => {
  it('literalPath escapes [, * and ? as one-character classes', () => {
    expect(literalPath('/d/run[1]*?.csv')).toBe('/d/run[[]1][*][?].csv');
  });

  it("an existing file named run[1].csv is read, not run1.csv (DuckDB's readers glob every path)", async () => {
    const dir = await dirWith('globchars', {});
    await writeFile(join(dir, 'run[1].csv'), 'a,b\n1,2\n');
    await writeFile(join(dir, 'run1.csv'), 'a,b\n9,9\n9,9\n');
    await writeFile(join(dir, "it's *here?.csv"), 'a\n5\n5\n5\n');
    const dataset = await openDataset(db, join(dir, 'run[1].csv'));
    expect(dataset.files.map((f) => f.path)).toEqual([join(dir, 'run[1].csv')]);
    expect(await countRows(db, dataset.files[0]!)).toBe(1);
    const quoted = await openDataset(db, join(dir, "it's *here?.csv"));
    expect(await countRows(db, quoted.files[0]!)).toBe(3);
  });
});

describe('openDataset: hive partition keys', () => {
  const files = { 'dt=2026-11-29/hour=05/part-0.parquet': join(PARTS, 'part-0.parquet'), 'dt=2026-11-29/hour=06/part-0.parquet': join(PARTS, 'part-1.parquet'), 'dt=2026-11-30/hour=05/part-0.parquet': join(PARTS, 'part-2.parquet'), 'dt=2026-11-30/_SUCCESS': null };

  it('a directory of key=value directories reads its keys as typed columns after the file\'s own', async () => {
    const dir = await dirWith('hive', files);
    for (const input of [dir, join(dir, '*', '*', '*.parquet')]) {
      const dataset = await openDataset(db, input);
      expect(dataset.files.map((f) => f.path)).toEqual(Object.keys(files).slice(0, 3).map((f) => join(dir, f)));
      expect(dataset.columns).toEqual([...TRANSACTION_COLUMNS, { name: 'dt', type: 'DATE' }, { name: 'hour', type: 'BIGINT' }]);
      const params = new Params();
      const rows = await db.query<{ dt: unknown; hour: bigint; n: bigint }>(`SELECT CAST(dt AS VARCHAR) AS dt, hour, count(*) AS n FROM ${scanSql(dataset.files[1]!, params)} GROUP BY ALL`, params.values);
      expect(rows).toEqual([{ dt: '2026-11-29', hour: 6n, n: BigInt(await countRows(db, dataset.files[1]!)) }]);
    }
  });

  it('scanSql adds computed columns after the keys, each reading those before it, and keeps the rows its where keeps', async () => {
    const dir = await dirWith('hive-computed', files);
    const dataset = await openDataset(db, dir);
    const file = { ...dataset.files[1]!, computed: [{ name: 'next_hour', sql: '("hour" + 1)' }, { name: 'label', sql: `(CAST("dt" AS VARCHAR) || ('/' || CAST("next_hour" AS VARCHAR)))` }], where: '("amount" > 100)' };
    expect((await describeFile(db, file)).slice(-4)).toEqual([{ name: 'dt', type: 'DATE' }, { name: 'hour', type: 'BIGINT' }, { name: 'next_hour', type: 'BIGINT' }, { name: 'label', type: 'VARCHAR' }]);
    const params = new Params();
    const rows = await db.query<{ label: string; n: bigint }>(`SELECT label, count(*) AS n FROM ${scanSql(file, params, ', file_row_number = true')} GROUP BY ALL`, params.values);
    const [expected] = await db.query<{ n: bigint }>(`SELECT count(*) AS n FROM read_parquet($1) WHERE amount > 100`, [join(PARTS, 'part-1.parquet')]);
    expect(rows).toEqual([{ label: '2026-11-29/7', n: expected!.n }]);
    expect(expected!.n).toBeGreaterThan(0n);
    expect(expected!.n).toBeLessThan(BigInt(await countRows(db, file)));
  });

  it('a file named alone under dt=... has no dt column (an output read back), nor do keys above a directory input', async () => {
    const dir = await dirWith('hive-alone', files);
    expect((await openDataset(db, join(dir, 'dt=2026-11-29/hour=05/part-0.parquet'))).columns).toEqual(TRANSACTION_COLUMNS);
    const below = await openDataset(db, join(dir, 'dt=2026-11-29'));
    expect(below.columns).toEqual([...TRANSACTION_COLUMNS, { name: 'hour', type: 'BIGINT' }]);
  });

  it('a date key with a value that is not a date is INPUT_INVALID naming the file', async () => {
    const dir = await dirWith('hive-baddate', { 'dt=2026-11-29/a.parquet': join(PARTS, 'part-0.parquet'), 'dt=2026-11-31/a.parquet': join(PARTS, 'part-1.parquet') });
    const err = await rejection(openDataset(db, dir));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toBe(`input file ${join(dir, 'dt=2026-11-31/a.parquet')}: partition dt=2026-11-31 is not a date, while other dt values below ${dir} are dates`);
  });

  it('a partition key that is also a column of the file is INPUT_INVALID', async () => {
    const dir = await dirWith('hive-clash', { 'amount=1/a.parquet': join(PARTS, 'part-0.parquet') });
    const err = await rejection(openDataset(db, dir));
    expect(err.code).toBe('INPUT_INVALID');
    expect(err.message).toBe(`input file ${join(dir, 'amount=1/a.parquet')} holds a column amount, which is also a partition key of its directories (amount=...)`);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryKind, findCsvProblem } from '../../src/source/csvProblems.js';

describe('findCsvProblem', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'batchinfer-csvproblems-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const scan = async (text: string | Uint8Array, extension = '.csv') => {
    const path = join(dir, `f${Math.random().toString(36).slice(2)}${extension}`);
    await writeFile(path, text);
    return findCsvProblem(path);
  };

  it.each([
    ['a plain file', 'a,b\n1,2\n3,4\n'],
    ['CRLF line ends, a BOM, no final newline', '\ufeffa,b\r\n1,2\r\n3,4'],
    ['quoted commas, escaped quotes and a line break inside quotes', 'a,b\n"x, y","say ""hi"""\n"two\nlines",5\n'],
    ['blank lines (DuckDB skips them)', 'a,b\n1,2\n\n3,4\n\n'],
    ['a quote inside an unquoted value (DuckDB reads it as text)', 'a,b\n1,x"y\n'],
    ['a header only', 'a,b\n'],
  ])('%s: no problem', async (_name, text) => {
    expect(await scan(text)).toBeNull();
  });

  it.each([
    ['an extra field', 'a,b\n1,2\n3,4,5\n', 'line 3 has 3 fields, the header has 2'],
    ['a missing field', 'a,b,c\n1,2,3\n4,5\n', 'line 3 has 2 fields, the header has 3'],
    ['an unterminated quote', 'a,b\n1,2\n3,"open\n5,6\n', 'line 3: a quoted value is never closed (unterminated quote)'],
    ['text after a closing quote', 'a,b\n1,"x"y\n', 'line 2: a character after a closing quote'],
    ['a ragged line after a quoted line break (physical line numbers)', 'a,b\n"x\ny",1\n1,2,3\n', 'line 4 has 3 fields, the header has 2'],
    ['nothing but blank lines', '\n\n', 'holds no header line'],
    ['Parquet bytes', 'PAR1\u0000\u0000garbage', 'holds a Parquet file (PAR1 magic bytes), not CSV text'],
    ['binary data', new Uint8Array([0x61, 0x2c, 0x62, 0x0a, 0x00, 0x01]), 'holds binary data (a NUL byte at offset 4), not CSV text'],
  ])('%s', async (_name, text, message) => {
    expect((await scan(text))?.message).toContain(message);
  });

  it('a .tsv is scanned with tabs: commas are text there, a tab is a field', async () => {
    expect(await scan('a\tb\n"x, y"\t2\n1,5\t3\n', '.tsv')).toBeNull();
    expect((await scan('a\tb\n1\t2\n3\t4\t5\n', '.tsv'))?.message).toBe('line 3 has 3 fields, the header has 2');
    expect((await scan('a\tb\n1\t"x"y\n', '.tsv'))?.expected).toBe('a tab or a line end after a closing quote');
    // The same text as a .csv is one field a line.
    expect(await scan('a\tb\n1\t2\n3\t4\t5\n', '.csv')).toBeNull();
  });

  it('an explicit delimiter wins over the name', async () => {
    const path = join(dir, 'semi.csv');
    await writeFile(path, 'a;b\n1,5;2\n3;4;5\n');
    expect((await findCsvProblem(path, ';'))?.message).toBe('line 3 has 3 fields, the header has 2');
    // Scanned with the name's comma, the decimal comma reads as a field break: the wrong line.
    expect((await findCsvProblem(path))?.message).toBe('line 2 has 2 fields, the header has 1');
    await writeFile(path, 'a|b\n1|"x"y\n');
    expect((await findCsvProblem(path, '|'))?.expected).toBe('a pipe or a line end after a closing quote');
  });

  it('a .gz is scanned decompressed, a corrupt one is a failed scan', async () => {
    expect((await scan(zlib.gzipSync('a,b\n1,2\n3,4,5\n'), '.csv.gz'))?.message).toBe('line 3 has 3 fields, the header has 2');
    expect((await scan(zlib.gzipSync('a\tb\n1\t2\t3\n'), '.tsv.gz'))?.message).toBe('line 2 has 3 fields, the header has 2');
    expect(await scan(zlib.gzipSync('a,b\n1,2\n'), '.csv.gz')).toBeNull();
    expect((await scan(zlib.gzipSync('\n\n'), '.csv.gz'))?.message).toBe('holds no header line');
    const gz = zlib.gzipSync('a,b\n1,2\n'.repeat(1000));
    await expect(scan(gz.subarray(0, gz.length >> 1), '.csv.gz')).rejects.toThrow(/unexpected end of file/);
  });

  it('a .zst is scanned where Node has zstd, else not at all (DuckDB says what is wrong)', async () => {
    const compress = (zlib as unknown as { zstdCompressSync?: (b: string) => Buffer }).zstdCompressSync;
    const bytes = compress ? compress('a,b\n1,2,3\n') : new Uint8Array([0x28, 0xb5, 0x2f, 0xfd]);
    const problem = await scan(bytes, '.csv.zst');
    if (compress) expect(problem?.message).toBe('line 2 has 3 fields, the header has 2');
    else expect(problem).toBeNull();
  });

  it('binaryKind: text is not binary', () => {
    expect(binaryKind(new TextEncoder().encode('a,b\n1,2\n'))).toBeNull();
  });
});

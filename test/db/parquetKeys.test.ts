/**
 * Registering Parquet keys in DuckDB (Db.addParquetKey, db/parquetKeys.ts): the one statement
 * a value is rendered into. Each key is checked by what it decrypts: a file another DuckDB
 * wrote with the same key bytes, given to DuckDB in its own accepted form.
 *
 * Writing encrypted Parquet needs OpenSSL (DuckDB's httpfs), which this machine lacks: these
 * tests use DuckDB's force_mbedtls_unsafe (unsafeTestCrypto), TEST ONLY.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Db } from '../../src/db/duckdb.js';
import { registerParquetKeys, readKeyOption } from '../../src/db/parquetKeys.js';
import { withDuckDb } from '../helpers/parquet.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'batchinfer-keys-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A file of 3 rows written by a separate DuckDB with `keyText` (the form DuckDB's PRAGMA takes). */
async function fixture(name: string, keyText: string): Promise<string> {
  const path = join(dir, `${name}.parquet`);
  await withDuckDb(async (q) => {
    await q('SET force_mbedtls_unsafe = true');
    await q(`PRAGMA add_parquet_key('k', '${keyText}')`);
    await q(`COPY (SELECT range AS a FROM range(3)) TO '${path}' (FORMAT parquet, ENCRYPTION_CONFIG {footer_key: 'k'})`);
  });
  return path;
}

async function rowsWith(key: Uint8Array, path: string): Promise<number> {
  const db = await Db.open();
  try {
    await registerParquetKeys(db, { input: { name: 'test', bytes: key } });
    return Number(await db.exec(`SELECT count(*) FROM read_parquet($1${readKeyOption(db.parquetKeys.input)})`, [path]));
  } finally {
    db.close();
  }
}

describe('Db.addParquetKey', () => {
  it('a 32-byte key of any bytes (quotes, NUL, 0xff) decrypts what DuckDB wrote with the same bytes', async () => {
    const key = randomBytes(32);
    key[0] = 0x27; // '
    key[1] = 0;
    key[2] = 0xff;
    expect(await rowsWith(key, await fixture('k32', key.toString('base64')))).toBe(3);
  });

  it('a 16 and a 24-byte key of letters and digits (as DuckDB users write them) work', async () => {
    for (const text of ['0123456789112345', '012345678911234501234567']) {
      expect(await rowsWith(Buffer.from(text), await fixture(`k${text.length}`, text))).toBe(3);
    }
  });

  it('a 16-byte key of other bytes is KEY_INVALID: DuckDB would read its base64 as a 24-byte key', async () => {
    const db = await Db.open();
    try {
      await expect(db.addParquetKey('batchinfer_x', randomBytes(16))).rejects.toMatchObject({ code: 'KEY_INVALID', message: expect.stringContaining('use a 32-byte key') });
    } finally {
      db.close();
    }
  });

  it('refuses a name that is not one of ours (it would be rendered into the statement)', async () => {
    const db = await Db.open();
    try {
      await expect(db.addParquetKey("x'); SELECT 1; --", randomBytes(32))).rejects.toThrow(/not a Parquet key name/);
      await expect(db.addParquetKey('Upper', randomBytes(32))).rejects.toThrow(/not a Parquet key name/);
    } finally {
      db.close();
    }
  });

  it('a wrong key fails to decrypt', async () => {
    await expect(rowsWith(randomBytes(32), await fixture('other', randomBytes(32).toString('base64')))).rejects.toThrow(/AES tag/);
  });
});

describe('registerParquetKeys with an output key', () => {
  it('writes encrypted Parquet (PARE magic) and encrypts spill files (temp_file_encryption)', async () => {
    const db = await Db.open();
    try {
      await registerParquetKeys(db, { output: { name: 'out', bytes: randomBytes(32) } }, { unsafeTestCrypto: true });
      expect(db.parquetKeys.output).toBe('batchinfer_out');
      const path = join(dir, 'written.parquet');
      await db.exec(`COPY (SELECT 1 AS a) TO $1 (FORMAT parquet, ENCRYPTION_CONFIG {footer_key: 'batchinfer_out'})`, [path]);
      expect((await readFile(path)).subarray(-4).toString('latin1')).toBe('PARE');
      expect(await db.exec("SELECT current_setting('temp_file_encryption')")).toBe(true);
    } finally {
      db.close();
    }
  });

  it('without OpenSSL and without the test-only setting: SPEC_INVALID naming httpfs', async () => {
    const db = await Db.open();
    try {
      await expect(registerParquetKeys(db, { output: { name: 'out', bytes: randomBytes(32) } })).rejects.toMatchObject({ code: 'SPEC_INVALID', message: expect.stringContaining('httpfs') });
    } finally {
      db.close();
    }
  });
});

/**
 * Parquet files encrypted with Parquet Modular Encryption, as an input reader meets them:
 * told apart by their magic bytes, and DuckDB's words on a missing or wrong key said as
 * one line with its code (KEY_MISSING, KEY_INVALID) and what to do.
 */
import { open } from 'node:fs/promises';
import { BatchinferError } from '../errors.js';
import { jobKeyName } from '../db/parquetKeys.js';

/** A file whose footer is encrypted ends (and starts) with `PARE` where a plain one has `PAR1`. */
const ENCRYPTED_MAGIC = 'PARE';

/** True when `path` ends with the encrypted-footer magic; false for anything else (or unreadable: DuckDB says why). */
export async function isEncryptedParquet(path: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    if (size < 8) return false;
    const tail = Buffer.alloc(4);
    await handle.read(tail, 0, 4, size - 4);
    return tail.toString('latin1') === ENCRYPTED_MAGIC;
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/** An encrypted file read without a key. */
export function keyMissing(path: string): BatchinferError {
  return new BatchinferError('KEY_MISSING', `input file ${path} is encrypted (Parquet modular encryption) and no key is given for it: name one in the job, encryption: {input: {footer_key: NAME}, output: {footer_key: NAME}} and the key's value in BATCHINFER_KEY_<NAME> (hex or base64) or a key file (encryption.keys.NAME.file)`, {
    expected: 'encryption.input.footer_key',
    actual: 'an encrypted file and no key',
  });
}

/** The error DuckDB's failure to read an encrypted file stands for; null for other failures. */
export function cryptoFailure(file: { path: string; key?: string }, text: string, cause: unknown): BatchinferError | null {
  if (/is encrypted, but 'encryption_config' was not set/.test(text)) return keyMissing(file.path);
  if (/AES tag|decrypt/i.test(text)) {
    const key = file.key ? `key ${jobKeyName(file.key)}` : 'the key given';
    return new BatchinferError('KEY_INVALID', `${key} does not decrypt ${file.path}: a wrong key, or a file encrypted with another`, { expected: 'the key the file was encrypted with', actual: file.key ? `key ${jobKeyName(file.key)}` : 'another key', cause });
  }
  return null;
}

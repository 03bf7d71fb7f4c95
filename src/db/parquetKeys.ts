/**
 * Parquet Modular Encryption through DuckDB: registering a run's keys, the SQL options that
 * read and write encrypted files, and whether this DuckDB can write them at all.
 *
 * DuckDB decrypts with its built-in mbedtls, but encrypts only with a cryptography library
 * it trusts: OpenSSL, brought by its httpfs extension. Without it a COPY with ENCRYPTION_CONFIG
 * fails, unless `force_mbedtls_unsafe` is set, which DuckDB calls "NOT securely encrypted":
 * only the tests set it (BATCHINFER_TEST_UNSAFE_MBEDTLS=1, read by core/jobKeys.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchinferError } from '../errors.js';
import type { Db } from './duckdb.js';

export interface KeyToRegister {
  /** The job's name for the key (letters, digits, _). */
  name: string;
  bytes: Uint8Array;
}

export interface RegisterOptions {
  /** Tests only: let DuckDB encrypt with mbedtls, which it says is not secure. */
  unsafeTestCrypto?: boolean;
  /** Encrypt DuckDB's spill files though no output key is registered (reading decrypted rows in bulk). */
  encryptSpills?: boolean;
}

/** The DuckDB name a job's key is registered under: names are matched without case, like their variables. */
export function duckdbKeyName(name: string): string {
  return `batchinfer_${name.toLowerCase()}`;
}

/** The job's name of a key registered as `duckdbName`. */
export function jobKeyName(duckdbName: string): string {
  return duckdbName.replace(/^batchinfer_/, '');
}

/**
 * Registers the input key (reading) and the output key (writing), and with an output key, or
 * `encryptSpills`, makes DuckDB able to encrypt (checked by writing a one-row file to a
 * private temporary directory) and encrypts its spill files from then on
 * (`temp_file_encryption`, with a key DuckDB makes for the process and never writes).
 */
export async function registerParquetKeys(db: Db, keys: { input?: KeyToRegister; output?: KeyToRegister }, options: RegisterOptions = {}): Promise<void> {
  if (keys.input) db.parquetKeys.input = await addKey(db, keys.input);
  if (keys.output) db.parquetKeys.output = await addKey(db, keys.output);
  const writer = db.parquetKeys.output ?? (options.encryptSpills ? db.parquetKeys.input : undefined);
  if (!writer) return;
  if (options.unsafeTestCrypto) await db.exec('SET force_mbedtls_unsafe = true');
  else await db.exec('LOAD httpfs').catch(() => undefined);
  await checkEncryptedWrites(db, writer);
  await db.exec('SET temp_file_encryption = true');
}

/** Registers `key` under its DuckDB name; a refusal names the job's key. */
async function addKey(db: Db, key: KeyToRegister): Promise<string> {
  const name = duckdbKeyName(key.name);
  try {
    await db.addParquetKey(name, key.bytes);
  } catch (err) {
    if (err instanceof BatchinferError) throw new BatchinferError(err.code, `key ${key.name}: ${err.message}`, { expected: err.expected, actual: err.actual });
    throw err;
  }
  return name;
}

/** `, encryption_config = {...}` for a reader of files encrypted with key `name` (one of ours); '' without. */
export function readKeyOption(name: string | undefined): string {
  return name ? `, encryption_config = {footer_key: ${keyLiteral(name)}}` : '';
}

/** `, ENCRYPTION_CONFIG {...}` for a COPY writing Parquet encrypted with the run's output key; '' without. */
export function writeKeyOption(db: Db): string {
  const name = db.parquetKeys.output;
  return name ? `, ENCRYPTION_CONFIG {footer_key: ${keyLiteral(name)}}` : '';
}

/** A key name of ours as an SQL string: names are checked when registered, so none holds a quote. */
function keyLiteral(name: string): string {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`not a Parquet key name of ours: ${name}`);
  return `'${name}'`;
}

async function checkEncryptedWrites(db: Db, name: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'batchinfer-keycheck-'));
  try {
    await db.exec(`COPY (SELECT 1 AS probe) TO $1 (FORMAT parquet, ENCRYPTION_CONFIG {footer_key: ${keyLiteral(name)}})`, [join(dir, 'probe.parquet')]);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    if (!/crypto module|httpfs|mbedtls/i.test(text)) throw err;
    throw new BatchinferError('SPEC_INVALID', `encryption.output: this DuckDB cannot write encrypted Parquet (key ${jobKeyName(name)}): it needs its httpfs extension, which brings OpenSSL; install it once where DuckDB can download (INSTALL httpfs), or copy httpfs.duckdb_extension into ~/.duckdb/extensions/`, { expected: 'DuckDB with the httpfs extension installed', actual: 'a read-only crypto module (no httpfs)', cause: err });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

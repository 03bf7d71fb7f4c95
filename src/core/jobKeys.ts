/**
 * A job's encryption keys, read (spec/encryption.ts) and registered in DuckDB
 * (db/parquetKeys.ts) before any input is opened. What a run keeps of them is their
 * fingerprints (first 8 hex digits of sha256): part of the run identity, so parts written
 * under one key are not resumed under another.
 */
import type { Db } from '../db/duckdb.js';
import { registerParquetKeys } from '../db/parquetKeys.js';
import { loadKey, type EncryptionSpec } from '../spec/encryption.js';
import type { JobSpec } from '../spec/jobSpec.js';
import { BatchinferError } from '../errors.js';
import { outputFormatOf } from '../sink/outputFormat.js';

/** Fingerprints of the keys a run uses, by role: `{input: 'a1b2c3d4', output: '...'}`. */
export type KeyFingerprints = { input?: string; output?: string };

/**
 * Loads and registers the keys `spec.encryption` names; null for a job without encryption.
 * `BATCHINFER_TEST_UNSAFE_MBEDTLS=1` is for the test suite only: DuckDB then encrypts without
 * OpenSSL, which it calls not secure (db/parquetKeys.ts).
 */
export async function openJobKeys(db: Db, spec: Pick<JobSpec, 'encryption' | 'output' | 'schedule'>, env: NodeJS.ProcessEnv = process.env): Promise<KeyFingerprints | null> {
  const e = spec.encryption;
  if (!e || (!e.inputKey && !e.outputKey)) return null;
  if (e.outputKey && !/[\\/]$/.test(spec.output) && !spec.schedule && outputFormatOf(spec.output) !== 'parquet') {
    throw new BatchinferError('SPEC_INVALID', 'encryption.output: needs a Parquet output: DuckDB encrypts Parquet files only', { expected: 'an output ending in .parquet, or a directory', actual: spec.output });
  }
  const input = e.inputKey ? await loadKey(e.inputKey, e, env) : undefined;
  const output = e.outputKey ? await loadKey(e.outputKey, e, env) : undefined;
  await registerParquetKeys(db, { ...(input ? { input } : {}), ...(output ? { output } : {}) }, { unsafeTestCrypto: env['BATCHINFER_TEST_UNSAFE_MBEDTLS'] === '1' });
  return { ...(input ? { input: input.fingerprint } : {}), ...(output ? { output: output.fingerprint } : {}) };
}

/** Registers the job's output key for reading what the run committed (`run --evaluate`, `--expect`). */
export async function openOutputKey(db: Db, encryption: EncryptionSpec | undefined, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!encryption?.outputKey) return;
  // Evaluating reads the whole output decrypted: DuckDB's spills are encrypted as the run's were.
  await registerParquetKeys(db, { input: await loadKey(encryption.outputKey, encryption, env) }, { encryptSpills: true, unsafeTestCrypto: env['BATCHINFER_TEST_UNSAFE_MBEDTLS'] === '1' });
}

/** Registers the job's input key alone (`inspect --job`: it reads the input, writes nothing). */
export async function openInputKey(db: Db, encryption: EncryptionSpec | undefined, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!encryption?.inputKey) return;
  await registerParquetKeys(db, { input: await loadKey(encryption.inputKey, encryption, env) });
}

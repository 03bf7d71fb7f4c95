/**
 * The job's `encryption` key: Parquet Modular Encryption of its inputs and outputs, by key
 * name. Key values never come from the job file or the command line (they would sit in
 * version control, `ps` and shell history): each named key is read from the environment
 * (`BATCHINFER_KEY_<NAME>`) or from a key file the job names (`keys: {NAME: {file: PATH}}`),
 * which must not be readable by group or others.
 *
 * ```yaml
 * encryption:
 *   input: {footer_key: customers}
 *   output: {footer_key: scores}
 *   keys: {scores: {file: /etc/batchinfer/scores.key}}
 * ```
 *
 * A key is 16, 24 or 32 bytes (AES-128/192/256), written as hex or base64. Values are never
 * put in a message: problems name the key and where it was looked for.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BatchinferError, type Problem } from '../errors.js';

export interface EncryptionSpec {
  /** The key encrypted input files are read with (a name, not a value). */
  inputKey?: string;
  /** The key outputs, rejects and staged files are encrypted with. */
  outputKey?: string;
  /** Key files by key name (absolute paths); a key not here comes from the environment. */
  keyFiles: Record<string, string>;
}

/** A key's value, read for a run: never printed, logged or written. */
export interface LoadedKey {
  name: string;
  bytes: Uint8Array;
  /** First 8 hex digits of the key's sha256: names which key without giving it away. */
  fingerprint: string;
}

/** A key name: text DuckDB and an environment variable name can both hold as they are. */
export const KEY_NAME = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;
const KEY_NAME_EXPECTED = 'a key name: a letter, then letters, digits or _';
const AES_LENGTHS = [16, 24, 32];
const VALUE_HINT = 'key values are never taken from the job file: set BATCHINFER_KEY_<NAME> or give keys.<NAME>.file';

/** The environment variable holding key `name`'s value. */
export function keyEnvName(name: string): string {
  return `BATCHINFER_KEY_${name.toUpperCase()}`;
}

/**
 * Checks the raw `encryption` value of a job file. Problems never quote what the job holds
 * under it: a mistaken key value must not reach stderr.
 */
export function parseEncryption(raw: unknown, baseDir: string): { spec?: EncryptionSpec; problems: Problem[] } {
  const problems: Problem[] = [];
  const bad = (where: string, message: string, expected?: string): void => {
    problems.push({ code: 'SPEC_INVALID', where: `encryption${where}`, message, ...(expected ? { expected } : {}) });
  };
  if (raw === undefined) return { problems };
  if (!isObject(raw)) return { problems: [{ code: 'SPEC_INVALID', where: 'encryption', message: 'must be a mapping', expected: '{input: {footer_key: NAME}, output: {footer_key: NAME}, keys: {NAME: {file: PATH}}}' }] };
  const spec: EncryptionSpec = { keyFiles: {} };
  for (const key of Object.keys(raw)) if (!['input', 'output', 'keys'].includes(key)) bad(`.${key}`, 'unknown key', 'input, output or keys');
  for (const side of ['input', 'output'] as const) {
    const value = raw[side];
    if (value === undefined) continue;
    if (!isObject(value)) {
      bad(`.${side}`, `must be {footer_key: NAME}; ${VALUE_HINT}`, '{footer_key: NAME}');
      continue;
    }
    for (const key of Object.keys(value)) {
      if (key === 'column_keys') bad(`.${side}.column_keys`, "DuckDB reads and writes Parquet encrypted with one footer key only (column keys are not implemented in DuckDB 1.5)", 'footer_key alone');
      else if (key !== 'footer_key') bad(`.${side}.${key}`, 'unknown key', 'footer_key');
    }
    const name = value['footer_key'];
    if (typeof name !== 'string' || !KEY_NAME.test(name)) bad(`.${side}.footer_key`, `must name a key, not hold its value; ${VALUE_HINT}`, KEY_NAME_EXPECTED);
    else if (side === 'input') spec.inputKey = name;
    else spec.outputKey = name;
  }
  const keys = raw['keys'];
  if (keys !== undefined && !isObject(keys)) bad('.keys', 'must map key names to {file: PATH}', '{NAME: {file: PATH}}');
  for (const [name, entry] of Object.entries(isObject(keys) ? keys : {})) {
    if (!KEY_NAME.test(name)) bad('.keys', 'has a name that is not a key name', KEY_NAME_EXPECTED);
    else if (!isObject(entry) || Object.keys(entry).some((k) => k !== 'file') || typeof entry['file'] !== 'string' || entry['file'] === '') bad(`.keys.${name}`, `must be {file: PATH}; ${VALUE_HINT}`, '{file: PATH}');
    else spec.keyFiles[name.toLowerCase()] = resolve(baseDir, entry['file']);
  }
  return problems.length > 0 ? { problems } : { spec, problems };
}

/**
 * Reads key `name`: from its key file when the job names one (which must be 0600 or
 * stricter), else from `BATCHINFER_KEY_<NAME>`. KEY_MISSING when neither holds it,
 * KEY_INVALID when it is not a 16, 24 or 32-byte key in hex or base64.
 */
export async function loadKey(name: string, spec: EncryptionSpec, env: NodeJS.ProcessEnv = process.env): Promise<LoadedKey> {
  const file = spec.keyFiles[name.toLowerCase()];
  const variable = keyEnvName(name);
  if (file !== undefined && env[variable] !== undefined) {
    throw new BatchinferError('KEY_INVALID', `key ${name} is given twice: by the key file ${file} and by ${variable}; keep one`, { expected: 'one source of the key', actual: `keys.${name}.file and ${variable}` });
  }
  const text = file !== undefined ? await readKeyFile(name, file) : env[variable];
  if (text === undefined || text.trim() === '') {
    throw new BatchinferError('KEY_MISSING', `key ${name} is not set: export ${variable} (hex or base64) or name a key file in the job (encryption.keys.${name}.file)`, { expected: `${variable} or encryption.keys.${name}.file`, actual: text === undefined ? 'neither' : `an empty ${file ?? variable}` });
  }
  const bytes = decodeKey(text.trim());
  if (!bytes) {
    throw new BatchinferError('KEY_INVALID', `key ${name} (${file ?? variable}) is not a 16, 24 or 32-byte AES key written in hex or base64`, { expected: '32, 48 or 64 hex digits, or base64 of 16, 24 or 32 bytes', actual: `${text.trim().length} characters` });
  }
  return { name, bytes, fingerprint: keyFingerprint(bytes) };
}

/** Hex (32, 48 or 64 digits: tried first) or base64 of 16, 24 or 32 bytes; null otherwise. */
export function decodeKey(text: string): Uint8Array | null {
  if (/^[0-9a-fA-F]+$/.test(text) && AES_LENGTHS.includes(text.length / 2)) return new Uint8Array(Buffer.from(text, 'hex'));
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const bytes = Buffer.from(text, 'base64');
  return AES_LENGTHS.includes(bytes.length) ? new Uint8Array(bytes) : null;
}

export function keyFingerprint(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 8);
}

/** A key file's text, refused when its mode lets group or others read or write it. */
async function readKeyFile(name: string, path: string): Promise<string> {
  let mode: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new BatchinferError('KEY_INVALID', `key file ${path} (key ${name}) is not a regular file`, { expected: 'a regular file', actual: info.isDirectory() ? 'a directory' : 'not a regular file' });
    mode = info.mode & 0o777;
  } catch (err) {
    if (err instanceof BatchinferError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new BatchinferError('KEY_MISSING', `key file ${path} (key ${name}) ${code === 'ENOENT' ? 'does not exist' : 'cannot be read'}`, { expected: 'a readable key file', actual: code ?? 'unreadable' });
  }
  if ((mode & 0o077) !== 0) {
    throw new BatchinferError('KEY_INVALID', `key file ${path} (key ${name}) has mode ${mode.toString(8).padStart(4, '0')}: group or others may read it; chmod 600 ${path}`, { expected: '0600 or stricter', actual: mode.toString(8).padStart(4, '0') });
  }
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new BatchinferError('KEY_MISSING', `key file ${path} (key ${name}) cannot be read`, { expected: 'a readable key file', actual: (err as NodeJS.ErrnoException).code ?? 'unreadable' });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

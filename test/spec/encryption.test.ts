import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeKey, keyEnvName, keyFingerprint, loadKey, parseEncryption } from '../../src/spec/encryption.js';
import { createHash } from 'node:crypto';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'batchinfer-enc-spec-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('decodeKey', () => {
  it('reads hex of 16, 24 and 32 bytes, and base64 of them', () => {
    const bytes = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    expect(Buffer.from(decodeKey('00112233445566778899aabbccddeeff')!)).toEqual(bytes);
    expect(Buffer.from(decodeKey(bytes.toString('base64'))!)).toEqual(bytes);
    expect(decodeKey('ab'.repeat(24))!.length).toBe(24);
    expect(decodeKey(Buffer.alloc(32, 7).toString('base64'))!.length).toBe(32);
  });

  it('refuses other lengths and other text', () => {
    expect(decodeKey('abcd')).toBeNull();
    expect(decodeKey(Buffer.alloc(20).toString('base64'))).toBeNull();
    expect(decodeKey('0123456789112345')).toBeNull(); // text: base64 of 12 bytes
    expect(decodeKey('not base64 at all!')).toBeNull();
  });
});

describe('keyFingerprint', () => {
  it('is the first 8 hex digits of the key bytes\' sha256', () => {
    const key = Buffer.alloc(16, 1);
    expect(keyFingerprint(key)).toBe(createHash('sha256').update(key).digest('hex').slice(0, 8));
  });
});

describe('parseEncryption', () => {
  it('takes footer key names and key files (resolved against the job\'s directory)', () => {
    const { spec, problems } = parseEncryption({ input: { footer_key: 'in_key' }, output: { footer_key: 'Out' }, keys: { Out: { file: 'k/out.key' } } }, '/jobs');
    expect(problems).toEqual([]);
    expect(spec).toEqual({ inputKey: 'in_key', outputKey: 'Out', keyFiles: { out: '/jobs/k/out.key' } });
  });

  it('a value where a name or a file belongs is refused without being quoted', () => {
    const secret = Buffer.alloc(32, 9).toString('base64');
    for (const raw of [{ input: { footer_key: secret } }, { keys: { a: secret } }, { keys: { a: { value: secret } } }, { input: secret }]) {
      const { problems } = parseEncryption(raw, '/');
      expect(problems.length).toBeGreaterThan(0);
      expect(JSON.stringify(problems)).not.toContain(secret);
    }
  });

  it('column_keys: DuckDB does not implement them', () => {
    const { problems } = parseEncryption({ input: { footer_key: 'a', column_keys: { b: ['x'] } } }, '/');
    expect(problems[0]).toMatchObject({ where: 'encryption.input.column_keys', message: expect.stringContaining('column keys are not implemented') });
  });
});

describe('loadKey', () => {
  const hex = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

  it('reads BATCHINFER_KEY_<NAME> (the name upper-cased)', async () => {
    expect(keyEnvName('scores')).toBe('BATCHINFER_KEY_SCORES');
    const key = await loadKey('scores', { keyFiles: {} }, { BATCHINFER_KEY_SCORES: hex });
    expect(Buffer.from(key.bytes).toString('hex')).toBe(hex);
  });

  it('reads a 0600 key file; refuses one group or others may read (KEY_INVALID), and one that is missing (KEY_MISSING)', async () => {
    const file = join(dir, 'a.key');
    await writeFile(file, `${hex}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
    expect((await loadKey('a', { keyFiles: { a: file } }, {})).fingerprint).toBe(keyFingerprint(Buffer.from(hex, 'hex')));
    await chmod(file, 0o604);
    await expect(loadKey('a', { keyFiles: { a: file } }, {})).rejects.toMatchObject({ code: 'KEY_INVALID', message: expect.stringContaining('has mode 0604') });
    await expect(loadKey('a', { keyFiles: { a: join(dir, 'none.key') } }, {})).rejects.toMatchObject({ code: 'KEY_MISSING' });
  });

  it('a key set twice (file and variable) is refused; an unset one is KEY_MISSING; a malformed one KEY_INVALID without its value', async () => {
    const file = join(dir, 'b.key');
    await writeFile(file, hex, { mode: 0o600 });
    await expect(loadKey('b', { keyFiles: { b: file } }, { BATCHINFER_KEY_B: hex })).rejects.toMatchObject({ code: 'KEY_INVALID', message: expect.stringContaining('given twice') });
    await expect(loadKey('c', { keyFiles: {} }, {})).rejects.toMatchObject({ code: 'KEY_MISSING', message: expect.stringContaining('BATCHINFER_KEY_C') });
    const err = await loadKey('c', { keyFiles: {} }, { BATCHINFER_KEY_C: 'abcdef' }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'KEY_INVALID' });
    expect(JSON.stringify(err) + (err as Error).message).not.toContain('abcdef');
  });
});

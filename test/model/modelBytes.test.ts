import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchinferError } from '../../src/errors.js';
import { formatBytes, MAX_MODEL_BYTES, readModelBytes } from '../../src/model/modelBytes.js';
import { FIXTURES_DIR } from '../helpers/reference.js';

const MLP = join(FIXTURES_DIR, 'models', 'mlp.onnx');

let dir: string;
let server: Server;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'batchinfer-modelbytes-'));
  server = createServer();
  await new Promise<void>((resolve) => server.listen(join(dir, 'socket.onnx'), resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function refusal(path: string, maxBytes?: number): Promise<BatchinferError> {
  const err = await readModelBytes(path, maxBytes).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof BatchinferError)) throw new Error(`expected a BatchinferError, got ${String(err)}`);
  return err;
}

describe('readModelBytes', () => {
  it('reads a regular file, and a symlink to one, byte for byte', async () => {
    const link = join(dir, 'link.onnx');
    await symlink(MLP, link);
    const expected = new Uint8Array(await readFile(MLP));
    expect(new Uint8Array(await readModelBytes(MLP))).toEqual(expected);
    expect(new Uint8Array(await readModelBytes(link))).toEqual(expected);
  });

  it('refuses a FIFO at once, without opening it (an open would wait for a writer)', async () => {
    const fifo = join(dir, 'fifo.onnx');
    execFileSync('mkfifo', [fifo]);
    const err = await refusal(fifo);
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toBe(`model path is not a regular file (a FIFO): ${fifo}`);
    expect(err.actual).toBe('a FIFO');
  });

  it.each([
    ['/dev/zero', 'a character device'],
    ['/dev/null', 'a character device'],
  ])('refuses %s (%s) instead of reading it', async (path, kind) => {
    const err = await refusal(path);
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toBe(`model path is not a regular file (${kind}): ${path}`);
  });

  it('refuses a Unix socket', async () => {
    const err = await refusal(join(dir, 'socket.onnx'));
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.actual).toBe('a socket');
  });

  it('keeps the directory message for a directory', async () => {
    const err = await refusal(dir);
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toBe(`model path is a directory: ${dir}`);
  });

  it('a missing file is MODEL_MISSING, not found', async () => {
    const err = await refusal(join(dir, 'nope.onnx'));
    expect(err.code).toBe('MODEL_MISSING');
    expect(err.message).toContain('not found');
  });

  it('refuses a 3 GiB (sparse) file by its size, before reading it, naming the 2 GiB bound', async () => {
    const big = join(dir, 'big.onnx');
    await writeFile(big, '');
    await truncate(big, 3 * 2 ** 30);
    const err = await refusal(big);
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.message).toBe(`model file is too large: ${big} is 3 GiB; an ONNX file holds at most 2 GiB, and batchinfer does not load external data files`);
    expect(err.expected).toBe(`at most ${MAX_MODEL_BYTES} bytes`);
    expect(err.actual).toBe(`${3 * 2 ** 30} bytes`);
  });

  it('a file at the bound is read; one byte more is refused', async () => {
    const file = join(dir, 'small.onnx');
    await writeFile(file, new Uint8Array(100));
    expect((await readModelBytes(file, 100)).length).toBe(100);
    expect((await refusal(file, 99)).actual).toBe('100 bytes');
  });

  it('bounds the read itself: a file larger than its stat said stops one byte past the bound', async () => {
    // /proc files stat as 0 bytes and read as more, as a file still being written would.
    expect((await readModelBytes('/proc/self/status')).length).toBeGreaterThan(64);
    const err = await refusal('/proc/self/status', 64);
    expect(err.code).toBe('MODEL_INVALID');
    expect(err.actual).toBe('more than 64 bytes');
    expect(err.message).toContain('is more than 65 bytes');
  });
});

describe('formatBytes', () => {
  it.each([
    [512, '512 bytes'],
    [2048, '2 KiB'],
    [2 ** 31, '2 GiB'],
    [3.2 * 2 ** 30, '3.2 GiB'],
  ])('%d is %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});

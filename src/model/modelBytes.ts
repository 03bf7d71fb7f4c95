/**
 * Reads a model file's bytes, refusing what cannot be an ONNX model before reading it: a
 * directory, anything that is not a regular file (a FIFO would block the open forever,
 * /dev/zero would be read until memory runs out), and a file larger than one protobuf
 * message can be. The read itself stops one byte past the bound, so a file that grows
 * while it is read cannot make it unbounded either.
 */
import { constants, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { BatchinferError } from '../errors.js';

/**
 * An .onnx file is one protobuf ModelProto, and protobuf refuses messages of 2 GiB or more.
 * Larger models keep their weights in external data files, which batchinfer does not load.
 */
export const MAX_MODEL_BYTES = 2 ** 31 - 1;

/** A model file's bytes. A missing or unreadable path is MODEL_MISSING; a directory, a non-regular file or one over `maxBytes` is MODEL_INVALID. */
export async function readModelBytes(path: string, maxBytes = MAX_MODEL_BYTES): Promise<Uint8Array> {
  checkKind(await statModel(path), path, maxBytes);
  // O_NONBLOCK: if the path became a FIFO since the stat, opening it returns instead of
  // waiting for a writer (on a regular file the flag changes nothing).
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)).catch((err: unknown) => {
    throw unreadable(path, err);
  });
  try {
    const stats = await handle.stat();
    checkKind(stats, path, maxBytes);
    return await readAtMost(handle, stats.size, path, maxBytes);
  } finally {
    await handle.close();
  }
}

/** The file's stats (following symlinks); a path that cannot be stat'ed is MODEL_MISSING. */
async function statModel(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (err) {
    throw unreadable(path, err);
  }
}

function unreadable(path: string, err: unknown): BatchinferError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason = code === 'ENOENT' || code === 'ENOTDIR' ? 'not found' : `not readable (${code ?? String(err)})`;
  return new BatchinferError('MODEL_MISSING', `model file ${reason}: ${path}`, { expected: 'a readable .onnx file', actual: path, cause: err });
}

/** A directory, a non-regular file or an oversized file is MODEL_INVALID. */
function checkKind(stats: Stats, path: string, maxBytes: number): void {
  if (stats.isDirectory()) {
    throw new BatchinferError('MODEL_INVALID', `model path is a directory: ${path}`, { expected: 'an .onnx file', actual: 'a directory' });
  }
  if (!stats.isFile()) {
    const kind = specialKind(stats);
    throw new BatchinferError('MODEL_INVALID', `model path is not a regular file (${kind}): ${path}`, { expected: 'a regular .onnx file', actual: kind });
  }
  if (stats.size > maxBytes) throw tooLarge(path, stats.size, maxBytes);
}

function specialKind(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** `read`: the size is what was read before the bound stopped the read (the file grew after its stat). */
function tooLarge(path: string, size: number, maxBytes: number, read = false): BatchinferError {
  const actual = read ? `more than ${maxBytes} bytes` : `${size} bytes`;
  const shown = read ? `more than ${formatBytes(maxBytes + 1)}` : formatBytes(size);
  return new BatchinferError(
    'MODEL_INVALID',
    `model file is too large: ${path} is ${shown}; an ONNX file holds at most ${formatBytes(maxBytes + 1)}, and batchinfer does not load external data files`,
    { expected: `at most ${maxBytes} bytes`, actual },
  );
}

/** Reads to the end, but never more than `maxBytes + 1` bytes: one more than allowed proves the file too large. */
async function readAtMost(handle: FileHandle, size: number, path: string, maxBytes: number): Promise<Uint8Array> {
  let buffer = Buffer.allocUnsafeSlow(Math.min(size, maxBytes) + 1);
  let length = 0;
  for (;;) {
    if (length === buffer.length) {
      if (length > maxBytes) throw tooLarge(path, length, maxBytes, true);
      const grown = Buffer.allocUnsafeSlow(Math.min(buffer.length * 2, maxBytes + 1));
      buffer.copy(grown, 0, 0, length);
      buffer = grown;
    }
    const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
    if (bytesRead === 0) return buffer.subarray(0, length);
    length += bytesRead;
  }
}

/** 3221225472 -> '3 GiB', 3435973837 -> '3.2 GiB'; sizes below 1 KiB in bytes. */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  if (bytes < 1024) return `${bytes} bytes`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/**
 * Output that is never half-written: data goes to a temporary name beside the target, is
 * fsynced, then renamed over the target; the directory is fsynced so the rename survives
 * a crash. Staging directories live beside the output under a dot-name readers ignore.
 */
import { chmod, link, open, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BatchinferError } from '../errors.js';
import { writeFailure } from '../util/writeFailure.js';

/** Removes `dir` and the directories below it if they hold no files (a failed run's created parents). */
export async function pruneEmptyDirs(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) await pruneEmptyDirs(join(dir, e.name));
  try {
    await rmdir(dir);
  } catch {
    // not empty: something else lives there now
  }
}

export async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The staging directory (and the journal in it) holds raw rows: its owner's alone. */
export const PRIVATE_DIR_MODE = 0o700;
/** The rejects file holds raw rows: its owner's alone unless the job sets `file_mode`. */
export const DEFAULT_REJECTS_MODE = 0o600;

/** A directory output's mode for files of `fileMode`: search (x) wherever read (r) is allowed. */
export function directoryModeOf(fileMode: number): number {
  return fileMode | ((fileMode & 0o444) >> 2);
}

/**
 * Gives `path` the mode `fileMode` (undefined: leaves the umask's); a directory gets
 * `directoryModeOf(fileMode)` and everything below it the same treatment. Set before the
 * commit's rename, so the committed path never has another mode.
 */
export async function applyMode(path: string, fileMode: number | undefined, isDirectory = false): Promise<void> {
  if (fileMode === undefined) return;
  if (!isDirectory) return chmod(path, fileMode);
  for (const e of await readdir(path, { withFileTypes: true })) await applyMode(join(path, e.name), fileMode, e.isDirectory());
  await chmod(path, directoryModeOf(fileMode));
}

/**
 * Renames a finished file or directory onto `target` after flushing it to disk, with the
 * mode `fileMode` (see `applyMode`).
 */
export async function commitRename(staged: string, target: string, isDirectory = false, fileMode?: number): Promise<void> {
  try {
    await applyMode(staged, fileMode, isDirectory);
    if (!isDirectory) await fsyncPath(staged);
    if (isDirectory) await replaceDirectory(staged, target);
    else await rename(staged, target);
    await fsyncPath(dirname(target));
  } catch (err) {
    throw writeFailure(target, err) ?? new BatchinferError('OUTPUT_UNWRITABLE', `cannot commit output ${target}: ${(err as Error).message}`, {
      expected: 'a writable output path',
      actual: target,
    });
  }
}

/** rename(2) cannot replace a non-empty directory: move the old one aside first, then drop it. */
async function replaceDirectory(staged: string, target: string): Promise<void> {
  const aside = join(dirname(target), `.${basename(target)}.old-${process.pid}-${Date.now()}`);
  let moved = false;
  try {
    await rename(target, aside);
    moved = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    await rename(staged, target);
  } catch (err) {
    // The output stays as it was.
    if (moved) await rename(aside, target);
    throw err;
  }
  if (moved) await rm(aside, { recursive: true, force: true });
}

/** Writes a small file atomically (temp name, fsync, rename), created with `fileMode` (default: the umask's). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, fileMode?: number): Promise<void> {
  await (await prepareFileAtomic(path, data, fileMode)).place();
}

/** A file written and synced under a temporary name beside its target, not yet in place. */
export interface PreparedFile {
  /** Renames it onto its target. */
  place(): Promise<void>;
}

/**
 * `writeFileAtomic` in two steps: the data written and synced under a temporary name now,
 * renamed onto `path` by `place()` later (the slow part done while something else is awaited).
 */
export async function prepareFileAtomic(path: string, data: string | Uint8Array, fileMode?: number): Promise<PreparedFile> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const fail = async (err: unknown): Promise<never> => {
    await rm(temp, { force: true });
    throw writeFailure(path, err) ?? new BatchinferError('OUTPUT_UNWRITABLE', `cannot write ${path}: ${(err as Error).message}`, { expected: 'a writable path', actual: path });
  };
  try {
    // Created with the mode (less the umask), then set exactly: it never holds data under a wider one.
    await writeFile(temp, data, fileMode === undefined ? {} : { mode: fileMode });
    await applyMode(temp, fileMode);
    await fsyncPath(temp);
  } catch (err) {
    return fail(err);
  }
  return { place: () => rename(temp, path).catch(fail) };
}

/** Errors of a file system without hard links (FAT, some network and FUSE file systems). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Creates `path` holding `data` unless a file of that name exists; false when one did. The
 * data is written whole under a temporary name and hard-linked into place: link(2) fails on
 * an existing name, so of several processes starting at once exactly one creates it, and
 * nobody sees it half-written. Without hard links: an exclusive create, then the write (a
 * reader may meet it empty or short for that moment, and should read again).
 */
export async function createFileOnce(path: string, data: string, fileMode?: number): Promise<boolean> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    await writeFile(temp, data, fileMode === undefined ? {} : { mode: fileMode });
    await fsyncPath(temp);
    try {
      await link(temp, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') return false;
      if (!NO_HARD_LINKS.has(code)) throw err;
      return await createExclusive(path, data, fileMode);
    }
    await fsyncPath(dirname(path));
    return true;
  } catch (err) {
    throw writeFailure(path, err) ?? new BatchinferError('OUTPUT_UNWRITABLE', `cannot write ${path}: ${(err as Error).message}`, { expected: 'a writable path', actual: path });
  } finally {
    await rm(temp, { force: true });
  }
}

async function createExclusive(path: string, data: string, fileMode?: number): Promise<boolean> {
  try {
    await writeFile(path, data, { flag: 'wx', ...(fileMode === undefined ? {} : { mode: fileMode }) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  await fsyncPath(path);
  return true;
}

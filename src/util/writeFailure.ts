/**
 * The one place that turns a failed write of the run's own files (lock, staging, journal,
 * parts, merge, commit, summary) into `OUTPUT_UNWRITABLE` naming the path: a full disk, a
 * quota, a read-only or failing file system, no permission, or the open-files limit. Node
 * reports these as errno codes, DuckDB in the text of its message.
 *
 * @example
 *   await guardWrite(lockPath, () => writeFile(temp, text));
 */
import { BatchinferError } from '../errors.js';

interface Cause {
  /** What the user is told went wrong. */
  reason: string;
  /** What the run needed instead. */
  expected: string;
}

const DISK: Cause = { reason: 'no space left on the device', expected: 'a writable output directory with free space' };
const OPEN_FILES: Cause = { reason: 'too many open files: the open-files limit (ulimit -n) is reached, not the disk', expected: 'a higher open-files limit (ulimit -n)' };

const BY_ERRNO: Record<string, Cause> = {
  ENOSPC: DISK,
  EDQUOT: { reason: 'the disk quota is exceeded', expected: DISK.expected },
  EROFS: { reason: 'the file system is read-only', expected: 'a writable output directory' },
  EIO: { reason: 'an I/O error on the device', expected: 'a working output device' },
  EACCES: { reason: 'permission denied', expected: 'a writable output directory' },
  EPERM: { reason: 'operation not permitted', expected: 'a writable output directory' },
  EMFILE: OPEN_FILES,
  ENFILE: { reason: "too many open files in the system: the system's open-files limit is reached, not the disk", expected: 'fewer open files on the machine' },
};

/** DuckDB's messages carry the C library's text for the errno, not its name. */
const BY_TEXT: [RegExp, string][] = [
  [/No space left on device/i, 'ENOSPC'],
  [/Disk quota exceeded/i, 'EDQUOT'],
  [/Read-only file system/i, 'EROFS'],
  [/Input\/output error/i, 'EIO'],
  [/Too many open files in system/i, 'ENFILE'],
  [/Too many open files/i, 'EMFILE'],
  [/Permission denied/i, 'EACCES'],
  [/Operation not permitted/i, 'EPERM'],
];

/** The errno name of a file-system failure in `err`, or null when it is none of those above. */
export function writeErrno(err: unknown): string | null {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (typeof code === 'string' && code in BY_ERRNO) return code;
  const text = err instanceof Error ? err.message : String(err);
  return BY_TEXT.find(([pattern]) => pattern.test(text))?.[1] ?? null;
}

/** `OUTPUT_UNWRITABLE` naming `path` when `err` is a file-system failure; null otherwise. */
export function writeFailure(path: string, err: unknown): BatchinferError | null {
  if (err instanceof BatchinferError) return err;
  const errno = writeErrno(err);
  if (!errno) return null;
  const cause = BY_ERRNO[errno]!;
  // Node names the file the call failed on: a part being opened for the merge, a temp file.
  const at = (err as NodeJS.ErrnoException).path;
  const where = typeof at === 'string' && at !== path ? ` at ${at}` : '';
  return new BatchinferError('OUTPUT_UNWRITABLE', `cannot write ${path}: ${cause.reason} (${errno}${where})`, { expected: cause.expected, actual: path, cause: err });
}

/** Runs `write`; a file-system failure becomes `OUTPUT_UNWRITABLE` naming `path`, anything else is rethrown. */
export async function guardWrite<T>(path: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw writeFailure(path, err) ?? err;
  }
}

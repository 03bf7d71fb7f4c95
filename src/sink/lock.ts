/**
 * One run per output at a time. The lock is a file beside the output holding the holder's
 * pid, host and start time. It is written whole under a temporary name, then hard-linked to
 * the lock's name: link(2) fails if the name exists, so exactly one run wins, and a lock file
 * is complete or absent (a full disk or a crash cannot leave an empty one). A lock whose pid
 * is dead on this host is stale, and one that is empty or unreadable (left by an older
 * version, or damaged) holds nothing: either is moved aside atomically and taken over, with a
 * warning.
 *
 * @example
 *   const lock = await acquireLock(lockPathFor(output), { job: 'fraud-hourly' });
 *   try { ... } finally { await lock.release(); }
 */
import { hostname } from 'node:os';
import { readFileSync, rmSync } from 'node:fs';
import { link, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BatchinferError, isBatchinferError } from '../errors.js';
import { guardWrite } from '../util/writeFailure.js';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  job: string;
}

export interface Lock {
  path: string;
  /** Set when a stale lock was taken over: its holder, or 'unreadable' for an empty or damaged lock file. */
  takenOver: LockHolder | 'unreadable' | null;
  release(): Promise<void>;
}


export async function acquireLock(path: string, info: { job: string }): Promise<Lock> {
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), job: info.job };
  let takenOver: Lock['takenOver'] = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await tryCreate(path, me)) return makeLock(path, me, takenOver);
    const holder = await readHolder(path);
    if (holder && !isStale(holder)) {
      throw new BatchinferError('LOCKED', `another run holds the lock ${path}: pid ${holder.pid} on ${holder.host} since ${holder.startedAt} (job ${holder.job})`, {
        expected: 'no other run of this output',
        actual: `pid ${holder.pid} on ${holder.host}`,
      });
    }
    // Stale or unreadable: move it aside atomically. Only one contender's rename succeeds; the
    // others retry the create.
    const aside = `${path}.stale-${process.pid}-${Date.now()}`;
    try {
      await rename(path, aside);
      const moved = await readHolder(aside);
      if (moved && !isStale(moved)) {
        // Someone took it over between our read and our rename: give it back.
        await rename(aside, path);
        continue;
      }
      takenOver = moved ?? 'unreadable';
      await rm(aside, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new BatchinferError('LOCKED', `could not take the lock ${path}: other runs keep taking it`, { expected: 'a free lock', actual: 'contended' });
}

/** Writes the lock whole under a temporary name and links it into place; false if a lock exists. */
async function tryCreate(path: string, me: LockHolder): Promise<boolean> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    return await guardWrite(path, async () => {
      const text = JSON.stringify(me) + '\n';
      await writeSynced(temp, text);
      const linked = await linkNoReplace(temp, path);
      return linked ?? createExclusive(path, text);
    });
  } catch (err) {
    if (!isBatchinferError(err)) throw new BatchinferError('OUTPUT_UNWRITABLE', `cannot create the lock ${path}: ${(err as Error).message}`, { expected: 'a writable directory', actual: dirname(path), cause: err });
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}

/** Errors of a file system without hard links (FAT, some network and FUSE file systems). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * link(2) creates `to` only if no file has that name: exactly one of several callers wins.
 * Null when the file system has no hard links.
 */
async function linkNoReplace(from: string, to: string): Promise<boolean | null> {
  try {
    await link(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (NO_HARD_LINKS.has(code)) return null;
    throw err;
  }
}

/**
 * Without hard links: an exclusive create, then the write. A contender that reads the lock
 * between the two sees an unreadable lock, moves it aside, reads it again and gives it back
 * once written (`acquireLock`); only a write slower than that re-read can lose the lock.
 */
async function createExclusive(path: string, text: string): Promise<boolean> {
  let created = false;
  try {
    await writeSynced(path, text, () => (created = true));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    // A lock that could not be written whole holds nothing: do not leave it behind.
    if (created) await rm(path, { force: true });
    throw err;
  }
}

/** Creates `path` (it must not exist), writes `text` and flushes it; `onCreated` once the file exists. */
async function writeSynced(path: string, text: string, onCreated: () => void = () => undefined): Promise<void> {
  const handle = await open(path, 'wx');
  onCreated();
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readHolder(path: string): Promise<LockHolder | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? parsed : null;
  } catch {
    return null;
  }
}

/** A holder is stale when it ran on this host and its pid no longer exists. */
export function isStale(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Locks this process holds, for `releaseHeldLocksSync` on a forced exit. */
const held = new Map<string, LockHolder>();

/**
 * Removes every lock this process still holds, synchronously: for the last moment before a
 * forced `process.exit` (a second signal, or the shutdown deadline).
 */
export function releaseHeldLocksSync(): void {
  for (const [path, me] of held) {
    try {
      const holder = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
      if (holder.pid === me.pid && holder.startedAt === me.startedAt) rmSync(path, { force: true });
    } catch {
      // gone or unreadable: nothing of ours to remove
    }
  }
  held.clear();
}

function makeLock(path: string, me: LockHolder, takenOver: Lock['takenOver']): Lock {
  let released = false;
  held.set(path, me);
  return {
    path,
    takenOver,
    async release() {
      if (released) return;
      released = true;
      held.delete(path);
      // Only remove the lock if it is still ours.
      const holder = await readHolder(path);
      if (holder && holder.pid === me.pid && holder.startedAt === me.startedAt) await rm(path, { force: true });
    },
  };
}

/**
 * One run per output at a time. The lock is a file beside the output holding the holder's
 * pid, host and start time, created with O_EXCL so exactly one run wins. A lock whose pid is
 * dead on this host is stale: it is moved aside atomically and taken over, with a warning.
 *
 * @example
 *   const lock = await acquireLock(lockPathFor(output), { job: 'fraud-hourly' });
 *   try { ... } finally { await lock.release(); }
 */
import { hostname } from 'node:os';
import { readFileSync, rmSync } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BatchinferError } from '../errors.js';

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
  job: string;
}

export interface Lock {
  path: string;
  /** Set when a stale lock was taken over. */
  takenOver: LockHolder | null;
  release(): Promise<void>;
}


export async function acquireLock(path: string, info: { job: string }): Promise<Lock> {
  const me: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), job: info.job };
  let takenOver: LockHolder | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await tryCreate(path, me)) return makeLock(path, me, takenOver);
    const holder = await readHolder(path);
    if (!holder && (await youngerThan(path, 10_000))) {
      // Probably another run between its exclusive create and its write: treat as held.
      throw new BatchinferError('LOCKED', `another run is taking the lock ${path}`, { expected: 'no other run of this output', actual: 'a lock being written' });
    }
    if (holder && !isStale(holder)) {
      throw new BatchinferError('LOCKED', `another run holds the lock ${path}: pid ${holder.pid} on ${holder.host} since ${holder.startedAt} (job ${holder.job})`, {
        expected: 'no other run of this output',
        actual: `pid ${holder.pid} on ${holder.host}`,
      });
    }
    // Stale (or unreadable, e.g. a crash between create and write): move it aside atomically.
    // Only one contender's rename succeeds; the others retry the exclusive create.
    const aside = `${path}.stale-${process.pid}-${Date.now()}`;
    try {
      await rename(path, aside);
      const moved = await readHolder(aside);
      if (moved && !isStale(moved)) {
        // Someone took it over between our read and our rename: give it back.
        await rename(aside, path);
        continue;
      }
      takenOver = moved ?? { pid: 0, host: 'unknown', startedAt: 'unknown', job: 'unknown' };
      await rm(aside, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new BatchinferError('LOCKED', `could not take the lock ${path}: other runs keep taking it`, { expected: 'a free lock', actual: 'contended' });
}

async function tryCreate(path: string, me: LockHolder): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    throw new BatchinferError('OUTPUT_UNWRITABLE', `cannot create the lock ${path}: ${(err as Error).message}`, { expected: 'a writable directory', actual: dirname(path) });
  }
  try {
    await handle.writeFile(JSON.stringify(me) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
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

function makeLock(path: string, me: LockHolder, takenOver: LockHolder | null): Lock {
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

async function youngerThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs < ms;
  } catch {
    return false;
  }
}

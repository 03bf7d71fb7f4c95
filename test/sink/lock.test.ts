/**
 * The output lock: written whole (a lock file is complete or absent), one winner among
 * contenders, and an empty or unreadable lock file holds nothing.
 */
import { hostname } from 'node:os';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { acquireLock } from '../../src/sink/lock.js';

/** `noHardLinks.on`: link(2) fails as on a file system without hard links (FAT, some FUSE). */
const noHardLinks = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const link: typeof fs.link = (from, to) => (noHardLinks.on ? Promise.reject(Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' })) : fs.link(from, to));
  return { ...fs, link, default: { ...fs, link } };
});
import { useTempDirs } from '../helpers/tempDir.js';

const tmp = useTempDirs('batchinfer-lock-');

describe('acquireLock', () => {
  it('writes the lock whole and leaves no temporary file beside it', async () => {
    const dir = await tmp.make();
    const path = join(dir, '.o.parquet.lock');
    const lock = await acquireLock(path, { job: 'j' });
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname(), job: 'j' });
    expect(await readdir(dir)).toEqual(['.o.parquet.lock']);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('an empty lock file (a run stopped while writing it, a full disk) is not held: it is replaced at once', async () => {
    const dir = await tmp.make();
    const path = join(dir, '.o.parquet.lock');
    await writeFile(path, '');
    const lock = await acquireLock(path, { job: 'j' });
    expect(lock.takenOver).toBe('unreadable');
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('an unreadable lock file (not JSON) is not held either', async () => {
    const dir = await tmp.make();
    const path = join(dir, '.o.parquet.lock');
    await writeFile(path, '{"pid": 12');
    const lock = await acquireLock(path, { job: 'j' });
    expect(lock.takenOver).toBe('unreadable');
    await lock.release();
  });

  it('a lock of a live process is held: LOCKED naming its pid', async () => {
    const dir = await tmp.make();
    const path = join(dir, '.o.parquet.lock');
    await writeFile(path, JSON.stringify({ pid: process.ppid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', job: 'other' }));
    await expect(acquireLock(path, { job: 'j' })).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringContaining(`pid ${process.ppid}`) });
  });

  it('a lock of another host is held even when its pid is dead here: it cannot be checked from this host', async () => {
    const dir = await tmp.make();
    const path = join(dir, '.o.parquet.lock');
    await writeFile(path, JSON.stringify({ pid: 2 ** 22 + 12345, host: 'other-host', startedAt: '2026-11-29T00:00:00.000Z', job: 'j' }));
    await expect(acquireLock(path, { job: 'j' })).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringContaining('other-host') });
  });

  it('a stale lock (a dead pid on this host) is taken over and named', async () => {
    const dir = await tmp.make();
    const path = join(dir, '.o.parquet.lock');
    await writeFile(path, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), startedAt: '2026-11-29T00:00:00.000Z', job: 'j' }));
    const lock = await acquireLock(path, { job: 'k' });
    expect(lock.takenOver).toMatchObject({ pid: 2 ** 22 + 12345, host: hostname() });
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid, job: 'k' });
    await lock.release();
  });

  it('contenders: exactly one wins, the others are LOCKED, and nothing else is left', async () => {
    const dir = await tmp.make();
    const path = join(dir, '.o.parquet.lock');
    // The holders are this process: another "run" of it is not stale, as one on another host.
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => acquireLock(path, { job: `j${i}` })));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'LOCKED' });
    expect(await readdir(dir)).toEqual(['.o.parquet.lock']);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
  });

  it('a directory it cannot write to is OUTPUT_UNWRITABLE naming the lock', async () => {
    const path = join(await tmp.make(), 'missing', '.o.parquet.lock');
    await expect(acquireLock(path, { job: 'j' })).rejects.toMatchObject({ code: 'OUTPUT_UNWRITABLE', message: expect.stringContaining(path) });
  });

  it('a file system without hard links: the lock is created exclusively, still one winner, no temporary file left', async () => {
    noHardLinks.on = true;
    try {
      const dir = await tmp.make();
      const path = join(dir, '.o.parquet.lock');
      const results = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => acquireLock(path, { job: `j${i}` })));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'LOCKED' });
      expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid });
      expect(await readdir(dir)).toEqual(['.o.parquet.lock']);
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
      expect(await readdir(dir)).toEqual([]);
    } finally {
      noHardLinks.on = false;
    }
  });
});

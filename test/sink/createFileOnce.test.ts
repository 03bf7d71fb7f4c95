import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { useTempDirs } from '../helpers/tempDir.js';

/** A file system without hard links (FAT, some network and FUSE ones): link(2) fails with EPERM. */
const noLinks = vi.hoisted(() => ({ on: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    link: async (from: string, to: string) => {
      if (noLinks.on) throw Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM' });
      return real.link(from, to);
    },
  };
});

const { createFileOnce } = await import('../../src/sink/atomicFile.js');
const tmp = useTempDirs('batchinfer-createonce-');

describe('createFileOnce', () => {
  it.each([false, true])('hard links missing: %s; the first writer creates the file whole, the others find it; no temp file is left', async (withoutLinks) => {
    noLinks.on = withoutLinks;
    try {
      const dir = await tmp.make();
      const path = join(dir, 'plan.json');
      const results = await Promise.all(['a', 'b', 'c', 'd'].map((t) => createFileOnce(path, t.repeat(10_000))));
      expect(results.filter(Boolean)).toHaveLength(1);
      const text = await readFile(path, 'utf8');
      expect(text).toMatch(/^(a{10000}|b{10000}|c{10000}|d{10000})$/);
      expect(await createFileOnce(path, 'x')).toBe(false);
      expect(await readdir(dir)).toEqual(['plan.json']);
    } finally {
      noLinks.on = false;
    }
  });
});

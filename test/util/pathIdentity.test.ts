import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathIdentity } from '../../src/util/pathIdentity.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'batchinfer-pathid-'));
  await mkdir(join(root, 'real', 'sub'), { recursive: true });
  await writeFile(join(root, 'real', 'f.parquet'), 'x');
  await symlink(join(root, 'real'), join(root, 'dir-link'));
  await symlink(join(root, 'real', 'f.parquet'), join(root, 'file-link'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

describe('PathIdentity', () => {
  it('resolves symlinks of the existing part of a path, and appends the rest', async () => {
    const ids = new PathIdentity();
    expect(await ids.real(join(root, 'dir-link', 'f.parquet'))).toBe(join(root, 'real', 'f.parquet'));
    expect(await ids.real(join(root, 'dir-link', 'new', 'x.parquet'))).toBe(join(root, 'real', 'new', 'x.parquet'));
    expect(await ids.real(join(root, 'real', 'sub', '..', 'f.parquet'))).toBe(join(root, 'real', 'f.parquet'));
  });

  it('sameEntry: the same name in the same directory, by any path to the directory', async () => {
    const ids = new PathIdentity();
    expect(await ids.sameEntry(join(root, 'dir-link', 'f.parquet'), join(root, 'real', 'f.parquet'))).toBe(true);
    expect(await ids.sameEntry(join(root, 'dir-link', 'g.parquet'), join(root, 'real', 'g.parquet'))).toBe(true);
    expect(await ids.sameEntry(join(root, 'real', 'g.parquet'), join(root, 'real', 'f.parquet'))).toBe(false);
  });

  it('sameEntry does not follow a symlink at the path itself: renaming onto it replaces the link', async () => {
    expect(await new PathIdentity().sameEntry(join(root, 'file-link'), join(root, 'real', 'f.parquet'))).toBe(false);
  });

  it('inside: a path below a directory, through symlinks, or the directory itself', async () => {
    const ids = new PathIdentity();
    expect(await ids.inside(join(root, 'file-link'), join(root, 'real'))).toBe(true);
    expect(await ids.inside(join(root, 'real', 'sub'), join(root, 'dir-link'))).toBe(true);
    expect(await ids.inside(join(root, 'real'), join(root, 'dir-link'))).toBe(true);
    expect(await ids.inside(join(root, 'real-other', 'x'), join(root, 'real'))).toBe(false);
    expect(await ids.inside(join(root, 'real', 'f.parquet'), join(root, 'missing'))).toBe(false);
  });
});

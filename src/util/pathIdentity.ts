/**
 * Where a path really is, whatever symlinks, `..` or bind mounts lead to it. Two paths name
 * the same directory entry when their real parent directories are the same directory (device
 * and inode) and their names are the same: writing (or renaming onto) one replaces the other.
 * A path need not exist: its nearest existing ancestor is resolved and the rest appended.
 *
 * @example
 *   const ids = new PathIdentity();
 *   await ids.sameEntry('link-dir/in.parquet', 'data/in.parquet'); // true when link-dir -> data
 */
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

export class PathIdentity {
  /** dev:ino of directories already looked up (a glob's files share their directories). */
  private readonly dirIds = new Map<string, string | null>();

  /** Real paths already resolved: a run path is compared with every input file. */
  private readonly reals = new Map<string, string>();

  /** The path with every symlink of its existing part resolved, absolute. */
  async real(path: string): Promise<string> {
    const absolute = resolve(path);
    const known = this.reals.get(absolute);
    if (known !== undefined) return known;
    let real: string;
    try {
      real = await realpath(absolute);
    } catch {
      const parent = dirname(absolute);
      real = parent === absolute ? absolute : join(await this.real(parent), basename(absolute));
    }
    this.reals.set(absolute, real);
    return real;
  }

  /**
   * The directory entry `path` names: its real parent's device and inode (null when the
   * parent does not exist) and its own name. A symlink at `path` itself is not followed:
   * renaming onto it replaces the link, not what it points to.
   */
  async entry(path: string): Promise<{ dir: string | null; name: string; real: string }> {
    const parent = await this.real(dirname(resolve(path)));
    const name = basename(resolve(path));
    return { dir: await this.dirId(parent), name, real: join(parent, name) };
  }

  /** True when `a` and `b` are the same directory entry (see `entry`). */
  async sameEntry(a: string, b: string): Promise<boolean> {
    const [x, y] = [await this.entry(a), await this.entry(b)];
    if (x.real === y.real) return true;
    return x.dir !== null && x.dir === y.dir && x.name === y.name;
  }

  /** True when `path`, followed through its symlinks, lies inside the directory `tree` (or is it). */
  async inside(path: string, tree: string): Promise<boolean> {
    const treeReal = await this.real(tree);
    let current = await this.real(path);
    if (current === treeReal || current.startsWith(treeReal.endsWith('/') ? treeReal : treeReal + '/')) return true;
    const treeId = await this.dirId(treeReal);
    if (treeId === null) return false;
    for (;;) {
      if ((await this.dirId(current)) === treeId) return true;
      const parent = dirname(current);
      if (parent === current) return false;
      current = parent;
    }
  }

  private async dirId(dir: string): Promise<string | null> {
    const known = this.dirIds.get(dir);
    if (known !== undefined) return known;
    let id: string | null = null;
    try {
      const info = await stat(dir);
      if (info.isDirectory()) id = `${info.dev}:${info.ino}`;
    } catch {
      id = null;
    }
    this.dirIds.set(dir, id);
    return id;
  }
}

/** Small file-system helpers shared by the modules that probe paths. */
import { readFile, stat } from 'node:fs/promises';

/** True when something (file or directory) exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The text of the file at `path`, or null when there is none (any other read error throws). */
export async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

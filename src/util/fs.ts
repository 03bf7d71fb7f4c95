/** Small file-system helpers shared by the modules that probe paths. */
import { stat } from 'node:fs/promises';

/** True when something (file or directory) exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

// Runs from `prepare` (npm ci / npm install): npm links the bins of dependencies into
// node_modules/.bin but never the project's own, so `npx batchinfer` in a fresh clone would
// look for a package in the registry. Link ours beside the dependencies' bins.
import { chmodSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, 'node_modules', '.bin');
const target = join(root, 'bin', 'batchinfer.js');
const link = join(binDir, 'batchinfer');
mkdirSync(binDir, { recursive: true });
rmSync(link, { force: true });
symlinkSync(relative(binDir, target), link);
chmodSync(target, 0o755);

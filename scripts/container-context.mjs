/**
 * Makes the build context of deploy/Containerfile in OUTDIR: the packed package unpacked in
 * OUTDIR/app with its production dependencies installed from package-lock.json (npm's cache
 * first, no install scripts: onnxruntime-node's CPU binaries ship in its package), a
 * `.bin/batchinfer` link to its CLI, and the Containerfile. The image build then copies files
 * and downloads nothing (`podman build --network=none`).
 *
 * Usage: node scripts/container-context.mjs OUTDIR    (after `npm ci`, which builds dist/)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/container-context.mjs OUTDIR');
  process.exit(2);
}
if (!existsSync(join(root, 'dist', 'batchinfer.js'))) {
  console.error('dist/batchinfer.js is missing: run `npm ci` (or `npm run build`) first');
  process.exit(1);
}
const context = resolve(out);
const app = join(context, 'app');
rmSync(app, { recursive: true, force: true });
mkdirSync(app, { recursive: true });
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

// dist/ is already built; packing must not rebuild it.
const [{ filename }] = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', context], root));
run('tar', ['xzf', join(context, filename), '-C', app, '--strip-components=1'], root);
copyFileSync(join(root, 'package-lock.json'), join(app, 'package-lock.json'));
run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], app);
// onnxruntime-node ships its binaries for every platform (~290 MB): the image is Linux on this
// machine's architecture, and keeps only those (~45 MB on x64).
const ortBin = join(app, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
for (const os of readdirSync(ortBin)) {
  for (const arch of readdirSync(join(ortBin, os))) if (os !== 'linux' || arch !== process.arch) rmSync(join(ortBin, os, arch), { recursive: true });
}
mkdirSync(join(app, '.bin'));
symlinkSync('../bin/batchinfer.js', join(app, '.bin', 'batchinfer'));
copyFileSync(join(root, 'deploy', 'Containerfile'), join(context, 'Containerfile'));
rmSync(join(context, filename));
console.log(`${context}: ${readdirSync(join(app, 'node_modules')).length} packages; build with podman build --network=none -f ${join(context, 'Containerfile')} ${context}`);

/**
 * Bundles the compiled CLI (dist/cli/main.js -> dist/batchinfer.js) and the inference worker
 * (dist/infer/worker.js -> dist/worker.js), run after `tsc` by `npm run build`.
 *
 * Why: Node loads an ES module graph file by file. The CLI's ~70 modules plus yaml, zod,
 * commander and @duckdb/node-api's ~180 files took ~0.25 s of every run's start; one bundle
 * cuts that to one compile. Native packages stay outside: @duckdb/node-bindings and
 * onnxruntime-node load their binaries by relative path, and onnx-proto / cli-progress are
 * required lazily where they are used.
 *
 * Both bundles sit directly in dist/, where the code's `import.meta.url` lookups expect them:
 * `./worker.js` beside the worker pool, `../package.json` for the version.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['@duckdb/node-bindings', 'onnxruntime-node', 'onnx-proto', 'cli-progress'],
  // Bundled CommonJS packages call require() for Node built-ins; ESM has no require.
  banner: { js: "import { createRequire as __batchinferRequire } from 'node:module'; const require = __batchinferRequire(import.meta.url);" },
  logLevel: 'warning',
};

await build({ ...common, entryPoints: [join(dist, 'cli', 'main.js')], outfile: join(dist, 'batchinfer.js') });
await build({ ...common, entryPoints: [join(dist, 'infer', 'worker.js')], outfile: join(dist, 'worker.js') });

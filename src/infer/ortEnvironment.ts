/**
 * The environment onnxruntime reads when it loads. Its POSIX builds record telemetry by
 * default: a device id and an event database (with each model's metadata, graph name and
 * producer) under ~/.cache/Microsoft/DeveloperTools/.onnxruntime, plus `mat-debug-<pid>.log`
 * and `.ses` files in TMPDIR. A batch scorer must not keep model metadata on the side, and
 * `ORT_DISABLE_TELEMETRY=1` turns all of it off; onnxruntime-node has no API for it.
 *
 * onnxruntime reads the variable with getenv when it initializes, in a worker thread. A
 * worker's `process.env` is its own copy that native code never sees; only the main thread's
 * writes reach the process environment, so the pool sets it there before starting a worker.
 * The main thread itself never loads onnxruntime.
 */
import { isMainThread } from 'node:worker_threads';

export function disableOrtTelemetry(): void {
  if (!isMainThread) throw new Error('disableOrtTelemetry must run on the main thread, before any inference worker starts');
  process.env['ORT_DISABLE_TELEMETRY'] = '1';
}

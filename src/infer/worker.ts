/**
 * Inference worker: one ORT session per thread. `session.run` blocks this thread, not the
 * reader; results are copied into fresh buffers and transferred back. When the run profiles
 * its inputs, the worker profiles each batch it scores (profile/batchProfile.ts) and builds
 * part sketches on request: work taken off the scoring thread, which reads and writes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSession, ORT_VERSION, type OrtSession, type TensorData } from './ort.js';
import { isBatchinferError } from '../errors.js';
import { runInGroups } from './fixedBatch.js';
import type { FromWorker, ToWorker, WorkerInit, SerializedError } from './protocol.js';
import { profileBatch, type BatchProfile, type TensorColumn } from '../profile/batchProfile.js';
import { sketchPart } from '../profile/rowSample.js';
import { postedSketch } from '../profile/quantileSketch.js';

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const init = workerData as WorkerInit;

function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

function serialize(err: unknown): SerializedError {
  if (isBatchinferError(err)) return { code: err.code, message: err.message, expected: err.expected, actual: err.actual };
  const message = err instanceof Error ? err.message.split('\n')[0] ?? err.message : String(err);
  return { code: 'INFERENCE_FAILED', message: `onnxruntime failed: ${message}` };
}

/** Copies a tensor's data into a buffer this thread owns, so it can be transferred. */
function detachable(tensor: TensorData): { tensor: TensorData; buffer?: ArrayBuffer } {
  const data = tensor.data;
  if (Array.isArray(data)) return { tensor: { ...tensor, data: [...data] } };
  const copy = (data as Float32Array).slice();
  return { tensor: { ...tensor, data: copy }, buffer: copy.buffer as ArrayBuffer };
}

/** A batch profile's buffers, transferred with it. */
function profileBuffers(p: BatchProfile): ArrayBuffer[] {
  return [p.stats.buffer, p.values.buffer, p.ends.buffer, p.sample.rows.buffer] as ArrayBuffer[];
}

let session: OrtSession;
try {
  session = await openSession(init.model, { intraOpThreads: init.intraOpThreads, device: init.device });
  post({ type: 'ready', inputs: session.inputs, outputs: session.outputs, version: ORT_VERSION, provider: session.provider, ...(session.fallback === undefined ? {} : { fallback: session.fallback }) });
} catch (err) {
  post({ type: 'error', id: null, error: serialize(err) });
  process.exit(0);
}

/**
 * The row counts of the batches this session has run. onnxruntime's arena grows on the first
 * batch of a larger size and keeps what it took, so the process's resident memory measured
 * around that one run says what the model's activations take at that size: the batch sizer
 * weighs it before trying larger batches (the MLP's 65,536-row batches took ~340 MB, a logistic
 * regression's under 1 MB). Other threads allocate meanwhile too; at the sizes that matter the
 * arena's growth is far larger than theirs.
 */
const rowCountsRun = new Set<number>();

/** The batch's rows: the first dimension of its first feed. */
function batchRows(feeds: Record<string, TensorData>): number {
  return Object.values(feeds)[0]?.dims[0] ?? 0;
}

/** The columns batch profiles take (`profile-columns`); null: the run keeps no profile. */
let profileColumns: TensorColumn[] | null = null;

port.on('message', async (message: ToWorker) => {
  if (message.type === 'close') {
    await session.release().catch(() => undefined);
    port.close();
    return;
  }
  if (message.type === 'profile-columns') {
    profileColumns = message.columns;
    return;
  }
  if (message.type === 'sketch') {
    try {
      // Their level text as bytes and their levels as arrays, transferred: the scoring thread
      // writes the text as it is and merges the arrays, decoding and copying neither.
      const posted = sketchPart(message.sample).map(postedSketch);
      post({ type: 'sketched', id: message.id, sketches: posted.map((p) => p.posted) }, posted.flatMap((p) => p.transfer));
    } catch (err) {
      post({ type: 'error', id: message.id, error: serialize(err) });
    }
    return;
  }
  const rows = batchRows(message.feeds);
  const rssBefore = rowCountsRun.has(rows) ? null : process.memoryUsage.rss();
  const started = performance.now();
  try {
    const run = (feeds: Record<string, TensorData>) => session.run(feeds, init.outputNames);
    const { outputs: raw, padded } = init.fixedBatch ? await runInGroups(run, message.feeds, init.fixedBatch) : { outputs: await run(message.feeds), padded: 0 };
    const ms = performance.now() - started;
    const grew = rssBefore === null ? undefined : Math.max(0, process.memoryUsage.rss() - rssBefore);
    rowCountsRun.add(rows);
    const outputs: Record<string, TensorData> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, tensor] of Object.entries(raw)) {
      const { tensor: owned, buffer } = detachable(tensor);
      outputs[name] = owned;
      if (buffer) transfer.push(buffer);
    }
    const profile = message.profile && profileColumns ? profileBatch(profileColumns, message.feeds, message.profile) : undefined;
    // The batch's input buffers go back to the reader to be filled again (no allocation, no GC).
    const returned = Object.values(message.feeds).flatMap((t) => (Array.isArray(t.data) ? [] : [(t.data as Float32Array).buffer as ArrayBuffer]));
    // When the batch was done, on the clock every thread shares (ms since the epoch, sub-ms): the
    // batch sizer charges batches by it, not by when the scoring thread got round to them.
    const doneAt = performance.timeOrigin + performance.now();
    post({ type: 'result', id: message.id, outputs, ms, padded, returned, doneAt, ...(profile ? { profile } : {}), ...(grew === undefined ? {} : { grew }) }, [...transfer, ...returned, ...(profile ? profileBuffers(profile) : [])]);
  } catch (err) {
    post({ type: 'error', id: message.id, error: serialize(err) });
  }
});

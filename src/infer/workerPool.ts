/**
 * A fixed pool of inference workers, each holding its own ORT session. The caller bounds
 * how many batches are in flight (see `runJob`); the pool only routes each batch to the
 * least busy worker and turns worker messages back into promises.
 *
 * @example
 *   const pool = await WorkerPool.start({ model, workers: 2, intraOpThreads: 1, outputNames: ['probabilities'] });
 *   const { outputs, ms } = await pool.run({ x: { type: 'float32', dims: [n, 4], data } });
 *   await pool.close();
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BatchinferError } from '../errors.js';
import { disableOrtTelemetry } from './ortEnvironment.js';
import type { TensorData, RuntimeValueInfo } from './ort.js';
import type { FromWorker, SerializedError, ToWorker, WorkerInit } from './protocol.js';
import type { Device, Provider } from './device.js';
import type { BatchProfile, BatchRows, TensorColumn } from '../profile/batchProfile.js';
import { receivedSketch, type SketchJson } from '../profile/quantileSketch.js';
import { sampleBuffers, type PartSample } from '../profile/rowSample.js';

export interface PoolOptions {
  model: Uint8Array;
  workers: number;
  intraOpThreads: number;
  outputNames: string[];
  /** The model's fixed batch dimension, if it has one (see fixedBatch.ts). */
  fixedBatch?: number | null;
  /** Where the workers run (default cpu). */
  device?: Device;
}

export interface BatchResult {
  outputs: Record<string, TensorData>;
  /** Time `session.run` took inside the worker. */
  ms: number;
  /** Rows added to fill a fixed-size batch (their outputs are dropped). */
  padded: number;
  /** The batch's input buffers, handed back for reuse. */
  returned: ArrayBuffer[];
  /** The batch's profile, when it was asked for (`profileInputs`, `run`'s `profile`). */
  profile?: BatchProfile;
  /** When its worker was done with it, on this thread's `performance.now()` clock. */
  doneAt: number;
  /**
   * Its worker's first batch of this many rows: the bytes the process's resident memory grew
   * while the model ran it (onnxruntime's arena growing for the batch's activations; batchSizer.ts).
   */
  grew?: number;
}

type Answer = Extract<FromWorker, { type: 'result' | 'sketched' }>;

interface Pending {
  resolve(answer: Answer): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  inFlight: number;
  pending: Map<number, Pending>;
}

export class WorkerPool {
  private nextId = 0;
  private closed = false;
  private failure: Error | null = null;

  private constructor(
    private readonly slots: Slot[],
    readonly inputs: RuntimeValueInfo[],
    readonly outputs: RuntimeValueInfo[],
    /** onnxruntime's version, as the workers loaded it. */
    readonly runtimeVersion: string,
    /** The execution provider of each worker's session. */
    readonly providers: Provider[],
    /** `auto` fell back to CPU: why CUDA did not load. */
    readonly fallback: string | undefined,
  ) {}

  static async start(options: PoolOptions): Promise<WorkerPool> {
    disableOrtTelemetry();
    const init: WorkerInit = {
      model: options.model,
      intraOpThreads: options.intraOpThreads,
      outputNames: options.outputNames,
      fixedBatch: options.fixedBatch ?? null,
      device: options.device ?? 'cpu',
    };
    const started = Array.from({ length: options.workers }, () => spawnWorker(init));
    const results = await Promise.allSettled(started);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(
        results.map((r) => (r.status === 'fulfilled' ? r.value.worker.terminate() : Promise.resolve(0))),
      );
      throw (failed as PromiseRejectedResult).reason;
    }
    const ready = results.map((r) => (r as PromiseFulfilledResult<{ worker: Worker; info: ReadyInfo }>).value);
    const slots = ready.map(({ worker }) => ({ worker, inFlight: 0, pending: new Map<number, Pending>() }));
    const infos = ready.map((r) => r.info);
    const pool = new WorkerPool(slots, infos[0]!.inputs, infos[0]!.outputs, infos[0]!.version, infos.map((i) => i.provider), infos.find((i) => i.fallback !== undefined)?.fallback);
    for (const slot of slots) pool.listen(slot);
    return pool;
  }

  /** Sends one batch to the least busy worker. Feed buffers are transferred, not copied. With `profile`, the result has the batch's profile. */
  async run(feeds: Record<string, TensorData>, profile?: BatchRows): Promise<BatchResult> {
    const transfer: ArrayBuffer[] = [];
    for (const t of Object.values(feeds)) {
      if (!Array.isArray(t.data)) transfer.push((t.data as Float32Array).buffer as ArrayBuffer);
    }
    const answer = await this.send(this.leastBusy(), (id) => ({ type: 'run', id, feeds, ...(profile ? { profile } : {}) }), transfer);
    if (answer.type !== 'result') throw new BatchinferError('INTERNAL', `an inference worker answered a batch with ${answer.type}`);
    const { outputs, ms, padded, returned, grew } = answer;
    return { outputs, ms, padded, returned, doneAt: answer.doneAt - performance.timeOrigin, ...(answer.profile ? { profile: answer.profile } : {}), ...(grew === undefined ? {} : { grew }) };
  }

  /** Some worker has no batch in flight. */
  get idle(): boolean {
    return this.slots.some((s) => s.inFlight === 0);
  }

  /** The columns the workers profile in the batches `run` asks a profile of (null: none); messages keep their order, so every later batch has them. */
  profileInputs(columns: TensorColumn[] | null): void {
    for (const slot of this.slots) slot.worker.postMessage({ type: 'profile-columns', columns } satisfies ToWorker);
  }

  /**
   * The sketches of a part's sampled columns (profile/rowSample.ts `sketchPart`), built by the
   * least busy worker; the sample's buffers are transferred. One worker, not the columns shared out:
   * the sort and sketch code then runs cold in one thread instead of two (measured in
   * docs/performance.md, "A run's profile").
   */
  async sketch(sample: PartSample): Promise<SketchJson[]> {
    if (sample.columns.length === 0) return [];
    const answer = await this.send(this.leastBusy(), (id) => ({ type: 'sketch', id, sample }), sampleBuffers(sample));
    if (answer.type !== 'sketched') throw new BatchinferError('INTERNAL', `an inference worker answered a sketch with ${answer.type}`);
    return answer.sketches.map(receivedSketch);
  }

  /** The worker with the fewest messages in flight (the first of equals). */
  private leastBusy(): Slot {
    return this.slots.reduce((best, s) => (s.inFlight < best.inFlight ? s : best));
  }

  private send(slot: Slot, message: (id: number) => ToWorker, transfer: ArrayBuffer[]): Promise<Answer> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    const id = this.nextId++;
    return new Promise<Answer>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.inFlight++;
      try {
        slot.worker.postMessage(message(id), transfer);
      } catch (err) {
        // e.g. two feeds sharing one ArrayBuffer: nothing was sent, so nothing is in flight.
        slot.pending.delete(id);
        slot.inFlight--;
        reject(new BatchinferError('INTERNAL', `cannot send a batch to an inference worker: ${(err as Error).message}`));
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.worker.postMessage({ type: 'close' });
        const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, 2000).unref());
        await Promise.race([exited, timeout]);
        await slot.worker.terminate();
      }),
    );
  }

  private listen(slot: Slot): void {
    slot.worker.on('message', (message: FromWorker) => {
      if (message.type === 'ready' || message.id === null) return;
      const pending = slot.pending.get(message.id);
      if (!pending) return;
      slot.pending.delete(message.id);
      slot.inFlight--;
      if (message.type === 'error') pending.reject(toError(message.error));
      else pending.resolve(message);
    });
    const failAll = (err: Error): void => {
      if (this.closed) return;
      this.failure = err;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    slot.worker.on('error', (err) => failAll(new BatchinferError('INFERENCE_FAILED', `inference worker crashed: ${err.message}`)));
    slot.worker.on('exit', (code) => {
      if (!this.closed) failAll(new BatchinferError('INFERENCE_FAILED', `inference worker exited unexpectedly (code ${code})`));
    });
  }
}

interface ReadyInfo {
  inputs: RuntimeValueInfo[];
  outputs: RuntimeValueInfo[];
  version: string;
  provider: Provider;
  fallback?: string;
}

function createWorker(init: WorkerInit): Worker {
  const compiled = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData: init });
  // Running from TypeScript sources (vitest, tsx). Node 20 ignores `--import tsx` in a worker's
  // execArgv (nodejs/node#47747: "Unknown file extension .ts"), so a CommonJS bootstrap loads
  // worker.ts through tsx's API instead; a failed import surfaces as the worker's 'error' event.
  const entry = new URL('./worker.ts', import.meta.url).href;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => tsx.tsImport(${JSON.stringify(entry)}, ${JSON.stringify(entry)}));`;
  return new Worker(bootstrap, { eval: true, workerData: init });
}

function spawnWorker(init: WorkerInit): Promise<{ worker: Worker; info: ReadyInfo }> {
  const worker = createWorker(init);
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker): void => {
      if (message.type === 'ready') {
        cleanup();
        const { inputs, outputs, version, provider, fallback } = message;
        resolve({ worker, info: { inputs, outputs, version, provider, ...(fallback === undefined ? {} : { fallback }) } });
      } else if (message.type === 'error' && message.id === null) {
        cleanup();
        void worker.terminate();
        reject(toError(message.error));
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(new BatchinferError('INTERNAL', `inference worker failed to start: ${err.message}`));
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new BatchinferError('INTERNAL', `inference worker exited before it was ready (code ${code})`));
    };
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

function toError(e: SerializedError): BatchinferError {
  return new BatchinferError(e.code, e.message, { expected: e.expected, actual: e.actual });
}

/**
 * The only module that imports `onnxruntime-node`. It opens sessions, converts between our
 * plain tensor records and ORT tensors, and reads the runtime's view of a model's signature.
 *
 * `session.run` blocks the calling thread for the whole call, so the scoring pipeline only
 * calls `runSession` from worker threads (see `worker.ts`).
 */
import ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { BatchinferError } from '../errors.js';
import { cudaUnavailable, type Device, type Provider } from './device.js';
import type { TensorData, TensorDtype, TensorValues } from '../util/tensor.js';

// Fatal only, set before the first session: a CUDA provider that does not load is reported
// once, as our error or the summary's warning; ORT's environment logger would print its own
// coloured line to stderr first.
ort.env.logLevel = 'fatal';

export type { TensorData, TensorDtype, TensorValues } from '../util/tensor.js';

export interface RuntimeValueInfo {
  name: string;
  isTensor: boolean;
  type: TensorDtype | 'unknown';
  shape: (number | string)[];
}

export interface SessionOptions {
  intraOpThreads: number;
  /** Where to run (default cpu). */
  device?: Device;
}

export interface OrtSession {
  /** The execution provider the session runs on: `cpu` or `cuda:N`. */
  readonly provider: Provider;
  /** `auto` fell back to CPU: why CUDA did not load. */
  readonly fallback?: string;
  readonly inputs: RuntimeValueInfo[];
  readonly outputs: RuntimeValueInfo[];
  run(feeds: Record<string, TensorData>, outputNames: readonly string[]): Promise<Record<string, TensorData>>;
  release(): Promise<void>;
}

export const ORT_VERSION: string = ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown';

/**
 * Opens an ORT session on model bytes, on the device asked for; failures become MODEL_INVALID
 * with ORT's own words. CUDA that does not load is SPEC_INVALID naming how to get it
 * (`cuda:N`), or a CPU session with the reason in `fallback` (`auto`).
 */
export async function openSession(model: Uint8Array, options: SessionOptions): Promise<OrtSession> {
  const device = options.device ?? 'cpu';
  if (device === 'cpu') return wrap(await createSession(model, options.intraOpThreads, ['cpu']), 'cpu');
  const deviceId = device === 'auto' ? 0 : Number(device.slice('cuda:'.length));
  let cuda: ort.InferenceSession;
  try {
    cuda = await createSession(model, options.intraOpThreads, [{ name: 'cuda', deviceId }]);
  } catch (err) {
    if (err instanceof BatchinferError && !isProviderFailure(err.cause)) throw err;
    const reason = cudaFailureReason(err instanceof BatchinferError ? err.cause : err);
    if (device !== 'auto') throw cudaUnavailable(device, reason);
    return wrap(await createSession(model, options.intraOpThreads, ['cpu']), 'cpu', reason);
  }
  return wrap(cuda, `cuda:${deviceId}`);
}

/** ORT's words when an execution provider cannot be added (its library, CUDA or cuDNN missing, no device). */
function isProviderFailure(err: unknown): boolean {
  return /ExecutionProvider|providers_(shared|cuda)|CUDA|cudnn|libcu/i.test(firstLine(err));
}

/** Why CUDA did not load: the provider files onnxruntime-node did not install, or ORT's first line. */
function cudaFailureReason(err: unknown): string {
  const dir = ortBinaryDir();
  const missing = dir ? ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'].filter((f) => !existsSync(join(dir, f))) : [];
  if (dir && process.platform === 'linux' && missing.length > 0) return `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not in ${dir}`;
  return firstLine(err);
}

/** Where onnxruntime-node keeps its native libraries (and the CUDA provider files it downloads). */
function ortBinaryDir(): string | null {
  try {
    const main = createRequire(import.meta.url).resolve('onnxruntime-node');
    return join(dirname(main), '..', 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return null;
  }
}

async function createSession(model: Uint8Array, intraOpThreads: number, executionProviders: ort.InferenceSession.ExecutionProviderConfig[]): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(model, {
      executionProviders,
      intraOpNumThreads: intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // Fatal only: a failing run is reported once, as INFERENCE_FAILED with ORT's message;
      // ORT's own logger would add a second, coloured line to stderr.
      logSeverityLevel: 4,
    });
  } catch (err) {
    throw new BatchinferError('MODEL_INVALID', `onnxruntime cannot load the model: ${firstLine(err)}`, {
      expected: 'a model onnxruntime ' + ORT_VERSION + ' can run',
      cause: err,
    });
  }
}

function wrap(session: ort.InferenceSession, provider: Provider, fallback?: string): OrtSession {
  const inputs = session.inputMetadata.map(describeValue);
  const outputs = session.outputMetadata.map(describeValue);
  return {
    provider,
    ...(fallback === undefined ? {} : { fallback }),
    inputs,
    outputs,
    async run(feeds, outputNames) {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = new ort.Tensor(t.type as never, t.data as never, t.dims);
      const results = await session.run(ortFeeds, outputNames as string[]);
      const out: Record<string, TensorData> = {};
      for (const name of outputNames) {
        const value = results[name];
        if (!value || !(value instanceof ort.Tensor)) {
          throw new BatchinferError('MODEL_INVALID', `model output '${name}' is not a tensor`, {
            expected: 'tensor',
            actual: value === undefined ? 'missing' : typeof value,
          });
        }
        out[name] = { type: value.type as TensorDtype, dims: value.dims.map(Number), data: value.data as TensorValues };
      }
      return out;
    },
    release: () => session.release(),
  };
}

function describeValue(meta: ort.InferenceSession.ValueMetadata): RuntimeValueInfo {
  if (!meta.isTensor) return { name: meta.name, isTensor: false, type: 'unknown', shape: [] };
  return { name: meta.name, isTensor: true, type: meta.type as TensorDtype, shape: [...meta.shape] };
}

/**
 * ORT's first line, without the C++ source location and function signature some of its
 * errors start with (`/onnxruntime_src/.../model_load_utils.h:46 void onnxruntime::...(...) `).
 */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split('\n')[0]?.trim() ?? text;
  return line.replace(/^\/\S+:\d+ .*?\)(?: const)? (?=[A-Z])/, '');
}

/**
 * The only module that imports `onnxruntime-node`. It opens sessions, converts between our
 * plain tensor records and ORT tensors, and reads the runtime's view of a model's signature.
 *
 * `session.run` blocks the calling thread for the whole call, so the scoring pipeline only
 * calls `runSession` from worker threads (see `worker.ts`).
 */
import ort from 'onnxruntime-node';
import { BatchinferError } from '../errors.js';

export type TensorDtype = 'float32' | 'float64' | 'int64' | 'int32' | 'string' | 'bool' | 'int8' | 'uint8' | 'float16';

export type TensorValues = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array | Uint16Array | string[];

/** A tensor as plain data, safe to post between threads. */
export interface TensorData {
  type: TensorDtype;
  dims: number[];
  data: TensorValues;
}

export interface RuntimeValueInfo {
  name: string;
  isTensor: boolean;
  type: TensorDtype | 'unknown';
  shape: (number | string)[];
}

export interface SessionOptions {
  intraOpThreads: number;
}

export interface OrtSession {
  readonly inputs: RuntimeValueInfo[];
  readonly outputs: RuntimeValueInfo[];
  run(feeds: Record<string, TensorData>, outputNames: readonly string[]): Promise<Record<string, TensorData>>;
  release(): Promise<void>;
}

export const ORT_VERSION: string = ort.env.versions?.node ?? ort.env.versions?.common ?? 'unknown';

/** Opens an ORT session on model bytes; failures become MODEL_INVALID with ORT's own words. */
export async function openSession(model: Uint8Array, options: SessionOptions): Promise<OrtSession> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: options.intraOpThreads,
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
    });
  }
  const inputs = session.inputMetadata.map(describeValue);
  const outputs = session.outputMetadata.map(describeValue);
  return {
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

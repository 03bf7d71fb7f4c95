/** Messages between the scoring thread and inference workers. */
import type { TensorData, RuntimeValueInfo } from './ort.js';
import type { ErrorCode } from '../errors.js';
import type { Device, Provider } from './device.js';

export interface WorkerInit {
  model: Uint8Array;
  intraOpThreads: number;
  outputNames: string[];
  /** The model's fixed batch dimension: rows go to `session.run` in groups of this size. */
  fixedBatch: number | null;
  device: Device;
}

export interface SerializedError {
  code: ErrorCode;
  message: string;
  expected?: unknown;
  actual?: unknown;
}

export type ToWorker = { type: 'run'; id: number; feeds: Record<string, TensorData> } | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; inputs: RuntimeValueInfo[]; outputs: RuntimeValueInfo[]; version: string; provider: Provider; fallback?: string }
  | { type: 'result'; id: number; outputs: Record<string, TensorData>; ms: number; padded: number; returned: ArrayBuffer[] }
  | { type: 'error'; id: number | null; error: SerializedError };

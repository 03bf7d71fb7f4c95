/** Messages between the scoring thread and inference workers. */
import type { TensorData, RuntimeValueInfo } from './ort.js';
import type { ErrorCode } from '../errors.js';
import type { Device, Provider } from './device.js';
import type { BatchProfile, BatchRows, TensorColumn } from '../profile/batchProfile.js';
import type { PostedSketch } from '../profile/quantileSketch.js';
import type { PartSample } from '../profile/rowSample.js';

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

export type ToWorker =
  /** `profile`: the batch's rows, when the run profiles its inputs (the columns of the last `profile-columns`). */
  | { type: 'run'; id: number; feeds: Record<string, TensorData>; profile?: BatchRows }
  /** The columns the next batches' profiles take (null: none). */
  | { type: 'profile-columns'; columns: TensorColumn[] | null }
  | { type: 'sketch'; id: number; sample: PartSample }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; inputs: RuntimeValueInfo[]; outputs: RuntimeValueInfo[]; version: string; provider: Provider; fallback?: string }
  /** `grew`: on the worker's first batch of its row count, the bytes the process's RSS grew while it ran (worker.ts). */
  | { type: 'result'; id: number; outputs: Record<string, TensorData>; ms: number; padded: number; returned: ArrayBuffer[]; profile?: BatchProfile; doneAt: number; grew?: number }
  /** The part's sketches, their level text and arrays transferred (quantileSketch.ts `postedSketch`). */
  | { type: 'sketched'; id: number; sketches: PostedSketch[] }
  | { type: 'error'; id: number | null; error: SerializedError };
